// Pager on PagerDuty: opens the incident an approver is paged with (once per
// incident key), adds loopgate's notes to it, resolves it, and reads back what
// a webhook only hints at (the author of a note, a note's full content).
// Writes go out as the client's `from` user.

import { z } from 'zod';
import { PayloadTooLargeError, UpstreamError, ValidationError } from '../../core/errors';
import type { IncidentDraft, IncidentNote, IncidentRef, Pager, PagerUser } from '../../core/ports';
import { PAGERDUTY, type PagerDutyClient, PagerDutyStatusError } from './client';

/** PagerDuty's cap on incident titles. */
export const MAX_TITLE_LENGTH = 1024;
/**
 * PagerDuty documents no limit for `body.details`, and neither the stand-in nor the vendor notes
 * name one; this is loopgate's own bound, the same as for note content, so a page never gets
 * anywhere near where PagerDuty might start cutting.
 */
export const MAX_DETAILS_LENGTH = 25_000;
/** The longest note content PagerDuty accepts (the stand-in's figure; PagerDuty does not document one). */
export const MAX_NOTE_LENGTH = 25_000;
/** Ends a text that was cut, so the reader knows there was more. */
export const CUT_MARKER = '… (cut)';

/** PagerDuty ids are letters and digits (`PXPGF42`, `Q0RIJJZL24RC6W`); nothing else may go into a path. */
const PAGERDUTY_ID = /^[A-Za-z0-9]{1,64}$/;
const OPEN_STATUSES = ['triggered', 'acknowledged'];

const reference = z.object({ id: z.string().min(1) });

const incident = z.object({
  id: z.string().min(1),
  html_url: z.string().min(1),
  status: z.string(),
  // Null on incidents grouped from alerts; loopgate's incidents always carry the key they were opened with.
  incident_key: z.string().nullish(),
});

const note = z.object({
  id: z.string().min(1),
  content: z.string(),
  // An API integration's note has no user.
  user: reference.nullish(),
  created_at: z.string().min(1),
});

const user = z.object({ id: z.string().min(1), email: z.string().min(1), name: z.string() });

export class PagerDutyPager implements Pager {
  constructor(private readonly client: PagerDutyClient) {}

  async openIncident(draft: IncidentDraft): Promise<IncidentRef & { created: boolean }> {
    if (!draft.incidentKey.trim()) {
      // Without a key PagerDuty invents one, and a retried page would open a second incident.
      throw new ValidationError('an incident needs an incident key');
    }
    const title = cut(draft.title.trim(), MAX_TITLE_LENGTH);
    if (!title) throw new ValidationError('an incident needs a title');
    // The details are the page the approver decides on. Cutting them could drop whatever the
    // composer put last (the evidence, how to answer), and only the composer knows what may go;
    // so a page too long is refused here, loudly, rather than shortened.
    if (draft.details.length > MAX_DETAILS_LENGTH) {
      throw new PayloadTooLargeError(
        `the incident details are ${draft.details.length} characters, more than the ${MAX_DETAILS_LENGTH} a page may have`,
      );
    }
    const body = {
      incident: {
        type: 'incident',
        title,
        service: { id: draft.serviceId, type: 'service_reference' },
        escalation_policy: { id: draft.escalationPolicyId, type: 'escalation_policy_reference' },
        urgency: draft.urgency,
        incident_key: draft.incidentKey,
        body: { type: 'incident_body', details: draft.details },
      },
    };
    try {
      const created = await this.client.post('/incidents', body, z.object({ incident }));
      return { id: created.incident.id, url: created.incident.html_url, created: true };
    } catch (error) {
      if (!(error instanceof PagerDutyStatusError) || error.status !== 400) throw error;
      // A clash with an open incident of the same key is a 400 whose wording PagerDuty does not
      // document (code 2001, "Open incident with key '…' already exists for this service" in the
      // stand-in), so the incident itself, not the message, decides: found, it is the retry's page.
      const existing = await this.openIncidentWithKey(draft.serviceId, draft.incidentKey);
      if (!existing) throw error;
      return { id: existing.id, url: existing.html_url, created: false };
    }
  }

  async addNote(incidentId: string, content: string): Promise<void> {
    const id = pagerDutyId(incidentId, 'incident');
    if (!content.trim()) throw new ValidationError('a PagerDuty note needs some text');
    await this.client.post(
      `/incidents/${id}/notes`,
      { note: { content: cut(content, MAX_NOTE_LENGTH) } },
      z.object({ note: reference }),
    );
  }

  async resolve(incidentId: string): Promise<void> {
    const id = pagerDutyId(incidentId, 'incident');
    const body = { incident: { type: 'incident_reference', status: 'resolved' } };
    try {
      await this.client.put(`/incidents/${id}`, body, z.object({ incident: reference }));
    } catch (error) {
      // PagerDuty refuses to resolve a resolved incident (400, "Incident Already Resolved"); the
      // incident's status, not the wording, says whether this refusal means the work is done.
      if (!(error instanceof PagerDutyStatusError) || error.status !== 400) throw error;
      const current = await this.client.get(`/incidents/${id}`, {}, z.object({ incident }));
      if (current.incident.status !== 'resolved') throw error;
    }
  }

  async getUser(userId: string): Promise<PagerUser | undefined> {
    const id = pagerDutyId(userId, 'user');
    const found = await orUndefinedWhenMissing(this.client.get(`/users/${id}`, {}, z.object({ user })));
    if (!found) return undefined;
    if (found.user.id !== id) {
      throw new UpstreamError(PAGERDUTY, 'bad-response', `GET /users/${id} answered another user`);
    }
    return { id: found.user.id, email: found.user.email, name: found.user.name };
  }

  async getNote(incidentId: string, noteId: string): Promise<IncidentNote | undefined> {
    const id = pagerDutyId(incidentId, 'incident');
    // PagerDuty has no GET of one note: it lists all of an incident's notes, unpaginated.
    const listed = await orUndefinedWhenMissing(
      this.client.get(`/incidents/${id}/notes`, {}, z.object({ notes: z.array(note) })),
    );
    const found = listed?.notes.find((n) => n.id === noteId);
    if (!found) return undefined;
    return {
      id: found.id,
      content: found.content,
      ...(found.user ? { authorId: found.user.id } : {}),
      createdAt: found.created_at,
    };
  }

  /** The open incident on the service with this key; PagerDuty keeps at most one. */
  private async openIncidentWithKey(serviceId: string, key: string) {
    const found = await this.client.list(
      '/incidents',
      'incidents',
      {
        incident_key: key,
        'service_ids[]': [serviceId],
        'statuses[]': OPEN_STATUSES,
        // The clash may be older than the default window (30 days) of GET /incidents.
        date_range: 'all',
      },
      incident,
    );
    return found.find((i) => i.incident_key === key && OPEN_STATUSES.includes(i.status));
  }
}

function pagerDutyId(value: string, what: string): string {
  if (!PAGERDUTY_ID.test(value)) {
    throw new ValidationError(`${JSON.stringify(value.slice(0, 80))} is not a PagerDuty ${what} id`);
  }
  return value;
}

/** A 404 means there is no such thing; every other failure is the caller's to handle. */
async function orUndefinedWhenMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof PagerDutyStatusError && error.status === 404) return undefined;
    throw error;
  }
}

/** `text` within `max` UTF-16 units, ending with CUT_MARKER when cut; never splits a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - CUT_MARKER.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + CUT_MARKER;
}
