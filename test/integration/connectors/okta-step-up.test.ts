// OktaStepUp against the Okta stand-in over real HTTP: an Okta Verify push the
// person accepts, rejects or never answers (the sandbox clock runs it out),
// people without a push factor, a mixed-case login found by search but not by
// filter, and how odd answers and refused ids fail.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NotFoundError, UpstreamError } from '../../../lambdas/core/errors';
import { createOktaClient, OktaStepUp } from '../../../lambdas/connectors/okta';
import { SandboxClock } from '../../../sandbox/clock';
import { closeServer, listenOnLoopback } from '../../../sandbox/http/loopback';
import { PUSH_ANSWER_DELAY_MS } from '../../../sandbox/okta/directory';
import { OktaStandIn } from '../../../sandbox/okta/stand-in';
import { DEFAULT_SCENARIO_FILE, resolveScenario, type Scenario } from '../../../sandbox/scenario/load';

const TOKEN = '00okta-step-up-test-token-0000000000000';
const START = new Date('2026-11-21T09:00:00.000Z');
/** Okta's default push lifetime: verifyFactor's tokenLifetimeSeconds defaults to 300. */
const PUSH_LIFETIME_MS = 300_000;
const VERIFY_ROUTE = 'POST /api/v1/users/:userId/factors/:factorId/verify';

describe('OktaStepUp on the Okta stand-in', () => {
  let clock: SandboxClock;
  let scenario: Scenario;
  let standIn: OktaStandIn;
  let stepUp: OktaStepUp;

  const person = (id: string) => {
    const p = scenario.people.find((x) => x.id === id);
    if (!p) throw new Error(`no person ${id}`);
    return p;
  };
  const clientFor = (orgUrl: string) =>
    createOktaClient({ orgUrl, token: TOKEN, timeoutMs: 5000, maxRetries: 0 });
  const failureOf = async (promise: Promise<unknown>): Promise<Error> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    return error as Error;
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
    tune('dana', { login: 'Dana.Reyes@example.com', push: 'accept' });
    tune('tomas', { push: 'reject' });
    tune('kenji', { push: 'ignore' });
    scenario = resolveScenario(document, 'default.yaml (tuned)', clock.now());
    standIn = new OktaStandIn({ scenario, clock, apiTokens: [TOKEN] });
    await standIn.start();
    stepUp = new OktaStepUp({ client: clientFor(standIn.url) });
  });

  afterEach(() => {
    standIn.faults.clear();
  });

  afterAll(async () => {
    await standIn.stop();
  });

  it('pushes to the active Okta Verify factor and reads waiting, then accepted', async () => {
    const dana = person('dana');
    const challenge = await stepUp.push(dana.okta.id);
    expect(challenge).toBeDefined();
    if (!challenge) return;
    const pushFactor = standIn.directory
      .findUserById(dana.okta.id)
      ?.factors.find((f) => f.factorType === 'push');
    expect(challenge.factorId).toBe(pushFactor?.id);
    expect(challenge.transactionId).toMatch(/^v2mst\.[A-Za-z0-9]{22}$/);

    expect(await stepUp.result(dana.okta.id, challenge)).toBe('waiting');
    clock.advance(PUSH_ANSWER_DELAY_MS);
    expect(await stepUp.result(dana.okta.id, challenge)).toBe('accepted');
  });

  it('reads rejected when the person rejects the push', async () => {
    const tomas = person('tomas');
    const challenge = await stepUp.push(tomas.okta.id);
    if (!challenge) throw new Error('no push sent');
    expect(await stepUp.result(tomas.okta.id, challenge)).toBe('waiting');
    clock.advance(PUSH_ANSWER_DELAY_MS);
    expect(await stepUp.result(tomas.okta.id, challenge)).toBe('rejected');
  });

  it('reads timed-out when no one answers within the push lifetime', async () => {
    const kenji = person('kenji');
    const challenge = await stepUp.push(kenji.okta.id);
    if (!challenge) throw new Error('no push sent');
    clock.advance(PUSH_LIFETIME_MS - 1000);
    expect(await stepUp.result(kenji.okta.id, challenge)).toBe('waiting');
    clock.advance(1000);
    expect(await stepUp.result(kenji.okta.id, challenge)).toBe('timed-out');
  });

  it('answers undefined, without sending anything, for people without a push factor', async () => {
    const before = standIn.calls.filter((c) => c.routeKey === VERIFY_ROUTE).length;
    // Sam has only WebAuthn; Ivan has no factor at all.
    expect(await stepUp.push(person('sam').okta.id)).toBeUndefined();
    expect(await stepUp.push(person('ivan').okta.id)).toBeUndefined();
    expect(standIn.calls.filter((c) => c.routeKey === VERIFY_ROUTE).length).toBe(before);
  });

  it('finds a mixed-case login by search, not by filter, and pushes to that user', async () => {
    const client = clientFor(standIn.url);
    const ids = async (query: { filter?: string; search?: string }) => {
      const found: string[] = [];
      for await (const user of await client.userApi.listUsers(query)) if (user?.id) found.push(user.id);
      return found;
    };
    // Okta's filter compares values case-sensitively; search does not.
    expect(await ids({ filter: 'profile.login eq "dana.reyes@example.com"' })).toEqual([]);
    const [found, ...others] = await ids({ search: 'profile.login eq "dana.reyes@example.com"' });
    expect(others).toEqual([]);
    expect(found).toBe(person('dana').okta.id);

    const challenge = await stepUp.push(found ?? '');
    if (!challenge) throw new Error('no push sent');
    clock.advance(PUSH_ANSWER_DELAY_MS);
    expect(await stepUp.result(found ?? '', challenge)).toBe('accepted');
  });

  it('turns a suspended user into a forbidden UpstreamError', async () => {
    const error = await failureOf(stepUp.push(person('zoe').okta.id));
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).failure).toBe('forbidden');
    expect(error.message).toContain('E0000038');
  });

  it('turns an unknown transaction into NotFoundError', async () => {
    const dana = person('dana');
    const challenge = await stepUp.push(dana.okta.id);
    if (!challenge) throw new Error('no push sent');
    const error = await failureOf(
      stepUp.result(dana.okta.id, { ...challenge, transactionId: 'v2mst.nothingHere0000000000' }),
    );
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('refuses ids that are not Okta ids before any call', async () => {
    const before = standIn.calls.length;
    const dana = person('dana');
    for (const bad of ['', '..', 'dana/../x', 'dana.reyes@example.com']) {
      expect(await failureOf(stepUp.push(bad))).toBeInstanceOf(NotFoundError);
    }
    for (const transactionId of ['', '..', '../../groups', 'a/b', 'x'.repeat(200)]) {
      const error = await failureOf(stepUp.result(dana.okta.id, { factorId: 'opf1', transactionId }));
      expect(error).toBeInstanceOf(NotFoundError);
    }
    expect(
      await failureOf(stepUp.result(dana.okta.id, { factorId: '..', transactionId: 'v2mst.a' })),
    ).toBeInstanceOf(NotFoundError);
    expect(standIn.calls.length).toBe(before);
  });

  it('turns an unknown factorResult and a foreign poll link into bad-response', async () => {
    const userId = '00uodd00000000000000';
    const factorId = 'opfodd00000000000000';
    let pollHref = '';
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url?.endsWith('/factors')) {
        response.end(
          JSON.stringify([
            { id: factorId, factorType: 'push', provider: 'OKTA', status: 'ACTIVE', profile: {} },
          ]),
        );
      } else if (request.url?.endsWith('/verify')) {
        response.writeHead(201);
        response.end(JSON.stringify({ factorResult: 'WAITING', _links: { poll: { href: pollHref } } }));
      } else {
        response.end(JSON.stringify({ factorResult: 'MAYBE' }));
      }
    });
    const url = await listenOnLoopback(server, 0);
    try {
      const odd = new OktaStepUp({ client: clientFor(url) });
      pollHref = `${url}/api/v1/users/00uother0000000000000/factors/${factorId}/transactions/v2mst.abc`;
      const foreign = await failureOf(odd.push(userId));
      expect(foreign).toBeInstanceOf(UpstreamError);
      expect((foreign as UpstreamError).failure).toBe('bad-response');

      pollHref = `${url}/api/v1/users/${userId}/factors/${factorId}/transactions/v2mst.abc`;
      const challenge = await odd.push(userId);
      expect(challenge).toEqual({ factorId, transactionId: 'v2mst.abc' });
      const error = await failureOf(odd.result(userId, { factorId, transactionId: 'v2mst.abc' }));
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).failure).toBe('bad-response');
      expect(error.message).toContain('MAYBE');
    } finally {
      await closeServer(server);
    }
  });
});
