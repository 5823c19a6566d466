// Deliveries sent by hand, signed the way the vendors sign, for duplicates and
// races the stand-ins would never produce on their own (they deliver one event
// at a time, in order): the same delivery several times at once, two notes at
// the same instant.

import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../../../sandbox/world';

export interface Answer {
  status: number;
  body: unknown;
}

/** Posts a PagerDuty v3 event to the pagerduty-webhook function, signed with the subscription's secret. */
export async function deliverPagerDuty(
  sandbox: Sandbox,
  event: Record<string, unknown>,
  webhookId: string = randomUUID(),
): Promise<Answer> {
  const body = JSON.stringify({ event });
  const signature = `v1=${createHmac('sha256', sandbox.secrets.pagerduty[0] ?? '')
    .update(body)
    .digest('hex')}`;
  const response = await fetch(sandbox.webhookUrl('pagerduty'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-webhook-id': webhookId,
      'x-pagerduty-signature': signature,
    },
    body,
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

/** An `incident.annotated` event for a note written by a person of the scenario. */
export function annotated(sandbox: Sandbox, incidentId: string, person: string, content: string) {
  const author = sandbox.scenario.people.find((p) => p.id === person);
  if (!author) throw new Error(`no ${person} in the scenario`);
  return {
    id: randomUUID(),
    event_type: 'incident.annotated',
    resource_type: 'incident',
    occurred_at: sandbox.clock.now().toISOString(),
    agent: { id: author.pagerduty.userId, type: 'user_reference' },
    client: null,
    data: {
      incident: { id: incidentId, type: 'incident_reference' },
      id: `Q${randomUUID().replaceAll('-', '').slice(0, 13).toUpperCase()}`,
      content,
      trimmed: false,
      type: 'incident_note',
    },
  };
}

export interface CapturedJiraDelivery {
  body: string;
  headers: Record<string, string>;
}

/**
 * Files a ticket with the Jira webhook pointed at a local catcher, and returns the delivery Jira
 * made (its exact body and signed headers) without loopgate having seen it. The webhook is pointed
 * back at loopgate afterwards.
 */
export async function captureTicketDelivery(
  sandbox: Sandbox,
  ticket: { reporter: string; entitlement: string; duration: string },
): Promise<{ key: string; delivery: CapturedJiraDelivery }> {
  const caught: CapturedJiraDelivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && (name.startsWith('x-') || name === 'content-type'))
          headers[name] = value;
      }
      caught.push({ body: Buffer.concat(chunks).toString('utf8'), headers });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const webhook = {
    url: sandbox.webhookUrl('jira'),
    secret: sandbox.secrets.jira,
    events: ['jira:issue_created', 'comment_created'] as ('jira:issue_created' | 'comment_created')[],
  };
  try {
    sandbox.jira.configureWebhook({ ...webhook, url: `http://127.0.0.1:${port}/` });
    const { key } = sandbox.jira.fileTicket({
      ...ticket,
      justification: 'INC-4411 checkout latency in production',
    });
    await sandbox.jira.settled();
    const delivery = caught[0];
    if (!delivery) throw new Error('Jira made no delivery');
    return { key, delivery };
  } finally {
    sandbox.jira.configureWebhook(webhook);
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Sends a captured Jira delivery to the jira-webhook function, under its own or another delivery id. */
export async function replayJira(
  sandbox: Sandbox,
  delivery: CapturedJiraDelivery,
  deliveryId?: string,
): Promise<Answer> {
  const headers: Record<string, string> = { ...delivery.headers, 'content-type': 'application/json' };
  if (deliveryId) headers['x-atlassian-webhook-identifier'] = deliveryId;
  const response = await fetch(sandbox.webhookUrl('jira'), { method: 'POST', headers, body: delivery.body });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}
