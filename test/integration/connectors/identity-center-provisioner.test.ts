// IdentityCenterProvisioner against the Identity Center stand-in over real HTTP
// with the real SDK clients: the requester's user is found by the directory
// identity (never another person's), an assignment is written once and polled
// until it settles, a write already in progress is waited for, one that was
// there before survives the revoke, and failures say what went wrong.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIdentityCenterClients } from '../../../lambdas/connectors/identity-center/client';
import { IdentityCenterProvisioner } from '../../../lambdas/connectors/identity-center/provisioner';
import type { Entitlement } from '../../../lambdas/core/catalog';
import { NotFoundError, UpstreamError, ValidationError } from '../../../lambdas/core/errors';
import type { GrantSubject } from '../../../lambdas/core/ports';
import { SandboxClock } from '../../../sandbox/clock';
import { IdentityCenterStandIn } from '../../../sandbox/identity-center/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const CREDENTIALS = { accessKeyId: 'AKIASANDBOXLOOPGATE1', secretAccessKey: 'sandbox-idc-provisioner' };
const PROD = '111122223333';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-4a1b2c3d4e5f6a7b';
const ISSUER = 'https://example.okta.com';

let scenario: Scenario;
let standIn: IdentityCenterStandIn;
let clients: ReturnType<typeof createIdentityCenterClients>;

beforeEach(async () => {
  scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, START);
  standIn = new IdentityCenterStandIn({
    scenario,
    clock: new SandboxClock({ start: START, frozen: true }),
    credentials: [CREDENTIALS],
  });
  await standIn.start();
  clients = createIdentityCenterClients({
    region: 'us-east-1',
    endpoint: standIn.url,
    credentials: CREDENTIALS,
    timeoutMs: 5000,
    maxAttempts: 2,
  });
});

afterEach(async () => {
  clients.ssoAdmin.destroy();
  clients.identityStore.destroy();
  await standIn.stop();
});

/** Polls without pausing: the stand-in settles by polls, not by time. */
const provisioner = (maxWaitMs = 60_000) =>
  new IdentityCenterProvisioner({ clients, maxWaitMs, pollMs: 1, sleep: async () => {} });

const person = (id: string) => {
  const p = scenario.people.find((x) => x.id === id);
  if (!p) throw new Error(id);
  return p;
};
const userOf = (id: string) => standIn.instance.users.find((u) => u.person === id)?.userId ?? '';

function subject(id: string, user: 'userName' | 'externalId' = 'userName'): GrantSubject {
  const action: Entitlement['action'] = {
    kind: 'aws-identity-center',
    identityStoreId: 'd-9067a1b2c3',
    permissionSetArn: READ_ONLY,
    accountId: PROD,
    user: user === 'userName' ? { by: 'userName' } : { by: 'externalId', issuer: ISSUER },
    sessionDuration: 3600,
  };
  return {
    requestId: '6d1f7c3e-2b8a-4f5e-9c1d-0a2b3c4d5e6f',
    personId: person(id).okta.id,
    email: person(id).email,
    action,
    expiresAt: new Date(START.getTime() + 4 * 3_600_000),
  };
}

const assigned = (id: string) =>
  standIn.instance.hasAssignment({
    accountId: PROD,
    permissionSetArn: READ_ONLY,
    principalType: 'USER',
    principalId: userOf(id),
  });

describe('granting', () => {
  it('finds the user by the Okta id as external id and assigns the permission set once, polling until it settles', async () => {
    standIn.instance.settleAfterPolls = 3;
    const p = provisioner();
    const outcome = await p.grant(subject('dana', 'externalId'));
    expect(outcome).toEqual({
      principal: userOf('dana'),
      target: `${PROD}:${READ_ONLY}`,
      preExisting: false,
    });
    expect(assigned('dana')).toBe(true);
    expect(p.statusPolls).toBe(4);
    expect(await p.verify(subject('dana', 'externalId'))).toBe(true);
    // Asked again (a redelivery after it landed): nothing is written, and it says it was there.
    expect(await p.grant(subject('dana'))).toMatchObject({ preExisting: true });
    expect(standIn.count('CreateAccountAssignment')).toBe(1);
  });

  it('never assigns to another person: an external id under another issuer finds nobody', async () => {
    const wrongIssuer = subject('dana', 'externalId');
    if (wrongIssuer.action.kind === 'aws-identity-center')
      wrongIssuer.action.user = { by: 'externalId', issuer: 'https://other.example' };
    await expect(provisioner().grant(wrongIssuer)).rejects.toThrow(NotFoundError);
    expect(await provisioner().verify(wrongIssuer)).toBe(false);
    expect(standIn.count('CreateAccountAssignment')).toBe(0);
  });

  it('fails with NotFoundError naming the store and the identity when the requester is not synced', async () => {
    await expect(provisioner().grant(subject('rob'))).rejects.toThrow(
      /identity-center: no Identity Center user in d-9067a1b2c3 has the userName rob\.chen@example\.com: the requester is not synced/,
    );
  });

  it('refuses an external id match for a request that recorded no directory id', async () => {
    const { personId: _dropped, ...withoutId } = subject('dana', 'externalId');
    await expect(provisioner().grant(withoutId)).rejects.toThrow(ValidationError);
  });

  it('waits for a creation already in progress instead of writing a second, and leaves the verdict to the holding', async () => {
    standIn.instance.hold = true;
    await expect(provisioner(0).grant(subject('dana'))).rejects.toThrow(UpstreamError);
    expect(standIn.count('CreateAccountAssignment')).toBe(1);
    standIn.instance.hold = false;
    const outcome = await provisioner().grant(subject('dana'));
    expect(outcome.preExisting).toBe(true);
    expect(standIn.count('CreateAccountAssignment')).toBe(1);
    expect(assigned('dana')).toBe(true);
  });

  it('reports a creation that FAILED as an upstream error with its reason', async () => {
    // Held while the provisioner polls, then failed as Identity Center fails one.
    standIn.instance.hold = true;
    const grant = provisioner().grant(subject('dana'));
    await until(() => standIn.instance.operations.length === 1);
    const op = standIn.instance.operations[0];
    if (op)
      Object.assign(op, { status: 'FAILED', failureReason: 'Received a 404 status error: Not supported' });
    standIn.instance.hold = false;
    await expect(grant).rejects.toThrow(/creation .* failed: Received a 404 status error/);
  });

  it('rides out a throttled call (the SDK retries ThrottlingException)', async () => {
    standIn.operationFaults.set('ListAccountAssignments', { failNext: 1, status: 429 });
    await provisioner().grant(subject('dana'));
    expect(assigned('dana')).toBe(true);
  });
});

describe('revoking', () => {
  it('removes the assignment it made and reads back that it is gone', async () => {
    const p = provisioner();
    const outcome = await p.grant(subject('dana'));
    await p.revoke(outcome);
    expect(assigned('dana')).toBe(false);
    expect(await p.holds(outcome)).toBe(false);
    // Again (a redelivered revoke): nothing left to delete, nothing written.
    await p.revoke(outcome);
    expect(standIn.count('DeleteAccountAssignment')).toBe(1);
  });

  it('keeps an assignment that pre-existed', async () => {
    const p = provisioner();
    const outcome = await p.grant(subject('maria'));
    expect(outcome.preExisting).toBe(true);
    await p.revoke(outcome);
    expect(assigned('maria')).toBe(true);
    expect(standIn.count('DeleteAccountAssignment')).toBe(0);
  });

  it('waits for a deletion already in progress instead of deleting again', async () => {
    const p = provisioner();
    const outcome = await p.grant(subject('dana'));
    standIn.instance.hold = true;
    await expect(provisioner(0).revoke(outcome)).rejects.toThrow(/deletion .* still in progress/);
    standIn.instance.hold = false;
    await p.revoke(outcome);
    expect(standIn.count('DeleteAccountAssignment')).toBe(1);
    expect(assigned('dana')).toBe(false);
  });

  it('refuses a recorded principal or target that is not an Identity Center id', async () => {
    await expect(
      provisioner().revoke({ principal: '../admin', target: `${PROD}:${READ_ONLY}`, preExisting: false }),
    ).rejects.toThrow(ValidationError);
    await expect(
      provisioner().revoke({ principal: userOf('dana'), target: READ_ONLY, preExisting: false }),
    ).rejects.toThrow(ValidationError);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}
