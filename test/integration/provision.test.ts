// Provision and expire, end to end in the sandbox: an approving note leads to
// a grant in the Okta or IAM stand-in, the Scheduler stand-in revokes it when
// the sandbox clock passes its expiry, and the sweeper catches what a lost
// schedule would leave in place.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, RequestState } from '../../lambdas/core/model';
import { PROVISION_FUNCTIONS, Sandbox } from '../../sandbox/world';

let sandbox: Sandbox;
const HOUR = 3_600_000;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const inState = (id: string, state: RequestState) =>
  until(`${id} to be ${state}`, async () => {
    const r = await sandbox.store.get(id);
    return r?.state === state ? r : undefined;
  });

async function filed(
  reporter: string,
  entitlement: string,
  extra: { duration?: string; labels?: string[] } = {},
) {
  const { key } = sandbox.jira.fileTicket({
    reporter,
    entitlement,
    justification: 'INC-4411 checkout latency in production',
    ...extra,
  });
  await sandbox.jira.settled();
  return until(`${key} to be triaged`, async () => {
    const r = await sandbox.store.getByJiraIssueKey(key);
    return r && r.state !== 'RECEIVED' && r.state !== 'TRIAGING' && r.incidentId ? r : undefined;
  });
}

async function note(request: AccessRequest, person: string, content: string) {
  sandbox.pagerduty.addNote(request.incidentId ?? '', person, content);
  await sandbox.pagerduty.settled();
}

const oktaMembers = async (groupId: string) => {
  const response = await fetch(`${sandbox.okta.url}/api/v1/groups/${groupId}/users`, {
    headers: { authorization: `SSWS ${sandbox.credentials.okta.token}` },
  });
  return ((await response.json()) as { profile: { login: string } }[]).map((u) => u.profile.login);
};
const schedules = () => sandbox.host.scheduler.state().schedules.map((s) => ({ name: String(s.Name) }));
const comments = (key: string) =>
  (sandbox.jira.state().issues.find((i) => (i as { key?: string }).key === key)?.comments ?? []).map((c) =>
    JSON.stringify(c.body),
  );

/** Moves the sandbox clock past a request's expiry and runs what fell due. */
async function passExpiry(request: AccessRequest) {
  const expiresAt = Date.parse(request.grant?.expiresAt ?? '');
  sandbox.clock.advance(Math.max(0, expiresAt - sandbox.clock.now().getTime()) + 60_000);
  await sandbox.host.scheduler.runDue();
}

const sweep = () => sandbox.host.invoker.invoke(PROVISION_FUNCTIONS.sweeper, {}, 'scheduler');

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
