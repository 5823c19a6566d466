// Hostile deliveries to both webhook functions in the sandbox, over real HTTP
// to their Function URLs. Each row names one trick, the status the handler must
// answer (PagerDuty's delivery rules: 401 only for a bad signature, 413 for a
// body no PagerDuty event reaches, 202 for every verified event loopgate
// ignores; jira-webhook: 401 unsigned or forged, 413 over 256 KB, 400 for
// malformed JSON or a malformed issue, 204 for events it does not act on) and
// then proves the world did not move: no request, decision or audit event in
// DynamoDB Local, no queue message, no note or comment by loopgate.

import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../lambdas/core/model';
import { MAX_JIRA_BODY_BYTES } from '../../lambdas/handlers/jira-webhook';
import { MAX_PAGERDUTY_BODY_BYTES } from '../../lambdas/handlers/pagerduty-webhook';
import { localClientConfig } from '../../sandbox/dynamodb-local';
import { Sandbox, TABLE_NAME } from '../../sandbox/world';
import { records, scanKeys } from './support/in-process';
import { type RawAnswer, type RawHeader, rawRequest } from './support/raw-http';

let sandbox: Sandbox;
const logLines: string[] = [];
let table: { client: DynamoDBDocumentClient; tableName: string };
/** A PENDING request paged to PagerDuty: the target of every hostile note. */
let paged: AccessRequest;
/** A second one, for the replay rows (they record one real decision first). */
let replayTarget: AccessRequest;
let danaAccountId: string;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: (line) => logLines.push(line) });
  table = {
    client: DynamoDBDocumentClient.from(new DynamoDBClient(localClientConfig(sandbox.dynamoDbEndpoint))),
    tableName: TABLE_NAME,
  };
  danaAccountId = person('dana').jira.accountId;
  paged = await page('INC-4411 checkout latency');
  replayTarget = await page('INC-4412 payment errors');
  for (let i = 0; i < 3; i++) {
    realIssues.push(sandbox.jira.fileTicket({ reporter: 'dana', projectKey: 'OPS', issueType: 'Task' }).key);
  }
  await sandbox.jira.settled();
  // From here on nothing consumes the queues: any message a hostile delivery caused stays visible.
  await sandbox.host.sqs.stopPolling();
}, 120_000);

afterAll(() => sandbox?.stop());

function person(id: string) {
  const found = sandbox.scenario.people.find((p) => p.id === id);
  if (!found) throw new Error(`no ${id} in the scenario`);
  return found;
}

async function page(justification: string): Promise<AccessRequest> {
  const { key } = sandbox.jira.fileTicket({
    reporter: 'dana',
    entitlement: 'okta-prod-readonly',
    justification,
  });
  await sandbox.jira.settled();
  for (let attempt = 0; attempt < 400; attempt++) {
    const request = await sandbox.store.getByJiraIssueKey(key);
    if (request?.state === 'PENDING' && request.incidentId) {
      // loopgate's own "how to answer" note has been delivered back (and ignored).
      await sandbox.settled();
      return request;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${key} was never paged`);
}

// --- what the world looks like -------------------------------------------------

interface World {
  keys: string[];
  messages: string[];
  notes: number;
  comments: number;
}

async function observe(): Promise<World> {
  const queues = sandbox.host.sqs.state().queues;
  const incidents = (sandbox.pagerduty.state() as { incidents: { notes: unknown[] }[] }).incidents;
  const issues = sandbox.jira.state().issues as { comments: unknown[] }[];
  return {
    keys: await scanKeys(table),
    messages: queues
      .flatMap((q) => [...q.visible, ...q.inFlight, ...q.delayed].map((m) => m.messageId))
      .sort(),
    notes: incidents.reduce((n, i) => n + i.notes.length, 0),
    comments: issues.reduce((n, i) => n + i.comments.length, 0),
  };
}

/**
 * - `none`: nothing at all is written, not even a delivery claim (the body was never trusted).
 * - `claim`: a verified event loopgate ignores; it may remember the delivery id, nothing else.
 * - `rejected`: a verified ticket that is invalid: stored once as REJECTED, never queued for triage.
 */
type Effect = 'none' | 'claim' | { rejected: string };

function expectUnmoved(before: World, after: World, effect: Effect) {
  expect(records(after.keys), 'requests, decisions and audit events').toEqual(records(before.keys));
  if (effect === 'none') expect(after.keys, 'delivery claims').toEqual(before.keys);
  expect(after.messages, 'queue messages').toEqual(before.messages);
  expect(after.notes, 'PagerDuty notes by loopgate').toBe(before.notes);
  expect(after.comments, 'Jira comments by loopgate').toBe(before.comments);
}

// --- building deliveries -------------------------------------------------------

const hmac = (secret: string, body: string | Buffer) =>
  createHmac('sha256', secret).update(body).digest('hex');
const jiraSig = (body: string | Buffer, secret = sandbox.secrets.jira) => `sha256=${hmac(secret, body)}`;
const pdSig = (body: string | Buffer, secret = sandbox.secrets.pagerduty[0] ?? '') =>
  `v1=${hmac(secret, body)}`;
const forgedHex = () => randomBytes(32).toString('hex');
/** A secret that signed deliveries before a rotation and is no longer configured. */
const retiredSecret = randomBytes(24).toString('hex');
/** UTF-8 bytes of a header value (Node's client would refuse them as a string). */
const utf8 = (text: string) => Buffer.from(text, 'utf8');

let keySequence = 8000;
const nextKey = (project = 'ACCESS') => `${project}-${keySequence++}`;

/** A ticket as Jira's admin webhook delivers it; a valid request for okta-prod-readonly unless changed. */
function ticket(
  options: { key?: string; project?: string; email?: string; event?: string; fields?: object } = {},
) {
  const project = options.project ?? 'ACCESS';
  return {
    timestamp: Date.now(),
    webhookEvent: options.event ?? 'jira:issue_created',
    issue: {
      id: String(keySequence),
      key: options.key ?? nextKey(project),
      fields: {
        summary: 'Access request',
        description: 'Entitlement: okta-prod-readonly\nReason: INC-4411 checkout latency',
        reporter: {
          accountId: danaAccountId,
          ...(options.email ? { emailAddress: options.email } : {}),
        },
        project: { key: project },
        issuetype: { name: project === 'ACCESS' ? 'Access Request' : 'Task' },
        ...options.fields,
      },
    },
  };
}
const ticketBody = (options?: Parameters<typeof ticket>[0]) => JSON.stringify(ticket(options));
/** A ticket of another project: a verified delivery of it is answered 204 and touches nothing. */
const otherProject = () => ticketBody({ project: 'OPS' });

function noteEvent(request: AccessRequest, content = 'approve 2h checked INC-4411', by = 'priya') {
  return {
    id: randomUUID(),
    event_type: 'incident.annotated',
    resource_type: 'incident',
    occurred_at: sandbox.clock.now().toISOString(),
    agent: { id: person(by).pagerduty.userId, type: 'user_reference' },
    client: null,
    data: {
      incident: { id: request.incidentId, type: 'incident_reference' },
      id: `Q${randomUUID().slice(0, 12).toUpperCase()}`,
      content,
      trimmed: false,
      type: 'incident_note',
    },
  };
}
/** An approval an on-call owner could really have written: accepted, it would decide the request. */
const approveNote = () => JSON.stringify({ event: noteEvent(paged) });
const pdEvent = (overrides: Record<string, unknown>) =>
  JSON.stringify({ event: { ...noteEvent(paged), ...overrides } });

/** Ten thousand levels of nesting, well inside both size limits. */
const deepArrays = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
const deepObjects = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
/** An ADF description nested `depth` paragraphs deep (Jira descriptions may be ADF documents). */
function deepAdf(depth: number): string {
  let node = '{"type":"text","text":"Entitlement: okta-prod-readonly"}';
  for (let i = 0; i < depth; i++) node = `{"type":"paragraph","content":[${node}]}`;
  return `{"type":"doc","version":1,"content":[${node}]}`;
}

interface Delivery {
  body?: string | Buffer;
  headers?: RawHeader[];
  method?: string;
}

interface Variant {
  name: string;
  /** Built when the row runs, so every row has its own issue key and event ids. */
  delivery: () => Delivery;
  /** The answer required; a list when more than one answer would be right (the bug rows). */
  status: number | number[];
  effect: Effect;
  /** Runs before the world is observed: the first, genuine delivery of a replay. */
  prepare?: () => Promise<void>;
  /** Also checked: what the answer's body says. */
  says?: RegExp;
  /** Also checked: what the functions logged about it (the decide function works behind the queue). */
  logs?: RegExp;
}

async function run(vendor: 'jira' | 'pagerduty', variant: Variant): Promise<RawAnswer> {
  await variant.prepare?.();
  const before = await observe();
  const { body, headers = [], method } = variant.delivery();
  const answer = await rawRequest(sandbox.webhookUrl(vendor), {
    ...(method ? { method } : {}),
    headers,
    ...(body === undefined ? {} : { body }),
  });
  expect([variant.status].flat(), answer.body).toContain(answer.status);
  if (variant.says) expect(answer.body).toMatch(variant.says);
  // The pagerduty-webhook only queues: let the decide function handle what it queued.
  const logged = logLines.length;
  if (vendor === 'pagerduty') await sandbox.settled();
  if (variant.logs) expect(logLines.slice(logged).join('\n')).toMatch(variant.logs);
  const after = await observe();
  if (typeof variant.effect === 'object') {
    const request = await sandbox.store.getByJiraIssueKey(variant.effect.rejected);
    expect(request?.state).toBe('REJECTED');
    expect(after.messages, 'queue messages').toEqual(before.messages);
    expect(after.notes, 'PagerDuty notes by loopgate').toBe(before.notes);
  } else {
    expectUnmoved(before, after, variant.effect);
  }
  return answer;
}

const json: RawHeader = ['content-type', 'application/json'];
const jiraSigned = (body: string | Buffer, extra: RawHeader[] = []): Delivery => ({
  body,
  headers: [
    json,
    ['x-hub-signature', jiraSig(body)],
    ['x-atlassian-webhook-identifier', randomUUID()],
    ...extra,
  ],
});
const pdSigned = (body: string | Buffer, extra: RawHeader[] = []): Delivery => ({
  body,
  headers: [json, ['x-pagerduty-signature', pdSig(body)], ['x-webhook-id', randomUUID()], ...extra],
});
const withJiraSignature = (body: string | Buffer, signature: string | Buffer): Delivery => ({
  body,
  headers: [json, ['x-hub-signature', signature], ['x-atlassian-webhook-identifier', randomUUID()]],
});
const withPdSignature = (body: string | Buffer, signature: string | Buffer): Delivery => ({
  body,
  headers: [json, ['x-pagerduty-signature', signature], ['x-webhook-id', randomUUID()]],
});

// --- jira-webhook --------------------------------------------------------------

const replayedJiraDelivery = (() => {
  let body = '';
  const id = randomUUID();
  return {
    first: async () => {
      body = ticketBody();
      const answer = await rawRequest(sandbox.webhookUrl('jira'), jiraSignedWithId(body, id));
      expect(answer.status).toBe(202);
    },
    again: (): Delivery => jiraSignedWithId(body, id),
  };
})();
function jiraSignedWithId(body: string, id: string) {
  return {
    body,
    headers: [
      json,
      ['x-hub-signature', jiraSig(body)],
      ['x-atlassian-webhook-identifier', id],
    ] as RawHeader[],
  };
}

/**
 * Keys of real issues in the Jira stand-in (of another project, so filing them touched nothing):
 * a verified ticket that intake rejects gets a comment, and Jira answers 404 for an issue it lacks.
 */
const realIssues: string[] = [];
const realIssue = (index: number) => {
  const key = realIssues[index];
  if (!key) throw new Error(`no real issue ${index}`);
  return key;
};

const jiraVariants: Variant[] = [
  {
    name: 'a forged signature',
    delivery: () => withJiraSignature(ticketBody(), `sha256=${forgedHex()}`),
    status: 401,
    effect: 'none',
  },
  {
    name: 'no signature header',
    delivery: () => ({ body: ticketBody(), headers: [json] }),
    status: 401,
    effect: 'none',
  },
  {
    name: 'an empty signature header',
    delivery: () => withJiraSignature(ticketBody(), ''),
    status: 401,
    effect: 'none',
  },
  {
    name: 'a correct HMAC-SHA1 under the sha1= scheme',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(
        body,
        `sha1=${createHmac('sha1', sandbox.secrets.jira).update(body).digest('hex')}`,
      );
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the right digest without the sha256= prefix',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(body, hmac(sandbox.secrets.jira, body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the right digest under PagerDuty’s v1= scheme',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(body, `v1=${hmac(sandbox.secrets.jira, body)}`);
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a valid signature of another body',
    delivery: () => withJiraSignature(ticketBody(), jiraSig(otherProject())),
    status: 401,
    effect: 'none',
  },
  {
    name: 'a signature by a rotated-out secret',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(body, jiraSig(body, retiredSecret));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the body truncated, with the original signature',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(body.slice(0, -40), jiraSig(body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'trailing whitespace after the signed body',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(`${body}\n`, jiraSig(body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a trailing NUL byte after the signed body',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(Buffer.concat([Buffer.from(body), Buffer.from([0])]), jiraSig(body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a signed body one byte over 256 KB',
    delivery: () => {
      const base = ticketBody();
      const body = `${base.slice(0, -1)},"padding":"${'x'.repeat(MAX_JIRA_BODY_BYTES - base.length - 12)}"}`;
      expect(Buffer.byteLength(body)).toBe(MAX_JIRA_BODY_BYTES + 1);
      return jiraSigned(body);
    },
    status: 413,
    effect: 'none',
  },
  {
    name: 'an unsigned 1 MB body (refused on size before anything else)',
    delivery: () => ({ body: 'x'.repeat(1024 * 1024), headers: [json] }),
    status: 413,
    effect: 'none',
  },
  {
    name: 'a forged signature sent as text/plain',
    delivery: () => ({
      body: ticketBody(),
      headers: [
        ['content-type', 'text/plain'],
        ['x-hub-signature', `sha256=${forgedHex()}`],
      ],
    }),
    status: 401,
    effect: 'none',
  },
  {
    // The Function URL passes a non-text body base64-encoded; the handler must decode before checking.
    name: 'a signed ticket of another project sent as application/octet-stream',
    delivery: () => {
      const body = otherProject();
      return {
        body,
        headers: [
          ['content-type', 'application/octet-stream'],
          ['x-hub-signature', jiraSig(body)],
        ],
      };
    },
    status: 204,
    effect: 'none',
  },
  {
    name: 'an empty unsigned body',
    delivery: () => ({ body: '', headers: [json] }),
    status: 401,
    effect: 'none',
  },
  { name: 'a GET with no body', delivery: () => ({ method: 'GET' }), status: 401, effect: 'none' },
  { name: 'an empty body, signed', delivery: () => jiraSigned(''), status: 400, effect: 'none' },
  {
    name: 'signed text that is not JSON',
    delivery: () => jiraSigned('webhookEvent=jira:issue_created'),
    status: 400,
    effect: 'none',
  },
  {
    name: 'signed JSON behind a byte-order mark',
    delivery: () => jiraSigned(`\uFEFF${ticketBody()}`),
    status: 400,
    effect: 'none',
  },
  {
    name: 'a signed JSON array',
    delivery: () => jiraSigned(`[${ticketBody()}]`),
    status: 400,
    effect: 'none',
  },
  { name: 'signed JSON null', delivery: () => jiraSigned('null'), status: 400, effect: 'none' },
  { name: 'a signed JSON number', delivery: () => jiraSigned('42'), status: 400, effect: 'none' },
  {
    name: 'a signed JSON string',
    delivery: () => jiraSigned('"jira:issue_created"'),
    status: 400,
    effect: 'none',
  },
  {
    // JSON.parse keeps the last of duplicate keys; the signature covers the raw bytes, so the
    // handler reads exactly one event: the last. Here that is an update, which it ignores.
    name: 'two webhookEvent keys, the last one jira:issue_updated (the last wins: ignored)',
    delivery: () => {
      const body = ticketBody();
      return jiraSigned(`${body.slice(0, -1)},"webhookEvent":"jira:issue_updated"}`);
    },
    status: 204,
    effect: 'none',
  },
  {
    name: 'two issue keys, the last one of another project (the last wins: ignored)',
    delivery: () => {
      const body = ticketBody();
      const other = JSON.stringify(ticket({ project: 'OPS' }).issue);
      return jiraSigned(`${body.slice(0, -1)},"issue":${other}}`);
    },
    status: 204,
    effect: 'none',
  },
  {
    name: 'signed arrays nested 10,000 deep',
    delivery: () => jiraSigned(deepArrays),
    status: 400,
    effect: 'none',
  },
  {
    name: 'signed objects nested 10,000 deep (an unrecognised payload)',
    delivery: () => jiraSigned(deepObjects),
    status: 204,
    effect: 'none',
  },
  {
    name: 'a zero-width space inside webhookEvent (not an issue_created)',
    delivery: () => jiraSigned(ticketBody({ event: 'jira:issue_\u200Bcreated' })),
    status: 204,
    effect: 'none',
  },
  {
    name: 'a Cyrillic homoglyph in webhookEvent (not an issue_created)',
    delivery: () => jiraSigned(ticketBody({ event: 'jira:issue_cr\u0435ated' })),
    status: 204,
    effect: 'none',
  },
  {
    name: 'a zero-width space inside the signature header',
    delivery: () => {
      const body = ticketBody();
      const sig = jiraSig(body);
      return withJiraSignature(body, utf8(`${sig.slice(0, 20)}\u200B${sig.slice(20)}`));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a Cyrillic ѕ in the sha256= prefix',
    delivery: () => {
      const body = ticketBody();
      return withJiraSignature(body, utf8(jiraSig(body).replace('s', '\u0455')));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the body re-normalised to NFD after it was signed in NFC',
    delivery: () => {
      const body = ticketBody({ fields: { summary: 'Accès pour l’équipe' } });
      return withJiraSignature(body.normalize('NFD'), jiraSig(body.normalize('NFC')));
    },
    status: 401,
    effect: 'none',
  },
  {
    // A verified ticket whose reporter email uses a Cyrillic а: not the directory's Dana, so it is
    // stored REJECTED (the requester is told why), never queued for triage under Dana's name.
    name: 'a homoglyph in the reporter’s email (verified: rejected, not triaged)',
    delivery: () => jiraSigned(ticketBody({ key: realIssue(0), email: 'd\u0430na.reyes@example.com' })),
    status: 202,
    get effect() {
      return { rejected: realIssue(0) };
    },
    says: /"state":"REJECTED"/,
  },
  {
    name: 'upper-case header names (X-HUB-SIGNATURE) on a verified ticket of another project',
    delivery: () => {
      const body = otherProject();
      return {
        body,
        headers: [
          ['CONTENT-TYPE', 'application/json'],
          ['X-HUB-SIGNATURE', jiraSig(body)],
        ],
      };
    },
    status: 204,
    effect: 'none',
  },
  {
    name: 'a list of two signatures, neither matching',
    delivery: () => withJiraSignature(ticketBody(), `sha256=${forgedHex()},sha256=${forgedHex()}`),
    status: 401,
    effect: 'none',
  },
  {
    // The Function URL joins repeated headers with commas; Jira sends one, so a list is refused.
    name: 'two X-Hub-Signature headers, one forged and one valid',
    delivery: () => {
      const body = ticketBody();
      return {
        body,
        headers: [json, ['x-hub-signature', `sha256=${forgedHex()}`], ['x-hub-signature', jiraSig(body)]],
      };
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a 20 KB header (refused by the HTTP server before the function)',
    delivery: () => jiraSigned(ticketBody(), [['x-padding', 'p'.repeat(20 * 1024)]]),
    status: 431,
    effect: 'none',
  },
  {
    name: 'an 8 KB junk header on a verified ticket of another project',
    delivery: () => jiraSigned(otherProject(), [['x-padding', 'p'.repeat(8 * 1024)]]),
    status: 204,
    effect: 'none',
  },
  {
    name: 'a verified, unknown event type (jira:issue_deleted)',
    delivery: () => jiraSigned(ticketBody({ event: 'jira:issue_deleted' })),
    status: 204,
    effect: 'none',
  },
  {
    name: 'a verified comment that is conversation, on an issue loopgate does not know',
    delivery: () =>
      jiraSigned(
        JSON.stringify({
          webhookEvent: 'comment_created',
          issue: { key: nextKey() },
          comment: { id: '10001', author: { accountId: danaAccountId }, body: 'thanks!' },
        }),
      ),
    status: 204,
    effect: 'claim',
  },
  {
    // Jira's payload carries a timestamp, but the handler keeps no replay window: delivery ids and
    // issue keys make a replay harmless (see the replay row). Ten years old is still processed.
    name: 'a verified ticket of another project with a ten-year-old timestamp',
    delivery: () =>
      jiraSigned(
        JSON.stringify({ ...ticket({ project: 'OPS' }), timestamp: Date.now() - 10 * 365 * 86_400_000 }),
      ),
    status: 204,
    effect: 'none',
  },
  {
    name: 'a verified issue without fields',
    delivery: () =>
      jiraSigned(JSON.stringify({ webhookEvent: 'jira:issue_created', issue: { id: '1', key: nextKey() } })),
    status: 400,
    effect: 'none',
    says: /malformed issue at issue\.fields/,
  },
  {
    name: 'a verified issue whose key is a number',
    delivery: () => {
      const t = ticket();
      return jiraSigned(JSON.stringify({ ...t, issue: { ...t.issue, key: 8123 } }));
    },
    status: 400,
    effect: 'none',
  },
  {
    name: 'a verified issue whose project is a string',
    delivery: () => jiraSigned(ticketBody({ fields: { project: 'ACCESS' } })),
    status: 400,
    effect: 'none',
  },
  {
    name: 'a verified issue whose reporter is a string',
    delivery: () => jiraSigned(ticketBody({ fields: { reporter: 'dana' } })),
    status: 400,
    effect: 'none',
  },
  {
    name: 'a verified comment event without an author',
    delivery: () =>
      jiraSigned(
        JSON.stringify({
          webhookEvent: 'comment_created',
          issue: { key: nextKey() },
          comment: { id: '1', body: 'revoke' },
        }),
      ),
    status: 400,
    effect: 'none',
  },
  {
    name: 'the same delivery id replayed: acknowledged once, counted once',
    prepare: replayedJiraDelivery.first,
    delivery: replayedJiraDelivery.again,
    status: 200,
    effect: 'none',
    says: /duplicate delivery: already handled/,
  },
];

/** Rows that found bugs (now fixed): each comment says what went wrong before. */
const jiraBugs: Variant[] = [
  {
    // Was a bug: adfToText (lambdas/core/adf.ts) recurses once per level; ~5,000 levels overflow the stack,
    // the RangeError becomes a 500, and Jira retries the same delivery for half an hour.
    // Right: read it (the ticket names no reason: REJECTED, 202) or refuse it as malformed (400).
    name: 'a verified ticket whose ADF description is nested 6,000 paragraphs deep',
    delivery: () =>
      jiraSigned(
        ticketBody({ key: realIssue(1), fields: { description: '@ADF@' } }).replace('"@ADF@"', deepAdf(6000)),
      ),
    status: [202, 400],
    get effect() {
      return { rejected: realIssue(1) };
    },
  },
  {
    // Was a bug: the delivery id goes into the claim's partition key unbounded (schema.ts keys.delivery);
    // over 2,048 bytes DynamoDB refuses the write and intake answers 500, so Jira retries it.
    // The header is not signed: anyone replaying a captured delivery can choose it.
    name: 'a 3 KB X-Atlassian-Webhook-Identifier on a verified comment',
    delivery: () => {
      const body = JSON.stringify({
        webhookEvent: 'comment_created',
        issue: { key: nextKey() },
        comment: { id: '10002', author: { accountId: danaAccountId }, body: 'thanks!' },
      });
      return {
        body,
        headers: [
          json,
          ['x-hub-signature', jiraSig(body)],
          ['x-atlassian-webhook-identifier', 'd'.repeat(3000)],
        ],
      };
    },
    status: [204, 400],
    effect: 'claim',
  },
  {
    // Was a bug: an unknown entitlement is stored as typed; its byEntitlement index key (ENTITLEMENT#<id>)
    // over 2,048 bytes makes the create transaction fail: 500, Jira retries, the requester never hears why.
    name: 'a verified ticket naming a 2,100-character entitlement in the custom field',
    delivery: () =>
      jiraSigned(
        ticketBody({
          key: realIssue(2),
          fields: { customfield_10050: 'x'.repeat(2100), description: 'Reason: INC-1' },
        }),
      ),
    status: 202,
    get effect() {
      return { rejected: realIssue(2) };
    },
  },
];

// --- pagerduty-webhook ----------------------------------------------------------

const replayedNote = (() => {
  let body = '';
  const id = randomUUID();
  return {
    first: async () => {
      body = JSON.stringify({ event: noteEvent(replayTarget, 'approve checked INC-4412') });
      const answer = await rawRequest(sandbox.webhookUrl('pagerduty'), {
        body,
        headers: [json, ['x-pagerduty-signature', pdSig(body)], ['x-webhook-id', id]],
      });
      expect(answer.status, answer.body).toBe(202);
      await sandbox.settled();
    },
    sameId: (): Delivery => ({
      body,
      headers: [json, ['x-pagerduty-signature', pdSig(body)], ['x-webhook-id', id]],
    }),
    newId: (): Delivery => pdSigned(body),
  };
})();

const pdVariants: Variant[] = [
  {
    name: 'a forged signature',
    delivery: () => withPdSignature(approveNote(), `v1=${forgedHex()}`),
    status: 401,
    effect: 'none',
  },
  {
    name: 'no signature header',
    delivery: () => ({ body: approveNote(), headers: [json] }),
    status: 401,
    effect: 'none',
  },
  {
    name: 'an empty signature header',
    delivery: () => withPdSignature(approveNote(), ''),
    status: 401,
    effect: 'none',
  },
  {
    name: 'the right digest under the v0= scheme',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(body, pdSig(body).replace('v1=', 'v0='));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the right digest under Jira’s sha256= scheme',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(body, `sha256=${hmac(sandbox.secrets.pagerduty[0] ?? '', body)}`);
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the right digest without a scheme',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(body, hmac(sandbox.secrets.pagerduty[0] ?? '', body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a valid signature of another body',
    delivery: () => withPdSignature(approveNote(), pdSig(approveNote())),
    status: 401,
    effect: 'none',
  },
  {
    name: 'a signature by a rotated-out secret',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(body, pdSig(body, retiredSecret));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a signature by the Jira webhook secret',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(body, pdSig(body, sandbox.secrets.jira));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the body truncated, with the original signature',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(body.slice(0, -2), pdSig(body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'trailing bytes after the signed body',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(`${body} `, pdSig(body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a second event appended after the signed body',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(`${body}\n${approveNote()}`, pdSig(body));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a signed body one byte over 128 KB',
    delivery: () => {
      const base = approveNote();
      const body = `${base.slice(0, -1)},"padding":"${'x'.repeat(MAX_PAGERDUTY_BODY_BYTES - base.length - 12)}"}`;
      expect(Buffer.byteLength(body)).toBe(MAX_PAGERDUTY_BODY_BYTES + 1);
      return pdSigned(body);
    },
    status: 413,
    effect: 'none',
  },
  {
    name: 'an unsigned 1 MB body',
    delivery: () => ({ body: 'x'.repeat(1024 * 1024), headers: [json] }),
    status: 413,
    effect: 'none',
  },
  {
    name: 'a forged signature sent as text/plain',
    delivery: () => ({
      body: approveNote(),
      headers: [
        ['content-type', 'text/plain'],
        ['x-pagerduty-signature', `v1=${forgedHex()}`],
      ],
    }),
    status: 401,
    effect: 'none',
  },
  {
    name: 'a verified acknowledgement sent as application/octet-stream (base64 to the function)',
    delivery: () => {
      const body = pdEvent({ event_type: 'incident.acknowledged', data: { id: paged.incidentId } });
      return {
        body,
        headers: [
          ['content-type', 'application/octet-stream'],
          ['x-pagerduty-signature', pdSig(body)],
        ],
      };
    },
    status: 202,
    effect: 'none',
  },
  {
    name: 'an empty unsigned body',
    delivery: () => ({ body: '', headers: [json] }),
    status: 401,
    effect: 'none',
  },
  { name: 'a GET with no body', delivery: () => ({ method: 'GET' }), status: 401, effect: 'none' },
  {
    name: 'an empty body, signed',
    delivery: () => pdSigned(''),
    status: 202,
    effect: 'none',
    says: /not JSON/,
  },
  {
    name: 'signed text that is not JSON',
    delivery: () => pdSigned('event=incident.annotated'),
    status: 202,
    effect: 'none',
  },
  {
    name: 'a signed JSON array',
    delivery: () => pdSigned(`[${approveNote()}]`),
    status: 202,
    effect: 'none',
  },
  { name: 'signed JSON null', delivery: () => pdSigned('null'), status: 202, effect: 'none' },
  { name: 'a signed JSON number', delivery: () => pdSigned('1e309'), status: 202, effect: 'none' },
  {
    // The last "event" wins (JSON.parse), and the signature covers the raw bytes: one reading only.
    name: 'two event keys, the last one an acknowledgement (the last wins: ignored)',
    delivery: () => {
      const ack = JSON.stringify({
        ...noteEvent(paged),
        event_type: 'incident.acknowledged',
        data: { id: paged.incidentId },
      });
      return pdSigned(`${approveNote().slice(0, -1)},"event":${ack}}`);
    },
    status: 202,
    effect: 'none',
    says: /incident\.acknowledged is not an event loopgate acts on/,
  },
  {
    name: 'signed arrays nested 10,000 deep',
    delivery: () => pdSigned(deepArrays),
    status: 202,
    effect: 'none',
  },
  {
    name: 'signed objects nested 10,000 deep',
    delivery: () => pdSigned(deepObjects),
    status: 202,
    effect: 'none',
  },
  {
    name: 'a note whose data is nested 10,000 deep',
    delivery: () =>
      pdSigned(
        JSON.stringify({ event: noteEvent(paged) }).replace(/"data":\{.*\}\}\}$/, `"data":${deepObjects}}}`),
      ),
    status: 202,
    effect: 'none',
  },
  {
    name: 'a zero-width space inside event_type',
    delivery: () => pdSigned(pdEvent({ event_type: 'incident.\u200Bannotated' })),
    status: 202,
    effect: 'none',
  },
  {
    name: 'a Cyrillic homoglyph in event_type',
    delivery: () => pdSigned(pdEvent({ event_type: 'incident.\u0430nnotated' })),
    status: 202,
    effect: 'none',
  },
  {
    name: 'event_type in upper case',
    delivery: () => pdSigned(pdEvent({ event_type: 'INCIDENT.ANNOTATED' })),
    status: 202,
    effect: 'none',
  },
  {
    name: 'a zero-width space inside the signature header',
    delivery: () => {
      const body = approveNote();
      const sig = pdSig(body);
      return withPdSignature(body, utf8(`${sig.slice(0, 10)}\u200B${sig.slice(10)}`));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'a fullwidth ｖ in the v1= scheme',
    delivery: () => {
      const body = approveNote();
      return withPdSignature(body, utf8(pdSig(body).replace('v', '\uFF56')));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'the note re-normalised to NFD after it was signed in NFC',
    delivery: () => {
      const body = JSON.stringify({ event: noteEvent(paged, 'approve vérifié avec Dana') });
      return withPdSignature(body.normalize('NFD'), pdSig(body.normalize('NFC')));
    },
    status: 401,
    effect: 'none',
  },
  {
    name: 'upper-case header names on a verified acknowledgement',
    delivery: () => {
      const body = pdEvent({ event_type: 'incident.acknowledged', data: { id: paged.incidentId } });
      return {
        body,
        headers: [
          ['CONTENT-TYPE', 'application/json'],
          ['X-PAGERDUTY-SIGNATURE', pdSig(body)],
        ],
      };
    },
    status: 202,
    effect: 'none',
  },
  {
    name: 'a list of three v1= signatures, none matching',
    delivery: () => withPdSignature(approveNote(), `v1=${forgedHex()},v1=${forgedHex()}, v1=${forgedHex()}`),
    status: 401,
    effect: 'none',
  },
  {
    name: 'two signature headers, neither matching',
    delivery: () => ({
      body: approveNote(),
      headers: [
        json,
        ['x-pagerduty-signature', `v1=${forgedHex()}`],
        ['x-pagerduty-signature', `v1=${forgedHex()}`],
      ],
    }),
    status: 401,
    effect: 'none',
  },
  {
    // Joined by the Function URL into PagerDuty's own list form: any v1= may match (rotation).
    name: 'two signature headers, the second valid, on an acknowledgement',
    delivery: () => {
      const body = pdEvent({ event_type: 'incident.acknowledged', data: { id: paged.incidentId } });
      return {
        body,
        headers: [
          json,
          ['x-pagerduty-signature', `v1=${forgedHex()}`],
          ['x-pagerduty-signature', pdSig(body)],
        ],
      };
    },
    status: 202,
    effect: 'none',
  },
  {
    name: 'a 20 KB header (refused by the HTTP server before the function)',
    delivery: () => pdSigned(approveNote(), [['x-padding', 'p'.repeat(20 * 1024)]]),
    status: 431,
    effect: 'none',
  },
  {
    name: 'a verified, unknown event type',
    delivery: () => pdSigned(pdEvent({ event_type: 'incident.priority_updated' })),
    status: 202,
    effect: 'none',
    says: /not an event loopgate acts on/,
  },
  {
    name: 'a verified service event',
    delivery: () =>
      pdSigned(pdEvent({ event_type: 'service.created', resource_type: 'service', data: { id: 'PSVC' } })),
    status: 202,
    effect: 'none',
  },
  {
    name: 'a verified event without an id',
    delivery: () => pdSigned(pdEvent({ id: undefined })),
    status: 202,
    effect: 'none',
    says: /not a v3 webhook event/,
  },
  {
    name: 'a verified event whose data is a string',
    delivery: () => pdSigned(pdEvent({ data: 'approve' })),
    status: 202,
    effect: 'none',
  },
  {
    name: 'a verified note whose content is a number',
    delivery: () => {
      const event = noteEvent(paged);
      return pdSigned(JSON.stringify({ event: { ...event, data: { ...event.data, content: 1 } } }));
    },
    status: 202,
    effect: 'none',
    says: /an annotation without a note/,
  },
  {
    name: 'a verified note without its incident',
    delivery: () => {
      const event = noteEvent(paged);
      return pdSigned(JSON.stringify({ event: { ...event, data: { ...event.data, incident: undefined } } }));
    },
    status: 202,
    effect: 'none',
  },
  {
    name: 'a verified approval with no author (agent null)',
    delivery: () => pdSigned(pdEvent({ agent: null })),
    status: 202,
    effect: 'claim',
    logs: /the note has no author/,
  },
  {
    name: 'a verified approval on an incident that is not loopgate’s',
    delivery: () => {
      const event = noteEvent(paged);
      return pdSigned(
        JSON.stringify({ event: { ...event, data: { ...event.data, incident: { id: 'QNOTLOOPGATE01' } } } }),
      );
    },
    status: 202,
    effect: 'claim',
    logs: /not a loopgate page/,
  },
  {
    name: 'the same X-Webhook-Id replayed after an approval: acknowledged, counted once',
    prepare: replayedNote.first,
    delivery: replayedNote.sameId,
    status: 202,
    effect: 'none',
    logs: /duplicate event: already handled/,
  },
  {
    name: 'the same approval replayed under a new X-Webhook-Id: the note id is counted once',
    delivery: replayedNote.newId,
    status: 202,
    effect: 'none',
    logs: /duplicate event: already handled/,
  },
];

const pdBugs: Variant[] = [
  {
    // Was a bug: claimDelivery runs outside any try in pagerduty-webhook.ts; a delivery id over 2,048
    // bytes makes DynamoDB refuse the key, the handler rejects, and Lambda answers 502: PagerDuty
    // retries for 48 h. The header is not covered by the signature, so any captured delivery will do.
    name: 'a 3 KB X-Webhook-Id on a verified note about another incident',
    delivery: () => {
      const event = noteEvent(paged);
      const body = JSON.stringify({
        event: { ...event, data: { ...event.data, incident: { id: 'QNOTLOOPGATE02' } } },
      });
      return {
        body,
        headers: [json, ['x-pagerduty-signature', pdSig(body)], ['x-webhook-id', 'w'.repeat(3000)]],
      };
    },
    status: 202,
    effect: 'claim',
  },
];

// --- the tables ------------------------------------------------------------------

describe('jira-webhook under hostile deliveries', () => {
  it.each([...jiraVariants, ...jiraBugs].map((v) => [v.name, v] as const))('%s', async (_, variant) => {
    await run('jira', variant);
  });
});

describe('pagerduty-webhook under hostile deliveries', () => {
  it.each([...pdVariants, ...pdBugs].map((v) => [v.name, v] as const))('%s', async (_, variant) => {
    await run('pagerduty', variant);
  });

  it('left the paged request exactly as it was: PENDING, no decision', async () => {
    const request = await sandbox.store.get(paged.id);
    expect(request).toMatchObject({ state: 'PENDING', version: paged.version, decisions: [] });
    const replayed = await sandbox.store.get(replayTarget.id);
    expect(replayed?.decisions).toHaveLength(1);
  });
});
