// Duplicates and races, end to end in the sandbox: every webhook delivered
// three times at once (under one delivery id and under others), every queue
// message delivered twice, the expiry's schedule and the sweeper revoking at the
// same moment, an approve and a deny at the same instant, and two approvers of
// a 2-approval entitlement at the same instant. Each must come out as one
// request, one page, one decision, one grant and one revoke.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, AuditEvent } from '../../lambdas/core/model';
import { PROVISION_QUEUE, Sandbox, TRIAGE_QUEUE } from '../../sandbox/world';
import { until } from '../support/sandbox-flow';
import { incidentsFor, oktaMember, settle, sweep } from './support/drive';
import { annotated, captureTicketDelivery, deliverPagerDuty, replayJira } from './support/webhooks';

let sandbox: Sandbox;
const MINUTE = 60_000;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox?.stop());

const emailOf = (id: string) => sandbox.scenario.people.find((p) => p.id === id)?.email ?? '';
const trailOf = (request: AccessRequest) => sandbox.store.listAuditEvents(request.id);
const steps = (trail: AuditEvent[], from: string, to: string) =>
  trail.filter((e) => e.from === from && e.to === to);

async function paged(key: string): Promise<AccessRequest> {
  const request = await until(`${key} to be paged`, async () => {
    const r = await sandbox.store.getByJiraIssueKey(key);
    return r?.state === 'PENDING' && r.incidentId ? r : undefined;
  });
  await settle(sandbox);
  return request;
}

async function fileAndPage(reporter: string, entitlement: string): Promise<AccessRequest> {
  const { key } = sandbox.jira.fileTicket({
    reporter,
    entitlement,
    duration: '1h',
    justification: 'INC-4411 checkout latency in production',
  });
  await sandbox.jira.settled();
  return paged(key);
}

/**
 * Waits for one of `states`, letting sandbox time pass (past the queues' 60 s visibility timeout)
 * while it is not there: a writer that lost a race to another write is retried by redelivery.
 */
async function inState(request: AccessRequest, ...states: AccessRequest['state'][]): Promise<AccessRequest> {
  for (let redelivery = 0; redelivery < 5; redelivery++) {
    await settle(sandbox);
    const found = await sandbox.store.get(request.id);
    if (found && states.includes(found.state)) return found;
    sandbox.clock.advance(MINUTE + 1000);
  }
  const trail = await sandbox.store.listAuditEvents(request.id);
  throw new Error(
    `${request.id} never became ${states.join(' or ')}:\n` +
      trail.map((e) => `${e.from ?? ''}>${e.to} ${e.actor.id}: ${e.reason}`).join('\n'),
  );
}

describe('every delivery three times', () => {
  it('one request, one page, one decision, one grant and one revoke', async () => {
    const { key, delivery } = await captureTicketDelivery(sandbox, {
      reporter: 'omar',
      entitlement: 'okta-prod-readonly',
      duration: '1h',
    });
    // Every triage and provisioning message is stored twice, as SQS may deliver it.
    sandbox.host.sqs.deliverTwice(TRIAGE_QUEUE, 6);
    sandbox.host.sqs.deliverTwice(PROVISION_QUEUE, 6);

    // The same delivery three times at once, then three times under other ids (a resent webhook).
    const same = await Promise.all([1, 2, 3].map(() => replayJira(sandbox, delivery)));
    const others = await Promise.all([1, 2, 3].map(() => replayJira(sandbox, delivery, randomUUID())));
    for (const answer of [...same, ...others]) expect([200, 202, 409]).toContain(answer.status);
    expect(same.filter((a) => a.status === 202).length).toBeLessThanOrEqual(1);
    // Jira retries a 409 later: by then the first attempt is done, and the retry is acknowledged.
    for (let retry = same.filter((a) => a.status === 409).length; retry > 0; retry--) {
      expect((await replayJira(sandbox, delivery)).status).toBe(200);
    }

    const request = await paged(key);
    const ofRequester = (await sandbox.store.listByRequester(emailOf('omar'))).filter(
      (r) => r.jiraIssueKey === key,
    );
    expect(ofRequester.map((r) => r.id)).toEqual([request.id]);
    expect(incidentsFor(sandbox, request.id)).toBe(1);
    const incidentId = request.incidentId ?? '';
    const notes = () => sandbox.pagerduty.incident(incidentId)?.notes.map((n) => n.content) ?? [];
    expect(notes().filter((n) => n.startsWith('How to answer'))).toHaveLength(1);
    let trail = await trailOf(request);
    expect(steps(trail, 'RECEIVED', 'TRIAGING')).toHaveLength(1);
    expect(steps(trail, 'TRIAGING', 'PENDING')).toHaveLength(1);

    // The approving note, three times at once under one webhook id, then three times under others.
    const approve = annotated(sandbox, incidentId, 'priya', 'approve checked INC-4411');
    const webhookId = randomUUID();
    const answers = [
      ...(await Promise.all([1, 2, 3].map(() => deliverPagerDuty(sandbox, approve, webhookId)))),
      ...(await Promise.all([1, 2, 3].map(() => deliverPagerDuty(sandbox, approve)))),
    ];
    for (const answer of answers) expect([200, 202, 503]).toContain(answer.status);
    const granted = await inState(request, 'GRANTED');
    expect(granted.decisions).toHaveLength(1);
    trail = await trailOf(request);
    expect(steps(trail, 'PENDING', 'APPROVED')).toHaveLength(1);
    expect(steps(trail, 'APPROVED', 'GRANTED')).toHaveLength(1);
    expect(trail.filter((e) => e.evidence?.provisioning)).toHaveLength(1);
    expect(granted.grant?.preExisting).toBe(false);
    expect(oktaMember(sandbox, '00g1prodreadonly0001', emailOf('omar'))).toBe(true);

    // At expiry the schedule and the sweeper revoke at the same moment, and the sweeper twice.
    sandbox.clock.advance(
      Date.parse(granted.grant?.expiresAt ?? '') - sandbox.clock.now().getTime() + MINUTE,
    );
    await Promise.all([sandbox.host.scheduler.runDue(), sweep(sandbox), sweep(sandbox)]);
    const revoked = await inState(request, 'REVOKED');
    expect(oktaMember(sandbox, '00g1prodreadonly0001', emailOf('omar'))).toBe(false);
    trail = await trailOf(revoked);
    expect(steps(trail, 'GRANTED', 'REVOKED')).toHaveLength(1);
    expect(trail.filter((e) => e.to === 'FAILED')).toHaveLength(0);
  });
});

describe('an approve and a deny at the same instant', () => {
  // Three rounds, the two notes sent in both orders: whichever lands first, one outcome.
  it.each([
    ['tomas', false],
    ['kenji', true],
    ['grace', false],
  ] as const)(
    'requester %s: exactly one outcome, and the trail shows both notes',
    async (requester, denyFirst) => {
      const request = await fileAndPage(requester, 'aws-logs-read');
      const incidentId = request.incidentId ?? '';
      sandbox.host.sqs.deliverTwice(PROVISION_QUEUE, 2);
      const approve = () => deliverPagerDuty(sandbox, annotated(sandbox, incidentId, 'ana', 'approve fine'));
      const deny = () => deliverPagerDuty(sandbox, annotated(sandbox, incidentId, 'sam', 'deny not today'));
      const answers = await Promise.all(denyFirst ? [deny(), approve()] : [approve(), deny()]);
      expect(answers.map((a) => a.status)).toEqual([202, 202]);

      const decided = await inState(request, 'GRANTED', 'DENIED');
      const trail = await trailOf(request);
      const outcomes = [...steps(trail, 'PENDING', 'APPROVED'), ...steps(trail, 'PENDING', 'DENIED')];
      expect(outcomes).toHaveLength(1);
      // Both notes are in the trail: the winner as the decision, the loser as refused (too late).
      const after = trail.filter((e) => e.version > (outcomes[0]?.version ?? 0) - 1);
      expect(after.some((e) => e.actor.id === emailOf('ana'))).toBe(true);
      expect(after.some((e) => e.actor.id === emailOf('sam'))).toBe(true);
      expect(decided.decisions).toHaveLength(1);
      const policy = `loopgate-${request.id}`;
      const inline = Object.keys(
        (sandbox.iam.principalPolicies('user', emailOf(requester).split('@')[0] ?? '')?.inline ??
          {}) as object,
      );
      if (decided.state === 'GRANTED') {
        expect(steps(trail, 'APPROVED', 'GRANTED')).toHaveLength(1);
        expect(inline).toContain(policy);
      } else {
        expect(trail.filter((e) => e.to === 'GRANTED' || e.evidence?.provisioning)).toHaveLength(0);
        expect(inline).not.toContain(policy);
      }
    },
  );
});

describe('two approvers of a 2-approval entitlement at the same instant', () => {
  // okta-prod-admin: two approvals from the identity on-call (lena) or the security leads' Okta group (sam).
  it.each(['kenji', 'felix', 'ivan'])('requester %s: APPROVED exactly once, one grant', async (requester) => {
    const request = await fileAndPage(requester, 'okta-prod-admin');
    const incidentId = request.incidentId ?? '';
    sandbox.host.sqs.deliverTwice(PROVISION_QUEUE, 2);
    const answers = await Promise.all([
      deliverPagerDuty(sandbox, annotated(sandbox, incidentId, 'lena', 'approve on call for identity')),
      deliverPagerDuty(sandbox, annotated(sandbox, incidentId, 'sam', 'approve security lead')),
    ]);
    expect(answers.map((a) => a.status)).toEqual([202, 202]);

    const granted = await inState(request, 'GRANTED');
    const trail = await trailOf(request);
    expect(steps(trail, 'PENDING', 'APPROVED')).toHaveLength(1);
    expect(steps(trail, 'PENDING', 'PENDING').filter((e) => !e.evidence?.securityEvent)).toHaveLength(1);
    expect(granted.decisions.map((d) => d.actor.id).sort()).toEqual([emailOf('lena'), emailOf('sam')].sort());
    expect(steps(trail, 'APPROVED', 'GRANTED')).toHaveLength(1);
    expect(trail.filter((e) => e.evidence?.provisioning)).toHaveLength(1);
    expect(oktaMember(sandbox, '00g1prodadmin0000002', emailOf(requester))).toBe(true);
  });
});
