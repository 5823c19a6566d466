// OktaGroupProvisioner against the Okta stand-in over real HTTP with the real
// SDK: a grant is one membership however often it is asked for, a membership
// that was there before survives the revoke, and Okta's failures surface as
// UpstreamError.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOktaClient } from '../../../lambdas/connectors/okta';
import { OktaGroupProvisioner } from '../../../lambdas/connectors/okta/provisioner';
import { NotFoundError, UpstreamError, ValidationError } from '../../../lambdas/core/errors';
import type { GrantSubject } from '../../../lambdas/core/ports';
import { SandboxClock } from '../../../sandbox/clock';
import { OktaStandIn } from '../../../sandbox/okta/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../../sandbox/scenario/load';

const TOKEN = '00okta-provisioner-test-token-00000000000';
const START = new Date('2026-11-21T09:00:00.000Z');
const PROD_READONLY = '00g1prodreadonly0001';
const MEMBERSHIP_ROUTE = 'PUT /api/v1/groups/:groupId/users/:userId';
const REMOVAL_ROUTE = 'DELETE /api/v1/groups/:groupId/users/:userId';

let clock: SandboxClock;
let scenario: Scenario;
let standIn: OktaStandIn;

beforeEach(async () => {
  clock = new SandboxClock({ start: START, frozen: true });
  scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now());
  standIn = new OktaStandIn({ scenario, clock, apiTokens: [TOKEN] });
  await standIn.start();
});

afterEach(async () => {
  await standIn.stop();
});

function provisioner(timeoutMs = 5000): OktaGroupProvisioner {
  return new OktaGroupProvisioner({
    client: createOktaClient({ orgUrl: standIn.url, token: TOKEN, timeoutMs, maxRetries: 0 }),
  });
}

function subject(email: string, groupId = PROD_READONLY): GrantSubject {
  return {
    requestId: '6d1f7c3e-2b8a-4f5e-9c1d-0a2b3c4d5e6f',
    email,
    action: { kind: 'okta-group', groupId },
    expiresAt: new Date(START.getTime() + 4 * 3_600_000),
  };
}

function oktaIdOf(personId: string): string {
  const person = scenario.people.find((p) => p.id === personId);
  if (!person) throw new Error(`no person ${personId}`);
  return person.okta.id;
}

function members(groupId = PROD_READONLY): string[] {
  return standIn.state().groups.find((g) => g.id === groupId)?.members ?? [];
}

function callsTo(routeKey: string): number[] {
  return standIn.calls.filter((c) => c.routeKey === routeKey).map((c) => c.status);
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('granting', () => {
  it('adds priya to prod-readonly and reports her Okta id and the group', async () => {
    const priya = oktaIdOf('priya');
    expect(members()).not.toContain(priya);

    const outcome = await provisioner().grant(subject('priya.nair@example.com'));

    expect(outcome).toEqual({ principal: priya, target: PROD_READONLY, preExisting: false });
    expect(members()).toContain(priya);
    expect(callsTo(MEMBERSHIP_ROUTE)).toEqual([204]);
  });

  it('granting twice leaves one membership and changes nothing the second time', async () => {
    const priya = oktaIdOf('priya');
    const okta = provisioner();

    await okta.grant(subject('priya.nair@example.com'));
    const again = await okta.grant(subject('priya.nair@example.com'));

    // The second call finds loopgate's own membership; the core keeps what it recorded before granting.
    expect(again).toEqual({ principal: priya, target: PROD_READONLY, preExisting: true });
    expect(members().filter((m) => m === priya)).toHaveLength(1);
    expect(callsTo(MEMBERSHIP_ROUTE)).toEqual([204]);
    const adds = standIn
      .state()
      .events.filter(
        (e) =>
          e.eventType === 'group.user_membership.add' &&
          (e.target as { id: string }[] | undefined)?.some((t) => t.id === priya),
      );
    expect(adds).toHaveLength(1);
  });

  it('reports a membership dana already had as pre-existing and adds nothing', async () => {
    const dana = oktaIdOf('dana');
    expect(members()).toContain(dana);

    const outcome = await provisioner().grant(subject('dana.reyes@example.com'));

    expect(outcome).toEqual({ principal: dana, target: PROD_READONLY, preExisting: true });
    expect(callsTo(MEMBERSHIP_ROUTE)).toEqual([]);
  });

  it('refuses an email that is no Okta login with NotFoundError, not an UpstreamError', async () => {
    const error = await errorOf(provisioner().grant(subject('nobody@example.com')));

    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).not.toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toContain('nobody@example.com');
    expect(callsTo(MEMBERSHIP_ROUTE)).toEqual([]);
  });

  it('refuses a group Okta does not have with NotFoundError', async () => {
    const error = await errorOf(
      provisioner().grant(subject('priya.nair@example.com', '00g1nosuchgroup00000')),
    );

    expect(error).toBeInstanceOf(NotFoundError);
  });
});

describe('revoking', () => {
  it('removes the membership loopgate added, and a second revoke is fine', async () => {
    const priya = oktaIdOf('priya');
    const okta = provisioner();
    const outcome = await okta.grant(subject('priya.nair@example.com'));

    await okta.revoke(outcome);
    expect(members()).not.toContain(priya);

    await okta.revoke(outcome);
    expect(members()).not.toContain(priya);
    expect(callsTo(REMOVAL_ROUTE)).toEqual([204, 204]);
  });

  it('keeps a membership that pre-existed: no call to remove it', async () => {
    const dana = oktaIdOf('dana');
    const okta = provisioner();
    const outcome = await okta.grant(subject('dana.reyes@example.com'));

    await okta.revoke(outcome);

    expect(members()).toContain(dana);
    expect(callsTo(REMOVAL_ROUTE)).toEqual([]);
  });

  it('removes the recorded user from the recorded group, whatever the subject says now', async () => {
    const priya = oktaIdOf('priya');
    const okta = provisioner();
    const outcome = await okta.grant(subject('priya.nair@example.com'));

    // The catalog moved the entitlement to another group since: the grant made is what goes.
    await okta.revoke(outcome);

    expect(members()).not.toContain(priya);
  });

  it('a membership whose user or group is gone counts as removed', async () => {
    await provisioner().revoke({
      principal: oktaIdOf('priya'),
      target: '00g1nosuchgroup00000',
      preExisting: false,
    });

    expect(callsTo(REMOVAL_ROUTE)).toEqual([404]);
  });

  it('refuses a recorded id that is not an Okta id before calling Okta', async () => {
    const error = await errorOf(
      provisioner().revoke({
        principal: '../users',
        target: PROD_READONLY,
        preExisting: false,
      }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(callsTo(REMOVAL_ROUTE)).toEqual([]);
  });
});

describe('verifying', () => {
  it('reads the membership back: absent before, present after granting, absent after revoking', async () => {
    const okta = provisioner();
    const priya = subject('priya.nair@example.com');

    expect(await okta.verify(priya)).toBe(false);
    const outcome = await okta.grant(priya);
    expect(await okta.verify(priya)).toBe(true);
    await okta.revoke(outcome);
    expect(await okta.verify(priya)).toBe(false);
  });

  it('sees a membership that was there before loopgate', async () => {
    expect(await provisioner().verify(subject('dana.reyes@example.com'))).toBe(true);
  });

  it('an unknown login holds nothing', async () => {
    expect(await provisioner().verify(subject('nobody@example.com'))).toBe(false);
  });
});

describe('when Okta fails', () => {
  it('a 500 on adding the member is an UpstreamError, and nothing changed', async () => {
    standIn.faults.set(MEMBERSHIP_ROUTE, { failNext: 1, status: 500 });

    const error = await errorOf(provisioner().grant(subject('priya.nair@example.com')));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ service: 'okta', failure: 'unavailable' });
    expect(members()).not.toContain(oktaIdOf('priya'));
  });

  it('a 500 on removing the member is an UpstreamError, not a silent success', async () => {
    const okta = provisioner();
    const outcome = await okta.grant(subject('priya.nair@example.com'));
    standIn.faults.set(REMOVAL_ROUTE, { failNext: 1, status: 500 });

    const error = await errorOf(okta.revoke(outcome));

    expect(error).toMatchObject({ service: 'okta', failure: 'unavailable' });
    expect(members()).toContain(oktaIdOf('priya'));
  });

  it('a lookup slower than the timeout is an UpstreamError of kind timeout', async () => {
    standIn.faults.set('GET /api/v1/users', { delayMs: 400 });

    const error = await errorOf(provisioner(100).grant(subject('priya.nair@example.com')));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ failure: 'timeout' });
  });

  it('a membership read slower than the timeout fails verify with a timeout', async () => {
    standIn.faults.set('GET /api/v1/users/:id/groups', { delayMs: 400 });

    const error = await errorOf(provisioner(100).verify(subject('priya.nair@example.com')));

    expect(error).toMatchObject({ service: 'okta', failure: 'timeout' });
  });
});
