// The pagerduty-webhook's answers, by PagerDuty's delivery rules: 401 only for a
// bad signature (any v1= of the list may match; two secrets while rotating),
// 413 for a body no PagerDuty event reaches, 2xx for every verified event even
// when loopgate ignores it, 503 when the event cannot be queued. The decide
// function's side (claims by the signed event id) is tested here too.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DecideDeps } from '../../lambdas/core/decide/incident-event';
import type { DecideMessage, DeliveryClaim } from '../../lambdas/core/ports';
import { createDecideHandler } from '../../lambdas/handlers/decide';
import {
  createPagerDutyWebhookHandler,
  MAX_PAGERDUTY_BODY_BYTES,
} from '../../lambdas/handlers/pagerduty-webhook';
import { Logger } from '../../lambdas/platform/logger';

const settings = { secrets: ['current-secret', 'previous-secret'], maxBodyBytes: MAX_PAGERDUTY_BODY_BYTES };
const sign = (body: string, secret = 'current-secret') =>
  `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

function handlerWith(queueFails = false) {
  const queued: DecideMessage[] = [];
  const queue = {
    send: async (_queue: string, message: unknown) => {
      if (queueFails) throw new Error('SQS is unavailable');
      queued.push(message as DecideMessage);
    },
  };
  const lines: string[] = [];
  const handler = createPagerDutyWebhookHandler(
    { queue },
    settings,
    new Logger({ service: 'test', write: (line) => lines.push(line) }),
  );
  const deliver = async (body: string, headers: Record<string, string>) => {
    const response = await handler({ body, isBase64Encoded: false, headers } as never);
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  return { deliver, lines, queued };
}

const event = (type: string, data: Record<string, unknown>) =>
  JSON.stringify({
    event: {
      id: '01ABCDEF',
      event_type: type,
      resource_type: 'incident',
      occurred_at: '2026-11-21T10:00:00Z',
      agent: { id: 'PUSER01', type: 'user_reference' },
      client: null,
      data,
    },
  });
const note = event('incident.annotated', {
  id: 'PNOTE01',
  content: 'approve',
  trimmed: false,
  incident: { id: 'PINC001', type: 'incident_reference' },
});

describe('signatures', () => {
  it('accepts a signature by either secret, and any v1= of the list', async () => {
    const { deliver } = handlerWith();
    expect((await deliver(note, { 'x-pagerduty-signature': sign(note) })).status).toBe(202);
    expect((await deliver(note, { 'x-pagerduty-signature': sign(note, 'previous-secret') })).status).toBe(
      202,
    );
    const list = `v1=${'0'.repeat(64)}, ${sign(note, 'previous-secret')}`;
    expect((await deliver(note, { 'x-pagerduty-signature': list })).status).toBe(202);
  });

  it.each([
    ['no signature', {}],
    ['an empty header', { 'x-pagerduty-signature': '' }],
    ['another secret', { 'x-pagerduty-signature': sign(note, 'guess') }],
    ['a truncated digest', { 'x-pagerduty-signature': sign(note).slice(0, -1) }],
    ['another scheme', { 'x-pagerduty-signature': sign(note).replace('v1=', 'v2=') }],
    ['a signature of another body', { 'x-pagerduty-signature': sign(`${note} `) }],
    ['an upper-case hex digest of another body', { 'x-pagerduty-signature': sign('{}').toUpperCase() }],
  ])('refuses %s with 401', async (_, headers) => {
    const { deliver } = handlerWith();
    const answer = await deliver(note, headers);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
  });

  it('refuses a body larger than any PagerDuty event with 413 before checking it', async () => {
    const { deliver } = handlerWith();
    const big = 'x'.repeat(MAX_PAGERDUTY_BODY_BYTES + 1);
    expect((await deliver(big, { 'x-pagerduty-signature': sign(big) })).status).toBe(413);
  });
});

describe('verified events loopgate does not act on get a 2xx', () => {
  it.each([
    ['a body that is not JSON', 'not json', 'the body is not JSON'],
    ['JSON without an event', '{"messages":[]}', 'not a v3 webhook event'],
    [
      'an acknowledgement',
      event('incident.acknowledged', { id: 'PINC001' }),
      'incident.acknowledged is not an event loopgate acts on',
    ],
    [
      'an annotation without a note',
      event('incident.annotated', { id: 'PINC001' }),
      'an annotation without a note',
    ],
  ])('%s', async (_, body, reason) => {
    const { deliver } = handlerWith();
    expect(await deliver(body, { 'x-pagerduty-signature': sign(body) })).toEqual({
      status: 202,
      body: { status: 'ignored', reason },
    });
  });

  it('queues a note with its signed event id, whatever X-Webhook-Id says, and answers 202', async () => {
    const { deliver, queued } = handlerWith();
    for (const webhookId of ['w1', 'w2']) {
      expect(await deliver(note, { 'x-pagerduty-signature': sign(note), 'x-webhook-id': webhookId })).toEqual(
        { status: 202, body: { status: 'queued', eventId: '01ABCDEF' } },
      );
    }
    expect(queued).toEqual([
      { eventId: '01ABCDEF', event: expect.objectContaining({ kind: 'annotated', noteId: 'PNOTE01' }) },
      { eventId: '01ABCDEF', event: expect.objectContaining({ kind: 'annotated', noteId: 'PNOTE01' }) },
    ]);
  });

  it('answers 503 when the event cannot be queued, so PagerDuty retries', async () => {
    const { deliver } = handlerWith(true);
    expect((await deliver(note, { 'x-pagerduty-signature': sign(note) })).status).toBe(503);
  });
});

describe('the decide function counts an event once, by its signed id', () => {
  function decideWith(claim: DeliveryClaim) {
    const calls: string[] = [];
    const store = {
      claimDelivery: async (source: string, id: string) => {
        calls.push(`claim ${source} ${id}`);
        return claim;
      },
      completeDelivery: async () => void calls.push('complete'),
      releaseDelivery: async () => void calls.push('release'),
      getByIncidentId: async () => {
        calls.push('read');
        return undefined;
      },
    };
    const decide = createDecideHandler(
      { store } as unknown as DecideDeps,
      {
        loopgateEmail: 'l@example.com',
        identity: {},
        cancelOnResolve: true,
        provisionDueMs: 1,
        jiraStatuses: {},
      },
      new Logger({ service: 'test', write: () => {} }),
    );
    const run = (message: unknown) =>
      decide({
        Records: [
          { messageId: 'm1', body: JSON.stringify(message), attributes: { ApproximateReceiveCount: '1' } },
        ],
      } as never);
    return { run, calls };
  }
  const message = {
    eventId: '01ABCDEF',
    event: {
      kind: 'annotated',
      incidentId: 'PINC001',
      noteId: 'PNOTE01',
      content: 'approve',
      trimmed: false,
      occurredAt: '2026-11-21T10:00:00Z',
    },
  };

  it('handles a claimed event and marks it done', async () => {
    const { run, calls } = decideWith({ status: 'claimed', token: 't' });
    expect(await run(message)).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual(['claim pagerduty-event 01ABCDEF', 'read', 'complete']);
  });

  it('skips an event handled before (a retry, or a replay under a new X-Webhook-Id)', async () => {
    const { run, calls } = decideWith({ status: 'done' });
    expect(await run(message)).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual(['claim pagerduty-event 01ABCDEF']);
  });

  it('fails the message while another delivery holds the event, so SQS delivers it again', async () => {
    const { run } = decideWith({ status: 'in-progress' });
    expect(await run(message)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  it("drops a message that is not loopgate's shape without handling it", async () => {
    const { run, calls } = decideWith({ status: 'claimed', token: 't' });
    expect(await run({ eventId: 'x', event: { kind: 'approve-everything' } })).toEqual({
      batchItemFailures: [],
    });
    expect(calls).toEqual([]);
  });
});
