// Shared access by holding, end to end in the sandbox: an Okta membership (or
// a managed IAM attachment) that several loopgate grants give stays until the
// last live one ends; access the person had outside loopgate survives, decided
// at the moment of granting, not when provisioning started; and the sweeper
// removes, and audits, loopgate access that no live request holds any more.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../lambdas/core/model';
import { grantRequest, revokeRequest } from '../../lambdas/core/provision/provision';
import { Env, readProvisionConfig } from '../../lambdas/platform/env';
import { wireProvision } from '../../lambdas/wiring/provision';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

let sandbox: Sandbox;
const MINUTE = 60_000;
const READONLY = '00g1prodreadonly0001';
const CREATE_SCHEDULE = 'POST /schedules/:name';
const USER_GROUPS = 'GET /api/v1/users/:id/groups';

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox?.stop());

const { filed, note, inState, passExpiry, sweep } = flow(() => sandbox);

const emailOf = (person: string) => sandbox.scenario.people.find((p) => p.id === person)?.email ?? '';
const oktaIdOf = (person: string) =>
  sandbox.okta.state().users.find((u) => u.login === emailOf(person))?.id ?? '';
/** Read from the stand-in's own state: what Okta holds, whatever loopgate recorded. */
const member = (person: string) =>
  Boolean(
    sandbox.okta
      .state()
      .groups.find((g) => g.id === READONLY)
      ?.members.includes(oktaIdOf(person)),
  );
const trailOf = (request: AccessRequest) => sandbox.store.listAuditEvents(request.id);
const scheduleCalls = () => sandbox.host.scheduler.calls.filter((c) => c.routeKey === CREATE_SCHEDULE).length;

async function granted(person: string, duration: string): Promise<AccessRequest> {
  const request = await filed(person, 'okta-prod-readonly', { duration });
  await note(request, 'priya', 'approve');
  return inState(request.id, 'GRANTED');
}

/** Lets sandbox time pass (the queues' 60 s visibility timeout) until the request is in `state`. */
async function redeliveredUntil(id: string, state: AccessRequest['state']): Promise<AccessRequest> {
  return until(`${id} to be ${state} after redelivery`, async () => {
    const r = await sandbox.store.get(id);
    if (r?.state === state) return r;
    sandbox.clock.advance(61_000);
    await sandbox.settled();
    return undefined;
  });
}

describe('a grant that prepared while an earlier grant of the same group was live', () => {
  it('does not outlive its own expiry when the earlier grant ends between its attempts', async () => {
    const first = await granted('chloe', '1h');
    const second = await filed('chloe', 'okta-prod-readonly', { duration: '4h' });
    // The second grant's first attempt fails after it was prepared: Scheduler answers 500.
    sandbox.host.scheduler.faults.set(CREATE_SCHEDULE, { errorRate: 1, status: 500 });
    try {
      const before = scheduleCalls();
      await note(second, 'priya', 'approve');
      await until('the failed first attempt', async () => (scheduleCalls() > before ? true : undefined));
      expect((await sandbox.store.get(second.id))?.state).toBe('APPROVED');

      // The earlier grant ends meanwhile; the second one, approved, still holds the membership.
      await passExpiry(first);
      await inState(first.id, 'REVOKED');
      expect(member('chloe')).toBe(true);
      expect((await trailOf(first)).at(-1)?.reason).toContain(
        `the access stays while ${second.jiraIssueKey}`,
      );
    } finally {
      sandbox.host.scheduler.faults.clear(CREATE_SCHEDULE);
    }

    const secondGranted = await redeliveredUntil(second.id, 'GRANTED');
    // Loopgate's own membership is never counted as the person's.
    expect(secondGranted.grant?.preExisting).toBe(false);
    await passExpiry(secondGranted);
    await inState(second.id, 'REVOKED');
    expect(member('chloe')).toBe(false);
  });
});

describe('two live grants of the same group', () => {
  it('keep the membership until the later one ends, whichever was granted first', async () => {
    const short = await granted('kenji', '2h');
    const long = await granted('kenji', '4h');
    expect(long.grant?.preExisting).toBe(false);
    expect((await trailOf(long)).at(-1)?.reason).toContain(`also granted by ${short.jiraIssueKey}`);

    await passExpiry(short);
    await inState(short.id, 'REVOKED');
    expect(member('kenji')).toBe(true);
    const revoke = (await trailOf(short)).at(-1);
    expect(revoke?.evidence).toMatchObject({ verifiedGone: false, stillHeldBy: [long.id] });

    await passExpiry(long);
    await inState(long.id, 'REVOKED');
    expect(member('kenji')).toBe(false);
    expect((await trailOf(long)).at(-1)?.evidence).toMatchObject({ verifiedGone: true });
  });

  it('keep it when the later-granted one ends first', async () => {
    const long = await granted('lena', '4h');
    const short = await granted('lena', '1h');
    await passExpiry(short);
    await inState(short.id, 'REVOKED');
    expect(member('lena')).toBe(true);
    await passExpiry(long);
    await inState(long.id, 'REVOKED');
    expect(member('lena')).toBe(false);
  });

  it('serialize a revoke of one and the grant of the other at the same moment', async () => {
    const { deps, settings } = wireProvision(
      readProvisionConfig(new Env(sandbox.loopgateEnvironment())),
      'revoke',
      { clock: sandbox.clock, log: () => {} },
    );
    for (const person of ['ivan', 'sam']) {
      const first = await granted(person, '1h');
      const second = await filed(person, 'okta-prod-readonly', { duration: '2h' });
      // The approval sets off the second grant while the first is revoked early.
      await Promise.all([
        note(second, 'priya', 'approve'),
        revokeRequest(deps, settings, first.id, { finalAttempt: false, reason: 'work is done' }),
      ]);
      await inState(first.id, 'REVOKED');
      const secondGranted = await redeliveredUntil(second.id, 'GRANTED');
      expect(member(person)).toBe(true);
      await passExpiry(secondGranted);
      await inState(second.id, 'REVOKED');
      expect(member(person)).toBe(false);
    }
  });
});

describe('a requester who asks for the same group again', () => {
  it('keeps nothing past the approved end through a request nobody approved', async () => {
    const approved = await granted('omar', '1h');
    // A second ticket for the same group, waiting for a decision (or denied): it holds nothing.
    const waiting = await filed('omar', 'okta-prod-readonly', { duration: '7d' });
    const denied = await filed('omar', 'okta-prod-readonly', { duration: '7d' });
    await note(denied, 'priya', 'deny one request is enough');
    await inState(denied.id, 'DENIED');

    await passExpiry(approved);
    await inState(approved.id, 'REVOKED');
    expect(member('omar')).toBe(false);
    expect((await sandbox.store.get(waiting.id))?.state).toBe('PENDING');
  });
});

describe('access held outside loopgate', () => {
  it('survives two overlapping loopgate grants of it', async () => {
    // Dana is in prod-readonly already.
    const first = await granted('dana', '1h');
    const second = await granted('dana', '2h');
    expect(first.grant?.preExisting).toBe(true);
    expect(second.grant?.preExisting).toBe(true);
    await passExpiry(first);
    await inState(first.id, 'REVOKED');
    await passExpiry(second);
    await inState(second.id, 'REVOKED');
    expect(member('dana')).toBe(true);
    expect((await trailOf(second)).at(-1)?.reason).toMatch(/the access the requester held before was kept/);
  });

  it('counts as outside only while it is there at the moment of granting', async () => {
    // Grace is in prod-readonly outside loopgate; an administrator removes her during her grant.
    const first = await granted('grace', '1h');
    expect(first.grant?.preExisting).toBe(true);
    const removed = await fetch(`${sandbox.okta.url}/api/v1/groups/${READONLY}/users/${oktaIdOf('grace')}`, {
      method: 'DELETE',
      headers: { authorization: `SSWS ${sandbox.credentials.okta.token}` },
    });
    expect(removed.status).toBe(204);

    // The second grant adds the membership itself: loopgate's, so it goes when the grants end.
    const second = await granted('grace', '2h');
    expect(second.grant?.preExisting).toBe(false);
    expect(member('grace')).toBe(true);
    await passExpiry(first);
    await inState(first.id, 'REVOKED');
    expect(member('grace')).toBe(true);
    await passExpiry(second);
    await inState(second.id, 'REVOKED');
    expect(member('grace')).toBe(false);
  });
});

describe('outside access that ends between two attempts of a grant', () => {
  it('is not counted once the grant writes the access itself', async () => {
    // Maria is in prod-readonly outside loopgate when her grant is first tried; the attempt fails
    // after it saw her membership (Scheduler answers 500), and an administrator removes her.
    const request = await filed('maria', 'okta-prod-readonly', { duration: '1h' });
    sandbox.host.scheduler.faults.set(CREATE_SCHEDULE, { errorRate: 1, status: 500 });
    try {
      const before = scheduleCalls();
      await note(request, 'priya', 'approve');
      await until('the failed first attempt', async () => (scheduleCalls() > before ? true : undefined));
      const removed = await fetch(
        `${sandbox.okta.url}/api/v1/groups/${READONLY}/users/${oktaIdOf('maria')}`,
        { method: 'DELETE', headers: { authorization: `SSWS ${sandbox.credentials.okta.token}` } },
      );
      expect(removed.status).toBe(204);
    } finally {
      sandbox.host.scheduler.faults.clear(CREATE_SCHEDULE);
    }

    // The retry adds the membership: loopgate's now, and gone at the expiry.
    const grantedRequest = await redeliveredUntil(request.id, 'GRANTED');
    expect(member('maria')).toBe(true);
    expect(grantedRequest.grant?.preExisting).toBe(false);
    await passExpiry(grantedRequest);
    await inState(request.id, 'REVOKED');
    expect(member('maria')).toBe(false);
  });
});

describe('a crash between the grant and its record', () => {
  it.each([
    ['ivan', false],
    // Dana is in prod-readonly outside loopgate: the redelivery must not count loopgate's part as hers, nor hers as loopgate's.
    ['dana', true],
  ] as const)(
    '%s: the redelivery converges on one holding, outside access as it was',
    async (person, outside) => {
      const request = await filed(person, 'okta-prod-readonly', { duration: '1h' });
      // Keeps the request APPROVED: the function's attempt fails at the schedule.
      sandbox.host.scheduler.faults.set(CREATE_SCHEDULE, { errorRate: 1, status: 500 });
      const before = scheduleCalls();
      try {
        await note(request, 'priya', 'approve');
        await until('the failed first attempt', async () => (scheduleCalls() > before ? true : undefined));
      } finally {
        sandbox.host.scheduler.faults.clear(CREATE_SCHEDULE);
      }
      const { deps, settings } = wireProvision(
        readProvisionConfig(new Env(sandbox.loopgateEnvironment())),
        'provision',
        { clock: sandbox.clock, log: () => {} },
      );
      // This attempt grants and schedules, then dies before GRANTED is written.
      const dying = Object.assign(Object.create(deps.store) as typeof deps.store, {
        transition: () => Promise.reject(new Error('the process died')),
      });
      await expect(
        grantRequest({ ...deps, store: dying }, settings, request.id, { finalAttempt: false }),
      ).rejects.toThrow('the process died');

      const done = await redeliveredUntil(request.id, 'GRANTED');
      expect(done.grant?.preExisting).toBe(outside);
      await passExpiry(done);
      await inState(request.id, 'REVOKED');
      expect(member(person)).toBe(outside);
    },
  );
});

describe('managed IAM policy attachments', () => {
  const attached = () =>
    (sandbox.iam.principalPolicies('user', 'kenji.watanabe')?.attached ?? []).includes(
      'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess',
    );
  const autoGranted = async (duration: string) => {
    // aws-billing-read is audit-only: granted by rule, without a page.
    const { key } = sandbox.jira.fileTicket({
      reporter: 'kenji',
      entitlement: 'aws-billing-read',
      duration,
      justification: 'INC-4411 month-end cost review',
    });
    await sandbox.jira.settled();
    return until(`${key} to be granted`, async () => {
      await sandbox.settled();
      const r = await sandbox.store.getByJiraIssueKey(key);
      return r?.state === 'GRANTED' ? r : undefined;
    });
  };

  it('stay attached until the last grant of the policy ends', async () => {
    const first = await autoGranted('1h');
    const second = await autoGranted('3h');
    expect(second.grant?.preExisting).toBe(false);
    await passExpiry(first);
    await inState(first.id, 'REVOKED');
    expect(attached()).toBe(true);
    await passExpiry(second);
    await inState(second.id, 'REVOKED');
    expect(attached()).toBe(false);
  });
});

describe('the sweeper’s reconcile', () => {
  it('removes a membership loopgate added that no live request holds, and audits it', async () => {
    // The first attempt adds the membership, then Scheduler fails; every later attempt fails before
    // it can record the grant, so the request ends FAILED with no grant to revoke: an orphan.
    sandbox.host.scheduler.faults.set(CREATE_SCHEDULE, { errorRate: 1, status: 500 });
    let request: AccessRequest;
    try {
      request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
      const before = scheduleCalls();
      await note(request, 'priya', 'approve');
      await until('the first attempt', async () => (scheduleCalls() > before ? true : undefined));
      expect(member('chloe')).toBe(true);
      sandbox.okta.faults.set(USER_GROUPS, { errorRate: 1, status: 500 });
      const failed = await redeliveredUntil(request.id, 'FAILED');
      expect(failed.grant).toBeUndefined();
      expect(member('chloe')).toBe(true);
    } finally {
      sandbox.host.scheduler.faults.clear(CREATE_SCHEDULE);
      sandbox.okta.faults.clear(USER_GROUPS);
    }

    // Once every attempt is over (a quarter of an hour), the sweeper finds it.
    sandbox.clock.advance(16 * MINUTE);
    const swept = await sweep();
    expect(swept).toMatchObject({
      result: { reconciled: [`okta-group ${READONLY} of ${oktaIdOf('chloe')}`] },
    });
    expect(member('chloe')).toBe(false);
    const last = (await trailOf(request)).at(-1);
    expect(last).toMatchObject({ from: 'FAILED', to: 'FAILED', actor: { kind: 'system', id: 'sweeper' } });
    expect(last?.reason).toMatch(
      /^the sweeper removed okta-group 00g1prodreadonly0001 of .*no live request holds it$/,
    );

    // Nothing is left to reconcile.
    expect(await sweep()).toMatchObject({ result: { reconciled: [] } });
  });
});
