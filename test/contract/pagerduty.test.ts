// Contract tests of the PagerDuty stand-in, through the real @pagerduty/pdjs SDK
// over HTTP and a real webhook receiver: what a loopgate connector relies on
// (shapes, errors, auth, pagination, rate limits, on-call, signed webhooks).

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { api } from '@pagerduty/pdjs';
import type { APIResponse } from '@pagerduty/pdjs/build/src/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { FROM_HEADER_REQUIRED } from '../../sandbox/pagerduty/errors';
import { PagerDutyStandIn, type PagerDutyStandInOptions } from '../../sandbox/pagerduty/stand-in';
import { MAX_WEBHOOK_BYTES, WebhookSubscription } from '../../sandbox/pagerduty/webhooks';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const TOKEN = 'u+sandbox-token';
const SECRETS = ['old-secret-being-rotated-out', 'new-secret'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let scenario: Scenario;
let clock: SandboxClock;
let standIn: PagerDutyStandIn;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, START);
  clock = new SandboxClock({ start: START, frozen: true });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<PagerDutyStandInOptions> = {}): Promise<PagerDutyStandIn> {
  standIn = new PagerDutyStandIn({ scenario, clock, apiTokens: [TOKEN], ...options });
  await standIn.start();
  const started = standIn;
  cleanups.push(() => started.stop());
  return standIn;
}

function person(id: string) {
  const found = scenario.people.find((p) => p.id === id);
  if (!found) throw new Error(`no person ${id} in the scenario`);
  return found;
}

interface Call {
  data?: object;
  from?: string;
  token?: string;
  tokenType?: string;
  /** pdjs waits this long (real time) before retrying a 429; 20 s unless set. */
  retryTimeout?: number;
}

/** One REST call through pdjs, at the stand-in's base URL (pdjs's `server` option would force https). */
function pd(method: string, path: string, call: Call = {}): Promise<APIResponse> {
  return api({
    url: `${standIn.url}${path}`,
    method,
    token: call.token ?? TOKEN,
    ...(call.tokenType ? { tokenType: call.tokenType } : {}),
    ...(call.data ? { data: call.data } : {}),
    headers: call.from ? { From: call.from } : {},
    ...(call.retryTimeout !== undefined ? { retryTimeout: call.retryTimeout, requestTimeout: 0 } : {}),
  });
}

function incidentBody(overrides: Record<string, unknown> = {}) {
  return {
    incident: {
      type: 'incident',
      title: 'Access request ACCESS-42: prod-readonly for dana for 4h',
      service: { id: 'PIAMSVC', type: 'service_reference' },
      urgency: 'high',
      incident_key: 'loopgate:ACCESS-42',
      body: { type: 'incident_body', details: 'Requester: dana.reyes@example.com\nRecommendation: approve' },
      ...overrides,
    },
  };
}

async function createIncident(overrides: Record<string, unknown> = {}) {
  const response = await pd('POST', '/incidents', {
    data: incidentBody(overrides),
    from: person('dana').email,
  });
  expect(response.status).toBe(201);
  return response.data.incident as { id: string; incident_number: number; [k: string]: unknown };
}

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

/**
 * A webhook receiver that answers the given statuses in turn, then 200; or, given a function, what
 * it says for each delivery (undefined: 200), after `delayMs` of real time when it says so.
 */
async function receiver(
  answer: number[] | ((delivery: Received) => { status?: number; delayMs?: number } | undefined) = [],
) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const delivery = { headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') };
      received.push(delivery);
      const { status = 200, delayMs = 0 } =
        typeof answer === 'function' ? (answer(delivery) ?? {}) : { status: answer.shift() };
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(status).end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/pagerduty`, received };
}

function signatureMatches(secret: string, raw: string, header: string | string[] | undefined): boolean {
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(raw, 'utf8').digest('hex')}`);
  return String(header ?? '')
    .split(',')
    .some((candidate) => {
      const given = Buffer.from(candidate.trim());
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

function event(received: Received) {
  return (JSON.parse(received.raw) as { event: Record<string, unknown> & { data: Record<string, unknown> } })
    .event;
}

describe('incidents', () => {
  beforeEach(() => start());

  it('creates an incident paging the on-call of the first escalation rule', async () => {
    const incident = await createIncident();
    const lena = person('lena'); // Security primary: sam, lena, omar weekly from -7d, so lena this week.

    expect(incident).toMatchObject({
      type: 'incident',
      incident_number: 1,
      title: 'Access request ACCESS-42: prod-readonly for dana for 4h',
      status: 'triggered',
      urgency: 'high',
      incident_key: 'loopgate:ACCESS-42',
      created_at: '2026-11-21T09:00:00Z',
      service: {
        id: 'PIAMSVC',
        type: 'service_reference',
        summary: 'Identity and access',
        self: `${standIn.url}/services/PIAMSVC`,
        html_url: 'https://example.pagerduty.com/services/PIAMSVC',
      },
      escalation_policy: { id: 'PIAMPOL', type: 'escalation_policy_reference', summary: 'Identity' },
      assignments: [
        {
          at: '2026-11-21T09:00:00Z',
          assignee: { id: lena.pagerduty.userId, type: 'user_reference', summary: lena.name },
        },
      ],
      body: { type: 'incident_body', details: 'Requester: dana.reyes@example.com\nRecommendation: approve' },
      self: `${standIn.url}/incidents/${incident.id}`,
      html_url: `https://example.pagerduty.com/incidents/${incident.id}`,
    });
    expect(incident.id).toMatch(/^Q[A-Z0-9]{13}$/);

    const fetched = await pd('GET', `/incidents/${incident.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.data.incident).toEqual(incident);
  });

  it('refuses a second open incident with the same incident_key on the service, until it is resolved', async () => {
    const first = await createIncident();
    const again = await pd('POST', '/incidents', { data: incidentBody(), from: person('dana').email });
    expect(again.status).toBe(400);
    expect(again.data).toEqual({
      error: {
        message: 'Invalid Input Provided',
        code: 2001,
        errors: ["Open incident with key 'loopgate:ACCESS-42' already exists for this service"],
      },
    });

    const resolved = await pd('PUT', `/incidents/${first.id}`, {
      data: { incident: { type: 'incident_reference', status: 'resolved' } },
      from: person('lena').email,
    });
    expect(resolved.status).toBe(200);
    expect(resolved.data.incident).toMatchObject({ status: 'resolved', assignments: [] });

    const reopened = await pd('POST', '/incidents', { data: incidentBody(), from: person('dana').email });
    expect(reopened.status).toBe(201);
  });

  // OpenAPI: the From header ("The email address of a valid user associated with the account
  // making the request") is `required: true` on these writes, and a 400 is the ArgumentError
  // "Caller provided invalid arguments ... Retrying with the same arguments will *not* work".
  // developer-docs REST-API/14-Errors.md: 2003 "Missing Arguments", 1008 "Requester User Not
  // Found"; 2016 is "The request took too long to process", which belongs to a 408.
  it('requires the From header of a known user on writes', async () => {
    const missing = await pd('POST', '/incidents', { data: incidentBody() });
    expect(missing.status).toBe(400);
    expect(missing.data).toEqual({
      error: { message: 'Missing Arguments', code: 2003, errors: [FROM_HEADER_REQUIRED] },
    });

    const stranger = await pd('POST', '/incidents', { data: incidentBody(), from: 'nobody@example.com' });
    expect(stranger.status).toBe(400);
    expect(stranger.data).toEqual({ error: { message: 'Requester User Not Found', code: 1008 } });

    const incident = await createIncident();
    const note = await pd('POST', `/incidents/${incident.id}/notes`, {
      data: { note: { content: 'approve' } },
    });
    expect(note.status).toBe(400);
    expect(note.data.error.code).toBe(2003);
    const update = await pd('PUT', `/incidents/${incident.id}`, {
      data: { incident: { type: 'incident_reference', status: 'acknowledged' } },
    });
    expect(update.status).toBe(400);
    expect(update.data.error.code).toBe(2003);
  });

  it('answers a request that took too long with 408 and code 2016, as the error reference lists it', async () => {
    standIn.faults.set('GET /incidents', { failNext: 1, status: 408 });
    const slow = await pd('GET', '/incidents');
    expect(slow.status).toBe(408);
    expect(slow.data).toEqual({ error: { message: 'The request took too long to process', code: 2016 } });
  });

  it('validates the incident: known service, string details, a title', async () => {
    const from = person('dana').email;
    const unknownService = await pd('POST', '/incidents', {
      data: incidentBody({ service: { id: 'PNOPE00', type: 'service_reference' } }),
      from,
    });
    expect(unknownService.status).toBe(400);
    expect(unknownService.data.error).toMatchObject({ code: 2001, errors: ['Service Not Found'] });

    const objectDetails = await pd('POST', '/incidents', {
      data: incidentBody({ body: { type: 'incident_body', details: { requester: 'dana' } } }),
      from,
    });
    expect(objectDetails.status).toBe(400);
    expect(objectDetails.data.error.errors).toEqual(['Body details must be a string']);

    const untitled = await pd('POST', '/incidents', { data: incidentBody({ title: '' }), from });
    expect(untitled.data.error.errors).toEqual(['Title cannot be empty.']);

    const malformed = await fetch(`${standIn.url}/incidents`, {
      method: 'POST',
      headers: { authorization: `Token token=${TOKEN}`, from, 'content-type': 'application/json' },
      body: '{"incident": ',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: { message: 'Invalid Input Provided', code: 2001, errors: ['params must be a Hash'] },
    });
  });

  // OpenAPI createIncidentNote: responses "200": "The new note." (no 201, unlike createIncident).
  it('adds a note with 200 and lists notes', async () => {
    const incident = await createIncident();
    const created = await pd('POST', `/incidents/${incident.id}/notes`, {
      data: { note: { content: 'approve, checked with the requester' } },
      from: person('lena').email,
    });
    expect(created.status).toBe(200);
    expect(created.data.note).toMatchObject({
      content: 'approve, checked with the requester',
      user: { id: person('lena').pagerduty.userId, type: 'user_reference' },
      created_at: '2026-11-21T09:00:00Z',
    });

    const listed = await pd('GET', `/incidents/${incident.id}/notes`);
    expect(listed.data.notes).toEqual([created.data.note]);
  });

  it('pages GET /incidents with offset, limit and more; total only when asked', async () => {
    const created: string[] = [];
    for (let i = 1; i <= 5; i++) {
      created.push((await createIncident({ incident_key: `loopgate:ACCESS-${i}` })).id);
      clock.advance(60_000);
    }

    const seen: string[] = [];
    let page: APIResponse | undefined = await pd('GET', '/incidents', { data: { limit: 2 } });
    const shapes: unknown[] = [];
    while (page) {
      expect(page.status).toBe(200);
      shapes.push({
        offset: page.data.offset,
        limit: page.data.limit,
        more: page.data.more,
        total: page.data.total,
      });
      seen.push(...(page.data.incidents as { id: string }[]).map((i) => i.id));
      page = page.next ? await page.next() : undefined;
    }
    expect(seen).toEqual(created);
    expect(shapes).toEqual([
      { offset: 0, limit: 2, more: true, total: null },
      { offset: 2, limit: 2, more: true, total: null },
      { offset: 4, limit: 2, more: false, total: null },
    ]);

    const counted = await pd('GET', '/incidents', { data: { limit: 2, total: 'true' } });
    expect(counted.data.total).toBe(5);

    const byKey = await pd('GET', '/incidents', {
      data: { incident_key: 'loopgate:ACCESS-3', 'statuses[]': ['triggered', 'acknowledged'] },
    });
    expect((byKey.data.incidents as { id: string }[]).map((i) => i.id)).toEqual([created[2]]);
  });
});

describe('authentication and errors', () => {
  beforeEach(() => start());

  it('answers a wrong token with 401 and PagerDuty’s body; accepts OAuth bearer tokens', async () => {
    const wrong = await pd('GET', '/users', { token: 'not-a-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ error: { message: 'Authentication failed', code: 2006 } });

    const bearer = await pd('GET', '/users', { tokenType: 'bearer' });
    expect(bearer.status).toBe(200);
  });

  it('answers unknown ids and paths with 404 and PagerDuty’s body', async () => {
    for (const path of [
      '/incidents/Q0000000000000',
      '/users/PNOBODY',
      '/schedules/PNONE00',
      '/nothing-here',
    ]) {
      const response = await pd('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.data, path).toEqual({ error: { message: 'Not Found', code: 2100 } });
    }
  });

  it('shows users, services, escalation policies and schedules by id', async () => {
    const dana = person('dana');
    const user = await pd('GET', `/users/${dana.pagerduty.userId}`);
    expect(user.data.user).toMatchObject({
      id: dana.pagerduty.userId,
      type: 'user',
      name: 'Dana Reyes',
      email: 'dana.reyes@example.com',
      html_url: `https://example.pagerduty.com/users/${dana.pagerduty.userId}`,
    });

    const found = await pd('GET', '/users', { data: { query: 'reyes' } });
    expect((found.data.users as { id: string }[]).map((u) => u.id)).toEqual([dana.pagerduty.userId]);

    const policy = await pd('GET', '/escalation_policies/PSREPOL');
    expect(policy.data.escalation_policy).toMatchObject({
      name: 'SRE',
      escalation_rules: [
        { escalation_delay_in_minutes: 15, targets: [{ id: 'PSRESCH', type: 'schedule_reference' }] },
        { escalation_delay_in_minutes: 30, targets: [{ id: person('maria').pagerduty.userId }] },
      ],
    });
    expect((await pd('GET', '/services/PSRESVC')).data.service).toMatchObject({
      name: 'Production platform',
    });
    expect((await pd('GET', '/schedules/PDBASCH')).data.schedule).toMatchObject({
      name: 'Databases primary',
    });
  });
});

describe('on-call', () => {
  beforeEach(() => start());

  async function onCalls(query: Record<string, string | string[]>) {
    const response = await pd('GET', '/oncalls', { data: query });
    expect(response.status).toBe(200);
    return response.data.oncalls as Record<string, { id: string } | number | string | null>[];
  }

  it('follows the rotation as the clock moves; a direct user target is on call permanently', async () => {
    const now = await onCalls({ 'escalation_policy_ids[]': ['PSREPOL'] });
    // SRE primary rotates weekly from -14d through dana, tomas, priya, maria: priya this week.
    expect(now).toEqual([
      {
        escalation_policy: expect.objectContaining({ id: 'PSREPOL', type: 'escalation_policy_reference' }),
        escalation_level: 1,
        schedule: expect.objectContaining({ id: 'PSRESCH', summary: 'SRE primary' }),
        user: expect.objectContaining({ id: person('priya').pagerduty.userId, summary: 'Priya Nair' }),
        start: '2026-11-21T09:00:00Z',
        end: '2026-11-28T09:00:00Z',
      },
      {
        escalation_policy: expect.objectContaining({ id: 'PSREPOL' }),
        escalation_level: 2,
        schedule: null,
        user: expect.objectContaining({ id: person('maria').pagerduty.userId }),
        start: null,
        end: null,
      },
    ]);

    clock.advance(7 * DAY + HOUR);
    const nextWeek = await onCalls({ 'escalation_policy_ids[]': ['PSREPOL'] });
    expect(nextWeek.map((o) => [o.escalation_level, (o.user as { id: string }).id])).toEqual([
      [1, person('maria').pagerduty.userId],
      [2, person('maria').pagerduty.userId],
    ]);
  });

  it('lists every shift in a since/until window, filtered by schedule and user', async () => {
    const window = await onCalls({
      'schedule_ids[]': ['PDBASCH'],
      'escalation_policy_ids[]': ['PDBAPOL'],
      since: '2026-11-21T10:00:00Z',
      until: '2026-11-23T10:00:00Z',
    });
    // Databases primary rotates daily from -3d through felix, grace, ivan: felix today, then grace, ivan.
    expect(window.map((o) => [(o.user as { id: string }).id, o.start])).toEqual([
      [person('felix').pagerduty.userId, '2026-11-21T09:00:00Z'],
      [person('grace').pagerduty.userId, '2026-11-22T09:00:00Z'],
      [person('ivan').pagerduty.userId, '2026-11-23T09:00:00Z'],
    ]);

    const grace = await onCalls({ 'user_ids[]': [person('grace').pagerduty.userId], earliest: 'true' });
    expect(grace.map((o) => [o.escalation_level, (o.schedule as { id: string } | null)?.id ?? null])).toEqual(
      [[2, null]],
    );
  });
});

// Levels, permanent targets and overrides as GET /oncalls reports them. OpenAPI Oncall:
// escalation_level "The escalation level for the on-call"; start "If `null`, the on-call is a
// permanent user on-call"; end "If `null`, the user does not go off-call"; schedule_ids[] "If `null`
// is provided in the array, it includes permanent on-calls due to direct user escalation targets".
// An on-call is "the computed result of a Schedule" (CONCEPTS.md), overrides included ("An override
// temporarily replaces a scheduled on-call member with a different member for a specific time
// period"; "If you create an override on top of an existing override, the last created override will
// have priority").
describe('on-call levels, permanent targets and overrides', () => {
  const userOf = (o: Record<string, unknown>) => (o.user as { id: string }).id;
  const databases = () => {
    const schedule = scenario.pagerduty.schedules.find((s) => s.id === 'PDBASCH');
    if (!schedule) throw new Error('no PDBASCH');
    return schedule;
  };
  async function onCalls(query: Record<string, string | string[]>) {
    const response = await pd('GET', '/oncalls', { data: query });
    expect(response.status).toBe(200);
    return response.data.oncalls as Record<string, unknown>[];
  }

  it('reports an override as the overriding user at the schedule’s level, for its window only', async () => {
    // Felix holds Databases primary today (09:00 to 09:00); Tomas covers 10:00 to 14:00 of it.
    databases().overrides.push({
      person: 'tomas',
      start: new Date('2026-11-21T10:00:00Z'),
      end: new Date('2026-11-21T14:00:00Z'),
    });
    await start();
    const day = await onCalls({
      'escalation_policy_ids[]': ['PDBAPOL'],
      'schedule_ids[]': ['PDBASCH'],
      since: '2026-11-21T09:00:00Z',
      until: '2026-11-22T09:00:00Z',
    });
    expect(day.map((o) => [userOf(o), o.escalation_level, o.start, o.end])).toEqual([
      [person('felix').pagerduty.userId, 1, '2026-11-21T09:00:00Z', '2026-11-21T10:00:00Z'],
      [person('tomas').pagerduty.userId, 1, '2026-11-21T10:00:00Z', '2026-11-21T14:00:00Z'],
      [person('felix').pagerduty.userId, 1, '2026-11-21T14:00:00Z', '2026-11-22T09:00:00Z'],
    ]);

    clock.advance(2 * HOUR);
    const tomas = await onCalls({ 'user_ids[]': [person('tomas').pagerduty.userId] });
    expect(tomas).toEqual([
      expect.objectContaining({
        escalation_policy: expect.objectContaining({ id: 'PDBAPOL' }),
        escalation_level: 1,
        schedule: expect.objectContaining({ id: 'PDBASCH' }),
        start: '2026-11-21T10:00:00Z',
        end: '2026-11-21T14:00:00Z',
      }),
    ]);
    expect(await onCalls({ 'user_ids[]': [person('felix').pagerduty.userId] })).toEqual([]);
  });

  it('lets the later of two overlapping overrides win', async () => {
    databases().overrides.push(
      { person: 'tomas', start: new Date('2026-11-21T10:00:00Z'), end: new Date('2026-11-21T14:00:00Z') },
      { person: 'kenji', start: new Date('2026-11-21T12:00:00Z'), end: new Date('2026-11-21T13:00:00Z') },
    );
    await start();
    const window = await onCalls({
      'schedule_ids[]': ['PDBASCH'],
      since: '2026-11-21T10:00:00Z',
      until: '2026-11-21T14:00:00Z',
    });
    expect(window.map((o) => [userOf(o), o.start, o.end])).toEqual([
      [person('tomas').pagerduty.userId, '2026-11-21T10:00:00Z', '2026-11-21T12:00:00Z'],
      [person('kenji').pagerduty.userId, '2026-11-21T12:00:00Z', '2026-11-21T13:00:00Z'],
      [person('tomas').pagerduty.userId, '2026-11-21T13:00:00Z', '2026-11-21T14:00:00Z'],
    ]);
  });

  it('reports a permanent target at its own level, and with schedule_ids[] only when null is asked for', async () => {
    await start();
    // Grace is the databases policy's level-2 target, named directly: a permanent on-call.
    const grace = await onCalls({ 'user_ids[]': [person('grace').pagerduty.userId] });
    expect(grace).toContainEqual(
      expect.objectContaining({ escalation_level: 2, schedule: null, start: null, end: null }),
    );
    const scheduled = await onCalls({
      'escalation_policy_ids[]': ['PDBAPOL'],
      'schedule_ids[]': ['PDBASCH'],
    });
    expect(scheduled.map((o) => o.escalation_level)).toEqual([1]);
    const withPermanent = await onCalls({
      'escalation_policy_ids[]': ['PDBAPOL'],
      'schedule_ids[]': ['PDBASCH', 'null'],
    });
    expect(withPermanent.map((o) => [o.escalation_level, o.start === null])).toEqual([
      [1, false],
      [2, true],
    ]);
  });
});

// Shift boundaries and overrides made through the API, as PagerDuty's OpenAPI (PagerDuty/api-schema,
// reference/REST/openapiv3.json) describes them: createScheduleOverride answers 201 with one
// {status, override, errors?} per override ("Override must end after its start" for a bad one), the
// last created wins; deleteScheduleOverride answers 204 for a future override, 200 when one running
// now is truncated to now, and refuses a past one ("You cannot remove a past override"). listOnCalls
// reports each on-call with its own start and end for the since/until window.
describe('shift boundaries and overrides through the API', () => {
  const at = (hours: number) => new Date(START.getTime() + hours * HOUR).toISOString().replace('.000', '');
  const felixShifts = async (since: number, until: number) =>
    (
      await pd('GET', '/oncalls', {
        data: { 'user_ids[]': [person('felix').pagerduty.userId], since: at(since), until: at(until) },
      })
    ).data.oncalls.map((o: { start: string; end: string }) => [o.start, o.end]);
  const override = (who: string, start: number, end: number) =>
    pd('POST', '/schedules/PDBASCH/overrides', {
      data: {
        overrides: [
          {
            start: at(start),
            end: at(end),
            user: { id: person(who).pagerduty.userId, type: 'user_reference' },
          },
        ],
      },
    });

  it('reports a shift’s start and end, and moves the end when an override hands it over early or extends it', async () => {
    await start();
    // Felix holds Databases primary for today's 24 hours.
    expect(await felixShifts(0, 1)).toEqual([[at(0), at(24)]]);

    const handover = await override('tomas', 6, 30);
    expect(handover.status).toBe(201);
    expect(handover.data).toEqual([
      {
        status: 201,
        override: expect.objectContaining({
          id: expect.any(String),
          start: at(6),
          end: at(30),
          user: expect.objectContaining({ id: person('tomas').pagerduty.userId, type: 'user_reference' }),
        }),
      },
    ]);
    expect(await felixShifts(0, 1)).toEqual([[at(0), at(6)]]);

    // Felix takes two more hours on top (the last created wins): his on-call continues into them.
    expect((await override('felix', 6, 8)).status).toBe(201);
    expect(await felixShifts(0, 12)).toEqual([
      [at(0), at(6)],
      [at(6), at(8)],
    ]);
  });

  // pdjs reads every answer as JSON; deleteScheduleOverride's 200 and 204 have no body.
  const remove = async (id: string) => {
    const response = await fetch(`${standIn.url}/schedules/PDBASCH/overrides/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Token token=${TOKEN}`, Accept: 'application/vnd.pagerduty+json;version=2' },
    });
    const text = await response.text();
    return { status: response.status, data: text ? JSON.parse(text) : undefined };
  };

  it('refuses a bad override in its own item, and deletes or truncates by the override’s time', async () => {
    await start();
    const bad = await override('tomas', 6, 6);
    expect(bad.status).toBe(201);
    expect(bad.data).toEqual([
      expect.objectContaining({ status: 400, errors: ['Override must end after its start'] }),
    ]);
    expect(await felixShifts(0, 1)).toEqual([[at(0), at(24)]]);

    const future = (await override('tomas', 6, 30)).data[0].override.id as string;
    expect((await remove(future)).status).toBe(204);
    expect(await felixShifts(0, 1)).toEqual([[at(0), at(24)]]);

    const running = (await override('tomas', -1, 2)).data[0].override.id as string;
    expect(await felixShifts(0, 1)).toEqual([]);
    expect((await remove(running)).status).toBe(200);
    expect(await felixShifts(0, 1)).toEqual([[at(0), at(24)]]);

    clock.advance(3 * HOUR);
    const past = await remove(running);
    expect(past.status).toBe(400);
    expect(past.data.error.errors).toEqual(['You cannot remove a past override']);
    expect((await remove('QNOSUCHOVERRIDE1')).status).toBe(404);
  });
});

describe('rate limiting', () => {
  it('answers an injected 429 with the rate-limit headers and body (pdjs retries a 429 three times)', async () => {
    await start();
    standIn.faults.set('POST /incidents', { failNext: 4, status: 429 });
    const response = await pd('POST', '/incidents', {
      data: incidentBody(),
      from: person('dana').email,
      retryTimeout: 1,
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('ratelimit-limit')).toBe('960');
    expect(response.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(response.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(response.data).toEqual({ error: { message: 'Rate Limit Exceeded', code: 2020 } });
    expect(standIn.calls.filter((c) => c.routeKey === 'POST /incidents')).toHaveLength(4);
  });

  it('limits POST /incidents per minute of the sandbox clock when the limiter is on', async () => {
    await start({ rateLimit: { createIncidentPerMinute: 2 } });
    const from = person('dana').email;
    const first = await pd('POST', '/incidents', { data: incidentBody({ incident_key: 'k1' }), from });
    expect(first.status).toBe(201);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect(
      (await pd('POST', '/incidents', { data: incidentBody({ incident_key: 'k2' }), from })).status,
    ).toBe(201);

    const limited = await pd('POST', '/incidents', {
      data: incidentBody({ incident_key: 'k3' }),
      from,
      retryTimeout: 1,
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('ratelimit-reset')).toBe('60');
    expect(limited.data.error.code).toBe(2020);

    const reads = await pd('GET', '/incidents');
    expect(reads.status).toBe(200);
    expect(reads.headers.get('ratelimit-limit')).toBe('960');

    clock.advance(60_000);
    expect(
      (await pd('POST', '/incidents', { data: incidentBody({ incident_key: 'k3' }), from })).status,
    ).toBe(201);
  });
});

describe('webhooks', () => {
  it('delivers incident.annotated for a note, signed with both secrets during a rotation', async () => {
    const hook = await receiver();
    await start({ webhook: { url: hook.url, secrets: SECRETS, id: 'PSUBSC1' } });
    const incident = await createIncident();

    const note = standIn.addNote(incident.id, 'ana', 'approve');
    await standIn.settled();

    expect(hook.received).toHaveLength(1);
    const [delivery] = hook.received;
    if (!delivery) throw new Error('no delivery');
    for (const secret of SECRETS)
      expect(signatureMatches(secret, delivery.raw, delivery.headers['x-pagerduty-signature'])).toBe(true);
    expect(
      signatureMatches('some-other-secret', delivery.raw, delivery.headers['x-pagerduty-signature']),
    ).toBe(false);
    expect(delivery.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'PagerDuty-Webhook/V3.0',
      'x-webhook-subscription': 'PSUBSC1',
    });
    expect(delivery.headers['x-webhook-id']).toMatch(/^[0-9a-f-]{36}$/);

    const ana = person('ana');
    const received = event(delivery);
    expect(received).toMatchObject({
      event_type: 'incident.annotated',
      resource_type: 'incident',
      occurred_at: '2026-11-21T09:00:00.000Z',
      agent: {
        id: ana.pagerduty.userId,
        type: 'user_reference',
        summary: 'Ana Lima',
        self: `${standIn.url}/users/${ana.pagerduty.userId}`,
        html_url: `https://example.pagerduty.com/users/${ana.pagerduty.userId}`,
      },
      client: null,
      data: {
        incident: {
          id: incident.id,
          type: 'incident_reference',
          self: `${standIn.url}/incidents/${incident.id}`,
        },
        id: note.id,
        content: 'approve',
        trimmed: false,
        type: 'incident_note',
      },
    });
    // What the webhook handler does next: the agent's email from the REST API.
    const agent = await pd('GET', `/users/${(received.agent as { id: string }).id}`);
    expect(agent.data.user.email).toBe('ana.lima@example.com');
    expect(standIn.deliveries()).toEqual([
      expect.objectContaining({
        eventType: 'incident.annotated',
        attempt: 1,
        status: 200,
        outcome: 'delivered',
      }),
    ]);
  });

  it('trims a long note in the webhook; the REST API has it whole', async () => {
    const hook = await receiver();
    await start({ webhook: { url: hook.url, secrets: SECRETS }, noteTrimLength: 100 });
    const incident = await createIncident();
    const content = `approve ${'because the change window is open '.repeat(10)}`;

    standIn.addNote(incident.id, 'ana', content);
    await standIn.settled();

    const [delivery] = hook.received;
    if (!delivery) throw new Error('no delivery');
    expect(event(delivery).data).toMatchObject({ content: content.slice(0, 100), trimmed: true });
    const notes = await pd('GET', `/incidents/${incident.id}/notes`);
    expect(notes.data.notes[0].content).toBe(content);
  });

  it('sends incident.acknowledged and incident.resolved with the incident as data', async () => {
    const hook = await receiver();
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const incident = await createIncident();

    standIn.acknowledge(incident.id, 'lena');
    const put = await pd('PUT', `/incidents/${incident.id}`, {
      data: { incident: { type: 'incident_reference', status: 'resolved' } },
      from: person('ana').email,
    });
    expect(put.status).toBe(200);
    await standIn.settled();

    expect(hook.received.map((r) => [event(r).event_type, event(r).data.status])).toEqual([
      ['incident.acknowledged', 'acknowledged'],
      ['incident.resolved', 'resolved'],
    ]);
    expect(event(hook.received[1] as Received)).toMatchObject({
      agent: { id: person('ana').pagerduty.userId },
      data: { id: incident.id, type: 'incident', number: 1, incident_key: 'loopgate:ACCESS-42' },
    });
    expect(() => standIn.resolve(incident.id, 'ana')).toThrow(/Incident Already Resolved/);
  });

  // PagerDuty/developer-docs docs/webhooks/02-Behavior.md, "Temporary Errors and Retries": "PagerDuty
  // will retry sending a webhook in these cases: No response / timeout, 5XX (server error) response,
  // 429 (rate limit error) response, Connection cannot be established ..." and "Webhooks will be
  // periodically retried for up to 48 hours. While attempting to retry a failing webhook, subsequent
  // webhooks for this extension or subscription and resource ID will be queued for delivery. After
  // 48 hours, the delivery will be considered a failure and the webhook will be dropped."
  // "Ordering: PagerDuty sends webhooks for a given extension and incident combination in the order
  // that they were generated." "X-Webhook-Id ... is repeated for each delivery attempt."
  it('retries a 5xx with the same X-Webhook-Id; later webhooks for that incident wait, other incidents go on', async () => {
    let failing = true;
    const hook = await receiver((r) =>
      failing && event(r).data.content === 'approve' ? { status: 500 } : undefined,
    );
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const first = await createIncident();
    const second = await createIncident({ incident_key: 'loopgate:ACCESS-43' });

    standIn.addNote(first.id, 'ana', 'approve');
    await standIn.settled();
    standIn.addNote(first.id, 'sam', 'approve as well');
    standIn.addNote(second.id, 'ana', 'deny not needed');
    await standIn.settled();
    const contents = () => hook.received.map((r) => event(r).data.content);
    expect(contents()).toEqual(['approve', 'deny not needed']);
    expect(standIn.subscription()).toMatchObject({
      enabled: true,
      queued: 2,
      nextAttemptAt: '2026-11-21T09:01:20.000Z',
      lanes: [{ incidentId: first.id, queued: 2, nextAttemptAt: '2026-11-21T09:01:20.000Z' }],
    });

    clock.advance(79_000);
    await standIn.settled();
    expect(hook.received).toHaveLength(2);

    failing = false;
    clock.advance(1_000);
    await standIn.settled();
    expect(contents()).toEqual(['approve', 'deny not needed', 'approve', 'approve as well']);
    const ids = hook.received.map((r) => r.headers['x-webhook-id']);
    expect(ids[2]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
    expect(standIn.deliveries().map((d) => [d.incidentId, d.attempt, d.status, d.outcome])).toEqual([
      [first.id, 1, 500, 'retrying'],
      [second.id, 1, 200, 'delivered'],
      [first.id, 2, 200, 'delivered'],
      [first.id, 1, 200, 'delivered'],
    ]);
    expect(standIn.subscription()).toMatchObject({ queued: 0, lanes: [] });
  });

  it('keeps retrying for 48 hours: a receiver back after 47 hours gets the webhook and the ones queued behind it', async () => {
    let down = true;
    const hook = await receiver(() => (down ? { status: 503 } : undefined));
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const incident = await createIncident();

    standIn.addNote(incident.id, 'ana', 'approve');
    standIn.addNote(incident.id, 'sam', 'approve as well');
    for (let hour = 1; hour <= 47; hour++) {
      clock.advance(HOUR);
      await standIn.settled();
    }
    expect(new Set(hook.received.map((r) => event(r).data.content))).toEqual(new Set(['approve']));
    expect(standIn.deliveries().every((d) => d.outcome === 'retrying')).toBe(true);

    down = false;
    clock.advance(HOUR);
    await standIn.settled();
    expect(hook.received.slice(-2).map((r) => event(r).data.content)).toEqual(['approve', 'approve as well']);
    expect(standIn.subscription()).toMatchObject({ consecutiveDrops: 0, queued: 0 });
  });

  it('drops a webhook still failing 48 hours after its first attempt, then sends the next one of the incident', async () => {
    const hook = await receiver((r) => (event(r).data.content === 'approve' ? { status: 503 } : undefined));
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const incident = await createIncident();

    standIn.addNote(incident.id, 'ana', 'approve');
    standIn.addNote(incident.id, 'sam', 'approve as well');
    for (let hour = 1; hour <= 48; hour++) {
      clock.advance(HOUR);
      await standIn.settled();
    }

    const attempts = standIn.deliveries().filter((d) => d.eventType === 'incident.annotated');
    const failed = attempts.filter((d) => d.status === 503);
    expect(new Set(failed.map((d) => d.webhookId)).size).toBe(1);
    expect(failed.at(0)?.at).toBe('2026-11-21T09:00:00.000Z');
    // The last attempt falls on the 48-hour mark, not after it.
    expect(failed.at(-1)).toMatchObject({ at: '2026-11-23T09:00:00.000Z', outcome: 'exhausted' });
    expect(failed.slice(0, -1).every((d) => d.outcome === 'retrying')).toBe(true);
    expect(attempts.at(-1)).toMatchObject({ status: 200, outcome: 'delivered' });
    expect(hook.received.at(-1) && event(hook.received.at(-1) as Received).data.content).toBe(
      'approve as well',
    );
    expect(standIn.subscription()).toMatchObject({ enabled: true, consecutiveDrops: 0, queued: 0 });
  });

  // 02-Behavior.md, "Timeouts": "PagerDuty expects a 2xx response within 5 seconds"; no response is a
  // temporary error. (The stand-in's timeoutMs shortens the 5 s so the test need not wait.)
  it('retries a delivery the receiver does not answer in time', async () => {
    let slow = true;
    const hook = await receiver(() => (slow ? { delayMs: 1_000 } : undefined));
    await start({ webhook: { url: hook.url, secrets: SECRETS, timeoutMs: 100 } });
    const incident = await createIncident();

    standIn.addNote(incident.id, 'ana', 'approve');
    await standIn.settled();
    expect(standIn.deliveries()).toEqual([
      expect.objectContaining({ attempt: 1, error: 'timeout', outcome: 'retrying' }),
    ]);
    expect(standIn.deliveries()[0]).not.toHaveProperty('status');

    slow = false;
    clock.advance(80_000);
    await standIn.settled();
    expect(standIn.deliveries().map((d) => d.outcome)).toEqual(['retrying', 'delivered']);
  });

  it('retries a 429 like a 5xx', async () => {
    const hook = await receiver([429]);
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const incident = await createIncident();
    standIn.addNote(incident.id, 'ana', 'approve');
    await standIn.settled();
    clock.advance(80_000);
    await standIn.settled();
    expect(standIn.deliveries().map((d) => [d.status, d.outcome])).toEqual([
      [429, 'retrying'],
      [200, 'delivered'],
    ]);
  });

  it('drops a 4xx without retry; three drops in a row disable the subscription for 24 hours', async () => {
    const hook = await receiver([400, 400, 400]);
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const incident = await createIncident();

    for (const content of ['one', 'two', 'three']) {
      standIn.addNote(incident.id, 'ana', content);
      await standIn.settled();
    }
    expect(hook.received).toHaveLength(3);
    expect(standIn.subscription()).toMatchObject({
      enabled: false,
      consecutiveDrops: 3,
      disabledUntil: '2026-11-22T09:00:00.000Z',
    });

    standIn.addNote(incident.id, 'ana', 'four: not sent while disabled');
    clock.advance(HOUR);
    await standIn.settled();
    expect(hook.received).toHaveLength(3);
    expect(standIn.deliveries().map((d) => d.outcome)).toEqual(['dropped', 'dropped', 'dropped', 'skipped']);

    clock.advance(23 * HOUR);
    standIn.addNote(incident.id, 'ana', 'five');
    await standIn.settled();
    expect(standIn.subscription()).toMatchObject({ enabled: true, consecutiveDrops: 0 });
    expect(hook.received.map((r) => event(r).data.content)).toEqual(['one', 'two', 'three', 'five']);
  });

  // 02-Behavior.md, "Permanent Errors": "4XX response from the server (except for 429)" is dropped
  // without a retry. "Temporary Disablement": "After 3 consecutive webhooks are dropped due to delivery
  // failure ... the extension or subscription will be disabled for 24 hours and any other webhooks in
  // its queue will be dropped."
  it('disabling drops what waits in every incident, and a 404 counts as a drop like any 4xx', async () => {
    const hook = await receiver((r) => ({ status: event(r).data.content === 'retry me' ? 503 : 404 }));
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const waiting = await createIncident();
    const dropping = await createIncident({ incident_key: 'loopgate:ACCESS-43' });

    standIn.addNote(waiting.id, 'ana', 'retry me');
    standIn.addNote(waiting.id, 'ana', 'behind it');
    await standIn.settled();
    for (const content of ['one', 'two', 'three']) {
      standIn.addNote(dropping.id, 'sam', content);
      await standIn.settled();
    }

    expect(standIn.subscription()).toMatchObject({ enabled: false, queued: 0, lanes: [] });
    expect(standIn.deliveries().map((d) => [d.incidentId, d.status ?? null, d.outcome])).toEqual([
      [waiting.id, 503, 'retrying'],
      [dropping.id, 404, 'dropped'],
      [dropping.id, 404, 'dropped'],
      [dropping.id, 404, 'dropped'],
      [waiting.id, null, 'skipped'],
      [waiting.id, null, 'skipped'],
    ]);
    clock.advance(HOUR);
    await standIn.settled();
    expect(hook.received).toHaveLength(4);
  });

  // 02-Behavior.md, "Size Limit": "All webhooks with a final size greater than 256 KB are always dropped."
  it('never sends a webhook over 256 KB', async () => {
    const hook = await receiver();
    const subscription = new WebhookSubscription({ url: hook.url, secrets: SECRETS }, clock, 'PSUBSC1');
    cleanups.push(async () => subscription.close());
    const webhook = (id: string, note: string) => ({
      id,
      event_type: 'incident.annotated',
      resource_type: 'incident' as const,
      occurred_at: clock.now().toISOString(),
      agent: null,
      client: null,
      data: { note },
    });
    const sized = (id: string, bytes: number) =>
      webhook(id, 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify({ event: webhook(id, '') }))));

    subscription.publish(sized('E1', MAX_WEBHOOK_BYTES), 'PINC1');
    subscription.publish(sized('E2', MAX_WEBHOOK_BYTES + 1), 'PINC1');
    await subscription.settled();

    expect(MAX_WEBHOOK_BYTES).toBe(262_144);
    expect(hook.received.map((r) => Buffer.byteLength(r.raw))).toEqual([MAX_WEBHOOK_BYTES]);
    // The oversized one is refused when it is generated, before the first one's POST completes.
    expect(subscription.deliveries().map((d) => [d.eventId, d.outcome, d.error ?? null])).toEqual([
      ['E2', 'skipped', `larger than ${MAX_WEBHOOK_BYTES} bytes`],
      ['E1', 'delivered', null],
    ]);
  });
});

// A person may hold several PagerDuty users (scenario `pagerduty.email`,
// `pagerduty.otherUsers`), and PagerDuty does not say on the wire whether a
// note was typed in its app or POSTed with an API key and a `From` header.
// Sources: PagerDuty/api-schema reference/REST/openapiv3.json ("spec") and
// PagerDuty/developer-docs docs/webhooks/01-Overview.md ("webhook docs").
describe('PagerDuty users and where a note came from', () => {
  const OTHER_ID = 'PLENAOPS';
  const OTHER_EMAIL = 'lena.ops@example.com';
  const MAIN_EMAIL = 'lnovak@example.com';

  beforeEach(() => {
    // Lena's main PagerDuty user logs in with another address, and she holds a second user.
    Object.assign(person('lena').pagerduty, {
      email: MAIN_EMAIL,
      otherUsers: [{ userId: OTHER_ID, email: OTHER_EMAIL }],
    });
  });

  it('shows every user a person holds by id and by query, each with its own email', async () => {
    await start();
    const lena = person('lena');
    const main = await pd('GET', `/users/${lena.pagerduty.userId}`);
    expect(main.data.user).toMatchObject({ id: lena.pagerduty.userId, name: lena.name, email: MAIN_EMAIL });
    const other = await pd('GET', `/users/${OTHER_ID}`);
    expect(other.data.user).toMatchObject({
      id: OTHER_ID,
      type: 'user',
      name: lena.name,
      email: OTHER_EMAIL,
      self: `${standIn.url}/users/${OTHER_ID}`,
    });
    const byName = await pd('GET', `/users?query=${encodeURIComponent(lena.name)}`);
    expect((byName.data.users as { id: string }[]).map((u) => u.id)).toEqual([
      lena.pagerduty.userId,
      OTHER_ID,
    ]);
    const byEmail = await pd('GET', `/users?query=${encodeURIComponent('lena.ops@')}`);
    expect((byEmail.data.users as { id: string }[]).map((u) => u.id)).toEqual([OTHER_ID]);
  });

  it('takes a From header with a PagerDuty login email only; the person’s other address is not one', async () => {
    await start();
    const incident = await createIncident();
    const asOther = await pd('POST', `/incidents/${incident.id}/notes`, {
      data: { note: { content: 'approve' } },
      from: OTHER_EMAIL,
    });
    expect(asOther.status).toBe(200);
    expect(asOther.data.note.user).toMatchObject({ id: OTHER_ID, type: 'user_reference' });
    // spec `From`: "The email address of a valid user associated with the account making the request."
    const asDirectoryEmail = await pd('POST', `/incidents/${incident.id}/notes`, {
      data: { note: { content: 'approve' } },
      from: person('lena').email,
    });
    expect(asDirectoryEmail.status).toBe(400);
    expect(asDirectoryEmail.data.error.message).toMatch(/Requester User Not Found/i);
  });

  it('puts only the main user on call: schedules and policies name people', async () => {
    await start();
    const week = await pd(
      'GET',
      `/oncalls?since=${encodeURIComponent(START.toISOString())}&until=${encodeURIComponent(new Date(START.getTime() + 7 * DAY).toISOString())}&limit=100`,
    );
    const ids = (week.data.oncalls as { user: { id: string } }[]).map((o) => o.user.id);
    expect(ids).not.toContain(OTHER_ID);
    const asOther = await pd('GET', `/oncalls?user_ids[]=${OTHER_ID}`);
    expect(asOther.data.oncalls).toEqual([]);
  });

  it('writes a note in the app as the PagerDuty user the control API chooses, and only one of the person’s', async () => {
    await start();
    const incident = await createIncident();
    const note = standIn.addNote(incident.id, 'lena', 'approve', { pagerdutyUser: OTHER_EMAIL });
    expect(note).toMatchObject({ user: { id: OTHER_ID, summary: person('lena').name } });
    expect(standIn.addNote(incident.id, OTHER_ID, 'approve')).toMatchObject({ user: { id: OTHER_ID } });
    expect(standIn.addNote(incident.id, 'lena', 'approve')).toMatchObject({
      user: { id: person('lena').pagerduty.userId },
    });
    expect(() => standIn.addNote(incident.id, 'sam', 'approve', { pagerdutyUser: OTHER_ID })).toThrow(
      /not a PagerDuty user of sam/,
    );
  });

  it('sends the same incident.annotated for a note from the web app, the mobile app and the REST API', async () => {
    // webhook docs: `event.agent` "Indicates who or what initiated the event"; `event.client`
    // "Object or `null` | Information about where the event was triggered." PagerDuty documents no
    // value of `client` that marks an API key, user token or OAuth app; captured annotated events carry null.
    const hook = await receiver();
    await start({ webhook: { url: hook.url, secrets: SECRETS } });
    const incident = await createIncident();
    standIn.addNote(incident.id, 'lena', 'approve');
    standIn.addNote(incident.id, 'lena', 'approve', { app: 'mobile' });
    await pd('POST', `/incidents/${incident.id}/notes`, {
      data: { note: { content: 'approve' } },
      from: MAIN_EMAIL,
    });
    await pd('POST', `/incidents/${incident.id}/notes`, {
      data: { note: { content: 'approve' } },
      from: MAIN_EMAIL,
      token: TOKEN,
      tokenType: 'bearer',
    });
    await standIn.settled();

    const events = hook.received.map(event).filter((e) => e.event_type === 'incident.annotated');
    expect(events).toHaveLength(4);
    const lena = person('lena');
    for (const e of events) {
      expect(e.agent).toEqual({
        id: lena.pagerduty.userId,
        type: 'user_reference',
        summary: lena.name,
        self: `${standIn.url}/users/${lena.pagerduty.userId}`,
        html_url: `https://example.pagerduty.com/users/${lena.pagerduty.userId}`,
      });
      expect(e.client).toBeNull();
      expect(Object.keys(e).sort()).toEqual(
        ['agent', 'client', 'data', 'event_type', 'id', 'occurred_at', 'resource_type'].sort(),
      );
    }
    // The REST notes look the same too: spec example channel "The PagerDuty website or APIs".
    const notes = await pd('GET', `/incidents/${incident.id}/notes`);
    const channels = new Set(
      (notes.data.notes as { channel: unknown }[]).map((n) => JSON.stringify(n.channel)),
    );
    expect([...channels]).toEqual([JSON.stringify({ summary: 'The PagerDuty website or APIs' })]);
    // Only the stand-in knows: its state keeps each note's origin for tests.
    const stored = (
      standIn.state() as { incidents: { id: string; notes: { origin: { via: string; auth?: string } }[] }[] }
    ).incidents.find((i) => i.id === incident.id);
    expect(stored?.notes.map((n) => n.origin)).toEqual([
      { via: 'web_app' },
      { via: 'mobile_app' },
      { via: 'rest_api', auth: 'token', truncatedToken: TOKEN.slice(-4), from: MAIN_EMAIL },
      { via: 'rest_api', auth: 'bearer', truncatedToken: TOKEN.slice(-4), from: MAIN_EMAIL },
    ]);
  });

  it('lists log entries: annotate_log_entry with the user as agent and channel note, whoever wrote it', async () => {
    // spec `Channel`: "Will be one of `email`, `sms`, `website`, `web_trigger`, or `note` if
    // `agent[type]` is `user`"; `AgentReference.type`: user_reference, service_reference, integration_reference.
    await start();
    const incident = await createIncident();
    standIn.addNote(incident.id, 'lena', 'approve');
    await pd('POST', `/incidents/${incident.id}/notes`, {
      data: { note: { content: 'approve via api' } },
      from: MAIN_EMAIL,
    });
    clock.advance(60_000);
    standIn.acknowledge(incident.id, 'lena', { app: 'mobile' });
    await pd('PUT', `/incidents/${incident.id}`, {
      data: { incident: { type: 'incident_reference', status: 'resolved' } },
      from: MAIN_EMAIL,
    });

    const all = await pd('GET', `/incidents/${incident.id}/log_entries`);
    expect(all.status).toBe(200);
    expect(all.data).toMatchObject({ limit: 25, offset: 0, more: false, total: null });
    const entries = all.data.log_entries as Record<string, unknown>[];
    // developer-docs tool-libraries/05-Retrieve-Incident-Details.md: the first entry is the trigger.
    expect(entries.map((e) => e.type)).toEqual([
      'trigger_log_entry',
      'assign_log_entry',
      ...entries.filter((e) => e.type === 'notify_log_entry').map(() => 'notify_log_entry'),
      'annotate_log_entry',
      'annotate_log_entry',
      'acknowledge_log_entry',
      'resolve_log_entry',
    ]);
    // The spec's example: trigger through the API, a service as agent, channel {type: "api"}.
    expect(entries[0]).toMatchObject({
      id: (incident.first_trigger_log_entry as { id: string }).id,
      type: 'trigger_log_entry',
      agent: { id: 'PIAMSVC', type: 'service_reference' },
      channel: { type: 'api' },
      incident: { id: incident.id, type: 'incident_reference' },
      self: `${standIn.url}/log_entries/${(incident.first_trigger_log_entry as { id: string }).id}?incident_id=${incident.id}`,
    });
    const notes = entries.filter((e) => e.type === 'annotate_log_entry');
    const lenaRef = { id: person('lena').pagerduty.userId, type: 'user_reference' };
    for (const entry of notes) {
      expect(entry).toMatchObject({ agent: lenaRef, channel: { type: 'note' } });
      expect(entry.channel).toEqual({ type: 'note' });
    }
    expect(notes[0]?.created_at).toBe('2026-11-21T09:00:00Z');
    // Acknowledged in the mobile app, resolved through the REST API: both `website`, the spec's one
    // value for a user agent's own action (`api` is for service agents); no app or key shows.
    expect(entries.at(-2)).toMatchObject({ agent: lenaRef, channel: { type: 'website' } });
    expect(entries.at(-1)).toMatchObject({ agent: lenaRef, channel: { type: 'website' } });

    // include[]=channels: the full channel (for a note, its text); services/incidents: full objects.
    const included = await pd(
      'GET',
      `/incidents/${incident.id}/log_entries?include[]=channels&include[]=services&include[]=incidents`,
    );
    const annotated = (included.data.log_entries as Record<string, unknown>[]).filter(
      (e) => e.type === 'annotate_log_entry',
    );
    expect(annotated.map((e) => e.channel)).toEqual([
      { type: 'note', summary: 'approve' },
      { type: 'note', summary: 'approve via api' },
    ]);
    expect(annotated[0]).toMatchObject({
      service: { id: 'PIAMSVC', type: 'service' },
      incident: { id: incident.id, type: 'incident', status: 'resolved' },
    });

    // GET /log_entries/{id} finds the same entry.
    const one = await pd('GET', `/log_entries/${String(notes[1]?.id)}`);
    expect(one.data.log_entry).toEqual(notes[1]);
    expect((await pd('GET', '/log_entries/RNOSUCHENTRY00')).status).toBe(404);
  });

  it('pages log entries with offset/limit/more, filters since/until and is_overview', async () => {
    await start();
    const incident = await createIncident();
    for (let i = 0; i < 4; i++) {
      clock.advance(60_000);
      standIn.addNote(incident.id, 'lena', `note ${i}`);
    }
    const all = (await pd('GET', `/incidents/${incident.id}/log_entries?total=true`)).data;
    const count = all.total as number;
    expect(count).toBe((all.log_entries as unknown[]).length);

    const first = await pd('GET', `/incidents/${incident.id}/log_entries?limit=2`);
    expect(first.data).toMatchObject({ limit: 2, offset: 0, more: true, total: null });
    const last = await pd('GET', `/incidents/${incident.id}/log_entries?limit=2&offset=${count - 2}`);
    expect(last.data).toMatchObject({ limit: 2, offset: count - 2, more: false });
    expect(last.data.log_entries).toEqual((all.log_entries as unknown[]).slice(-2));

    const since = new Date(START.getTime() + 150_000).toISOString();
    const recent = await pd(
      'GET',
      `/incidents/${incident.id}/log_entries?since=${encodeURIComponent(since)}`,
    );
    expect((recent.data.log_entries as { channel: unknown }[]).map((e) => e.channel)).toEqual([
      { type: 'note' },
      { type: 'note' },
    ]);

    // spec `is_overview`: "a subset of log entries that show only the most important changes".
    const overview = await pd('GET', `/incidents/${incident.id}/log_entries?is_overview=true`);
    const types = (overview.data.log_entries as { type: string }[]).map((e) => e.type);
    expect(types).not.toContain('notify_log_entry');
    expect(types.filter((t) => t === 'annotate_log_entry')).toHaveLength(4);

    expect((await pd('GET', `/incidents/${incident.id}/log_entries?include[]=bogus`)).status).toBe(400);
    expect((await pd('GET', '/incidents/QNOSUCHINCIDENT/log_entries')).status).toBe(404);
  });
});
