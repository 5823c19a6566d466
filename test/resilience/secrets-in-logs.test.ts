// No secret reaches a log line. A representative run of the sandbox (a ticket
// filed, triaged and paged, approved by note and granted; forged and validly
// signed webhooks sent by hand; vendor calls that fail, some with refused
// credentials) is captured line by line from every function, at debug level,
// and searched for every configured secret, token and key, in the forms they
// travel in (raw, Basic-auth base64, signature header values).

import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../lambdas/core/model';
import { Sandbox } from '../../sandbox/world';

let sandbox: Sandbox;
const lines: string[] = [];
/** Signature header values loopgate received on valid deliveries (a valid one is as good as the secret once). */
const validSignatures: string[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function paged(reporter: string, entitlement: string): Promise<AccessRequest> {
  const { key } = sandbox.jira.fileTicket({
    reporter,
    entitlement,
    justification: 'INC-4411 checkout latency',
  });
  await sandbox.jira.settled();
  const request = await until(`${key} to be paged`, async () => {
    const r = await sandbox.store.getByJiraIssueKey(key);
    return r?.state === 'PENDING' && r.incidentId ? r : undefined;
  });
  await sandbox.settled();
  return request;
}

const stateOf = async (id: string) => (await sandbox.store.get(id))?.state;

async function post(vendor: 'jira' | 'pagerduty', body: string, headers: Record<string, string>) {
  const response = await fetch(sandbox.webhookUrl(vendor), {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return response.status;
}

beforeAll(async () => {
  sandbox = await Sandbox.start({
    log: (line) => lines.push(line),
    environment: { LOOPGATE_LOG_LEVEL: 'debug' },
  });
  const { secrets } = sandbox;
  const pdSecret = secrets.pagerduty[0] ?? '';

  // 1. The happy path: filed, triaged, paged, approved by the on-call owner, granted.
  const first = await paged('dana', 'okta-prod-readonly');
  sandbox.pagerduty.addNote(first.incidentId ?? '', 'priya', 'approve 2h checked INC-4411 with Dana');
  await sandbox.settled();
  await until('the grant', async () => ((await stateOf(first.id)) === 'GRANTED' ? true : undefined));

  // 2. Forged deliveries to both functions, and valid ones whose signature headers must not be logged.
  const ticket = JSON.stringify({ webhookEvent: 'jira:issue_updated', issue: { key: 'ACCESS-1' } });
  expect(await post('jira', ticket, { 'x-hub-signature': `sha256=${'ab'.repeat(32)}` })).toBe(401);
  const jiraSignature = `sha256=${createHmac('sha256', secrets.jira).update(ticket).digest('hex')}`;
  validSignatures.push(jiraSignature);
  expect(
    await post('jira', ticket, {
      'x-hub-signature': jiraSignature,
      'x-atlassian-webhook-identifier': randomUUID(),
    }),
  ).toBe(204);
  const note = JSON.stringify({
    event: {
      id: randomUUID(),
      event_type: 'incident.annotated',
      occurred_at: new Date().toISOString(),
      agent: null,
      data: { id: 'QNOTE', content: 'approve', incident: { id: first.incidentId } },
    },
  });
  expect(await post('pagerduty', note, { 'x-pagerduty-signature': `v1=${'cd'.repeat(32)}` })).toBe(401);
  const pdSignature = `v1=${createHmac('sha256', pdSecret).update(note).digest('hex')}`;
  validSignatures.push(pdSignature);
  expect(
    await post('pagerduty', note, { 'x-pagerduty-signature': pdSignature, 'x-webhook-id': randomUUID() }),
  ).toBe(202);

  // 3. Failing vendors: Okta refuses loopgate's token and Slack fails during triage; the model answers 500;
  //    Jira fails after a recorded approval. Each failure is logged with whatever the SDKs put in errors.
  // (Okta only on routes triage alone uses: intake must still find the requester.)
  sandbox.okta.faults.set('GET /api/v1/users/:id/factors', { failNext: 3, status: 401 });
  sandbox.okta.faults.set('GET /api/v1/logs', { failNext: 3, status: 401 });
  sandbox.slack.faults.set('*', { failNext: 6, status: 500 });
  sandbox.openai.faults.set('*', { failNext: 6, status: 500 });
  const second = await paged('tomas', 'aws-logs-read');
  sandbox.okta.faults.clear();
  sandbox.slack.faults.clear();
  sandbox.openai.faults.clear();
  sandbox.jira.faults.set('*', { failNext: 20, status: 503 });
  try {
    sandbox.pagerduty.addNote(second.incidentId ?? '', 'ana', 'approve fine');
    await sandbox.settled();
  } finally {
    sandbox.jira.faults.clear();
  }
  expect(['APPROVED', 'GRANTED']).toContain(await stateOf(second.id));

  // 4. Volume: requests intake rejects (each answered with a Jira comment) and one denied by note.
  for (const entitlement of ['prod-god-mode', 'root', 'okta-prod-admin-please', 'db-all']) {
    sandbox.jira.fileTicket({ reporter: 'chloe', entitlement, justification: 'need it' });
  }
  await sandbox.jira.settled();
  const fourth = await paged('kenji', 'aws-logs-read');
  sandbox.pagerduty.addNote(fourth.incidentId ?? '', 'sam', 'deny no incident explains the need');
  await sandbox.settled();
  expect(await stateOf(fourth.id)).toBe('DENIED');

  // 5. Refused credentials where the error reaches the log in full: Jira refuses the user lookup
  //    during intake (a 5xx, so Jira retries), PagerDuty refuses the on-call lookup while an
  //    approval is authorized (the decide message fails, so SQS delivers it again). Both log the
  //    error and its cause.
  //    Last, because the retries they cause hold later deliveries back until the clock moves.
  const third = await paged('dana', 'okta-prod-readonly');
  sandbox.jira.faults.set('GET /rest/api/:version/user', { failNext: 1, status: 401 });
  sandbox.jira.fileTicket({ reporter: 'felix', entitlement: 'aws-logs-read', justification: 'DATA-812' });
  await sandbox.jira.settled();
  sandbox.jira.faults.clear();
  sandbox.pagerduty.faults.set('GET /oncalls', { failNext: 1, status: 401 });
  sandbox.pagerduty.addNote(third.incidentId ?? '', 'priya', 'approve');
  await sandbox.settled();
  sandbox.pagerduty.faults.clear();
}, 240_000);

afterAll(() => sandbox?.stop());

describe('the captured log', () => {
  it('is the whole run: many lines from every function, the expected events and failures among them', () => {
    expect(lines.length).toBeGreaterThan(40);
    expect(lines.join('\n').length).toBeGreaterThan(10_000);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const services = new Set(parsed.map((l) => l.service));
    for (const service of ['jira-webhook', 'triage', 'pagerduty-webhook', 'decide', 'provision']) {
      expect(services).toContain(service);
    }
    const messages = parsed.map((l) => String(l.message));
    expect(messages).toContain('jira delivery handled');
    expect(messages).toContain('event handled');
    expect(messages).toContain('event ignored');
    // The forged deliveries, refused and logged.
    expect(parsed.filter((l) => l.message === 'request refused' && l.status === 401)).toHaveLength(2);
    // The failing Jira call after the second approval.
    expect(messages).toContain('decision recorded, but a follow-up failed');
    // The refused credentials, logged with their errors: intake's 500 and the decide function's retry.
    expect(
      parsed.filter((l) => l.service === 'jira-webhook' && l.message === 'unexpected error'),
    ).not.toEqual([]);
    expect(messages).toContain('decide failed; the message will be retried');
    expect(parsed.filter((l) => l.outcome === 'rejected')).toHaveLength(4);
  });

  it('holds none of the configured secrets, tokens or keys, in any form they travel in', () => {
    const { credentials, secrets } = sandbox;
    const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');
    const forbidden: Record<string, string> = {
      'Jira webhook secret': secrets.jira,
      ...Object.fromEntries(secrets.pagerduty.map((s, i) => [`PagerDuty webhook secret ${i}`, s])),
      'Jira API token': credentials.jira.apiToken,
      'Jira Basic credentials': basic(credentials.jira.email, credentials.jira.apiToken),
      'PagerDuty API token': credentials.pagerduty.token,
      'Okta API token': credentials.okta.token,
      'Slack bot token': credentials.slack.botToken,
      'Slack user token': credentials.slack.userToken,
      'AWS secret access key': credentials.iam.secretAccessKey,
      'model API key': credentials.openai.apiKey,
      ...Object.fromEntries(validSignatures.map((s, i) => [`valid signature ${i}`, s.split('=')[1] ?? s])),
    };
    const log = lines.join('\n');
    for (const [name, value] of Object.entries(forbidden)) {
      expect(value.length, name).toBeGreaterThan(15);
      expect(log.includes(value), `${name} appears in the log`).toBe(false);
      // JSON escaping would hide a secret with special characters (the PagerDuty token has a +).
      expect(log.includes(JSON.stringify(value).slice(1, -1)), `${name} (escaped) appears in the log`).toBe(
        false,
      );
    }
  });
});
