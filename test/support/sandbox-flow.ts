// Driving the sandbox the way people do: file a ticket, write a note on the
// incident, comment on the ticket, let time pass; and waiting for the real
// functions to get there.

import type { AccessRequest, RequestState } from '../../lambdas/core/model';
import { PROVISION_FUNCTIONS, type Sandbox } from '../../sandbox/world';

/** Polls until `probe` returns something (bounded: about 15 s). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `world` is read on each call, so the helpers can be made before the sandbox starts. */
export function flow(world: () => Sandbox) {
  const inState = (id: string, state: RequestState) =>
    until(`${id} to be ${state}`, async () => {
      const r = await world().store.get(id);
      return r?.state === state ? r : undefined;
    });

  /** Files a ticket and waits until triage is done with it (paged, or approved by a rule). */
  async function filed(
    reporter: string,
    entitlement: string,
    extra: { duration?: string; labels?: string[] } = {},
  ): Promise<AccessRequest> {
    const { key } = world().jira.fileTicket({
      reporter,
      entitlement,
      justification: 'INC-4411 checkout latency in production',
      ...extra,
    });
    await world().jira.settled();
    return until(`${key} to be triaged`, async () => {
      const r = await world().store.getByJiraIssueKey(key);
      return r && r.state !== 'RECEIVED' && r.state !== 'TRIAGING' && r.incidentId ? r : undefined;
    });
  }

  async function note(request: AccessRequest, person: string, content: string) {
    world().pagerduty.addNote(request.incidentId ?? '', person, content);
    await world().settled();
  }

  const comments = (key: string) =>
    (
      world()
        .jira.state()
        .issues.find((i) => (i as { key?: string }).key === key)?.comments ?? []
    ).map((c) => JSON.stringify(c.body));

  /** Waits for a Jira comment containing `text`. */
  const commented = (key: string, text: string) =>
    until(`a comment on ${key} saying "${text}"`, async () =>
      comments(key).some((c) => c.includes(text)) ? true : undefined,
    );

  const lastNote = (incidentId: string) =>
    world().pagerduty.incident(incidentId)?.notes.at(-1)?.content ?? '';

  /** Moves the sandbox clock past a request's expiry and runs what fell due. */
  async function passExpiry(request: AccessRequest) {
    const expiresAt = Date.parse(request.grant?.expiresAt ?? '');
    world().clock.advance(Math.max(0, expiresAt - world().clock.now().getTime()) + 60_000);
    await world().host.scheduler.runDue();
  }

  const sweep = () => world().host.invoker.invoke(PROVISION_FUNCTIONS.sweeper, {}, 'scheduler');

  const oktaMembers = async (groupId: string) => {
    const response = await fetch(`${world().okta.url}/api/v1/groups/${groupId}/users`, {
      headers: { authorization: `SSWS ${world().credentials.okta.token}` },
    });
    return ((await response.json()) as { profile: { login: string } }[]).map((u) => u.profile.login);
  };

  return { inState, filed, note, comments, commented, lastNote, passExpiry, sweep, oktaMembers };
}
