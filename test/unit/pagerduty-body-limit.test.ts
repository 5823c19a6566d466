// The pagerduty-webhook's body limit is PagerDuty's own: it sends webhooks up to
// 256 KB and drops anything larger (developer-docs webhooks/02-Behavior.md, "Size
// Limit"). A smaller limit would answer a real, signed event with 413, which
// PagerDuty treats as a permanent drop; three in a row disable the subscription.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createPagerDutyWebhookHandler,
  MAX_PAGERDUTY_BODY_BYTES,
} from '../../lambdas/handlers/pagerduty-webhook';
import { Logger } from '../../lambdas/platform/logger';
import { MAX_WEBHOOK_BYTES } from '../../sandbox/pagerduty/webhooks';

const SECRET = 'subscription-secret';

/** A signed incident.annotated event of exactly `bytes` bytes, padded in a field loopgate does not read. */
function annotatedOfSize(bytes: number): string {
  const event = (padding: string) =>
    JSON.stringify({
      event: {
        id: '01EVENTID',
        event_type: 'incident.annotated',
        resource_type: 'incident',
        occurred_at: '2026-11-21T10:00:00Z',
        agent: { id: 'PUSER01', type: 'user_reference' },
        client: null,
        data: {
          id: 'PNOTE01',
          content: 'approve',
          trimmed: false,
          type: 'incident_note',
          incident: { id: 'PINC001', type: 'incident_reference', summary: padding },
        },
      },
    });
  return event('x'.repeat(bytes - Buffer.byteLength(event(''))));
}

async function deliver(body: string) {
  const queued: unknown[] = [];
  const handler = createPagerDutyWebhookHandler(
    { queue: { send: async (_queue: string, message: unknown) => void queued.push(message) } },
    { secrets: [SECRET], maxBodyBytes: MAX_PAGERDUTY_BODY_BYTES },
    new Logger({ service: 'test', write: () => undefined }),
  );
  const signature = `v1=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  const response = await handler({
    body,
    isBase64Encoded: false,
    headers: { 'x-pagerduty-signature': signature, 'x-webhook-id': 'W1' },
  } as never);
  return { status: response.statusCode, queued };
}

describe('the PagerDuty webhook body limit', () => {
  it('is 256 KB (262,144 bytes), what PagerDuty and its stand-in send at most', () => {
    expect(MAX_PAGERDUTY_BODY_BYTES).toBe(256 * 1024);
    expect(MAX_PAGERDUTY_BODY_BYTES).toBe(MAX_WEBHOOK_BYTES);
  });

  it('takes a signed note event of exactly 256 KB and queues it', async () => {
    const body = annotatedOfSize(MAX_PAGERDUTY_BODY_BYTES);
    expect(Buffer.byteLength(body)).toBe(262_144);
    const { status, queued } = await deliver(body);
    expect(status).toBeGreaterThanOrEqual(200);
    expect(status).toBeLessThan(300);
    expect(queued).toHaveLength(1);
  });

  it('takes one of 200 KB, over the old 128 KB limit', async () => {
    const { status, queued } = await deliver(annotatedOfSize(200 * 1024));
    expect(status).toBeLessThan(300);
    expect(queued).toHaveLength(1);
  });

  it('refuses one byte more with 413, queuing nothing, even when it is signed', async () => {
    const { status, queued } = await deliver(annotatedOfSize(MAX_PAGERDUTY_BODY_BYTES + 1));
    expect(status).toBe(413);
    expect(queued).toEqual([]);
  });
});
