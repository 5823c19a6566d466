// A ticket's status ends its request, end to end in the sandbox: the Jira
// stand-in sends `jira:issue_updated` with the changelog when someone moves a
// ticket, the real jira-webhook reads it, and the request is cancelled (still
// waiting) or revoked early (granted). loopgate's own moves, other people's
// moves, reopened tickets, replays and plain edits change nothing.

import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../lambdas/core/model';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

const { filed, note, inState, oktaMembers, commented, sweep } = flow(() => sandbox);
const PROD_READONLY = '00g1prodreadonly0001';

/** Moves the ticket as a person, as in Jira's UI, and waits for the webhook and what it queued. */
async function move(request: AccessRequest, status: string, actor: string) {
  sandbox.jira.transitionIssue(request.jiraIssueKey, status, actor);
  await sandbox.jira.settled();
  await sandbox.settled();
}

/** The last delivery of an event about the ticket, as sent (body) and as answered (status). */
function lastDelivery(event: string, key: string) {
  return sandbox.jira.deliveries.findLast((d) => d.event === event && d.body.includes(`"key":"${key}"`));
}

/** Posts a body to jira-webhook signed with the webhook's secret, as Jira would, under a new delivery id. */
async function deliver(body: string) {
  const response = await fetch(sandbox.webhookUrl('jira'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature': `sha256=${createHmac('sha256', sandbox.secrets.jira).update(body).digest('hex')}`,
      'x-atlassian-webhook-identifier': randomUUID(),
    },
    body,
  });
  await sandbox.settled();
  return response.status;
}

const incidentOf = (request: AccessRequest) => sandbox.pagerduty.incident(request.incidentId ?? '');

describe('the requester closes the ticket', () => {
  it('cancels a pending request: the incident is noted and resolved, a later approval grants nothing', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '2h' });
    expect(request.state).toBe('PENDING');

    await move(request, 'Cancelled', 'chloe');
    const cancelled = await inState(request.id, 'CANCELLED');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)).toMatchObject({
      from: 'PENDING',
      to: 'CANCELLED',
      actor: { kind: 'person', id: 'chloe.martin@example.com' },
      reason: 'ticket moved to "Cancelled" by the requester',
      evidence: { status: { from: 'Open', to: 'Cancelled', category: 'done' } },
    });
    expect(incidentOf(cancelled)?.status).toBe('resolved');
    expect(
      incidentOf(cancelled)?.notes.some((n) => n.content.startsWith('Cancelled: the requester moved')),
    ).toBe(true);
    await commented(request.jiraIssueKey, 'This request is cancelled');

    // The approver had the page open: their approval lands on a cancelled request.
    await note(cancelled, 'priya', 'approve');
    expect((await sandbox.store.get(request.id))?.state).toBe('CANCELLED');
    expect(await oktaMembers(PROD_READONLY)).not.toContain('chloe.martin@example.com');
  });

  it('answers Jira without waiting for PagerDuty: with PagerDuty down the request is cancelled at once and the incident told once it is back', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '2h' });
    sandbox.pagerduty.faults.set('*', { failNext: 1000, status: 503 });
    try {
      await move(request, 'Cancelled', 'chloe');
      expect(lastDelivery('jira:issue_updated', request.jiraIssueKey)?.status).toBe(200);
      await inState(request.id, 'CANCELLED');
      expect(incidentOf(request)?.notes.some((n) => n.content.startsWith('Cancelled:'))).toBe(false);
      await commented(request.jiraIssueKey, 'This request is cancelled');
    } finally {
      sandbox.pagerduty.faults.clear('*');
    }
    // The sweeper delivers what waited, once.
    sandbox.clock.advance(2 * 60_000);
    await sweep();
    await sweep();
    expect(incidentOf(request)?.notes.filter((n) => n.content.startsWith('Cancelled:'))).toHaveLength(1);
    expect(incidentOf(request)?.status).toBe('resolved');
    expect(await sandbox.store.followUpsOf(request.id)).toEqual([]);
  });

  it('closes a ticket whose grant is being made: Jira is asked to retry (409), and the retry revokes it once granted', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '2h' });
    const route = 'PUT /api/v1/groups/:groupId/users/:userId';
    sandbox.okta.faults.set(route, { errorRate: 1, status: 500 });
    try {
      await note(request, 'priya', 'approve');
      expect((await sandbox.store.get(request.id))?.state).toBe('APPROVED');
      await move(request, 'Done', 'chloe');
      expect(lastDelivery('jira:issue_updated', request.jiraIssueKey)?.status).toBe(409);
      expect((await sandbox.store.get(request.id))?.state).toBe('APPROVED');
    } finally {
      sandbox.okta.faults.clear(route);
    }
    // Okta answers again: SQS delivers the provisioning message again, then Jira its retry.
    for (let i = 0; i < 10 && (await sandbox.store.get(request.id))?.state !== 'REVOKED'; i++) {
      sandbox.clock.advance(61_000);
      await sandbox.host.sqs.pump();
      await sandbox.jira.settled();
      await sandbox.settled();
    }
    const revoked = await inState(request.id, 'REVOKED');
    expect(await oktaMembers(PROD_READONLY)).not.toContain('chloe.martin@example.com');
    const trail = await sandbox.store.listAuditEvents(revoked.id);
    expect(trail.map((e) => `${e.from}->${e.to}`)).toEqual(
      expect.arrayContaining(['APPROVED->GRANTED', 'GRANTED->GRANTED', 'GRANTED->REVOKED']),
    );
    expect(trail.find((e) => e.reason.startsWith('early revoke: ticket moved to "Done"'))).toBeDefined();
    expect(
      sandbox.jira.deliveries.filter((d) => d.body.includes(request.jiraIssueKey) && d.retry > 0),
    ).not.toEqual([]);
  });

  it('reopening, closing again, and replaying the filing or the close revive nothing', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    await move(request, 'Cancelled', 'chloe');
    await inState(request.id, 'CANCELLED');
    const versionAfterCancel = (await sandbox.store.get(request.id))?.version;

    await move(request, 'Open', 'chloe');
    await move(request, 'Done', 'chloe');
    // A captured, validly signed delivery sent again under a new delivery id: the filing and the close.
    const created = lastDelivery('jira:issue_created', request.jiraIssueKey);
    expect(await deliver(created?.body ?? '')).toBe(202);
    const closed = sandbox.jira.deliveries.find(
      (d) =>
        d.event === 'jira:issue_updated' &&
        d.body.includes('"toString":"Cancelled"') &&
        d.body.includes(request.jiraIssueKey),
    );
    expect(await deliver(closed?.body ?? '')).toBe(204);

    const after = await sandbox.store.get(request.id);
    expect(after).toMatchObject({ state: 'CANCELLED', version: versionAfterCancel });
    expect(incidentOf(request)?.notes.filter((n) => n.content.startsWith('Cancelled:'))).toHaveLength(1);
  });

  it('revokes a granted request early; loopgate moving the ticket to "Granted" itself revoked nothing', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '2h' });
    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');
    // loopgate moved the ticket to "Granted" (a done-category status) as its own Jira user.
    const ownMove = await until('loopgate moving the ticket to Granted', async () => {
      await sandbox.jira.settled();
      const d = lastDelivery('jira:issue_updated', request.jiraIssueKey);
      return d?.body.includes('"toString":"Granted"') ? d : undefined;
    });
    expect(ownMove.status).toBe(204);
    expect((await sandbox.store.get(request.id))?.state).toBe('GRANTED');
    expect(await oktaMembers(PROD_READONLY)).toContain('chloe.martin@example.com');

    await move(granted, 'Done', 'chloe');
    const revoked = await inState(request.id, 'REVOKED');
    expect(await oktaMembers(PROD_READONLY)).not.toContain('chloe.martin@example.com');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.find((e) => e.reason.startsWith('early revoke: ticket moved to "Done"'))).toMatchObject({
      from: 'GRANTED',
      to: 'GRANTED',
      actor: { id: 'chloe.martin@example.com' },
    });
    expect(
      incidentOf(revoked)?.notes.some((n) => n.content.startsWith('Revoking now: the requester moved')),
    ).toBe(true);
  });

  it('ignores a move by someone who is neither the requester nor an admin, and audits it', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    await move(request, 'Cancelled', 'ivan');
    expect((await sandbox.store.get(request.id))?.state).toBe('PENDING');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)).toMatchObject({
      from: 'PENDING',
      to: 'PENDING',
      evidence: { securityEvent: 'ignored-ticket-close' },
    });
    expect(incidentOf(request)?.status).not.toBe('resolved');
  });
});

describe('what does not end a request', () => {
  it('a denied request: loopgate moves the ticket to "Declined", the requester then to "Done"; nothing happens', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    await note(request, 'priya', 'deny no ticket number');
    await inState(request.id, 'DENIED');
    await until('loopgate moving the ticket to Declined', async () => {
      await sandbox.jira.settled();
      return lastDelivery('jira:issue_updated', request.jiraIssueKey)?.body.includes('"toString":"Declined"')
        ? true
        : undefined;
    });
    await move(request, 'Done', 'chloe');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)?.to).toBe('DENIED');
    expect(lastDelivery('jira:issue_updated', request.jiraIssueKey)?.status).toBe(204);
  });

  it('edits after filing (summary, description, fields) never change what was asked', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    const created = JSON.parse(lastDelivery('jira:issue_created', request.jiraIssueKey)?.body ?? '{}');
    const edited = {
      ...created,
      webhookEvent: 'jira:issue_updated',
      issue_event_type_name: 'issue_updated',
      issue: {
        ...created.issue,
        fields: {
          ...created.issue.fields,
          summary: 'Admin for a year',
          description: 'Entitlement: okta-prod-admin\nDuration: 365d\nReason: because',
          customfield_10050: 'okta-prod-admin',
        },
      },
      changelog: {
        id: '99999',
        items: [{ field: 'description', fieldtype: 'jira', fieldId: 'description', from: null, to: null }],
      },
    };
    expect(await deliver(JSON.stringify(edited))).toBe(204);
    expect(await sandbox.store.get(request.id)).toMatchObject({
      entitlementId: 'okta-prod-readonly',
      durationSeconds: 3600,
      version: request.version,
    });
  });

  it('answers a malformed status change with a 400 naming the path', async () => {
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    const created = JSON.parse(lastDelivery('jira:issue_created', request.jiraIssueKey)?.body ?? '{}');
    const malformed = {
      ...created,
      webhookEvent: 'jira:issue_updated',
      changelog: { items: [{ field: 'status', fieldId: 'status', from: '10000', to: '10005' }] },
    };
    const response = await fetch(sandbox.webhookUrl('jira'), {
      method: 'POST',
      headers: {
        'x-hub-signature': `sha256=${createHmac('sha256', sandbox.secrets.jira).update(JSON.stringify(malformed)).digest('hex')}`,
      },
      body: JSON.stringify(malformed),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('changelog.id');
  });
});
