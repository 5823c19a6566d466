// The Okta stand-in through the real @okta/okta-sdk-nodejs over HTTP: lookups,
// filters, Link-header pagination, membership changes and the System Log they
// leave, Okta's error bodies, and the SDK's 429 retry.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import okta from '@okta/okta-sdk-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { OktaStandIn } from '../../sandbox/okta/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../sandbox/scenario/load';

const TOKEN = '00okta-sandbox-token-0000000000000000000';
const START = new Date('2026-11-21T09:00:00.000Z');

/**
 * A client that reads nothing from its surroundings: the SDK merges ~/.okta/okta.yaml, ./okta.yaml and
 * OKTA_CLIENT_* variables under the options given, and routes through HTTPS_PROXY when set. Every option
 * it uses is passed, HOME points at an empty folder while it is built, and those variables are hidden.
 * `requestTimeout` only takes effect on a request executor: the client ignores it as a top-level option.
 */
function isolatedClient(orgUrl: string, token: string, options: { cache?: boolean } = {}): okta.Client {
  const hidden = Object.keys(process.env).filter((k) => k.startsWith('OKTA_') || /^https?_proxy$/i.test(k));
  const saved = { HOME: process.env.HOME, ...Object.fromEntries(hidden.map((k) => [k, process.env[k]])) };
  for (const k of hidden) delete process.env[k];
  process.env.HOME = mkdtempSync(join(tmpdir(), 'okta-home-'));
  try {
    return new okta.Client({
      orgUrl,
      token,
      authorizationMode: 'SSWS',
      requestExecutor: new okta.DefaultRequestExecutor({ maxRetries: 2, requestTimeout: 15_000 }),
      ...(options.cache === false ? { cacheMiddleware: null } : {}),
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function collect<T>(collection: AsyncIterable<T | null>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of collection) if (item) items.push(item);
  return items;
}

describe('Okta stand-in through @okta/okta-sdk-nodejs', () => {
  let clock: SandboxClock;
  let scenario: Scenario;
  let standIn: OktaStandIn;
  let client: okta.Client;
  const person = (id: string) => {
    const p = scenario.people.find((x) => x.id === id);
    if (!p) throw new Error(`no person ${id}`);
    return p;
  };
  const callsTo = (routeKey: string) => standIn.calls.filter((c) => c.routeKey === routeKey);

  beforeAll(async () => {
    clock = new SandboxClock({ start: START, frozen: true });
    scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now());
    standIn = new OktaStandIn({ scenario, clock, apiTokens: [TOKEN], pageSizes: { userGroups: 2 } });
    await standIn.start();
    client = isolatedClient(standIn.url, TOKEN);
  });

  afterAll(async () => {
    await standIn.stop();
  });

  it('gets a user by id and by login, with profile, status and last login', async () => {
    const dana = person('dana');
    const byId = await client.userApi.getUser({ userId: dana.okta.id });
    expect(byId.id).toBe(dana.okta.id);
    expect(byId.status).toBe('ACTIVE');
    expect(byId.profile?.login).toBe('dana.reyes@example.com');
    expect(byId.profile?.displayName).toBe('Dana Reyes');
    expect(byId.profile?.title).toBe('Senior Site Reliability Engineer');
    expect(byId.profile?.manager).toBe('Maria Gonzalez');
    expect(byId.profile?.managerId).toBe(person('maria').okta.id);
    expect(byId.created).toEqual(dana.okta.created);
    expect(byId.lastLogin).toEqual(new Date(START.getTime() - 2 * 3_600_000));

    const zoe = await client.userApi.getUser({ userId: 'zoe.fischer@example.com' });
    expect(zoe.id).toBe(person('zoe').okta.id);
    expect(zoe.status).toBe('SUSPENDED');
  });

  it('filters users the way Okta does', async () => {
    const byEmail = await collect(
      await client.userApi.listUsers({ filter: 'profile.email eq "chloe.martin@example.com"' }),
    );
    expect(byEmail.map((u) => u.id)).toEqual([person('chloe').okta.id]);

    const suspended = await collect(await client.userApi.listUsers({ filter: 'status eq "SUSPENDED"' }));
    expect(suspended.map((u) => u.profile?.login)).toEqual(['zoe.fischer@example.com']);

    await expect(
      collect(await client.userApi.listUsers({ filter: 'profile.title eq "Data Analyst"' })),
    ).rejects.toMatchObject({ status: 400, errorCode: 'E0000031' });
  });

  it('pages through every user with limit and Link headers', async () => {
    const before = callsTo('GET /api/v1/users').length;
    const users = await collect(await client.userApi.listUsers({ limit: 4 }));
    expect(users).toHaveLength(scenario.people.length);
    expect(new Set(users.map((u) => u.id)).size).toBe(scenario.people.length);
    expect(callsTo('GET /api/v1/users').length - before).toBe(Math.ceil(scenario.people.length / 4));
  });

  it("lists a user's groups across pages by following rel=next", async () => {
    const tomas = person('tomas');
    const groups = await collect(await client.userApi.listUserGroups({ userId: tomas.okta.id }));
    expect(groups.map((g) => g.id)).toEqual(tomas.okta.groups);
    expect(groups.map((g) => g.profile?.name)).toContain('incident-responders');
    // Four groups at two a page: two requests, the second carrying the cursor.
    const calls = callsTo('GET /api/v1/users/:id/groups');
    expect(calls).toHaveLength(2);
  });

  it('lists MFA factors, and none for a user without any', async () => {
    const factors = await collect(await client.userFactorApi.listFactors({ userId: person('dana').okta.id }));
    expect(factors.map((f) => f.factorType)).toEqual(['push', 'token:software:totp']);
    expect(factors.every((f) => f.status === 'ACTIVE')).toBe(true);

    const none = await collect(await client.userFactorApi.listFactors({ userId: person('ivan').okta.id }));
    expect(none).toEqual([]);
  });

  it('adds and removes a group member, visible in the group and in the System Log', async () => {
    const chloe = person('chloe');
    const prodReadonly = '00g1prodreadonly0001';
    const since = clock.now().toISOString();

    await client.groupApi.assignUserToGroup({ groupId: prodReadonly, userId: chloe.okta.id });
    // Idempotent, as in Okta.
    await client.groupApi.assignUserToGroup({ groupId: prodReadonly, userId: chloe.okta.id });
    const members = await collect(await client.groupApi.listGroupUsers({ groupId: prodReadonly, limit: 2 }));
    expect(members.map((u) => u.id)).toContain(chloe.okta.id);
    expect(callsTo('GET /api/v1/groups/:id/users').length).toBeGreaterThan(1);

    clock.advance(60_000);
    await client.groupApi.unassignUserFromGroup({ groupId: prodReadonly, userId: chloe.okta.id });
    const after = await collect(await client.groupApi.listGroupUsers({ groupId: prodReadonly }));
    expect(after.map((u) => u.id)).not.toContain(chloe.okta.id);

    clock.advance(1000);
    const events = await collect(
      await client.systemLogApi.listLogEvents({
        since,
        until: clock.now().toISOString(),
        filter: `target.id eq "${chloe.okta.id}" and target.id eq "${prodReadonly}"`,
      }),
    );
    expect(events.map((e) => e.eventType)).toEqual([
      'group.user_membership.add',
      'group.user_membership.remove',
    ]);
    expect(events[0]?.target?.map((t) => t.type)).toEqual(['User', 'UserGroup']);
    expect(standIn.state().groups.find((g) => g.id === prodReadonly)?.members).not.toContain(chloe.okta.id);
  });

  it("finds chloe's sign-in from a new country, with geolocation", async () => {
    const chloe = person('chloe');
    const events = await collect(
      await client.systemLogApi.listLogEvents({
        since: new Date(START.getTime() - 30 * 86_400_000).toISOString(),
        until: clock.now().toISOString(),
        filter: `eventType eq "user.session.start" and actor.id eq "${chloe.okta.id}"`,
        limit: 2,
      }),
    );
    expect(events.map((e) => e.client?.geographicalContext?.country)).toEqual([
      'Germany',
      'Germany',
      'Germany',
      'Brazil',
    ]);
    const rio = events[3];
    expect(rio?.published).toEqual(new Date(START.getTime() - 86_400_000));
    expect(rio?.outcome?.result).toBe('SUCCESS');
    expect(rio?.actor).toMatchObject({
      id: chloe.okta.id,
      type: 'User',
      alternateId: 'chloe.martin@example.com',
    });
    expect(rio?.client?.geographicalContext).toMatchObject({
      city: 'Rio de Janeiro',
      geolocation: { lat: -22.9068, lon: -43.1729 },
    });
    expect(rio?.client?.userAgent?.os).toBe('Android');
    expect(rio?.client?.userAgent?.browser).toBe('CHROME');
  });

  it('keeps offering a next page to a polling read (no until), as Okta does', async () => {
    const response = await fetch(
      `${standIn.url}/api/v1/logs?since=${encodeURIComponent(clock.now().toISOString())}`,
      {
        headers: { authorization: `SSWS ${TOKEN}`, accept: 'application/json' },
      },
    );
    expect(await response.json()).toEqual([]);
    expect(response.headers.get('link')).toMatch(/rel="self".*rel="next"/);
    expect(response.headers.get('x-rate-limit-limit')).toBe('120');
    expect(Number(response.headers.get('x-rate-limit-reset'))).toBeGreaterThan(clock.now().getTime() / 1000);
  });

  it('refuses a wrong token with E0000011 and no token with E0000005', async () => {
    const wrong = isolatedClient(standIn.url, 'not-a-real-token');
    await expect(wrong.userApi.getUser({ userId: person('dana').okta.id })).rejects.toMatchObject({
      name: 'OktaApiError',
      status: 401,
      errorCode: 'E0000011',
      errorSummary: 'Invalid token provided',
    });

    const anonymous = await fetch(`${standIn.url}/api/v1/users/${person('dana').okta.id}`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.json()).toMatchObject({ errorCode: 'E0000005', errorSummary: 'Invalid session' });
  });

  it('answers an unknown user or group with 404 E0000007', async () => {
    await expect(client.userApi.getUser({ userId: '00unobody00000000000' })).rejects.toMatchObject({
      status: 404,
      errorCode: 'E0000007',
      errorSummary: 'Not found: Resource not found: 00unobody00000000000 (User)',
      errorLink: 'E0000007',
      errorCauses: [],
    });
    await expect(
      client.groupApi.assignUserToGroup({ groupId: '00gnothing0000000000', userId: person('dana').okta.id }),
    ).rejects.toMatchObject({ status: 404, errorCode: 'E0000007' });
  });

  it('has the SDK wait out a 429 and retry', async () => {
    const maria = person('maria');
    standIn.faults.set('GET /api/v1/users/:id', { failNext: 1, status: 429 });
    const before = callsTo('GET /api/v1/users/:id').length;
    const user = await client.userApi.getUser({ userId: maria.okta.id });
    expect(user.id).toBe(maria.okta.id);
    const calls = callsTo('GET /api/v1/users/:id').slice(before);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
  });

  it('lets the control API change a status, which the next read shows', async () => {
    const lena = person('lena');
    standIn.setUserStatus(lena.email, 'LOCKED_OUT');
    const [locked] = await collect(await client.userApi.listUsers({ filter: `id eq "${lena.okta.id}"` }));
    expect(locked?.status).toBe('LOCKED_OUT');
    expect(standIn.state().users.find((u) => u.id === lena.okta.id)?.status).toBe('LOCKED_OUT');
  });

  it('shows why a connector should turn off the SDK cache: a fetched user is served stale', async () => {
    const rob = person('rob');
    const cached = isolatedClient(standIn.url, TOKEN);
    const uncached = isolatedClient(standIn.url, TOKEN, { cache: false });
    expect((await cached.userApi.getUser({ userId: rob.okta.id })).status).toBe('ACTIVE');
    standIn.setUserStatus(rob.okta.id, 'SUSPENDED');
    // The default cache keeps GETs by their _links.self.href for good.
    expect((await cached.userApi.getUser({ userId: rob.okta.id })).status).toBe('ACTIVE');
    expect((await uncached.userApi.getUser({ userId: rob.okta.id })).status).toBe('SUSPENDED');
  });
});
