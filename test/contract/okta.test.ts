// The Okta stand-in through the real @okta/okta-sdk-nodejs over HTTP: lookups,
// filters, Link-header pagination, membership changes and the System Log they
// leave, Okta's error bodies, and the SDK's 429 retry.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import okta from '@okta/okta-sdk-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SandboxClock } from '../../sandbox/clock';
import { PUSH_ANSWER_DELAY_MS } from '../../sandbox/okta/directory';
import { OktaStandIn } from '../../sandbox/okta/stand-in';
import {
  DEFAULT_SCENARIO_FILE,
  loadScenarioFile,
  resolveScenario,
  type Scenario,
} from '../../sandbox/scenario/load';

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

/**
 * Logins, custom profile attributes and Okta Verify push, checked against Okta's management API
 * OpenAPI spec (github.com/okta/okta-management-openapi-spec, dist/current/management-oneOfInheritance.yaml:
 * `listUsers`, `getUser`, `verifyFactor`, `getFactorTransactionStatus`, `UserProfile.login`).
 */
describe('Okta stand-in: logins, custom attributes and push, per the management API spec', () => {
  const ATLASSIAN_ID = '5b10ac8d82e05b22cc7d4ef5';
  let clock: SandboxClock;
  let scenario: Scenario;
  let standIn: OktaStandIn;
  let client: okta.Client;
  const person = (id: string) => {
    const p = scenario.people.find((x) => x.id === id);
    if (!p) throw new Error(`no person ${id}`);
    return p;
  };
  const factorOf = async (id: string, type: string) => {
    const factors = await collect(await client.userFactorApi.listFactors({ userId: person(id).okta.id }));
    const factor = factors.find((f) => f.factorType === type);
    if (!factor?.id) throw new Error(`${id} has no ${type} factor`);
    return factor.id;
  };
  const raw = (method: string, path: string) =>
    fetch(`${standIn.url}${path}`, {
      method,
      headers: { authorization: `SSWS ${TOKEN}`, accept: 'application/json', 'user-agent': 'contract-test' },
    });

  /** Sends a push to the person's push factor; the transaction's poll path. */
  const pushTo = async (id: string) => {
    const factorId = await factorOf(id, 'push');
    const challenge = await client.userFactorApi.verifyFactor({ userId: person(id).okta.id, factorId });
    return { factorId, path: new URL(challenge._links?.poll?.href ?? '').pathname };
  };
  /** A transaction that ended without success, as the spec's examples show it. */
  const ended = (id: string, factorId: string, factorResult: 'REJECTED' | 'TIMEOUT') => {
    const factorUrl = `${standIn.url}/api/v1/users/${person(id).okta.id}/factors/${factorId}`;
    return {
      factorResult,
      profile: { credentialId: person(id).email },
      _links: {
        verify: { href: `${factorUrl}/verify`, hints: { allow: ['POST'] } },
        factor: { href: factorUrl, hints: { allow: ['GET', 'DELETE'] } },
      },
    };
  };

  beforeAll(async () => {
    clock = new SandboxClock({ start: START, frozen: true });
    const document = parse(readFileSync(DEFAULT_SCENARIO_FILE, 'utf8')) as {
      people: { id: string; okta?: Record<string, unknown> }[];
    };
    const tune = (id: string, okta: Record<string, unknown>) => {
      const p = document.people.find((x) => x.id === id);
      if (!p) throw new Error(`no person ${id} in the default scenario`);
      p.okta = { ...p.okta, ...okta };
    };
    tune('dana', { login: 'Dana.Reyes@example.com', profile: { atlassianAccountId: ATLASSIAN_ID } });
    tune('tomas', { push: 'reject' });
    tune('kenji', { push: 'ignore' });
    // Eleven people sharing a first name, for `q`'s default limit.
    for (let n = 1; n <= 11; n++) {
      document.people.push({
        id: `quinn-${n}`,
        name: `Quinn Tester${n}`,
        email: `quinn.tester${n}@example.com`,
        title: 'Tester',
        department: 'Engineering',
        team: 'sre',
      } as (typeof document.people)[number]);
    }
    scenario = resolveScenario(document, 'default.yaml (tuned)', clock.now());
    standIn = new OktaStandIn({ scenario, clock, apiTokens: [TOKEN] });
    await standIn.start();
    client = isolatedClient(standIn.url, TOKEN, { cache: false });
  });

  afterAll(async () => {
    await standIn.stop();
  });

  it("takes profile.login from the scenario's okta.login and merges its custom profile attributes", async () => {
    const dana = await client.userApi.getUser({ userId: person('dana').okta.id });
    expect(dana.profile?.login).toBe('Dana.Reyes@example.com');
    expect(dana.profile?.email).toBe('dana.reyes@example.com');
    expect((dana.profile as Record<string, unknown> | undefined)?.atlassianAccountId).toBe(ATLASSIAN_ID);
    // Without okta.login the login is the email.
    expect((await client.userApi.getUser({ userId: person('maria').okta.id })).profile?.login).toBe(
      'maria.gonzalez@example.com',
    );
  });

  it('filter compares values case-sensitively: "profile.login eq" needs the exact case', async () => {
    // Spec, listUsers `filter`: "Filtering is case-sensitive for property names and query values".
    const lower = await collect(
      await client.userApi.listUsers({ filter: 'profile.login eq "dana.reyes@example.com"' }),
    );
    expect(lower).toEqual([]);
    const exact = await collect(
      await client.userApi.listUsers({ filter: 'profile.login eq "Dana.Reyes@example.com"' }),
    );
    expect(exact.map((u) => u.id)).toEqual([person('dana').okta.id]);
    const status = await collect(await client.userApi.listUsers({ filter: 'status eq "suspended"' }));
    expect(status).toEqual([]);
  });

  it('filter allows only its properties, eq (and inequalities on lastUpdated), and no "not"', async () => {
    // Spec: "Filtering supports the following limited number of properties: status, lastUpdated, id,
    // profile.login, profile.email, profile.firstName, and profile.lastName", "only the equal eq operator
    // ... except in the case of the lastUpdated property", "The not operator isn't supported".
    for (const filter of [
      `profile.atlassianAccountId eq "${ATLASSIAN_ID}"`,
      'profile.login sw "dana"',
      'lastUpdated sw "2026"',
      'not (status eq "ACTIVE")',
    ]) {
      await expect(collect(await client.userApi.listUsers({ filter }))).rejects.toMatchObject({
        status: 400,
        errorCode: 'E0000031',
      });
    }
    const updated = await collect(
      await client.userApi.listUsers({ filter: 'lastUpdated gt "2000-01-01T00:00:00.000Z"' }),
    );
    expect(updated.length).toBe(scenario.people.length);
  });

  it('search is case-insensitive for values and reaches custom profile attributes', async () => {
    // Spec, listUsers `search`: "Property names in the search parameter are case sensitive, whereas
    // operators ... and string values are case insensitive"; it searches "Any user profile attribute,
    // including custom-defined attributes".
    const byLogin = await collect(
      await client.userApi.listUsers({ search: 'profile.login eq "dana.reyes@example.com"' }),
    );
    expect(byLogin.map((u) => u.id)).toEqual([person('dana').okta.id]);
    const byCustom = await collect(
      await client.userApi.listUsers({
        search: `profile.atlassianAccountId eq "${ATLASSIAN_ID.toUpperCase()}"`,
      }),
    );
    expect(byCustom.map((u) => u.id)).toEqual([person('dana').okta.id]);
    const byStatus = await collect(await client.userApi.listUsers({ search: 'status EQ "suspended"' }));
    expect(byStatus.map((u) => u.id)).toEqual([person('zoe').okta.id]);
    // Property names stay case-sensitive.
    expect(
      await collect(
        await client.userApi.listUsers({ search: `profile.AtlassianAccountId eq "${ATLASSIAN_ID}"` }),
      ),
    ).toEqual([]);
  });

  it('search refuses ne, co outside the four name attributes, and properties it does not search', async () => {
    // Spec: "The ne (not equal) operator isn't supported"; "You can only use co with ... profile.firstName,
    // profile.lastName, profile.email, and profile.login"; top-level properties are id, status, created,
    // activated, statusChanged, lastUpdated and type.id.
    for (const search of [
      'status ne "ACTIVE"',
      'profile.title co "Engineer"',
      'credentials.provider.type eq "OKTA"',
    ]) {
      await expect(collect(await client.userApi.listUsers({ search }))).rejects.toMatchObject({
        status: 400,
        errorCode: 'E0000031',
      });
    }
    const sorted = await collect(
      await client.userApi.listUsers({
        search: 'profile.department eq "engineering"',
        sortBy: 'profile.department',
      }),
    );
    // Users with the same sortBy value are ordered by id.
    const ids = sorted.map((u) => u.id ?? '');
    expect(ids).toEqual([...ids].sort());
  });

  it('answers q with 10 users unless a limit is given, without paging', async () => {
    // Spec, listUsers `limit`: "Defaults to 10 if `q` is provided."; `q`: "This doesn't support
    // pagination, but you can use `limit`."
    const page = async (query: string) => {
      const response = await raw('GET', `/api/v1/users?${query}`);
      return {
        count: ((await response.json()) as unknown[]).length,
        link: response.headers.get('link') ?? '',
      };
    };
    expect(await page('q=Quinn')).toMatchObject({ count: 10 });
    expect((await page('q=Quinn')).link).not.toContain('rel="next"');
    expect(await page('q=Quinn&limit=20')).toMatchObject({ count: 11 });
  });

  it('gets a user by login or shortname regardless of case (logins differing only in case are one login)', async () => {
    // Spec: getUser's `id` is "An ID, login, or login shortname (as long as the shortname is unambiguous)";
    // UserProfile.login: "Logins are not considered unique if they differ only in case and/or diacritical marks".
    const danaId = person('dana').okta.id;
    for (const login of [
      'dana.reyes@example.com',
      'DANA.REYES@EXAMPLE.COM',
      'Dana.Reyes',
      'dána.reyes@example.com',
    ]) {
      expect((await client.userApi.getUser({ userId: login })).id).toBe(danaId);
    }
    // Ids are not logins: another case is another (unknown) id.
    await expect(client.userApi.getUser({ userId: danaId.toUpperCase() })).rejects.toMatchObject({
      status: 404,
      errorCode: 'E0000007',
    });
  });

  it('sends an Okta Verify push: 201, factorResult WAITING, expiresAt after 300 s, poll and cancel links', async () => {
    // Spec, verifyFactor: push "returns an HTTP 201 response, unlike other factors. You must poll the
    // transaction"; response UserFactorVerifyResponseWaiting (example UserFactorChallengePushResponse);
    // tokenLifetimeSeconds defaults to 300.
    const dana = person('dana');
    const factorId = await factorOf('dana', 'push');
    const response = await fetch(`${standIn.url}/api/v1/users/${dana.okta.id}/factors/${factorId}/verify`, {
      method: 'POST',
      headers: { authorization: `SSWS ${TOKEN}`, accept: 'application/json', 'user-agent': 'contract-test' },
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as {
      expiresAt: string;
      factorResult: string;
      _links: { poll: { href: string; hints: unknown }; cancel: { href: string; hints: unknown } };
    };
    expect(body.factorResult).toBe('WAITING');
    expect(Date.parse(body.expiresAt)).toBe(clock.now().getTime() + 300_000);
    const poll = new RegExp(
      `^${standIn.url}/api/v1/users/${dana.okta.id}/factors/${factorId}/transactions/v2mst\\.[A-Za-z0-9]{22}$`,
    );
    expect(body._links.poll).toEqual({ href: expect.stringMatching(poll), hints: { allow: ['GET'] } });
    expect(body._links.cancel).toEqual({ href: body._links.poll.href, hints: { allow: ['DELETE'] } });
  });

  it('answers the transaction WAITING, then SUCCESS once the person accepts (on the sandbox clock)', async () => {
    const dana = person('dana');
    const factorId = await factorOf('dana', 'push');
    const challenge = await client.userFactorApi.verifyFactor({ userId: dana.okta.id, factorId });
    const href = challenge._links?.poll?.href ?? '';
    const path = new URL(href).pathname;

    const waiting = await raw('GET', path);
    expect(waiting.status).toBe(200);
    // Example UserFactorVerifyPushTransactionWaiting.
    expect(await waiting.json()).toEqual({
      expiresAt: challenge.expiresAt?.toISOString(),
      factorResult: 'WAITING',
      profile: { credentialId: 'Dana.Reyes@example.com' },
      _links: { poll: { href, hints: { allow: ['GET'] } }, cancel: { href, hints: { allow: ['DELETE'] } } },
    });
    clock.advance(PUSH_ANSWER_DELAY_MS);
    const done = await raw('GET', path);
    // Example UserFactorVerifyPushTransactionApproved.
    expect(await done.json()).toEqual({ factorResult: 'SUCCESS' });
  });

  it('answers REJECTED when the person rejects, with verify and factor links', async () => {
    const { factorId, path } = await pushTo('tomas');
    expect(((await (await raw('GET', path)).json()) as { factorResult: string }).factorResult).toBe(
      'WAITING',
    );
    clock.advance(PUSH_ANSWER_DELAY_MS);
    // Example UserFactorVerifyPushTransactionRejected.
    expect(await (await raw('GET', path)).json()).toEqual(ended('tomas', factorId, 'REJECTED'));
  });

  it('answers TIMEOUT once an unanswered push outlives its 300 s', async () => {
    const { factorId, path } = await pushTo('kenji');
    clock.advance(299_000);
    const before = await client.userFactorApi.getFactorTransactionStatus({
      userId: person('kenji').okta.id,
      factorId,
      transactionId: path.split('/').pop() ?? '',
    });
    expect(before.factorResult).toBe('WAITING');
    clock.advance(1000);
    // Example UserFactorVerifyPushTransactionTimeout.
    expect(await (await raw('GET', path)).json()).toEqual(ended('kenji', factorId, 'TIMEOUT'));
  });

  // Error codes, statuses and summaries: Okta's error-code reference (developer.okta.com/docs/reference/error-codes):
  // E0000007 "Not found: {0}" 404, E0000068 "Invalid Passcode/Answer" 403, E0000038 "This operation is not
  // allowed in the user's current status" 403, E0000001 "Api validation failed" 400.
  it("answers factor errors in Okta's error shape", async () => {
    const dana = person('dana');
    const pushId = await factorOf('dana', 'push');
    const verify = (userId: string, factorId: string, query = '') =>
      raw('POST', `/api/v1/users/${userId}/factors/${factorId}/verify${query}`);
    const bodyOf = async (response: Response) => ({
      status: response.status,
      ...((await response.json()) as object),
    });

    // An unknown factor: 404 E0000007.
    expect(await bodyOf(await verify(dana.okta.id, 'opfnothing0000000000'))).toMatchObject({
      status: 404,
      errorCode: 'E0000007',
      errorSummary: 'Not found: Resource not found: opfnothing0000000000 (UserFactor)',
      errorLink: 'E0000007',
      errorCauses: [],
    });
    // The factor paths take a user id (pathUserId: "ID of an existing Okta user"), not a login.
    expect(await bodyOf(await verify(dana.email, pushId))).toMatchObject({
      status: 404,
      errorCode: 'E0000007',
    });
    // A TOTP factor is verified with a passCode, which the sandbox never matches: 403 E0000068.
    const totpId = await factorOf('dana', 'token:software:totp');
    expect(await bodyOf(await verify(dana.okta.id, totpId))).toMatchObject({
      status: 403,
      errorCode: 'E0000068',
      errorSummary: 'Invalid Passcode/Answer',
    });
    // No transaction for a factor that is not a push factor, nor an unknown one: 404 E0000007.
    expect(
      await bodyOf(
        await raw('GET', `/api/v1/users/${dana.okta.id}/factors/${totpId}/transactions/v2mst.nothing`),
      ),
    ).toMatchObject({ status: 404, errorCode: 'E0000007' });
    expect(
      await bodyOf(
        await raw('GET', `/api/v1/users/${dana.okta.id}/factors/${pushId}/transactions/v2mst.nothing`),
      ),
    ).toMatchObject({
      status: 404,
      errorCode: 'E0000007',
      errorSummary: 'Not found: Resource not found: v2mst.nothing',
    });
    // tokenLifetimeSeconds: minimum 1, maximum 86400.
    expect(await bodyOf(await verify(dana.okta.id, pushId, '?tokenLifetimeSeconds=0'))).toMatchObject({
      status: 400,
      errorCode: 'E0000001',
    });
    // A suspended user: 403 E0000038.
    const zoe = person('zoe');
    const zoePush = await factorOf('zoe', 'push');
    await expect(
      client.userFactorApi.verifyFactor({ userId: zoe.okta.id, factorId: zoePush }),
    ).rejects.toMatchObject({
      status: 403,
      errorCode: 'E0000038',
      errorSummary: "This operation is not allowed in the user's current status.",
    });
  });
});
