// PagerDutyOnCall against the PagerDuty stand-in over real HTTP, through pdjs:
// who is on call where at a moment, as the default scenario's rotations say,
// and how PagerDuty's failures turn into UpstreamErrors.
//
// The clock starts at 2026-11-21T09:00Z, which is also the scenario's start.
// SRE primary (PSRESCH) rotates dana, tomas, priya, maria weekly from 14 days
// before, so priya's week begins exactly then and maria's a week later; maria
// is also the SRE policy's level 2 target, on call permanently.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPagerDutyClient,
  type PagerDutyClientOptions,
} from '../../../lambdas/connectors/pagerduty/client';
import { PagerDutyOnCall } from '../../../lambdas/connectors/pagerduty/on-call';
import { UpstreamError, type UpstreamFailure } from '../../../lambdas/core/errors';
import { SandboxClock } from '../../../sandbox/clock';
import { PagerDutyStandIn } from '../../../sandbox/pagerduty/stand-in';
import { loadScenarioFile, type Scenario } from '../../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const WEEK_MS = 7 * 86_400_000;
const TOKEN = 'pd-sandbox-token';

let clock: SandboxClock;
let scenario: Scenario;
let standIn: PagerDutyStandIn;

beforeEach(async () => {
  clock = new SandboxClock({ start: START, frozen: true });
  scenario = loadScenarioFile('sandbox/scenarios/default.yaml', clock.now());
  standIn = new PagerDutyStandIn({ scenario, clock, apiTokens: [TOKEN] });
  await standIn.start();
});

afterEach(() => standIn.stop());

function onCall(options: Partial<PagerDutyClientOptions> = {}): PagerDutyOnCall {
  return new PagerDutyOnCall(
    createPagerDutyClient({
      token: TOKEN,
      baseUrl: standIn.url,
      timeoutMs: 5_000,
      rateLimitRetryMs: 1,
      ...options,
    }),
  );
}

function emailOf(id: string): string {
  const person = scenario.people.find((p) => p.id === id);
  if (!person) throw new Error(`no person ${id} in the scenario`);
  return person.email;
}

async function failureOf(promise: Promise<unknown>): Promise<UpstreamFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  const upstream = error as UpstreamError;
  expect(upstream.service).toBe('pagerduty');
  expect(upstream.message).not.toContain(TOKEN);
  return upstream.failure;
}

const sreWeek = (weeks: number) => ({
  escalationPolicyId: 'PSREPOL',
  escalationPolicyName: 'SRE',
  scheduleId: 'PSRESCH',
  level: 1,
  start: new Date(START.getTime() + weeks * WEEK_MS).toISOString(),
  end: new Date(START.getTime() + (weeks + 1) * WEEK_MS).toISOString(),
});

const mariaPermanent = { escalationPolicyId: 'PSREPOL', escalationPolicyName: 'SRE', level: 2 };

describe('shiftsOf', () => {
  it('finds the SRE rotation on-call (priya this week) at level 1 of the SRE policy', async () => {
    expect(await onCall().shiftsOf({ email: emailOf('priya') }, clock.now())).toEqual([sreWeek(0)]);
  });

  it('does not report the shift that ended at the moment asked about', async () => {
    expect(await onCall().shiftsOf({ email: emailOf('tomas') }, clock.now())).toEqual([]);
  });

  it('gives a directly targeted user a permanent shift, without start or end', async () => {
    expect(await onCall().shiftsOf({ email: emailOf('maria') }, clock.now())).toEqual([mariaPermanent]);
  });

  it('follows the rotation when the clock moves a week: maria takes over from priya', async () => {
    const at = clock.advance(WEEK_MS);
    expect(await onCall().shiftsOf({ email: emailOf('priya') }, at)).toEqual([]);
    expect(await onCall().shiftsOf({ email: emailOf('maria') }, at)).toEqual([sreWeek(1), mariaPermanent]);
  });

  it('asks about the moment given, not the server clock', async () => {
    const inTwoWeeks = new Date(START.getTime() + 2 * WEEK_MS + 3_600_000);
    expect(await onCall().shiftsOf({ email: emailOf('dana') }, inTwoWeeks)).toEqual([
      { ...sreWeek(2), start: new Date(START.getTime() + 2 * WEEK_MS).toISOString() },
    ]);
  });

  it('matches the email exactly and case-insensitively', async () => {
    expect(await onCall().shiftsOf({ email: emailOf('priya').toUpperCase() }, clock.now())).toEqual([
      sreWeek(0),
    ]);
    // A part of dana's address finds dana through PagerDuty's query, but is not her email.
    expect(await onCall().shiftsOf({ email: 'a.reyes@example.com' }, clock.now())).toEqual([]);
  });

  it('returns nothing for someone PagerDuty does not know, or for no one on call', async () => {
    expect(await onCall().shiftsOf({ email: 'nobody@example.com' }, clock.now())).toEqual([]);
    expect(await onCall().shiftsOf({ email: emailOf('kenji') }, clock.now())).toEqual([]);
  });

  it('reads every page of the on-call list', async () => {
    const at = clock.advance(WEEK_MS);
    const shifts = await onCall({ pageSize: 1 }).shiftsOf({ email: emailOf('maria') }, at);
    expect(shifts).toEqual([sreWeek(1), mariaPermanent]);
    const pages = standIn.calls.filter((c) => c.routeKey === 'GET /oncalls');
    expect(pages.length).toBeGreaterThanOrEqual(2);
  });
});

describe('failures', () => {
  it('reports a wrong token as unauthorized', async () => {
    const failure = await failureOf(
      onCall({ token: 'wrong-token' }).shiftsOf({ email: emailOf('priya') }, clock.now()),
    );
    expect(failure).toBe('unauthorized');
  });

  it('reports a 500 as unavailable and a 403 as forbidden', async () => {
    standIn.faults.set('GET /oncalls', { failNext: 1, status: 500 });
    expect(await failureOf(onCall().shiftsOf({ email: emailOf('priya') }, clock.now()))).toBe('unavailable');

    standIn.faults.set('GET /users', { failNext: 1, status: 403 });
    expect(await failureOf(onCall().shiftsOf({ email: emailOf('priya') }, clock.now()))).toBe('forbidden');
  });

  it('rides out a brief 429 with pdjs retries, and reports a lasting one as rate-limited', async () => {
    standIn.faults.set('GET /oncalls', { failNext: 2, status: 429 });
    expect(await onCall().shiftsOf({ email: emailOf('priya') }, clock.now())).toEqual([sreWeek(0)]);

    // pdjs tries four times in all before it hands the 429 over.
    standIn.faults.set('GET /oncalls', { failNext: 4, status: 429 });
    expect(await failureOf(onCall().shiftsOf({ email: emailOf('priya') }, clock.now()))).toBe('rate-limited');
  });

  it('bounds a rate-limited call by the timeout, whatever pdjs would still retry', async () => {
    standIn.faults.set('GET /users', { errorRate: 1, status: 429 });
    const slowRetries = onCall({ timeoutMs: 200, rateLimitRetryMs: 60_000 });
    expect(await failureOf(slowRetries.shiftsOf({ email: emailOf('priya') }, clock.now()))).toBe('timeout');
  });

  it('reports a slow answer as a timeout', async () => {
    standIn.faults.set('GET /users', { delayMs: 1_000 });
    expect(
      await failureOf(onCall({ timeoutMs: 100 }).shiftsOf({ email: emailOf('priya') }, clock.now())),
    ).toBe('timeout');
  });

  it('reports an answer of the wrong shape as a bad response', async () => {
    // A 200 carrying an error body: neither a user list nor an error status.
    standIn.faults.set('GET /users', { failNext: 1, status: 200 });
    expect(await failureOf(onCall().shiftsOf({ email: emailOf('priya') }, clock.now()))).toBe('bad-response');
  });

  it('reports a server that cannot be reached as unavailable', async () => {
    const url = standIn.url;
    await standIn.stop();
    const unreachable = onCall({ baseUrl: url });
    expect(await failureOf(unreachable.shiftsOf({ email: emailOf('priya') }, clock.now()))).toBe(
      'unavailable',
    );
  });
});
