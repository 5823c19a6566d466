// Provision and expire, end to end in the sandbox: an approving note leads to
// a grant in the Okta or IAM stand-in, the Scheduler stand-in revokes it when
// the sandbox clock passes its expiry, and the sweeper catches what a lost
// schedule would leave in place.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Env, readProvisionConfig } from '../../lambdas/platform/env';
import { grantRequest } from '../../lambdas/core/provision/provision';
import type { RequestStore } from '../../lambdas/core/ports';
import { wireProvision } from '../../lambdas/wiring/provision';
import { atExpression } from '../../lambdas/connectors/scheduler/expiry-scheduler';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

let sandbox: Sandbox;
const HOUR = 3_600_000;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

const { filed, note, inState, passExpiry, oktaMembers, comments, commented, lastNote, sweep } = flow(
  () => sandbox,
);
const schedules = () => sandbox.host.scheduler.state().schedules.map((s) => ({ name: String(s.Name) }));

describe('granting and revoking', () => {
  it('grants an approved Okta group, revokes it when the schedule fires at expiry, and audits every step', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '2h' });
    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('chloe.martin@example.com');

    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');

    expect(await oktaMembers('00g1prodreadonly0001')).toContain('chloe.martin@example.com');
    expect(granted.grant).toMatchObject({
      action: 'okta-group',
      target: '00g1prodreadonly0001',
      preExisting: false,
    });
    expect(Date.parse(granted.grant?.expiresAt ?? '') - Date.parse(granted.grant?.grantedAt ?? '')).toBe(
      2 * HOUR,
    );
    expect(schedules().map((s) => s.name)).toContain(`loopgate-revoke-${request.id}`);
    // Notes and comments follow the recorded grant.
    await until('the grant comment', async () =>
      comments(request.jiraIssueKey).some((c) => c.includes(granted.grant?.expiresAt ?? '?'))
        ? true
        : undefined,
    );

    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('chloe.martin@example.com');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.slice(-4).map((e) => `${e.from}>${e.to}`)).toEqual([
      'PENDING>APPROVED',
      'APPROVED>APPROVED',
      'APPROVED>GRANTED',
      'GRANTED>REVOKED',
    ]);
    expect(trail.at(-1)?.reason).toMatch(/^expired at /);
  });

  it('keeps access the requester held before, and says so', async () => {
    // Dana is a member of prod-readonly already.
    const request = await filed('dana', 'okta-prod-readonly', { duration: '1h' });
    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');
    expect(granted.grant?.preExisting).toBe(true);

    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(await oktaMembers('00g1prodreadonly0001')).toContain('dana.reyes@example.com');
    await until('the revoke comment', async () =>
      comments(request.jiraIssueKey).some((c) =>
        c.includes('The access you held before this request is unchanged'),
      )
        ? true
        : undefined,
    );
  });

  it('revokes with the sweeper when the schedule was lost', async () => {
    const request = await filed('kenji', 'okta-prod-readonly', { duration: '1h' });
    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');
    const client = await import('@aws-sdk/client-scheduler');
    const scheduler = new client.SchedulerClient({
      endpoint: sandbox.host.urls.scheduler,
      region: 'us-east-1',
      credentials: sandbox.credentials.iam,
    });
    await scheduler.send(
      new client.DeleteScheduleCommand({
        Name: `loopgate-revoke-${request.id}`,
        GroupName: 'loopgate-expiry',
      }),
    );
    scheduler.destroy();

    await passExpiry(granted);
    expect((await sandbox.store.get(request.id))?.state).toBe('GRANTED');
    await sweep();

    await inState(request.id, 'REVOKED');
    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('kenji.watanabe@example.com');
    expect((await sandbox.store.listAuditEvents(request.id)).at(-1)?.reason).toMatch(
      /revoked by the sweeper/,
    );
  });

  it('writes an IAM inline grant whose every statement stops at the expiry', async () => {
    const request = await filed('tomas', 'aws-logs-read', { duration: '4h' });
    await note(request, 'ana', 'approve checked with Tomás');
    const granted = await inState(request.id, 'GRANTED');

    const inline = sandbox.iam.principalPolicies('user', 'tomas.silva')?.inline as
      Record<string, { Statement: { Condition?: Record<string, Record<string, string>> }[] }> | undefined;
    const document = inline?.[`loopgate-${request.id}`];
    expect(document?.Statement.length).toBeGreaterThan(0);
    for (const statement of document?.Statement ?? []) {
      expect(statement.Condition?.DateLessThan?.['aws:CurrentTime']).toBe(granted.grant?.expiresAt);
    }
  });
});

describe('redelivery', () => {
  it('grants once when the provisioning message is delivered twice', async () => {
    const request = await filed('omar', 'okta-prod-readonly', { duration: '1h' });
    sandbox.host.sqs.deliverTwice('loopgate-provision');
    await note(request, 'priya', 'approve');
    await inState(request.id, 'GRANTED');
    await new Promise((resolve) => setTimeout(resolve, 500));

    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.filter((e) => e.to === 'GRANTED')).toHaveLength(1);
    expect(trail.filter((e) => e.evidence?.provisioning)).toHaveLength(1);
  });
});

describe('revoking early and extending', () => {
  it('revokes at once when an approver writes "revoke" on the incident', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '4h' });
    await note(request, 'priya', 'approve');
    await inState(request.id, 'GRANTED');

    await note(request, 'priya', 'revoke work is done');
    const revoked = await inState(request.id, 'REVOKED');

    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('chloe.martin@example.com');
    expect(schedules().map((s) => s.name)).not.toContain(`loopgate-revoke-${request.id}`);
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.some((e) => e.reason === 'early revoke asked by priya.nair@example.com: work is done')).toBe(
      true,
    );
    expect(trail.at(-1)).toMatchObject({ from: 'GRANTED', to: 'REVOKED' });
    await commented(revoked.jiraIssueKey, 'removed');
  });

  it('lets the requester revoke from a Jira comment, and nobody else there', async () => {
    const request = await filed('kenji', 'okta-prod-readonly', { duration: '4h' });
    await note(request, 'priya', 'approve');
    await inState(request.id, 'GRANTED');

    sandbox.jira.commentAs(request.jiraIssueKey, 'omar', 'revoke');
    await sandbox.jira.settled();
    await commented(request.jiraIssueKey, 'Only the person who asked for this access can end it');
    expect((await sandbox.store.get(request.id))?.state).toBe('GRANTED');
    const refused = (await sandbox.store.listAuditEvents(request.id)).at(-1);
    expect(refused?.evidence).toMatchObject({ securityEvent: 'refused-command', verb: 'revoke' });

    sandbox.jira.commentAs(request.jiraIssueKey, 'kenji', 'Revoke: finished early');
    await sandbox.jira.settled();
    await inState(request.id, 'REVOKED');
    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('kenji.watanabe@example.com');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.find((e) => e.reason.startsWith('early revoke asked by the requester'))).toMatchObject({
      actor: { kind: 'person', id: 'kenji.watanabe@example.com' },
      reason: 'early revoke asked by the requester on Jira: finished early',
    });
  });

  it('extends the grant and its revoke schedule, never beyond the catalog maximum from the grant', async () => {
    const request = await filed('felix', 'okta-prod-readonly', { duration: '2h' });
    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');
    const grantedAt = Date.parse(granted.grant?.grantedAt ?? '');
    const expiryOf = async () => Date.parse((await sandbox.store.get(request.id))?.grant?.expiresAt ?? '');
    const scheduled = () =>
      sandbox.host.scheduler.state().schedules.find((s) => s.Name === `loopgate-revoke-${request.id}`)
        ?.ScheduleExpression;

    await note(request, 'priya', 'extend 1h migration still running');
    await until('the extension', async () =>
      (await expiryOf()) === grantedAt + 3 * HOUR ? true : undefined,
    );
    const threeHours = atExpression(new Date(grantedAt + 3 * HOUR));
    await until('the schedule to move', async () => (scheduled() === threeHours ? true : undefined));

    // okta-prod-readonly may be held for 7d at most, counted from the grant.
    await note(request, 'priya', 'extend 30d');
    await until('the capped extension', async () =>
      (await expiryOf()) === grantedAt + 7 * 24 * HOUR ? true : undefined,
    );
    expect(lastNote(granted.incidentId ?? '')).toContain('the most okta-prod-readonly allows');

    await note(request, 'priya', 'extend 1h');
    expect(lastNote(granted.incidentId ?? '')).toMatch(
      /^Not accepted: okta-prod-readonly may be held for at most 7d/,
    );
    expect(await expiryOf()).toBe(grantedAt + 7 * 24 * HOUR);
  });
});

describe('a crash between the grant and its record', () => {
  it('converges on redelivery: one grant, the access counted as loopgate’s, revoked at expiry', async () => {
    const request = await filed('ivan', 'okta-prod-readonly', { duration: '1h' });
    // Hold the provision queue so that this test plays the first delivery itself.
    await sandbox.host.sqs.stopPolling();
    try {
      await note(request, 'priya', 'approve');
      await inState(request.id, 'APPROVED');
      const { deps, settings } = wireProvision(
        readProvisionConfig(new Env(sandbox.loopgateEnvironment())),
        'provision',
        { clock: sandbox.clock, log: () => {} },
      );
      // The process dies after Okta granted and the revoke was scheduled, before GRANTED is written.
      const crashing: RequestStore = Object.assign(Object.create(deps.store) as RequestStore, {
        transition: () => Promise.reject(new Error('the process died')),
      });
      await expect(
        grantRequest({ ...deps, store: crashing }, settings, request.id, { finalAttempt: false }),
      ).rejects.toThrow('the process died');
      expect(await oktaMembers('00g1prodreadonly0001')).toContain('ivan.petrov@example.com');
      expect((await sandbox.store.get(request.id))?.state).toBe('APPROVED');
    } finally {
      sandbox.host.sqs.startPolling();
    }

    // The queue redelivers the provisioning message to the real function.
    const granted = await inState(request.id, 'GRANTED');
    expect(granted.grant?.preExisting).toBe(false);
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.filter((e) => e.evidence?.provisioning)).toHaveLength(1);
    expect(trail.filter((e) => e.to === 'GRANTED')).toHaveLength(1);

    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('ivan.petrov@example.com');
  });
});

describe('a provisioning message that arrives after the revoke', () => {
  // SQS may hand the function a message for a request it read as GRANTED while a revoke ran: the
  // function then works from a stale read. Whatever it writes must not outlive the revoke.
  async function lateDelivery(reporter: string, entitlement: string, approver: string) {
    const request = await filed(reporter, entitlement, { duration: '4h' });
    await note(request, approver, 'approve');
    const granted = await inState(request.id, 'GRANTED');
    await note(request, approver, 'revoke done early');
    await inState(request.id, 'REVOKED');

    const { deps, settings } = wireProvision(
      readProvisionConfig(new Env(sandbox.loopgateEnvironment())),
      'provision',
      { clock: sandbox.clock, log: () => {} },
    );
    let reads = 0;
    const stale: RequestStore = Object.assign(Object.create(deps.store) as RequestStore, {
      get: (id: string) => (reads++ === 0 ? Promise.resolve(granted) : deps.store.get(id)),
    });
    return grantRequest({ ...deps, store: stale }, settings, request.id, { finalAttempt: false });
  }

  it('does not add an Okta membership again', async () => {
    await lateDelivery('kenji', 'okta-prod-readonly', 'priya');
    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('kenji.watanabe@example.com');
  });

  it('removes the IAM inline policy it rewrote for an extension', async () => {
    const outcome = await lateDelivery('grace', 'aws-logs-read', 'ana');
    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'request is REVOKED' });
    const inline = sandbox.iam.principalPolicies('user', 'grace.kim')?.inline as
      Record<string, unknown> | undefined;
    expect(Object.keys(inline ?? {}).filter((name) => name.startsWith('loopgate-'))).toEqual([]);
  });
});

describe('a grant that keeps failing', () => {
  it('is retried by redelivery, then recorded FAILED with a note, a comment and the sweeper’s count', async () => {
    const route = 'PUT /api/v1/groups/:groupId/users/:userId';
    sandbox.okta.faults.set(route, { errorRate: 1, status: 500 });
    const attempts = () => sandbox.okta.calls.filter((c) => c.routeKey === route).length;
    const before = attempts();
    try {
      const request = await filed('lena', 'okta-prod-readonly', { duration: '1h' });
      await note(request, 'priya', 'approve');
      // Each redelivery waits out the queue's visibility timeout on the sandbox clock.
      const failed = await until('FAILED after the last delivery', async () => {
        sandbox.clock.advance(61_000);
        const r = await sandbox.store.get(request.id);
        return r?.state === 'FAILED' ? r : undefined;
      });
      expect(failed.grant).toBeUndefined();
      // One grant attempt per delivery: the queue's five.
      expect(attempts() - before).toBe(5);
      expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('lena.novak@example.com');
      const trail = await sandbox.store.listAuditEvents(request.id);
      expect(trail.at(-1)).toMatchObject({ from: 'APPROVED', to: 'FAILED' });
      expect(trail.at(-1)?.reason).toMatch(/^provisioning failed after retries/);
      await until('the incident note', async () =>
        lastNote(failed.incidentId ?? '').startsWith('FAILED: provisioning of okta-prod-readonly')
          ? true
          : undefined,
      );
      await commented(failed.jiraIssueKey, 'failed; the security team has been alerted');
      const swept = await sweep();
      expect(swept).toMatchObject({
        outcome: 'success',
        result: { failed: expect.arrayContaining([request.id]) },
      });
    } finally {
      sandbox.okta.faults.clear(route);
    }
  });
});

describe('a triage message that was lost', () => {
  it('is sent again by the sweeper once the triage deadline passes, and the ticket is paged', async () => {
    await sandbox.host.sqs.stopPolling();
    let requestId: string;
    try {
      const { key } = sandbox.jira.fileTicket({
        reporter: 'sam',
        entitlement: 'okta-prod-readonly',
        justification: 'INC-4411 checkout latency in production',
      });
      await sandbox.jira.settled();
      requestId = (await until('the request', () => sandbox.store.getByJiraIssueKey(key))).id;
      // Lose the message: received and deleted, as a consumer that died after acknowledging would.
      const { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } = await import('@aws-sdk/client-sqs');
      const sqs = new SQSClient({
        endpoint: sandbox.host.urls.sqs,
        region: 'us-east-1',
        credentials: sandbox.credentials.iam,
      });
      const queueUrl = sandbox.host.sqs.queueUrl('loopgate-triage');
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
      );
      for (const m of Messages)
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
      sqs.destroy();
      expect(Messages.length).toBeGreaterThan(0);
    } finally {
      sandbox.host.sqs.startPolling();
    }
    expect((await sandbox.store.get(requestId))?.state).toBe('RECEIVED');

    sandbox.clock.advance(16 * 60_000);
    const swept = await sweep();
    expect(swept).toMatchObject({ result: { retriaged: expect.arrayContaining([requestId]) } });
    await inState(requestId, 'PENDING');
  });
});

// Last: it moves the clock a day forward, past everything the tests above granted.
describe('a request nobody decides', () => {
  it('is cancelled by the sweeper after the decision timeout, with the incident resolved and the requester told', async () => {
    const request = await filed('grace', 'okta-prod-readonly', { duration: '1h' });
    expect(request.state).toBe('PENDING');

    sandbox.clock.advance(23 * HOUR);
    await sweep();
    expect((await sandbox.store.get(request.id))?.state).toBe('PENDING');

    sandbox.clock.advance(2 * HOUR);
    await sweep();
    await inState(request.id, 'CANCELLED');
    expect(sandbox.pagerduty.incident(request.incidentId ?? '')?.status).toBe('resolved');
    await commented(request.jiraIssueKey, 'Nobody decided on this request in time');
    // The ticket shows it too: the sweeper moves it to the configured cancelled status.
    const ticket = sandbox.jira
      .state()
      .issues.find((i) => (i as { key?: string }).key === request.jiraIssueKey) as
      { fields?: { status?: { name?: string } } } | undefined;
    expect(ticket?.fields?.status?.name).toBe('Cancelled');
    const cancelled = await sandbox.store.get(request.id);
    expect(cancelled?.grant).toBeUndefined();
    expect((await sandbox.store.listAuditEvents(request.id)).at(-1)).toMatchObject({
      from: 'PENDING',
      to: 'CANCELLED',
      actor: { kind: 'system' },
    });
  });
});
