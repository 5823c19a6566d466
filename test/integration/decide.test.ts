// Page and decide, end to end in the sandbox: a ticket filed in Jira is paged
// to the owners' on-call in PagerDuty, and notes on the incident (sent by the
// PagerDuty stand-in as signed v3 webhooks, or crafted here) become verified,
// authorized, audited decisions.

import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, AuditEvent } from '../../lambdas/core/model';
import { DECIDE_QUEUE, PROVISION_QUEUE } from '../../sandbox/loopgate-host';
import { PROVISION_FUNCTIONS, Sandbox } from '../../sandbox/world';

let sandbox: Sandbox;
const logs: string[] = [];

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: (line) => logs.push(line) });
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

/** Files a ticket and waits until the owners are paged. */
async function paged(
  reporter: string,
  entitlement: string,
  justification = 'INC-4411 checkout latency in production',
) {
  const { key } = sandbox.jira.fileTicket({ reporter, entitlement, justification });
  await sandbox.jira.settled();
  const request = await until(`${key} to be paged`, async () => {
    const r = await sandbox.store.getByJiraIssueKey(key);
    return r?.state === 'PENDING' && r.incidentId ? r : undefined;
  });
  const incidentId = request.incidentId ?? '';
  // loopgate's own note with the answer syntax has been delivered (and ignored) before the test starts.
  await sandbox.settled();
  return { request, incidentId, key };
}

/** A person writes a note; resolves once PagerDuty's webhook has been answered. */
async function note(incidentId: string, person: string, content: string) {
  sandbox.pagerduty.addNote(incidentId, person, content);
  await sandbox.settled();
}

const state = async (request: AccessRequest) => (await sandbox.store.get(request.id))?.state;
const trail = (request: AccessRequest) => sandbox.store.listAuditEvents(request.id);
const notes = (incidentId: string) =>
  sandbox.pagerduty.incident(incidentId)?.notes.map((n) => n.content) ?? [];
const lastNote = (incidentId: string) => notes(incidentId).at(-1) ?? '';
const comments = (key: string) =>
  (sandbox.jira.state().issues.find((i) => (i as { key?: string }).key === key)?.comments ?? []).map((c) =>
    JSON.stringify(c.body),
  );
const jiraStatus = (key: string) =>
  (
    sandbox.jira.state().issues.find((i) => (i as { key?: string }).key === key) as
      { fields?: { status?: { name?: string } } } | undefined
  )?.fields?.status?.name;
const personOf = (id: string) => {
  const person = sandbox.scenario.people.find((p) => p.id === id);
  if (!person) throw new Error(id);
  return person;
};

/** Posts a v3 event to the pagerduty-webhook function, signed as the subscription signs. */
async function deliver(
  event: Record<string, unknown>,
  options: { webhookId?: string; signature?: string } = {},
) {
  const body = JSON.stringify({ event });
  const signature =
    options.signature ??
    `v1=${createHmac('sha256', sandbox.secrets.pagerduty[0] ?? '')
      .update(body)
      .digest('hex')}`;
  const response = await fetch(sandbox.webhookUrl('pagerduty'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-webhook-id': options.webhookId ?? randomUUID(),
      'x-pagerduty-signature': signature,
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const annotated = (
  incidentId: string,
  person: string,
  content: string,
  noteId = `Q${randomUUID().slice(0, 12).toUpperCase()}`,
) => ({
  id: randomUUID(),
  event_type: 'incident.annotated',
  resource_type: 'incident',
  occurred_at: new Date().toISOString(),
  agent: { id: personOf(person).pagerduty.userId, type: 'user_reference' },
  client: null,
  data: {
    incident: { id: incidentId, type: 'incident_reference' },
    id: noteId,
    content,
    trimmed: false,
    type: 'incident_note',
  },
});

describe('the page', () => {
  it('reaches the on-call owner with the context, the advice and how to answer; Jira is told', async () => {
    const { request, incidentId, key } = await paged('dana', 'okta-prod-readonly');
    const incident = sandbox.pagerduty.incident(incidentId);

    expect(incident?.incidentKey).toBe(request.id);
    expect(incident?.policy.id).toBe('PSREPOL');
    expect(incident?.title).toMatch(
      /^Access: Dana Reyes → okta-prod-readonly for 8h \(ACCESS-\d+; advice: approve\)$/,
    );
    expect(incident?.urgency).toBe('low');
    const details = incident?.details ?? '';
    for (const heading of [
      '== WHO ==',
      '== WHAT ==',
      '== WHY ==',
      '== RECOMMENDATION',
      '== SIGNALS',
      '== HOW TO ANSWER',
    ]) {
      expect(details).toContain(heading);
    }
    expect(Buffer.byteLength(details)).toBeLessThan(16_000);
    expect(notes(incidentId)[0]).toMatch(/^How to answer, in a note on this incident:\n/);
    expect(comments(key).at(-1)).toContain('have been paged');
    expect((await trail(request)).at(-1)).toMatchObject({ from: 'TRIAGING', to: 'PENDING' });
  });
});

describe('deciding by note', () => {
  it('approves on an on-call owner’s note: APPROVED, then GRANTED by provisioning, a complete trail', async () => {
    const { request, incidentId, key } = await paged('dana', 'okta-prod-readonly');

    await note(incidentId, 'priya', 'approve 2h checked INC-4411 with Dana');

    expect(['APPROVED', 'GRANTED']).toContain(await state(request));
    const stored = await sandbox.store.get(request.id);
    expect(stored?.decisions).toEqual([
      expect.objectContaining({
        outcome: 'approve',
        // The directory's person: quorum and self-approval compare this id, not the address.
        actor: { kind: 'person', id: 'priya.nair@example.com', personId: expect.stringMatching(/^00u/) },
        comment: 'checked INC-4411 with Dana',
        durationSeconds: 7200,
      }),
    ]);
    expect(stored?.advice).toMatchObject({ status: 'advised', recommendation: 'approve' });
    const events = await trail(request);
    // Provisioning may already have moved it on; the decision is the sixth step.
    expect(events.slice(0, 6).map((e) => `${e.from ?? ''}>${e.to}`)).toEqual([
      '>RECEIVED',
      'RECEIVED>TRIAGING',
      'TRIAGING>TRIAGING',
      'TRIAGING>TRIAGING',
      'TRIAGING>PENDING',
      'PENDING>APPROVED',
    ]);
    expect(events[5]).toMatchObject({
      actor: { kind: 'person', id: 'priya.nair@example.com' },
      evidence: { authorizedAs: 'on-call' },
    });
    // Provisioning may have noted the grant after it already.
    expect(notes(incidentId).some((n) => n.startsWith('Approved'))).toBe(true);
    expect(comments(key).some((c) => c.includes('Approved by priya.nair@example.com for 2h'))).toBe(true);
    expect(['Approved', 'Granted']).toContain(jiraStatus(key));
    // The provisioning message was queued and consumed: the request goes on to GRANTED.
    await until('the grant', async () => ((await state(request)) === 'GRANTED' ? true : undefined));
  });

  it('denies with the reason, tells the requester and resolves the incident', async () => {
    const { request, incidentId, key } = await paged('dana', 'okta-prod-readonly');

    await note(incidentId, 'priya', 'Deny no incident needs this today');

    expect(await state(request)).toBe('DENIED');
    expect(comments(key).at(-1)).toContain(
      'Denied by Priya Nair <priya.nair@example.com>: no incident needs this today',
    );
    expect(sandbox.pagerduty.incident(incidentId)?.status).toBe('resolved');
    expect(jiraStatus(key)).toBe('Declined');
  });

  it('needs two different people for a 2-approval entitlement', async () => {
    const { request, incidentId } = await paged('kenji', 'okta-prod-admin');

    await note(incidentId, 'lena', 'approve on call for identity');
    expect(await state(request)).toBe('PENDING');
    expect(lastNote(incidentId)).toMatch(/1 of 2/);

    await note(incidentId, 'lena', '/APPROVE again');
    expect(await state(request)).toBe('PENDING');
    expect((await sandbox.store.get(request.id))?.decisions).toHaveLength(1);

    await note(incidentId, 'sam', 'approve security lead');
    expect(['APPROVED', 'GRANTED']).toContain(await state(request));
    const events = await trail(request);
    expect(events.filter((e) => e.to === 'PENDING' && e.from === 'PENDING')).toHaveLength(1);
    expect(events.find((e) => e.from === 'PENDING' && e.to === 'APPROVED')).toMatchObject({
      evidence: { authorizedAs: 'okta-group' },
    });
  });

  it('extends a 2-approval grant only once two different people agree, by the shorter of what they asked', async () => {
    const { request, incidentId } = await paged('kenji', 'okta-prod-admin');
    await note(incidentId, 'lena', 'approve on call for identity');
    await note(incidentId, 'sam', 'approve security lead');
    const granted = await until('the grant', async () => {
      const r = await sandbox.store.get(request.id);
      return r?.state === 'GRANTED' ? r : undefined;
    });
    const expiresAt = granted.grant?.expiresAt;

    await note(incidentId, 'sam', 'extend 3h migration still running');
    expect((await sandbox.store.get(request.id))?.grant?.expiresAt).toBe(expiresAt);
    expect(lastNote(incidentId)).toMatch(
      /needs 2 approvers to extend: 1 more must write "extend <duration>"/,
    );
    // Sam again counts once.
    await note(incidentId, 'sam', 'extend 3h');
    expect((await sandbox.store.get(request.id))?.grant?.expiresAt).toBe(expiresAt);

    await note(incidentId, 'lena', 'extend 1h agreed');
    const extended = await sandbox.store.get(request.id);
    expect(Date.parse(extended?.grant?.expiresAt ?? '') - Date.parse(expiresAt ?? '')).toBe(3_600_000);
    expect(extended?.extensionVotes).toEqual([]);
    const applied = (await trail(request)).find((e) => e.evidence?.command === 'extend');
    expect(applied?.evidence?.agreedBy).toEqual([
      expect.objectContaining({ id: 'sam.okafor@example.com' }),
      expect.objectContaining({ id: 'lena.novak@example.com' }),
    ]);
    const votes = (await trail(request)).filter((e) => e.evidence?.command === 'extend-vote');
    expect(votes.map((e) => e.actor.id)).toEqual(['sam.okafor@example.com', 'sam.okafor@example.com']);
  });

  it('refuses self-approval and a non-approver, noting why and auditing each as a security event', async () => {
    const { request, incidentId } = await paged('priya', 'okta-prod-readonly');

    await note(incidentId, 'priya', 'approve');
    expect(lastNote(incidentId)).toMatch(/^Not accepted: You asked for this access/);
    await note(incidentId, 'chloe', 'approve');
    expect(lastNote(incidentId)).toMatch(/^Not accepted: /);

    expect(await state(request)).toBe('PENDING');
    const refused = (await trail(request)).filter((e) => e.evidence?.securityEvent === 'refused-command');
    expect(refused.map((e) => e.actor.id)).toEqual(['priya.nair@example.com', 'chloe.martin@example.com']);
    expect(refused.every((e) => e.from === 'PENDING' && e.to === 'PENDING')).toBe(true);
  });

  it('answers a command with a mistake with the syntax, and ignores discussion and its own notes', async () => {
    const { request, incidentId } = await paged('dana', 'okta-prod-readonly');
    const before = (await trail(request)).length;

    await note(incidentId, 'priya', 'deny');
    expect(lastNote(incidentId)).toContain('approve [duration] [reason]');
    await note(incidentId, 'priya', 'I would approve if Dana confirms the incident');
    await note(incidentId, 'loopgate', 'approve');

    expect(await state(request)).toBe('PENDING');
    expect((await trail(request)).length).toBe(before);
  });

  it('reads the whole note when the webhook carries it trimmed', async () => {
    const { request, incidentId } = await paged('dana', 'okta-prod-readonly');
    const reason = `checked with Dana ${'and the runbook '.repeat(80)}end of reason`;

    await note(incidentId, 'priya', `approve ${reason}`);

    expect(['APPROVED', 'GRANTED']).toContain(await state(request));
    const delivered = sandbox.pagerduty.deliveries().at(-1);
    expect(delivered?.outcome).toBe('delivered');
    expect((await sandbox.store.get(request.id))?.decisions[0]?.comment?.endsWith('end of reason')).toBe(
      true,
    );
  });

  it('keeps a recorded approval when Jira fails afterwards, says so in the log, and comments once Jira is back', async () => {
    const { request, incidentId, key } = await paged('dana', 'okta-prod-readonly');
    const before = comments(key).length;
    sandbox.jira.faults.set('*', { failNext: 20, status: 503 });
    try {
      await note(incidentId, 'priya', 'approve');
    } finally {
      sandbox.jira.faults.clear('*');
    }

    expect(['APPROVED', 'GRANTED']).toContain(await state(request));
    expect(sandbox.pagerduty.deliveries().at(-1)?.outcome).toBe('delivered');
    // The decision's comment waits in the outbox; the grant's comment waits behind it, so the ticket
    // reads in order. PagerDuty was up: its notes went out.
    expect(comments(key).slice(before)).toEqual([]);
    expect(notes(incidentId).some((n) => n.startsWith('Approved'))).toBe(true);
    const failure = logs.map((l) => JSON.parse(l)).find((l) => l.requestId === request.id && l.problems);
    expect(failure).toMatchObject({ level: 'error', message: 'decision recorded, but a follow-up failed' });
    expect(failure.problems.join()).toMatch(/Jira comment on .* failed, retried in 1 min: .*503/);

    // Jira is back; the sweeper delivers what waited, in the order it was written, once.
    await until('the grant', async () => ((await state(request)) === 'GRANTED' ? true : undefined));
    sandbox.clock.advance(2 * 60_000);
    await sandbox.host.invoker.invoke(PROVISION_FUNCTIONS.sweeper, {}, 'scheduler');
    const told = comments(key).slice(before);
    expect(told).toHaveLength(2);
    expect(told[0]).toContain('Approved by');
    expect(told[1]).toContain('is in place until');
    expect(jiraStatus(key)).toBe('Granted');
    await sandbox.host.invoker.invoke(PROVISION_FUNCTIONS.sweeper, {}, 'scheduler');
    expect(comments(key).slice(before)).toHaveLength(2);
  });

  it('cancels the request when the incident is resolved without a decision', async () => {
    const { request, incidentId, key } = await paged('dana', 'okta-prod-readonly');

    sandbox.pagerduty.resolve(incidentId, 'priya');
    await sandbox.settled();

    expect(await state(request)).toBe('CANCELLED');
    expect(comments(key).at(-1)).toContain('without a decision');
    expect(jiraStatus(key)).toBe('Cancelled');
  });
});

describe('deliveries', () => {
  it('counts a delivery repeated 3 times, or replayed under new delivery and event ids, once', async () => {
    const { request, incidentId } = await paged('dana', 'okta-prod-readonly');
    const event = annotated(incidentId, 'priya', 'approve');

    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await deliver(event, { webhookId: 'same-delivery' }));
    // The webhook only queues: each delivery is answered at once, and the event id goes with it.
    expect(answers.map((a) => a.body)).toEqual(Array(3).fill({ status: 'queued', eventId: event.id }));
    await sandbox.settled();
    expect((await sandbox.store.get(request.id))?.decisions).toHaveLength(1);
    // The same note in another event (another signed id) is recognised by the note id.
    await deliver({ ...event, id: randomUUID() });
    await sandbox.settled();
    expect((await sandbox.store.get(request.id))?.decisions).toHaveLength(1);
    expect((await trail(request)).filter((e) => e.from === 'PENDING' && e.to === 'APPROVED')).toHaveLength(1);
  });

  it('extends once for an extend note replayed under new delivery and event ids', async () => {
    const { request, incidentId } = await paged(
      'dana',
      'okta-prod-readonly',
      'INC-4411 dashboards for the replay',
    );
    await deliver(annotated(incidentId, 'priya', 'approve 2h'));
    await sandbox.settled();
    const granted = await until('the grant', async () => {
      const r = await sandbox.store.get(request.id);
      return r?.state === 'GRANTED' ? r : undefined;
    });
    const extendNote = annotated(incidentId, 'priya', 'extend 1h still migrating');
    for (let i = 0; i < 3; i++) await deliver({ ...extendNote, id: randomUUID() });
    await sandbox.settled();
    const extended = await sandbox.store.get(request.id);
    expect(Date.parse(extended?.grant?.expiresAt ?? '') - Date.parse(granted.grant?.expiresAt ?? '')).toBe(
      3_600_000,
    );
    expect((await trail(request)).filter((e) => e.from === 'GRANTED' && e.to === 'GRANTED')).toHaveLength(1);
  });

  it('extends once when SQS fails after the extension was recorded, and the retry moves the revoke', async () => {
    const { request, incidentId } = await paged(
      'omar',
      'okta-prod-readonly',
      'INC-4411 dashboards, SQS failing',
    );
    await deliver(annotated(incidentId, 'priya', 'approve 2h'));
    await sandbox.settled();
    const granted = await until('the grant', async () => {
      const r = await sandbox.store.get(request.id);
      return r?.state === 'GRANTED' ? r : undefined;
    });
    await sandbox.host.sqs.stopPolling();
    try {
      await deliver(annotated(incidentId, 'priya', 'extend 1h'));
      // Every attempt the SDK makes to queue the refresh fails: the decide message fails after the record.
      sandbox.host.sqs.faults.set('POST /', { failNext: 3, status: 500 });
      await sandbox.host.sqs.pump([DECIDE_QUEUE]);
      sandbox.host.sqs.faults.clear();
      expect(sandbox.host.sqs.state().queues.find((q) => q.name === DECIDE_QUEUE)?.inFlight).toHaveLength(1);
      // SQS delivers the message again after its visibility timeout.
      sandbox.clock.advance(61_000);
      await sandbox.host.sqs.pump([DECIDE_QUEUE]);
      // The retry found the extension recorded and sent the refresh again; provisioning moves the revoke.
      await sandbox.host.sqs.pump([PROVISION_QUEUE]);
    } finally {
      sandbox.host.sqs.startPolling();
    }
    const expiresAt = new Date(Date.parse(granted.grant?.expiresAt ?? '') + 3_600_000).toISOString();
    expect((await sandbox.store.get(request.id))?.grant?.expiresAt).toBe(expiresAt);
    expect((await trail(request)).filter((e) => e.from === 'GRANTED' && e.to === 'GRANTED')).toHaveLength(1);
    await until('the revoke moved to the new expiry', async () =>
      sandbox.host.scheduler.state().schedules.some(
        // Scheduler's at() takes whole seconds: loopgate rounds the revoke up, never early.
        (s) =>
          s.Name.includes(request.id) &&
          Math.abs(Date.parse(s.NextInvocation ?? '') - Date.parse(expiresAt)) < 1000,
      )
        ? true
        : undefined,
    );
  });

  it('refuses forged, truncated and foreign signatures with 401 and stores nothing', async () => {
    const { request, incidentId } = await paged('dana', 'okta-prod-readonly');
    const event = annotated(incidentId, 'priya', 'approve');
    const good = `v1=${createHmac('sha256', sandbox.secrets.pagerduty[0] ?? '')
      .update(JSON.stringify({ event }))
      .digest('hex')}`;

    for (const signature of [
      `v1=${createHmac('sha256', 'not-the-secret').update(JSON.stringify({ event })).digest('hex')}`,
      good.slice(0, -2),
      good.replace('v1=', 'v0='),
      '',
      `v1=${createHmac('sha256', sandbox.secrets.pagerduty[0] ?? '')
        .update('{"event":{}}')
        .digest('hex')}`,
    ]) {
      expect((await deliver(event, { signature })).status, signature).toBe(401);
    }
    expect(await state(request)).toBe('PENDING');
    expect((await trail(request)).at(-1)?.to).toBe('PENDING');
  });

  it('lets exactly one of an approve and a deny sent at once win; the trail shows both', async () => {
    const { request, incidentId } = await paged('kenji', 'aws-logs-read');
    const [a, b] = await Promise.all([
      deliver(annotated(incidentId, 'ana', 'approve fine')),
      deliver(annotated(incidentId, 'sam', 'deny not today')),
    ]);

    expect([a?.status, b?.status], JSON.stringify([a, b])).toEqual([202, 202]);
    await sandbox.settled();
    const events: AuditEvent[] = await trail(request);
    const decided = events.filter((e) => e.from === 'PENDING' && (e.to === 'APPROVED' || e.to === 'DENIED'));
    expect(decided).toHaveLength(1);
    // Provisioning may have granted an approval already; the loser was refused after the decision.
    const refused = events.filter((e) => e.evidence?.securityEvent === 'refused-command');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.version).toBeGreaterThan(decided[0]?.version ?? Infinity);
    expect(refused[0]?.from).toBe(refused[0]?.to);
  });
});
