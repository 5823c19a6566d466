// The Okta connector against the Okta stand-in over real HTTP: lookups, the
// profile triage shows (manager, groups, factors, sign-ins), peers, group
// members, and how Okta's failures become UpstreamErrors.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, NotFoundError, UpstreamError } from '../../../lambdas/core/errors';
import { createOktaClient, OktaDirectory } from '../../../lambdas/connectors/okta';
import { SandboxClock } from '../../../sandbox/clock';
import { closeServer, listenOnLoopback } from '../../../sandbox/http/loopback';
import { OktaStandIn } from '../../../sandbox/okta/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../../sandbox/scenario/load';

const TOKEN = '00okta-connector-test-token-000000000000';
const START = new Date('2026-11-21T09:00:00.000Z');
const DAY = 86_400_000;
const PROD_READONLY = '00g1prodreadonly0001';
const USER_ROUTE = 'GET /api/v1/users/:id';

describe('OktaDirectory on the Okta stand-in', () => {
  let clock: SandboxClock;
  let scenario: Scenario;
  let standIn: OktaStandIn;
  let directory: OktaDirectory;

  const person = (id: string) => {
    const p = scenario.people.find((x) => x.id === id);
    if (!p) throw new Error(`no person ${id}`);
    return p;
  };
  const directoryWith = (settings: { token?: string; timeoutMs?: number; maxRetries?: number } = {}) =>
    new OktaDirectory({
      client: createOktaClient({
        orgUrl: standIn.url,
        token: settings.token ?? TOKEN,
        timeoutMs: settings.timeoutMs ?? 5000,
        maxRetries: settings.maxRetries ?? 2,
      }),
      clock,
      maxSignIns: 20,
    });
  /** Statuses of the calls that read one user; a slow call of another test may still finish meanwhile. */
  const userReads = (userId: string) =>
    standIn.calls
      .filter((c) => c.routeKey === USER_ROUTE && c.path.endsWith(`/${userId}`))
      .map((c) => c.status);
  const failureOf = async (promise: Promise<unknown>): Promise<UpstreamError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UpstreamError);
    return error as UpstreamError;
  };

  beforeAll(async () => {
    clock = new SandboxClock({ start: START, frozen: true });
    scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now());
    // Two groups a page, so a user's groups take several pages.
    standIn = new OktaStandIn({ scenario, clock, apiTokens: [TOKEN], pageSizes: { userGroups: 2 } });
    await standIn.start();
    directory = directoryWith();
  });

  afterEach(() => {
    standIn.faults.clear();
  });

  afterAll(async () => {
    await standIn.stop();
  });

  describe('findUserByEmail', () => {
    it('finds dana with her profile fields', async () => {
      const dana = await directory.findUserByEmail('dana.reyes@example.com');
      expect(dana).toEqual({
        id: person('dana').okta.id,
        login: 'dana.reyes@example.com',
        email: 'dana.reyes@example.com',
        status: 'ACTIVE',
        displayName: 'Dana Reyes',
        title: 'Senior Site Reliability Engineer',
        department: 'Engineering',
        managerId: person('maria').okta.id,
        createdAt: person('dana').okta.created.toISOString(),
      });
    });

    it('answers undefined for an unknown email', async () => {
      expect(await directory.findUserByEmail('nobody@example.com')).toBeUndefined();
    });

    it('keeps an email with quotes inside the filter value', async () => {
      // Unescaped, this would widen the filter to every active user.
      const injected = 'nobody@example.com" or status eq "ACTIVE';
      expect(await directory.findUserByEmail(injected)).toBeUndefined();
    });
  });

  describe('profile', () => {
    it("shows chloe's sign-in from Brazil first, then Germany, with her manager, groups and factors", async () => {
      const chloe = person('chloe');
      const grace = person('grace');
      const profile = await directory.profile(chloe.okta.id, new Date(START.getTime() - 30 * DAY));

      expect(profile.user).toMatchObject({
        id: chloe.okta.id,
        status: 'ACTIVE',
        title: 'Data Analyst',
        department: 'Engineering',
        managerId: grace.okta.id,
      });
      expect(profile.manager).toMatchObject({ id: grace.okta.id, displayName: 'Grace Kim' });
      expect(profile.groups).toEqual([
        { id: '00g1everyone00000005', name: 'Everyone' },
        { id: '00g1engineering00006', name: 'engineering' },
      ]);
      expect(profile.factors).toEqual([{ type: 'push', provider: 'OKTA', status: 'ACTIVE' }]);

      expect(profile.signIns.map((s) => s.country)).toEqual(['Brazil', 'Germany', 'Germany', 'Germany']);
      expect(profile.signIns[0]).toEqual({
        at: new Date(START.getTime() - DAY).toISOString(),
        outcome: 'SUCCESS',
        country: 'Brazil',
        city: 'Rio de Janeiro',
        device: 'CHROME on Android (Mobile)',
        ip: chloe.okta.signIns[0]?.ip,
      });
      expect(profile.signIns.slice(1).every((s) => s.city === 'Munich')).toBe(true);
    });

    it('keeps to the window asked for and to the cap, newest first', async () => {
      const chloe = person('chloe').okta.id;
      const tenDays = await directory.profile(chloe, new Date(START.getTime() - 10 * DAY));
      expect(tenDays.signIns.map((s) => s.city)).toEqual(['Rio de Janeiro', 'Munich']);

      const capped = new OktaDirectory({
        client: createOktaClient({ orgUrl: standIn.url, token: TOKEN, timeoutMs: 5000, maxRetries: 0 }),
        clock,
        maxSignIns: 2,
      });
      const latest = await capped.profile(chloe, new Date(START.getTime() - 30 * DAY));
      expect(latest.signIns.map((s) => s.at)).toEqual([
        new Date(START.getTime() - DAY).toISOString(),
        new Date(START.getTime() - 9 * DAY).toISOString(),
      ]);
    });

    it('shows no factors for ivan', async () => {
      const profile = await directory.profile(person('ivan').okta.id, new Date(START.getTime() - 30 * DAY));
      expect(profile.factors).toEqual([]);
    });

    it('shows zoe as SUSPENDED', async () => {
      const profile = await directory.profile(person('zoe').okta.id, new Date(START.getTime() - 90 * DAY));
      expect(profile.user.status).toBe('SUSPENDED');
      expect(profile.manager?.id).toBe(person('rob').okta.id);
    });

    it("shows kenji's account created 5 days before now", async () => {
      const profile = await directory.profile(person('kenji').okta.id, new Date(START.getTime() - 30 * DAY));
      expect(profile.user.createdAt).toBe(new Date(START.getTime() - 5 * DAY).toISOString());
    });

    it('reports an unknown user as not found', async () => {
      await expect(
        directory.profile('00unobody00000000000', new Date(START.getTime() - DAY)),
      ).rejects.toThrow(NotFoundError);
    });

    it('refuses an id that would reach another endpoint, without calling Okta', async () => {
      const before = standIn.calls.length;
      for (const id of ['', '..', 'a/b']) {
        await expect(directory.profile(id, new Date(START.getTime() - DAY))).rejects.toThrow(NotFoundError);
      }
      await expect(directory.groupMemberIds('..')).rejects.toThrow(NotFoundError);
      // A read after them is the only call the stand-in saw.
      await directory.findUserByEmail('dana.reyes@example.com');
      expect(standIn.calls.slice(before).map((c) => c.routeKey)).toEqual(['GET /api/v1/users']);
    });

    it('reads a changed status at once (no SDK cache)', async () => {
      const lena = person('lena');
      const since = new Date(START.getTime() - DAY);
      expect((await directory.profile(lena.okta.id, since)).user.status).toBe('ACTIVE');
      standIn.setUserStatus(lena.okta.id, 'LOCKED_OUT');
      expect((await directory.profile(lena.okta.id, since)).user.status).toBe('LOCKED_OUT');
    });
  });

  describe('peersOf', () => {
    it("includes dana's teammates under the same manager and her department, never dana", async () => {
      const dana = await directory.findUserByEmail('dana.reyes@example.com');
      if (!dana) throw new Error('dana not found');
      const peers = await directory.peersOf(dana);
      const ids = peers.map((p) => p.id);

      for (const teammate of ['tomas', 'priya', 'kenji']) expect(ids).toContain(person(teammate).okta.id);
      // Same department (Engineering), another manager.
      expect(ids).toContain(person('felix').okta.id);
      expect(ids).not.toContain(dana.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).not.toContain(person('rob').okta.id);
    });

    it("puts the manager's reports first when the cap cuts the department", async () => {
      const dana = await directory.findUserByEmail('dana.reyes@example.com');
      if (!dana) throw new Error('dana not found');
      const capped = new OktaDirectory({
        client: createOktaClient({ orgUrl: standIn.url, token: TOKEN, timeoutMs: 5000, maxRetries: 0 }),
        clock,
        maxSignIns: 1,
        maxPeers: 3,
      });
      const peers = await capped.peersOf(dana);
      expect(new Set(peers.map((p) => p.id))).toEqual(
        new Set(['tomas', 'priya', 'kenji'].map((id) => person(id).okta.id)),
      );
    });
  });

  describe('groupMemberIds', () => {
    it('lists the members of prod-readonly', async () => {
      const expected = scenario.people
        .filter((p) => p.okta.groups.includes(PROD_READONLY))
        .map((p) => p.okta.id);
      expect(await directory.groupMemberIds(PROD_READONLY)).toEqual(new Set(expected));
    });

    it('reports an unknown group as not found', async () => {
      await expect(directory.groupMemberIds('00gnothing0000000000')).rejects.toThrow(NotFoundError);
    });
  });

  describe('failures', () => {
    it('turns a wrong token into unauthorized, without the token in the message', async () => {
      const wrongToken = '00wrong-token-that-must-not-leak-000000000';
      const error = await failureOf(
        directoryWith({ token: wrongToken }).findUserByEmail('dana.reyes@example.com'),
      );
      expect(error.service).toBe('okta');
      expect(error.failure).toBe('unauthorized');
      expect(error.message).toContain('E0000011');
      expect(error.message).not.toContain(wrongToken);
      expect(String((error.cause as Error).message)).not.toContain(wrongToken);
    });

    it('turns a 500 into unavailable', async () => {
      standIn.faults.set(USER_ROUTE, { failNext: 1, status: 500 });
      const error = await failureOf(
        directoryWith({ maxRetries: 0 }).profile(person('dana').okta.id, new Date(START.getTime() - DAY)),
      );
      expect(error.failure).toBe('unavailable');
    });

    it('turns a slow answer into timeout', async () => {
      standIn.faults.set(USER_ROUTE, { delayMs: 1500 });
      const error = await failureOf(
        directoryWith({ timeoutMs: 200, maxRetries: 0 }).profile(
          person('dana').okta.id,
          new Date(START.getTime() - DAY),
        ),
      );
      expect(error.failure).toBe('timeout');
    });

    it('lets the SDK wait out one 429 and succeed', async () => {
      standIn.faults.set(USER_ROUTE, { failNext: 1, status: 429 });
      const maria = person('maria').okta.id;
      const before = userReads(maria).length;
      const profile = await directory.profile(maria, new Date(START.getTime() - DAY));
      expect(profile.user.id).toBe(maria);
      expect(userReads(maria).slice(before)).toEqual([429, 200]);
    });

    it('turns a 429 that outlasts the retries into rate-limited', async () => {
      standIn.faults.set(USER_ROUTE, { failNext: 5, status: 429 });
      const maria = person('maria').okta.id;
      const before = userReads(maria).length;
      const error = await failureOf(
        directoryWith({ maxRetries: 1 }).profile(maria, new Date(START.getTime() - DAY)),
      );
      expect(error.failure).toBe('rate-limited');
      // The first call and one retry.
      expect(userReads(maria).slice(before)).toEqual([429, 429]);
    });

    it('turns a 429 whose wait would outlast the timeout into rate-limited, without waiting', async () => {
      standIn.faults.set(USER_ROUTE, { failNext: 1, status: 429 });
      const error = await failureOf(
        directoryWith({ timeoutMs: 500 }).profile(person('maria').okta.id, new Date(START.getTime() - DAY)),
      );
      expect(error.failure).toBe('rate-limited');
    });

    it('turns a refused connection into unavailable', async () => {
      const server = createServer();
      const url = await listenOnLoopback(server, 0);
      await closeServer(server);
      const unreachable = new OktaDirectory({
        client: createOktaClient({ orgUrl: url, token: TOKEN, timeoutMs: 2000, maxRetries: 0 }),
        clock,
        maxSignIns: 1,
      });
      const error = await failureOf(unreachable.findUserByEmail('dana.reyes@example.com'));
      expect(error.failure).toBe('unavailable');
    });

    it('turns a user without a login into bad-response', async () => {
      const server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ id: '00u1', status: 'ACTIVE', created: START.toISOString(), profile: {} }),
        );
      });
      const url = await listenOnLoopback(server, 0);
      try {
        const odd = new OktaDirectory({
          client: createOktaClient({ orgUrl: url, token: TOKEN, timeoutMs: 2000, maxRetries: 0 }),
          clock,
          maxSignIns: 1,
        });
        const error = await failureOf(odd.profile('00u1', new Date(START.getTime() - DAY)));
        expect(error.failure).toBe('bad-response');
        expect(error.message).toContain('profile.login');
      } finally {
        await closeServer(server);
      }
    });
  });

  describe('createOktaClient', () => {
    it('ignores okta.yaml in the home folder, OKTA_CLIENT_* variables and HTTPS_PROXY', async () => {
      const home = mkdtempSync(join(tmpdir(), 'okta-home-'));
      mkdirSync(join(home, '.okta'));
      writeFileSync(
        join(home, '.okta', 'okta.yaml'),
        'okta:\n  client:\n    orgUrl: http://127.0.0.1:9\n    token: stray-token\n    authorizationMode: PrivateKey\n',
      );
      const names = ['HOME', 'OKTA_CLIENT_TOKEN', 'OKTA_CLIENT_ORGURL', 'HTTPS_PROXY', 'https_proxy'];
      const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
      Object.assign(process.env, {
        HOME: home,
        OKTA_CLIENT_TOKEN: 'env-token',
        OKTA_CLIENT_ORGURL: 'http://127.0.0.1:9',
        HTTPS_PROXY: 'http://127.0.0.1:9',
        https_proxy: 'http://127.0.0.1:9',
      });
      let client: ReturnType<typeof createOktaClient>;
      try {
        client = createOktaClient({ orgUrl: standIn.url, token: TOKEN, timeoutMs: 5000, maxRetries: 0 });
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
      const isolated = new OktaDirectory({ client, clock, maxSignIns: 1 });
      expect((await isolated.findUserByEmail('dana.reyes@example.com'))?.id).toBe(person('dana').okta.id);
    });

    it('refuses settings that would leave calls without a timeout or credentials', () => {
      const base = { orgUrl: standIn.url, token: TOKEN, timeoutMs: 5000, maxRetries: 0 };
      expect(() => createOktaClient({ ...base, timeoutMs: 0 })).toThrow(ConfigurationError);
      expect(() => createOktaClient({ ...base, token: ' ' })).toThrow(ConfigurationError);
      expect(() => createOktaClient({ ...base, orgUrl: 'ftp://example.okta.com' })).toThrow(
        ConfigurationError,
      );
      expect(() => createOktaClient({ ...base, maxRetries: -1 })).toThrow(ConfigurationError);
    });
  });
});
