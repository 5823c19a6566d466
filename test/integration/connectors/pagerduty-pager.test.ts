// PagerDutyPager against the PagerDuty stand-in over real HTTP, through pdjs:
// incidents opened once per key, notes written and read back whole, resolving,
// users, and how PagerDuty's refusals and failures reach the caller.
//
// The clock is frozen at 2026-11-21T09:00Z, the scenario's start. Writes are
// made as maria; the Identity and access service (PIAMSVC) pages PIAMPOL.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createPagerDutyClient,
  type PagerDutyClientOptions,
  PagerDutyStatusError,
} from '../../../lambdas/connectors/pagerduty/client';
import {
  CUT_MARKER,
  MAX_DETAILS_LENGTH,
  MAX_NOTE_LENGTH,
  MAX_TITLE_LENGTH,
  PagerDutyPager,
} from '../../../lambdas/connectors/pagerduty/pager';
import {
  ConfigurationError,
  PayloadTooLargeError,
  UpstreamError,
  ValidationError,
} from '../../../lambdas/core/errors';
import type { IncidentDraft } from '../../../lambdas/core/ports';
import { SandboxClock } from '../../../sandbox/clock';
import { DEFAULT_NOTE_TRIM_LENGTH, PagerDutyStandIn } from '../../../sandbox/pagerduty/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const TOKEN = 'pd-sandbox-token';

let clock: SandboxClock;
let scenario: Scenario;
let standIn: PagerDutyStandIn;

beforeEach(async () => {
  clock = new SandboxClock({ start: START, frozen: true });
  scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now());
  standIn = new PagerDutyStandIn({ scenario, clock, apiTokens: [TOKEN] });
  await standIn.start();
});

afterEach(() => standIn.stop());

function person(id: string) {
  const found = scenario.people.find((p) => p.id === id);
  if (!found) throw new Error(`no person ${id} in the scenario`);
  return found;
}

function pager(options: Partial<PagerDutyClientOptions> = {}): PagerDutyPager {
  return new PagerDutyPager(
    createPagerDutyClient({
      token: TOKEN,
      baseUrl: standIn.url,
      timeoutMs: 5_000,
      rateLimitRetryMs: 1,
      from: person('maria').email,
      ...options,
    }),
  );
}

function draft(overrides: Partial<IncidentDraft> = {}): IncidentDraft {
  return {
    incidentKey: 'req-0001',
    serviceId: 'PIAMSVC',
    escalationPolicyId: 'PIAMPOL',
    title: 'Access request ACCESS-42: prod-readonly for dana for 4h',
    urgency: 'high',
    details: 'Requester: dana.reyes@example.com\nRecommendation: approve',
    ...overrides,
  };
}

interface StoredIncident {
  id: string;
  title: string;
  status: string;
  urgency: string;
  incident_key: string;
  html_url: string;
  service: { id: string };
  escalation_policy: { id: string };
  body?: { type: string; details: string };
  notes: { id: string; content: string; user: { id: string } }[];
}

/** The incidents as the stand-in keeps them, rendered as PagerDuty would, each with its notes. */
function storedIncidents(): StoredIncident[] {
  return (standIn.state() as { incidents: StoredIncident[] }).incidents;
}

function storedIncident(id: string): StoredIncident {
  const found = storedIncidents().find((i) => i.id === id);
  if (!found) throw new Error(`the stand-in has no incident ${id}`);
  return found;
}

function statusesOf(routeKey: string): number[] {
  return standIn.calls.filter((c) => c.routeKey === routeKey).map((c) => c.status);
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail, but it succeeded');
    },
    (error: unknown) => error,
  );
}

async function upstreamErrorOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(UpstreamError);
  const upstream = error as UpstreamError;
  expect(upstream.service).toBe('pagerduty');
  expect(upstream.message).not.toContain(TOKEN);
  return upstream;
}

describe('openIncident', () => {
  it('opens an incident on the service and policy, with the key, urgency and details', async () => {
    const opened = await pager().openIncident(draft({ urgency: 'low' }));

    expect(opened).toEqual({
      id: expect.stringMatching(/^Q[A-Z0-9]{13}$/),
      url: `https://example.pagerduty.com/incidents/${opened.id}`,
      created: true,
    });
    expect(storedIncident(opened.id)).toMatchObject({
      title: 'Access request ACCESS-42: prod-readonly for dana for 4h',
      status: 'triggered',
      urgency: 'low',
      incident_key: 'req-0001',
      html_url: opened.url,
      service: { id: 'PIAMSVC' },
      escalation_policy: { id: 'PIAMPOL' },
      body: { type: 'incident_body', details: 'Requester: dana.reyes@example.com\nRecommendation: approve' },
    });
  });

  it('returns the open incident with created: false when the key was paged already', async () => {
    const first = await pager().openIncident(draft());
    const again = await pager().openIncident(draft({ title: 'a retry may word it differently' }));

    expect(again).toEqual({ id: first.id, url: first.url, created: false });
    expect(storedIncidents()).toHaveLength(1);
    // PagerDuty refused the second create; the lookup by key found the first incident.
    expect(statusesOf('POST /incidents')).toEqual([201, 400]);
    expect(statusesOf('GET /incidents')).toEqual([200]);
  });

  it('finds the clash among several incidents, and opens anew once the old one is resolved', async () => {
    await pager().openIncident(draft({ incidentKey: 'req-other' }));
    const first = await pager().openIncident(draft());
    expect(await pager().openIncident(draft())).toMatchObject({ id: first.id, created: false });

    await pager().resolve(first.id);
    const reopened = await pager().openIncident(draft());
    expect(reopened.created).toBe(true);
    expect(reopened.id).not.toBe(first.id);
  });

  it('finds a clash older than the default window of GET /incidents', async () => {
    const first = await pager().openIncident(draft());
    clock.advance(45 * 86_400_000);
    expect(await pager().openIncident(draft())).toEqual({ id: first.id, url: first.url, created: false });
  });

  it('reports any other 400 as a bad response, with what PagerDuty said was wrong', async () => {
    const error = await upstreamErrorOf(pager().openIncident(draft({ serviceId: 'PNOPE00' })));
    expect(error).toBeInstanceOf(PagerDutyStatusError);
    expect(error.failure).toBe('bad-response');
    expect(error.message).toContain('Service Not Found');
    expect((error as PagerDutyStatusError).status).toBe(400);
    expect(storedIncidents()).toEqual([]);
  });

  it('cuts a title longer than PagerDuty takes, visibly', async () => {
    const title = `Access request ${'x'.repeat(2 * MAX_TITLE_LENGTH)}`;
    const opened = await pager().openIncident(draft({ title }));

    const stored = storedIncident(opened.id).title;
    expect(stored).toHaveLength(MAX_TITLE_LENGTH);
    expect(stored.endsWith(CUT_MARKER)).toBe(true);
    expect(title.startsWith(stored.slice(0, -CUT_MARKER.length))).toBe(true);
  });

  it('sends details up to the bound whole, and refuses longer ones without calling PagerDuty', async () => {
    const longest = 'd'.repeat(MAX_DETAILS_LENGTH);
    const opened = await pager().openIncident(draft({ details: longest }));
    expect(storedIncident(opened.id).body?.details).toBe(longest);

    const error = await rejectionOf(
      pager().openIncident(draft({ incidentKey: 'req-2', details: `${longest}!` })),
    );
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as Error).message).toContain(`${MAX_DETAILS_LENGTH + 1} characters`);
    expect(statusesOf('POST /incidents')).toEqual([201]);
  });

  it('refuses a draft without a key or a title', async () => {
    await expect(pager().openIncident(draft({ incidentKey: ' ' }))).rejects.toThrow(ValidationError);
    await expect(pager().openIncident(draft({ title: '  ' }))).rejects.toThrow(ValidationError);
    expect(standIn.calls).toEqual([]);
  });
});

describe('the From header', () => {
  it('refuses a write when the client has no "from", naming the option, and sends nothing', async () => {
    const readOnly = pager({ from: undefined });
    const incident = await pager().openIncident(draft());
    const before = standIn.calls.length;

    const writes = [
      () => readOnly.openIncident(draft({ incidentKey: 'req-2' })),
      () => readOnly.addNote(incident.id, 'approve'),
      () => readOnly.resolve(incident.id),
    ];
    for (const write of writes) {
      const error = await rejectionOf(write());
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain('"from" option');
    }
    expect(standIn.calls.length).toBe(before);
    // Reads need no acting user.
    expect(await readOnly.getUser(person('dana').pagerduty.userId)).toMatchObject({ name: 'Dana Reyes' });
  });

  it('refuses a "from" that is not an email when the client is made', () => {
    expect(() => pager({ from: 'maria' })).toThrow(ConfigurationError);
  });

  it('reports a "from" PagerDuty does not know as a bad response', async () => {
    const error = await upstreamErrorOf(pager({ from: 'nobody@example.com' }).openIncident(draft()));
    expect(error.failure).toBe('bad-response');
    expect(error.message).toContain('Requester User Not Found');
  });

  // The HTTP status classifies, never PagerDuty's code: 2016 is "The request took too long to
  // process" (a 408 worth retrying), whatever code a refused From comes with.
  it('reports a 408 with code 2016 as a timeout, a retry', async () => {
    const { id } = await pager().openIncident(draft());
    standIn.faults.set('POST /incidents/:id/notes', { failNext: 1, status: 408 });
    const error = await upstreamErrorOf(pager().addNote(id, 'approve'));
    expect(error.failure).toBe('timeout');
    expect(error.message).toContain('(code 2016)');
  });
});

describe('failures', () => {
  it('reports a wrong token as unauthorized', async () => {
    const error = await upstreamErrorOf(pager({ token: 'wrong-token' }).openIncident(draft()));
    expect(error.failure).toBe('unauthorized');
    expect(error.message).not.toContain('wrong-token');
  });

  it('rides out a 429 on create and opens the incident once', async () => {
    standIn.faults.set('POST /incidents', { failNext: 1, status: 429 });
    const opened = await pager().openIncident(draft());

    expect(opened.created).toBe(true);
    expect(statusesOf('POST /incidents')).toEqual([429, 201]);
    expect(storedIncidents()).toHaveLength(1);
  });

  it("waits for PagerDuty's rate limit to reset when that is within the timeout", async () => {
    // One second before the minute ends the stand-in's 429s say the window resets in 1 s.
    clock.advance(59_500);
    // pdjs's own four attempts all meet a 429; the round after the reset gets through.
    standIn.faults.set('POST /incidents', { failNext: 4, status: 429 });
    const opened = await pager().openIncident(draft());

    expect(opened.created).toBe(true);
    expect(statusesOf('POST /incidents')).toEqual([429, 429, 429, 429, 201]);
  });

  it('gives up at once when the rate limit resets after the timeout, and says when it resets', async () => {
    standIn.faults.set('POST /incidents', { errorRate: 1, status: 429 });
    const startedAt = Date.now();
    const error = await upstreamErrorOf(pager({ timeoutMs: 3_000 }).openIncident(draft()));

    expect(error.failure).toBe('rate-limited');
    expect(error.message).toContain('resets in 60 s');
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  it('reports a slow answer as a timeout; the retry then finds the incident PagerDuty opened', async () => {
    standIn.faults.set('POST /incidents', { delayMs: 500 });
    const error = await upstreamErrorOf(pager({ timeoutMs: 100 }).openIncident(draft()));
    expect(error.failure).toBe('timeout');

    await vi.waitFor(() => expect(statusesOf('POST /incidents')).toEqual([201]));
    standIn.faults.clear();
    const retried = await pager().openIncident(draft());
    expect(retried).toMatchObject({ id: storedIncidents()[0]?.id, created: false });
  });

  it('reports a 500 as unavailable (worth a retry) without looking for a clash', async () => {
    standIn.faults.set('POST /incidents', { failNext: 1, status: 500 });
    const error = await upstreamErrorOf(pager().openIncident(draft()));

    expect(error.failure).toBe('unavailable');
    expect(statusesOf('GET /incidents')).toEqual([]);
  });
});

describe('addNote', () => {
  it('adds the note as the "from" user; PagerDuty answers 200 (its OpenAPI), not 201', async () => {
    const { id } = await pager().openIncident(draft());
    await pager().addNote(id, 'Recommendation: approve. Dana is on call for SRE this week.');
    expect(statusesOf('POST /incidents/:id/notes')).toEqual([200]);

    expect(storedIncident(id).notes).toMatchObject([
      {
        content: 'Recommendation: approve. Dana is on call for SRE this week.',
        user: { id: person('maria').pagerduty.userId },
      },
    ]);
  });

  it('cuts a note longer than PagerDuty takes, visibly', async () => {
    const { id } = await pager().openIncident(draft());
    const content = 'n'.repeat(MAX_NOTE_LENGTH + 5_000);
    await pager().addNote(id, content);

    const stored = storedIncident(id).notes[0]?.content ?? '';
    expect(stored).toHaveLength(MAX_NOTE_LENGTH);
    expect(stored).toBe(content.slice(0, MAX_NOTE_LENGTH - CUT_MARKER.length) + CUT_MARKER);
  });

  it('refuses an empty note, and reports a note on a missing incident as a bad response', async () => {
    const { id } = await pager().openIncident(draft());
    await expect(pager().addNote(id, ' \n ')).rejects.toThrow(ValidationError);

    const error = await upstreamErrorOf(pager().addNote('QNOSUCHINCIDENT', 'approve'));
    expect(error.failure).toBe('bad-response');
    expect((error as PagerDutyStatusError).status).toBe(404);
  });
});

describe('resolve', () => {
  it('resolves, and resolving again is not an error', async () => {
    const { id } = await pager().openIncident(draft());
    await pager().resolve(id);
    expect(storedIncident(id).status).toBe('resolved');

    await pager().resolve(id);
    expect(storedIncident(id).status).toBe('resolved');
    // The second PUT was refused; the incident's status showed it was resolved already.
    expect(statusesOf('PUT /incidents/:id')).toEqual([200, 400]);
  });

  it('reports resolving a missing incident, and refuses an id that is not one', async () => {
    const error = await upstreamErrorOf(pager().resolve('QNOSUCHINCIDENT'));
    expect((error as PagerDutyStatusError).status).toBe(404);

    await expect(pager().resolve('../users')).rejects.toThrow(ValidationError);
    expect(statusesOf('PUT /incidents/:id')).toEqual([404]);
  });
});

describe('getUser', () => {
  it('finds a user by id', async () => {
    const dana = person('dana');
    expect(await pager().getUser(dana.pagerduty.userId)).toEqual({
      id: dana.pagerduty.userId,
      email: dana.email,
      name: dana.name,
    });
  });

  it('returns undefined for a user PagerDuty does not have', async () => {
    expect(await pager().getUser('PNOSUCH')).toBeUndefined();
    expect(statusesOf('GET /users/:id')).toEqual([404]);
  });

  it('reports other failures rather than hiding them as "no such user"', async () => {
    standIn.faults.set('GET /users/:id', { failNext: 1, status: 500 });
    const error = await upstreamErrorOf(pager().getUser(person('dana').pagerduty.userId));
    expect(error.failure).toBe('unavailable');
  });
});

describe('getNote', () => {
  it('reads a note whole, longer than a webhook carries, with its author and time', async () => {
    const { id } = await pager().openIncident(draft());
    clock.advance(60_000);
    const content = `approve ${'because '.repeat(DEFAULT_NOTE_TRIM_LENGTH / 4)}`;
    expect(content.length).toBeGreaterThan(DEFAULT_NOTE_TRIM_LENGTH);
    const added = standIn.addNote(id, 'lena', content) as { id: string };

    expect(await pager().getNote(id, added.id)).toEqual({
      id: added.id,
      content,
      authorId: person('lena').pagerduty.userId,
      createdAt: '2026-11-21T09:01:00Z',
    });
  });

  it('picks the note asked for among several', async () => {
    const { id } = await pager().openIncident(draft());
    const first = standIn.addNote(id, 'lena', 'first') as { id: string };
    const second = standIn.addNote(id, 'sam', 'second') as { id: string };

    expect(await pager().getNote(id, second.id)).toMatchObject({ id: second.id, content: 'second' });
    expect(await pager().getNote(id, first.id)).toMatchObject({ id: first.id, content: 'first' });
  });

  it('returns undefined for a note or an incident that does not exist', async () => {
    const { id } = await pager().openIncident(draft());
    standIn.addNote(id, 'lena', 'approve');

    expect(await pager().getNote(id, 'PNOSUCHNOTE')).toBeUndefined();
    expect(await pager().getNote('QNOSUCHINCIDENT', 'PNOSUCHNOTE')).toBeUndefined();
    expect(statusesOf('GET /incidents/:id/notes')).toEqual([200, 404]);
  });
});
