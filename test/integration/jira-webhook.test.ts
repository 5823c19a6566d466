// The jira-webhook function in the sandbox: tickets filed in the Jira stand-in
// arrive as signed webhooks at the local Function URL, over real HTTP, and land
// in DynamoDB Local and the triage queue.

import { createHmac, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRequestStore } from '../../lambdas/connectors/dynamodb/request-store';
import type { AccessRequest } from '../../lambdas/core/model';
import { localClientConfig } from '../../sandbox/dynamodb-local';
import { Sandbox, TABLE_NAME, TRIAGE_QUEUE } from '../../sandbox/world';

let sandbox: Sandbox;
let store: DynamoRequestStore;
const logLines: string[] = [];

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: (line) => logLines.push(line) });
  // Intake alone: triage would move the requests on (test/integration/triage.test.ts covers it).
  await sandbox.host.sqs.stopPolling();
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(sandbox.dynamoDbEndpoint)));
  store = new DynamoRequestStore({ client, tableName: TABLE_NAME });
});

afterAll(() => sandbox.stop());

/** Files a ticket as a person and waits until Jira's webhook was answered. */
async function file(
  ticket: Parameters<Sandbox['jira']['fileTicket']>[0],
): Promise<AccessRequest | undefined> {
  const { key } = sandbox.jira.fileTicket(ticket);
  await sandbox.jira.settled();
  return store.getByJiraIssueKey(key);
}

function commentsOn(key: string): string[] {
  const issues = sandbox.jira.state().issues as { key?: unknown; comments: { body: unknown }[] }[];
  return (issues.find((i) => i.key === key)?.comments ?? []).map((c) => JSON.stringify(c.body));
}

function triageMessages(): string[] {
  const queue = sandbox.host.sqs.state().queues.find((q) => q.name === TRIAGE_QUEUE);
  return [...(queue?.visible ?? []), ...(queue?.inFlight ?? [])].map((m) => m.body);
}

describe('tickets filed in Jira', () => {
  it('stores a valid request as RECEIVED with the Okta-resolved email, and queues triage', async () => {
    const request = await file({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      duration: '4h',
      justification: 'INC-4411 checkout latency',
    });

    expect(request).toMatchObject({
      state: 'RECEIVED',
      entitlementId: 'okta-prod-readonly',
      durationSeconds: 4 * 3600,
      requester: { email: 'dana.reyes@example.com', displayName: 'Dana Reyes' },
    });
    expect(triageMessages()).toContain(JSON.stringify({ requestId: request?.id }));
    expect(sandbox.jira.deliveries.findLast((d) => d.event === 'jira:issue_created')?.status).toBe(202);
  });

  it('reads the request from a wiki-text description and an ADF description alike', async () => {
    const wiki = await file({
      reporter: 'felix',
      entitlement: 'aws-logs-read',
      justification: 'DATA-812',
      format: 'wiki',
    });
    const adf = await file({
      reporter: 'felix',
      entitlement: 'aws-logs-read',
      justification: 'DATA-812',
      format: 'adf',
    });
    for (const request of [wiki, adf]) {
      expect(request).toMatchObject({
        state: 'RECEIVED',
        entitlementId: 'aws-logs-read',
        durationSeconds: 4 * 3600,
      });
    }
  });

  it.each([
    [
      'an unknown entitlement',
      { entitlement: 'prod-god-mode', justification: 'INC-1' },
      'okta-prod-readonly, okta-prod-admin',
    ],
    [
      'a duration over the maximum',
      { entitlement: 'okta-prod-admin', duration: '2d', justification: 'INC-1' },
      'longer than the 4h maximum',
    ],
    ['no justification', { entitlement: 'okta-prod-readonly' }, 'Say why you need it'],
  ])('rejects %s, tells the requester what to fix, and still answers 202', async (_, parts, advice) => {
    const request = await file({ reporter: 'tomas', ...parts });

    expect(request?.state).toBe('REJECTED');
    expect(sandbox.jira.deliveries.findLast((d) => d.event === 'jira:issue_created')?.status).toBe(202);
    expect(commentsOn(request?.jiraIssueKey ?? '').join('\n')).toContain(advice);
    expect(triageMessages()).not.toContain(JSON.stringify({ requestId: request?.id }));
    const trail = await store.listAuditEvents(request?.id ?? '');
    expect(trail.map((e) => e.to)).toEqual(['RECEIVED', 'REJECTED']);
  });

  it('rejects a requester the directory does not know', async () => {
    const request = await file({
      reporter: sandbox.credentials.jira.email,
      entitlement: 'okta-prod-readonly',
      justification: 'INC-1',
    });
    expect(request?.state).toBe('REJECTED');
    expect(commentsOn(request?.jiraIssueKey ?? '').join('\n')).toContain('found no directory (Okta) account');
  });

  it('rejects, rather than leaving Jira to retry for half an hour, when the directory answers nonsense', async () => {
    sandbox.okta.faults.set('GET /api/v1/users', { failNext: 1, status: 400 });
    const request = await file({
      reporter: 'grace',
      entitlement: 'okta-prod-readonly',
      justification: 'INC-2',
    });
    expect(request?.state).toBe('REJECTED');
    expect(commentsOn(request?.jiraIssueKey ?? '').join('\n')).toContain('loopgate could not identify you');
  });

  it('gives a stored request a due time, so the sweeper finds it if triage never runs', async () => {
    const request = await file({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      justification: 'INC-3',
    });
    expect(request?.dueAt).toBeDefined();
    expect(Date.parse(request?.dueAt ?? '')).toBeGreaterThan(Date.parse(request?.createdAt ?? ''));
  });

  it('ignores tickets of other projects and issue types with a 204', async () => {
    const before = sandbox.jira.deliveries.length;
    await file({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      justification: 'x',
      projectKey: 'OPS',
      issueType: 'Task',
    });
    await file({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      justification: 'x',
      issueType: 'Task',
    });
    const filings = sandbox.jira.deliveries.slice(before).filter((d) => d.event === 'jira:issue_created');
    expect(filings.map((d) => d.status)).toEqual([204, 204]);
  });
});

describe('the webhook endpoint', () => {
  const issue = (key: string) => ({
    webhookEvent: 'jira:issue_created',
    issue: {
      id: '99',
      key,
      fields: {
        summary: 'Access',
        description: 'Entitlement: okta-prod-readonly\nReason: INC-5',
        reporter: { accountId: sandbox.scenario.people[1]?.jira.accountId },
        project: { key: 'ACCESS' },
        issuetype: { name: 'Access Request' },
      },
    },
  });

  async function post(body: string, headers: Record<string, string>) {
    const response = await fetch(sandbox.webhookUrl('jira'), { method: 'POST', body, headers });
    return { status: response.status, body: await response.text() };
  }

  const signed = (body: string, secret = sandbox.secrets.jira, id: string = randomUUID()) => ({
    'content-type': 'application/json',
    'x-hub-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    'x-atlassian-webhook-identifier': id,
  });

  it.each([
    ['a wrong secret', (b: string) => signed(b, 'wrong-secret')],
    [
      'a truncated signature',
      (b: string) => ({ ...signed(b), 'x-hub-signature': signed(b)['x-hub-signature'].slice(0, -2) }),
    ],
    [
      'a sha1= prefix',
      (b: string) => ({
        ...signed(b),
        'x-hub-signature': `sha1=${createHmac('sha1', sandbox.secrets.jira).update(b).digest('hex')}`,
      }),
    ],
    ['no signature', () => ({ 'content-type': 'application/json' })],
  ])('answers 401 to %s and stores nothing', async (_, headersFor) => {
    const key = `ACCESS-${9000 + Math.floor(Math.random() * 900)}`;
    const body = JSON.stringify(issue(key));
    const response = await post(body, headersFor(body));
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'unauthenticated' } });
    expect(await store.getByJiraIssueKey(key)).toBeUndefined();
  });

  it('answers 401 to a body changed by one byte after signing', async () => {
    const body = JSON.stringify(issue('ACCESS-9901'));
    const headers = signed(body);
    const response = await post(body.replace('INC-5', 'INC-6'), headers);
    expect(response.status).toBe(401);
    expect(await store.getByJiraIssueKey('ACCESS-9901')).toBeUndefined();
  });

  it('acknowledges a replayed delivery id without processing it twice', async () => {
    const body = JSON.stringify(issue('ACCESS-9902'));
    const id = randomUUID();
    expect((await post(body, signed(body, undefined, id))).status).toBe(202);
    const replay = await post(body, signed(body, undefined, id));
    expect(replay.status).toBe(200);
    expect(JSON.parse(replay.body)).toEqual({ status: 'duplicate delivery: already handled' });
    const request = await store.getByJiraIssueKey('ACCESS-9902');
    expect((await store.listAuditEvents(request?.id ?? '')).length).toBe(1);
  });

  it('asks for a retry (409) while another attempt holds the delivery, and processes the retry after', async () => {
    const body = JSON.stringify(issue('ACCESS-9904'));
    const id = randomUUID();
    const other = await sandbox.store.claimDelivery('jira', id);

    expect((await post(body, signed(body, undefined, id))).status).toBe(409);
    expect(await store.getByJiraIssueKey('ACCESS-9904')).toBeUndefined();

    await sandbox.store.releaseDelivery('jira', id, other.status === 'claimed' ? other.token : '');
    expect((await post(body, signed(body, undefined, id))).status).toBe(202);
    expect((await store.getByJiraIssueKey('ACCESS-9904'))?.state).toBeDefined();
  });

  it('answers 400 to malformed JSON and to a malformed issue, and 413 to a body over 256 KB', async () => {
    const broken = '{"webhookEvent": "jira:issue_created", ';
    expect((await post(broken, signed(broken))).status).toBe(400);
    const malformed = JSON.stringify({
      webhookEvent: 'jira:issue_created',
      issue: { key: 'nope', fields: {} },
    });
    const answer = await post(malformed, signed(malformed));
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('malformed issue at issue');
    const huge = JSON.stringify({ ...issue('ACCESS-9903'), padding: 'x'.repeat(256 * 1024) });
    expect((await post(huge, signed(huge))).status).toBe(413);
  });

  it('never logs the webhook secret or the signature', () => {
    const logs = logLines.join('\n');
    expect(logs).not.toContain(sandbox.secrets.jira);
    expect(logs).toContain('jira delivery handled');
  });

  it("carries each invocation's Lambda context on its lines: request id, cold start, function, trace id", () => {
    // The sandbox's Lambda host follows the AWS Lambda Developer Guide ("Using the Lambda context
    // object to retrieve Node.js function information": awsRequestId, functionName, functionVersion
    // $LATEST) and sets _X_AMZN_TRACE_ID as the X-Ray Developer Guide's "Tracing header" writes it:
    // Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=1.
    const handled = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.message === 'jira delivery handled');
    expect(handled.length).toBeGreaterThan(1);
    const invocations = sandbox.host.invoker.invocations.filter((i) => i.functionName === 'jira-webhook');
    for (const line of handled) {
      expect(line).toMatchObject({
        functionName: 'jira-webhook',
        functionVersion: '$LATEST',
        coldStart: expect.any(Boolean),
        xrayTraceId: expect.stringMatching(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/),
      });
      expect(invocations.map((i) => i.requestId)).toContain(line.awsRequestId);
    }
    // The first invocation of the function is its cold start, and only that one.
    const cold = handled.filter((l) => l.coldStart);
    expect(cold.length).toBeLessThanOrEqual(1);
    if (cold.length) expect(cold[0]?.awsRequestId).toBe(invocations[0]?.requestId);
  });
});
