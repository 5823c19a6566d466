// The pagerduty-webhook's answers, by PagerDuty's delivery rules: 401 only for a
// bad signature (any v1= of the list may match; two secrets while rotating),
// 413 for a body no PagerDuty event reaches, 2xx for every verified event even
// when loopgate ignores it, 503 while another attempt holds the delivery.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DecideDeps } from '../../lambdas/core/decide/incident-event';
import type { DeliveryClaim } from '../../lambdas/core/ports';
import {
  createPagerDutyWebhookHandler,
  MAX_PAGERDUTY_BODY_BYTES,
} from '../../lambdas/handlers/pagerduty-webhook';
import { Logger } from '../../lambdas/platform/logger';

const settings = {
  secrets: ['current-secret', 'previous-secret'],
  maxBodyBytes: MAX_PAGERDUTY_BODY_BYTES,
  loopgateEmail: 'loopgate@example.com',
  identity: {},
  cancelOnResolve: true,
  provisionDueMs: 60_000,
  jiraStatuses: {},
};
const sign = (body: string, secret = 'current-secret') =>
  `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

function handlerWith(claim: DeliveryClaim = { status: 'claimed', token: 't' }) {
  const store = {
    claimDelivery: async () => claim,
    completeDelivery: async () => {},
    releaseDelivery: async () => {},
    // Nothing is a loopgate incident: every verified note is ignored after the claim.
    getByIncidentId: async () => undefined,
  };
  const lines: string[] = [];
  const handler = createPagerDutyWebhookHandler(
    { store } as unknown as DecideDeps,
    settings,
    new Logger({ service: 'test', write: (line) => lines.push(line) }),
  );
  const deliver = async (body: string, headers: Record<string, string>) => {
    const response = await handler({ body, isBase64Encoded: false, headers } as never);
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  return { deliver, lines };
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
    ['a note on an incident that is not loopgate’s', note, 'incident PINC001 is not a loopgate page'],
  ])('%s', async (_, body, reason) => {
    const { deliver } = handlerWith();
    expect(await deliver(body, { 'x-pagerduty-signature': sign(body) })).toEqual({
      status: 202,
      body: { status: 'ignored', reason },
    });
  });

  it('answers a duplicate delivery with 202 and one still in progress with 503, so PagerDuty retries', async () => {
    expect(
      (await handlerWith({ status: 'done' }).deliver(note, { 'x-pagerduty-signature': sign(note) })).body,
    ).toEqual({ status: 'ignored', reason: 'duplicate delivery: already handled' });
    expect(
      (await handlerWith({ status: 'in-progress' }).deliver(note, { 'x-pagerduty-signature': sign(note) }))
        .status,
    ).toBe(503);
  });
});
