// IAM Identity Center grants end to end in the sandbox: an approving note leads
// to an account assignment in the Identity Center stand-in (created
// asynchronously and polled), read back, revoked when the clock passes the
// expiry; a redelivered message while the assignment is still IN_PROGRESS
// waits for it instead of creating a second; an assignment the requester held
// before is kept; a requester with no Identity Center user fails clearly.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRequest } from '../../lambdas/core/provision/provision';
import { Env, readProvisionConfig } from '../../lambdas/platform/env';
import { wireProvision } from '../../lambdas/wiring/provision';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

const PROD = '111122223333';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-4a1b2c3d4e5f6a7b';
const ENTITLEMENT = 'aws-prod-readonly-sso';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

const { filed, note, inState, passExpiry, comments, lastNote } = flow(() => sandbox);

const userOf = (person: string) => {
  const user = sandbox.identityCenter.instance.users.find((u) => u.person === person);
  if (!user) throw new Error(`${person} has no Identity Center user`);
  return user.userId;
};
const assignmentsOf = (person: string) =>
  sandbox.identityCenter.instance.assignments.filter(
    (a) => a.principalId === userOf(person) && a.accountId === PROD && a.permissionSetArn === READ_ONLY,
  );
const calls = (operation: string) => sandbox.identityCenter.count(operation);

describe('an Identity Center permission set', () => {
  it('is assigned on approval, read back, and unassigned at expiry; the notes say how long a session outlasts the revoke', async () => {
    const createsBefore = calls('CreateAccountAssignment');
    const request = await filed('chloe', ENTITLEMENT, { duration: '2h' });
    expect(assignmentsOf('chloe')).toEqual([]);

    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');
    expect(granted.grant).toMatchObject({
      action: 'aws-identity-center',
      principal: userOf('chloe'),
      target: `${PROD}:${READ_ONLY}`,
      preExisting: false,
    });
    expect(assignmentsOf('chloe')).toHaveLength(1);
    expect(calls('CreateAccountAssignment') - createsBefore).toBe(1);
    await until('the grant comment', async () =>
      comments(request.jiraIssueKey).some((c) =>
        c.includes('a session issued before the revoke keeps working up to 1h after it'),
      )
        ? true
        : undefined,
    );

    const deletesBefore = calls('DeleteAccountAssignment');
    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(assignmentsOf('chloe')).toEqual([]);
    expect(calls('DeleteAccountAssignment') - deletesBefore).toBe(1);
    expect(lastNote(request.incidentId ?? '')).toMatch(/^Revoked at .*keeps working up to 1h after it\.$/);
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)).toMatchObject({ to: 'REVOKED', evidence: { verifiedGone: true } });
  });

  it('keeps an assignment the requester held before loopgate', async () => {
    expect(assignmentsOf('maria')).toHaveLength(1);
    const request = await filed('maria', ENTITLEMENT, { duration: '1h' });
    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');
    expect(granted.grant?.preExisting).toBe(true);

    const deletesBefore = calls('DeleteAccountAssignment');
    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(assignmentsOf('maria')).toHaveLength(1);
    expect(calls('DeleteAccountAssignment')).toBe(deletesBefore);
    await until('the revoke comment', async () =>
      comments(request.jiraIssueKey).some((c) =>
        c.includes('The access you held before this request is unchanged'),
      )
        ? true
        : undefined,
    );
  });

  it('creates one assignment, not two, when the message is redelivered while the first is still IN_PROGRESS', async () => {
    const request = await filed('ivan', ENTITLEMENT, { duration: '1h' });
    const createsBefore = calls('CreateAccountAssignment');
    // This test plays the first deliveries itself, while Identity Center is slow to propagate.
    await sandbox.host.sqs.stopPolling();
    sandbox.identityCenter.instance.hold = true;
    try {
      await note(request, 'priya', 'approve');
      await inState(request.id, 'APPROVED');
      const { deps, settings } = wireProvision(
        readProvisionConfig(new Env(sandbox.loopgateEnvironment())),
        'provision',
        { clock: sandbox.clock, log: () => {} },
      );
      // The first delivery creates the assignment and gives up waiting for it: a retry's error.
      await expect(grantRequest(deps, settings, request.id, { finalAttempt: false })).rejects.toThrow(
        /still in progress .*the retry waits for it rather than writing again/,
      );
      // The redelivery finds the creation in progress and waits for it; nothing is written again.
      await expect(grantRequest(deps, settings, request.id, { finalAttempt: false })).rejects.toThrow(
        /still in progress/,
      );
      expect(calls('CreateAccountAssignment') - createsBefore).toBe(1);
      expect(assignmentsOf('ivan')).toEqual([]);
      expect((await sandbox.store.get(request.id))?.state).toBe('APPROVED');
    } finally {
      sandbox.identityCenter.instance.hold = false;
      sandbox.host.sqs.startPolling();
    }

    // The queue's delivery to the real function finds it still in progress, and it now settles.
    const granted = await inState(request.id, 'GRANTED');
    expect(calls('CreateAccountAssignment') - createsBefore).toBe(1);
    expect(assignmentsOf('ivan')).toHaveLength(1);
    // The assignment is loopgate's (its holding marked it placed before the first write): it goes at expiry.
    expect(granted.grant?.preExisting).toBe(false);
    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(assignmentsOf('ivan')).toEqual([]);
  });

  it('fails at once, saying why, when the requester has no Identity Center user', async () => {
    const createsBefore = calls('CreateAccountAssignment');
    const request = await filed('rob', ENTITLEMENT, { duration: '1h' });
    await note(request, 'priya', 'approve');
    const failed = await inState(request.id, 'FAILED');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)?.reason).toMatch(
      /no retry can fix it: identity-center: no Identity Center user in d-9067a1b2c3 has the userName rob\.chen@example\.com/,
    );
    expect(failed.grant).toBeUndefined();
    expect(calls('CreateAccountAssignment')).toBe(createsBefore);
  });
});
