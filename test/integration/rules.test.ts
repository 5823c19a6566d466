// Catalog rules that grant without waiting for a person, end to end in the
// sandbox: audit-only, on-call-auto and break-glass (granted at once, reviewed
// after by whoever the catalog alerts, and listed by `loopgate report` until then).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../bin/feedback';
import { loadCatalogFile } from '../../lambdas/platform/catalog-file';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

let sandbox: Sandbox;
const HOUR = 3_600_000;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

const { filed, note, inState, passExpiry, commented, lastNote, sweep } = flow(() => sandbox);
const catalog = loadCatalogFile('config/catalog.yaml');
const attachedTo = (user: string) => sandbox.iam.principalPolicies('user', user)?.attached ?? [];
const roleInline = () =>
  (sandbox.iam.principalPolicies('role', 'prod-incident-operator')?.inline ?? {}) as Record<
    string,
    { Statement: { Condition?: Record<string, Record<string, string>> }[] }
  >;

async function report(): Promise<{ unreviewedBreakGlass: { jiraIssueKey: string }[] }> {
  let json = '';
  await reportCommand({ store: sandbox.store, catalog }, { json: true, limit: 100 }, (t) => (json += t));
  return JSON.parse(json);
}

// On-call first: the tests after it move the clock, and on-call shifts with it.
describe('on-call-auto', () => {
  it('approves a requester on call for the owners’ policy by rule, and the page says so', async () => {
    // Felix is on call for the databases policy (PDBAPOL) when the sandbox starts.
    const request = await filed('felix', 'aws-prod-db-connect', { duration: '2h' });
    const granted = await inState(request.id, 'GRANTED');

    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.find((e) => e.from === 'TRIAGING' && e.to === 'APPROVED')?.reason).toMatch(/on call/);
    expect(sandbox.pagerduty.incident(granted.incidentId ?? '')?.details).toContain(
      'the requester is on call now for the owners',
    );
    // A role grant: only the requester's own sessions of the role, and only until the expiry.
    const statement = roleInline()[`loopgate-${request.id}`]?.Statement[0];
    expect(statement?.Condition).toMatchObject({
      DateLessThan: { 'aws:CurrentTime': granted.grant?.expiresAt },
      StringEqualsIgnoreCase: { 'aws:SourceIdentity': 'felix.wagner@example.com' },
    });
  });

  it('pages the owners as usual when the requester is not on call', async () => {
    const request = await filed('chloe', 'aws-prod-db-connect', { duration: '2h' });
    expect(request.state).toBe('PENDING');
    expect(sandbox.pagerduty.incident(request.incidentId ?? '')?.policy.id).toBe('PDBAPOL');
  });
});

describe('audit-only', () => {
  it('grants at once, records the justification, and sends a low-urgency notification', async () => {
    const request = await filed('rob', 'aws-billing-read', { duration: '1d' });
    const granted = await inState(request.id, 'GRANTED');

    expect(attachedTo('rob.chen')).toContain('arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess');
    const trail = await sandbox.store.listAuditEvents(request.id);
    const byRule = trail.find((e) => e.from === 'TRIAGING' && e.to === 'APPROVED');
    expect(byRule?.actor).toMatchObject({ kind: 'rule' });
    expect(granted.justification).toBe('INC-4411 checkout latency in production');
    expect(granted.decisions).toEqual([expect.objectContaining({ outcome: 'approve' })]);
    const incident = sandbox.pagerduty.incident(granted.incidentId ?? '');
    expect(incident?.urgency).toBe('low');
    expect(incident?.details).toContain('APPROVED BY RULE');
    await until('the incident to be resolved', async () =>
      sandbox.pagerduty.incident(granted.incidentId ?? '')?.status === 'resolved' ? true : undefined,
    );

    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(attachedTo('rob.chen')).not.toContain('arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess');
  });
});

describe('a grant no retry can fix', () => {
  it('is FAILED on the first delivery when the requester has no IAM user, saying so', async () => {
    // Lena has no IAM user in the scenario; aws-billing-read is audit-only, so nobody vets it first.
    const request = await filed('lena', 'aws-billing-read', { duration: '1d' });
    const failed = await inState(request.id, 'FAILED');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)?.reason).toBe(
      'provisioning failed, and no retry can fix it: aws-iam: no IAM user named lena.novak',
    );
    expect(trail.filter((e) => e.to === 'FAILED')).toHaveLength(1);
    await commented(failed.jiraIssueKey, 'failed; the security team has been alerted');
  });

  it('is FAILED on the first delivery when the grant does not fit the user’s inline quota, saying how full it is', async () => {
    // Tomás already holds about 1,750 of a user's 2,048 characters of inline policies.
    const account = sandbox.iam.account;
    const tomas = account.user('tomas.silva');
    const resources = Array.from({ length: 40 }, (_, i) => `arn:aws:s3:::team-legacy-bucket-${i}/*`);
    const legacy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }],
    };
    account.putInlinePolicy(tomas, 'team-legacy', JSON.stringify(legacy));
    const puts = () => sandbox.iam.actionCalls.filter((c) => c.action === 'PutUserPolicy').length;
    const before = puts();
    try {
      const request = await filed('tomas', 'aws-logs-read', { duration: '4h' });
      await note(request, 'ana', 'approve for the incident review');
      await inState(request.id, 'FAILED');

      const trail = await sandbox.store.listAuditEvents(request.id);
      expect(trail.at(-1)?.reason).toMatch(
        /^provisioning failed, and no retry can fix it: aws-iam: PutUserPolicy on user tomas\.silva refused, and no retry can change that: the grant does not fit IAM's quota on inline policies .* tomas\.silva holds 1,\d{3} in 1 other inline policy and this grant needs \d{3}\./,
      );
      expect(trail.filter((e) => e.to === 'FAILED')).toHaveLength(1);
      // One write: not retried by the SDK, the connector or the queue.
      expect(puts() - before).toBe(1);
    } finally {
      account.deleteInlinePolicy(tomas, 'team-legacy');
    }
  });

  it('is FAILED on the first delivery, with nothing written, when the role lets its callers choose their source identity', async () => {
    const account = sandbox.iam.account;
    const role = account.role('prod-incident-operator');
    const trust = role.assumeRolePolicyDocument;
    account.updateAssumeRolePolicy(
      role,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::111122223333:root' },
            Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
          },
        ],
      }),
    );
    try {
      const request = await filed('tomas', 'aws-prod-db-connect', {
        duration: '1h',
        labels: ['break-glass'],
      });
      await inState(request.id, 'FAILED');

      const trail = await sandbox.store.listAuditEvents(request.id);
      expect(trail.at(-1)?.reason).toMatch(
        /^provisioning failed, and no retry can fix it: aws-iam: no grant on role prod-incident-operator: it cannot be limited to tomas\.silva@example\.com's sessions, because trust statement 1 lets its callers set any source identity/,
      );
      expect(roleInline()[`loopgate-${request.id}`]).toBeUndefined();
    } finally {
      account.updateAssumeRolePolicy(role, trust);
    }
  });
});

describe('break-glass', () => {
  it('grants at once for at most the break-glass maximum, pages security, and is listed until reviewed', async () => {
    const request = await filed('kenji', 'aws-prod-db-connect', { duration: '4h', labels: ['break-glass'] });
    const granted = await inState(request.id, 'GRANTED');

    // Asked for 4h; break-glass allows 1h.
    expect(Date.parse(granted.grant?.expiresAt ?? '') - Date.parse(granted.grant?.grantedAt ?? '')).toBe(
      HOUR,
    );
    expect(roleInline()[`loopgate-${request.id}`]).toBeDefined();
    const incident = sandbox.pagerduty.incident(granted.incidentId ?? '');
    expect(incident).toMatchObject({ urgency: 'high', status: expect.not.stringMatching('resolved') });
    expect(incident?.policy.id).toBe('PSECPOL');
    expect(incident?.details).toContain('BREAK-GLASS');
    expect((await report()).unreviewedBreakGlass.map((r) => r.jiraIssueKey)).toContain(request.jiraIssueKey);

    // The owners' on-call (Felix) could have approved it the ordinary way; the review is security's.
    await note(granted, 'felix', 'approve fine by me');
    expect(lastNote(granted.incidentId ?? '')).toMatch(
      /^Not accepted: felix.wagner@example.com is not an approver/,
    );
    // Lena is on call for security (PSECPOL).
    await note(granted, 'lena', 'approve INC-4411 confirmed with the DBA on call');
    const reviewed = await until('the review', async () => (await sandbox.store.get(request.id))?.review);
    expect(reviewed).toMatchObject({ by: 'lena.novak@example.com', outcome: 'kept' });
    expect((await sandbox.store.get(request.id))?.state).toBe('GRANTED');
    expect((await report()).unreviewedBreakGlass.map((r) => r.jiraIssueKey)).not.toContain(
      request.jiraIssueKey,
    );

    // The note delivered again counts once.
    await note(granted, 'lena', 'approve again');
    expect(lastNote(granted.incidentId ?? '')).toMatch(/reviewed already: kept by lena.novak@example.com/);

    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    expect(roleInline()[`loopgate-${request.id}`]).toBeUndefined();
  });

  it('revokes at once when the reviewer refuses it', async () => {
    const request = await filed('omar', 'aws-prod-db-connect', { duration: '1h', labels: ['break-glass'] });
    const granted = await inState(request.id, 'GRANTED');
    await note(granted, 'lena', 'deny no incident needs this');
    await inState(request.id, 'REVOKED');
    expect(roleInline()[`loopgate-${request.id}`]).toBeUndefined();
    expect((await sandbox.store.get(request.id))?.review).toMatchObject({
      outcome: 'revoked',
      by: 'lena.novak@example.com',
    });
    await commented(request.jiraIssueKey, 'removed');
  });

  it('lets the reviewer revoke it, as the page says', async () => {
    const request = await filed('grace', 'aws-prod-db-connect', { duration: '1h', labels: ['break-glass'] });
    const granted = await inState(request.id, 'GRANTED');
    await note(granted, 'lena', 'revoke not an incident');
    await inState(request.id, 'REVOKED');
    expect(roleInline()[`loopgate-${request.id}`]).toBeUndefined();
    expect((await sandbox.store.get(request.id))?.review).toMatchObject({
      outcome: 'revoked',
      by: 'lena.novak@example.com',
      reason: 'not an incident',
    });
  });

  it('removes the grant the moment it lands when the reviewer refuses it while IAM is still failing', async () => {
    sandbox.iam.actionFaults.set('PutRolePolicy', { failNext: 1000, status: 500 });
    const request = await filed('chloe', 'aws-prod-db-connect', { duration: '1h', labels: ['break-glass'] });
    expect(request.state).toBe('APPROVED');
    await note(request, 'lena', 'deny no incident needs this');
    expect(lastNote(request.incidentId ?? '')).toContain('removed the moment it is in place');
    sandbox.iam.actionFaults.clear('PutRolePolicy');

    // SQS delivers the provisioning message again; IAM answers now.
    for (let i = 0; i < 5 && (await sandbox.store.get(request.id))?.state === 'APPROVED'; i++) {
      sandbox.clock.advance(61_000);
      await sandbox.host.sqs.pump();
    }
    const revoked = await inState(request.id, 'REVOKED');
    expect(roleInline()[`loopgate-${request.id}`]).toBeUndefined();
    expect(revoked.review).toMatchObject({ outcome: 'revoked', by: 'lena.novak@example.com' });
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.map((e) => `${e.from}->${e.to}`)).toEqual(
      expect.arrayContaining(['APPROVED->APPROVED', 'APPROVED->GRANTED', 'GRANTED->REVOKED']),
    );
    expect(trail.at(-1)?.reason).toContain('the break-glass reviewer refused it while it was being granted');
  });

  it('accepts from its reviewers every command its page advertises', async () => {
    const request = await filed('zoe', 'aws-prod-db-connect', { duration: '1h', labels: ['break-glass'] });
    const granted = await inState(request.id, 'GRANTED');
    const page = sandbox.pagerduty.incident(granted.incidentId ?? '')?.details ?? '';
    const advertised = [...page.matchAll(/^\s{2}(\w+) /gm)].map((m) => m[1]);
    expect(advertised).toEqual(['approve', 'deny', 'revoke', 'info']);
    const examples: Record<string, string> = {
      info: 'info which incident is this?',
      approve: 'approve confirmed with the DBA',
      deny: 'deny not needed after all',
      revoke: 'revoke not needed after all',
    };
    for (const verb of ['info', 'approve', 'revoke', 'deny']) {
      await note(granted, 'lena', examples[verb] ?? verb);
      expect(lastNote(granted.incidentId ?? ''), verb).not.toMatch(/^Not accepted/);
    }
  });

  it('cannot be silenced: the requester resolving the review incident pages the reviewers again, audited', async () => {
    const request = await filed('ivan', 'aws-prod-db-connect', { duration: '1h', labels: ['break-glass'] });
    const granted = await inState(request.id, 'GRANTED');
    const first = granted.incidentId ?? '';
    sandbox.pagerduty.resolve(first, 'ivan');
    await sandbox.settled();

    const repaged = await sandbox.store.get(request.id);
    expect(repaged?.incidentId).toBeDefined();
    expect(repaged?.incidentId).not.toBe(first);
    const incident = sandbox.pagerduty.incident(repaged?.incidentId ?? '');
    expect(incident).toMatchObject({ urgency: 'high', status: 'triggered' });
    expect(incident?.policy.id).toBe('PSECPOL');
    expect(incident?.details).toContain('the requester closed their own review');
    const audited = (await sandbox.store.listAuditEvents(request.id)).filter(
      (e) => e.evidence?.securityEvent === 'review-closed-by-requester',
    );
    expect(audited).toHaveLength(1);
    expect(audited[0]?.actor).toMatchObject({ id: 'ivan.petrov@example.com' });

    // The review on the new incident counts.
    await note(repaged as NonNullable<typeof repaged>, 'lena', 'approve confirmed with the DBA');
    await until('the review', async () => (await sandbox.store.get(request.id))?.review);
  });

  it('pages the reviewers again once when the review is overdue, and a review on that page counts', async () => {
    const request = await filed('noah', 'aws-prod-db-connect', { duration: '1h', labels: ['break-glass'] });
    const granted = await inState(request.id, 'GRANTED');
    await passExpiry(granted);
    await inState(request.id, 'REVOKED');
    await sweep();
    // Revoked, but still unreviewed, and not yet overdue.
    expect((await sandbox.store.get(request.id))?.reviewEscalatedAt).toBeUndefined();

    sandbox.clock.advance(24 * HOUR);
    await sweep();
    await sweep();
    const escalated = await sandbox.store.get(request.id);
    expect(escalated?.reviewEscalatedAt).toBeDefined();
    expect(escalated?.incidentId).not.toBe(granted.incidentId);
    const incident = sandbox.pagerduty.incident(escalated?.incidentId ?? '');
    expect(incident).toMatchObject({ urgency: 'high', status: 'triggered' });
    expect(incident?.policy.id).toBe('PSECPOL');
    expect(incident?.details).toContain('nobody has reviewed it');
    const audited = (await sandbox.store.listAuditEvents(request.id)).filter(
      (e) => e.evidence?.securityEvent === 'review-overdue',
    );
    expect(audited).toHaveLength(1);

    await note(escalated as NonNullable<typeof escalated>, 'lena', 'approve confirmed after the fact');
    await until('the review', async () => (await sandbox.store.get(request.id))?.review);
  });

  it('is an ordinary request when the entitlement does not allow break-glass', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h', labels: ['break-glass'] });
    expect(request.state).toBe('PENDING');
  });
});
