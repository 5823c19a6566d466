// Properties of both webhook handlers over arbitrary bodies and headers, run
// in-process against a real DynamoDB Local table: never a thrown exception,
// never a 5xx for malformed input (every dependency here is up), nothing stored
// from a body whose signature does not verify, and a signed valid event changed
// by even one byte is always refused with 401. "Nothing stored" is checked once
// per property over the whole run: the table, the queue, the notes and the
// comments are the same after 1,000 deliveries as before.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entitlementById } from '../../lambdas/core/catalog';
import { MAX_JIRA_BODY_BYTES } from '../../lambdas/handlers/jira-webhook';
import { loadCatalogFile } from '../../lambdas/platform/catalog-file';
import { createTestTable, type TestTable } from '../support/dynamodb';
import {
  hubSignature,
  inProcessWorld,
  type InProcessWorld,
  JIRA_SECRETS,
  PAGERDUTY_SECRETS,
  pagerDutySignature,
  records,
} from './support/in-process';

const RUNS = { numRuns: 1000 };
const catalog = loadCatalogFile('config/catalog.yaml');

let table: TestTable;
let world: InProcessWorld;
/** A PENDING request paged as incident PINC0001: what a hostile note would try to decide. */
let pendingId: string;

beforeAll(async () => {
  table = await createTestTable();
  world = inProcessWorld(table);
  world.directory.users.set('dana@example.com', {
    id: '00u1dana',
    login: 'dana@example.com',
    email: 'dana@example.com',
    status: 'ACTIVE',
    displayName: 'Dana Reyes',
    createdAt: '2024-01-01T00:00:00.000Z',
  });
  world.tracker.users.set('acct-dana', {
    accountId: 'acct-dana',
    displayName: 'Dana',
    email: 'dana@example.com',
    active: true,
  });
  // PagerDuty users who may write notes: the requester, a bystander and loopgate itself. Nobody is on call.
  world.pager.users.set('PDANA', { id: 'PDANA', email: 'dana@example.com', name: 'Dana' });
  world.pager.users.set('PLEE', { id: 'PLEE', email: 'lee@example.com', name: 'Lee' });
  world.pager.users.set('PLOOP', { id: 'PLOOP', email: 'loopgate@example.com', name: 'loopgate' });

  const actor = { kind: 'system', id: 'test' } as const;
  const { request } = await world.store.create(
    {
      jiraIssueKey: 'ACCESS-1',
      requester: { jiraAccountId: 'acct-dana', email: 'dana@example.com', displayName: 'Dana Reyes' },
      entitlementId: 'okta-prod-readonly',
      durationSeconds: 3600,
      justification: 'INC-1',
      breakGlass: false,
    },
    { actor, reason: 'filed' },
  );
  const triaging = await world.store.transition({
    requestId: request.id,
    from: 'RECEIVED',
    to: 'TRIAGING',
    expectedVersion: 1,
    audit: { actor, reason: 'triage' },
  });
  await world.store.transition({
    requestId: request.id,
    from: 'TRIAGING',
    to: 'PENDING',
    expectedVersion: triaging.version,
    audit: { actor, reason: 'paged' },
    changes: { incidentId: 'PINC0001' },
  });
  pendingId = request.id;
}, 60_000);

afterAll(() => table?.drop());

/** Everything loopgate could have written, to compare before and after a run. */
async function writes() {
  return {
    keys: await world.snapshot(),
    queued: world.queue.sent.length,
    notes: world.pager.notes.length,
    comments: world.tracker.comments.length,
  };
}

// --- arbitraries ---------------------------------------------------------------------

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
/** Signature-looking values: right shape with a random digest, wrong schemes, lists, garbage. */
const signatureLike = fc.oneof(
  hex64.map((h) => `sha256=${h}`),
  hex64.map((h) => `v1=${h}`),
  fc.array(hex64, { minLength: 1, maxLength: 4 }).map((hs) => hs.map((h) => `v1=${h}`).join(',')),
  hex64.map((h) => `sha1=${h.slice(0, 40)}`),
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 80 }),
);
const headerName = fc.constantFrom(
  'x-hub-signature',
  'x-pagerduty-signature',
  'x-atlassian-webhook-identifier',
  'x-atlassian-webhook-retry',
  'x-webhook-id',
  'content-type',
  'x-loopgate-secret',
  'authorization',
);
const headers = fc.dictionary(headerName, fc.oneof(signatureLike, fc.uuid(), fc.string()), { maxKeys: 6 });

const jsonText = fc.json({ maxDepth: 6 });
const binary = fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b));
const anyValue = fc.anything({ maxDepth: 4, withNullPrototype: false });

/** Shapes close to what each vendor sends, with every field possibly wrong. */
const ticketLike = fc
  .record(
    {
      webhookEvent: fc.oneof(
        fc.constantFrom(
          'jira:issue_created',
          'jira:issue_updated',
          'comment_created',
          'jira:issue_created\u200B',
        ),
        fc.string(),
      ),
      issue: fc.record(
        {
          id: fc.oneof(fc.string(), fc.integer(), anyValue),
          key: fc.oneof(
            fc.constantFrom('ACCESS-7', 'OPS-7', 'access-7'),
            fc.stringMatching(/^[A-Z]{1,6}-\d{1,5}$/),
            anyValue,
          ),
          fields: fc.record(
            {
              summary: fc.oneof(fc.string(), anyValue),
              description: fc.oneof(
                fc
                  .record({
                    entitlement: fc.oneof(
                      fc.constantFrom(...catalog.entitlements.map((e) => e.id)),
                      fc.string(),
                    ),
                    duration: fc.oneof(fc.constantFrom('1h', '4h', '7d', '30d', '0m'), fc.string()),
                    reason: fc.string(),
                  })
                  .map((p) => `Entitlement: ${p.entitlement}\nDuration: ${p.duration}\nReason: ${p.reason}`),
                anyValue,
              ),
              reporter: fc.oneof(
                fc.constant({ accountId: 'acct-dana' }),
                fc.record({ accountId: fc.string(), emailAddress: fc.oneof(fc.emailAddress(), fc.string()) }),
                anyValue,
              ),
              project: fc.oneof(fc.constant({ key: 'ACCESS' }), fc.record({ key: fc.string() }), anyValue),
              issuetype: fc.oneof(fc.constant({ name: 'Access Request' }), anyValue),
              labels: fc.oneof(fc.constant(['break-glass']), anyValue),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
      comment: fc.record({
        id: fc.oneof(fc.string(), fc.integer()),
        author: anyValue,
        body: fc.oneof(fc.string(), anyValue),
      }),
    },
    { requiredKeys: [] },
  )
  .map((t) => JSON.stringify(t));

const pdEventLike = fc
  .record(
    {
      id: fc.oneof(fc.uuid(), fc.string(), anyValue),
      event_type: fc.oneof(
        fc.constantFrom(
          'incident.annotated',
          'incident.resolved',
          'incident.acknowledged',
          'INCIDENT.ANNOTATED',
        ),
        fc.string(),
      ),
      occurred_at: fc.oneof(fc.constant('2026-11-21T09:00:00Z'), fc.string(), anyValue),
      agent: fc.oneof(
        fc.record({
          id: fc.constantFrom('PDANA', 'PLEE', 'PLOOP', 'PNOBODY'),
          type: fc.constant('user_reference'),
        }),
        fc.constant(null),
        anyValue,
      ),
      data: fc.oneof(
        fc.record(
          {
            id: fc.oneof(fc.constantFrom('PINC0001', 'PNOTE1'), fc.string(), anyValue),
            content: fc.oneof(
              fc.constantFrom(
                'approve',
                'deny no',
                'approve 30d',
                'info who?',
                'revoke',
                'extend 1h',
                '/APPROVE',
              ),
              fc.string(),
              anyValue,
            ),
            trimmed: fc.oneof(fc.boolean(), anyValue),
            incident: fc.oneof(fc.constant({ id: 'PINC0001' }), fc.record({ id: fc.string() }), anyValue),
          },
          { requiredKeys: [] },
        ),
        anyValue,
      ),
    },
    { requiredKeys: [] },
  )
  .map((event) => JSON.stringify({ event }));

/** Tickets that are right in shape, so intake goes all the way to the store, with any request in them. */
const plausibleTicket = fc
  .record({
    key: fc.stringMatching(/^ACCESS-[1-9]\d{1,5}$/),
    entitlement: fc.oneof(fc.constantFrom(...catalog.entitlements.map((e) => e.id)), fc.string()),
    duration: fc.oneof(fc.constantFrom('1h', '4h', '7d', '30d', '0m', '2w'), fc.string()),
    reason: fc.string({ unit: 'binary' }),
    reporter: fc.oneof(
      fc.constant({ accountId: 'acct-dana' }),
      fc.constant({ accountId: 'acct-x', emailAddress: 'DANA@example.com' }),
      fc.record({ accountId: fc.string({ minLength: 1 }), emailAddress: fc.emailAddress() }),
    ),
    labels: fc.array(fc.constantFrom('break-glass', 'x'), { maxLength: 2 }),
  })
  .map((t) =>
    JSON.stringify({
      webhookEvent: 'jira:issue_created',
      issue: {
        id: '1',
        key: t.key,
        fields: {
          summary: 'Access',
          description: `Entitlement: ${t.entitlement}\nDuration: ${t.duration}\nReason: ${t.reason}`,
          reporter: t.reporter,
          project: { key: 'ACCESS' },
          issuetype: { name: 'Access Request' },
          labels: t.labels,
        },
      },
    }),
  );

/** Notes that are right in shape, on the paged incident, by known and unknown authors. */
const plausibleNote = fc
  .record({
    noteId: fc.string({ minLength: 1 }),
    agent: fc.constantFrom('PDANA', 'PLEE', 'PLOOP', 'PNOBODY'),
    content: fc.oneof(
      fc.constantFrom(
        'approve',
        'deny not today',
        'approve 30d',
        'info which incident?',
        'revoke',
        'extend 1h',
        '/APPROVE',
        'approve 0m',
      ),
      fc.string({ unit: 'binary' }),
    ),
    type: fc.constantFrom('incident.annotated', 'incident.resolved'),
  })
  .map((n) =>
    JSON.stringify({
      event: {
        id: n.noteId,
        event_type: n.type,
        occurred_at: '2026-11-21T09:00:00Z',
        agent: { id: n.agent, type: 'user_reference' },
        data:
          n.type === 'incident.resolved'
            ? { id: 'PINC0001' }
            : { id: n.noteId, content: n.content, trimmed: false, incident: { id: 'PINC0001' } },
      },
    }),
  );

const jiraBodies = fc.oneof(plausibleTicket, ticketLike, jsonText, fc.string({ unit: 'binary' }), binary);
const pdBodies = fc.oneof(plausibleNote, pdEventLike, jsonText, fc.string({ unit: 'binary' }), binary);

/** A change of one or a few bytes: replace, insert or delete at some position; never the identity. */
function mutated(original: Buffer) {
  return fc
    .record({
      kind: fc.constantFrom('replace', 'insert', 'delete', 'append', 'truncate'),
      at: fc.nat({ max: original.length - 1 }),
      byte: fc.integer({ min: 0, max: 255 }),
      count: fc.integer({ min: 1, max: 4 }),
    })
    .map(({ kind, at, byte, count }) => {
      const copy = Buffer.from(original);
      switch (kind) {
        case 'replace':
          copy[at] = (copy[at] ?? 0) ^ (byte || 1);
          return copy;
        case 'insert':
          return Buffer.concat([copy.subarray(0, at), Buffer.alloc(count, byte), copy.subarray(at)]);
        case 'delete':
          return Buffer.concat([copy.subarray(0, at), copy.subarray(at + count)]);
        case 'append':
          return Buffer.concat([copy, Buffer.alloc(count, byte)]);
        case 'truncate':
          return copy.subarray(0, Math.max(0, copy.length - count));
      }
    })
    .filter((m) => !m.equals(original));
}

// --- properties ------------------------------------------------------------------------

const answerOf = (r: { statusCode: number; body: string }) => `${r.statusCode} ${r.body}`;

describe('jira-webhook', () => {
  it('refuses every unsigned or forged delivery with 401 (413 when oversized) and stores nothing', async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(jiraBodies, headers, async (body, hs) => {
        const response = await world.jira(body, hs);
        expect([401, 413], answerOf(response)).toContain(response.statusCode);
      }),
      RUNS,
    );
    expect(await writes()).toEqual(before);
  });

  it('answers any correctly signed body without a 5xx, and stores only valid requests', async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(
        jiraBodies,
        fc.constantFrom(...JIRA_SECRETS),
        fc.option(fc.uuid(), { nil: undefined }),
        async (body, secret, deliveryId) => {
          const response = await world.jira(body, {
            'x-hub-signature': hubSignature(body, secret),
            ...(deliveryId ? { 'x-atlassian-webhook-identifier': deliveryId } : {}),
          });
          expect([200, 202, 204, 400, 409], answerOf(response)).toContain(response.statusCode);
        },
      ),
      RUNS,
    );
    // Whatever was stored is a request intake could stand behind: valid and queued for triage, or REJECTED.
    const after = await writes();
    const created = records(after.keys).filter((k) => k.endsWith('|REQUEST|1') && !before.keys.includes(k));
    expect(created.length, 'the run should have reached the store').toBeGreaterThan(0);
    for (const key of created) {
      const request = await world.store.get(key.split('|')[0]?.replace('REQUEST#', '') ?? '');
      // A later signed delivery of the same issue key may reject it; nothing else moves it here.
      if (request?.state === 'REJECTED') continue;
      expect(request?.state).toBe('RECEIVED');
      const entitlement = entitlementById(catalog, request?.entitlementId ?? '');
      expect(entitlement, request?.entitlementId).toBeDefined();
      expect(request?.durationSeconds).toBeGreaterThan(0);
      expect(request?.durationSeconds).toBeLessThanOrEqual(entitlement?.duration.max ?? 0);
      expect(request?.justification.trim()).not.toBe('');
      expect(request?.requester.email).toBe('dana@example.com');
    }
    // Only triage is ever queued, and every request still waiting for it was queued.
    const queued = new Set(world.queue.sent.slice(before.queued).map((m) => m.message.requestId));
    expect(world.queue.sent.slice(before.queued).every((m) => m.queue === 'triage')).toBe(true);
    for (const key of created) {
      const request = await world.store.get(key.split('|')[0]?.replace('REQUEST#', '') ?? '');
      if (request?.state === 'RECEIVED') expect(queued.has(request.id)).toBe(true);
    }
  });

  it('refuses a signed valid ticket changed by even one byte with 401', async () => {
    const ticket = Buffer.from(
      JSON.stringify({
        webhookEvent: 'jira:issue_created',
        issue: {
          id: '10',
          key: 'ACCESS-10',
          fields: {
            summary: 'Access',
            description: 'Entitlement: okta-prod-readonly\nReason: INC-10',
            reporter: { accountId: 'acct-dana' },
            project: { key: 'ACCESS' },
            issuetype: { name: 'Access Request' },
          },
        },
      }),
    );
    const signature = hubSignature(ticket);
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(mutated(ticket), fc.boolean(), async (body, asText) => {
        // As text when the bytes allow it (a JSON content type), base64 otherwise, as the Function URL does.
        const sent = asText && body.every((b) => b < 0x80) ? body.toString('utf8') : body;
        const response = await world.jira(sent, { 'x-hub-signature': signature });
        expect(response.statusCode, answerOf(response)).toBe(401);
      }),
      RUNS,
    );
    expect(await writes()).toEqual(before);
  });

  it('refuses an oversized body with 413 whatever it is signed with', async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), fc.boolean(), async (extra, signed) => {
        const body = 'x'.repeat(MAX_JIRA_BODY_BYTES + extra);
        const response = await world.jira(body, signed ? { 'x-hub-signature': hubSignature(body) } : {});
        expect(response.statusCode).toBe(413);
      }),
      { numRuns: 50 },
    );
    expect(await writes()).toEqual(before);
  });
});

describe('pagerduty-webhook', () => {
  it('refuses every unsigned or forged delivery with 401 (413 when oversized) and stores nothing', async () => {
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(pdBodies, headers, async (body, hs) => {
        const response = await world.pagerduty(body, hs);
        expect([401, 413], answerOf(response)).toContain(response.statusCode);
      }),
      RUNS,
    );
    expect(await writes()).toEqual(before);
  });

  it('answers any correctly signed body with a 2xx, and no signed body decides without an approver', async () => {
    const handledBefore = world.logLines.filter((l) => l.includes('"event handled"')).length;
    await fc.assert(
      fc.asyncProperty(
        pdBodies,
        fc.constantFrom(...PAGERDUTY_SECRETS),
        fc.option(fc.uuid(), { nil: undefined }),
        async (body, secret, webhookId) => {
          const response = await world.pagerduty(body, {
            'x-pagerduty-signature': pagerDutySignature(body, secret),
            ...(webhookId ? { 'x-webhook-id': webhookId } : {}),
          });
          // PagerDuty disables a subscription after repeated 4xx: every verified event gets a 2xx.
          expect(response.statusCode, answerOf(response)).toBe(202);
        },
      ),
      RUNS,
    );
    // Some events were acted on (refusals, syntax help, a cancel on resolve), not only ignored.
    expect(world.logLines.filter((l) => l.includes('"event handled"')).length).toBeGreaterThan(handledBefore);
    // Nobody here may approve (no one is on call, no listed approver): nothing was decided. Refusals
    // are audited as security events and a resolved incident cancels the request, both by design.
    const after = await world.store.get(pendingId);
    expect(after?.decisions).toEqual([]);
    expect(['PENDING', 'CANCELLED']).toContain(after?.state);
    const trail = await world.store.listAuditEvents(pendingId);
    expect(trail.filter((e) => e.to === 'APPROVED' || e.to === 'DENIED' || e.to === 'GRANTED')).toEqual([]);
    expect(world.queue.sent.filter((m) => m.queue !== 'triage')).toEqual([]);
  });

  it('refuses a signed valid approval changed by even one byte with 401', async () => {
    const note = Buffer.from(
      JSON.stringify({
        event: {
          id: '01EVENT',
          event_type: 'incident.annotated',
          resource_type: 'incident',
          occurred_at: '2026-11-21T09:00:00Z',
          agent: { id: 'PLEE', type: 'user_reference' },
          client: null,
          data: {
            id: 'PNOTE9',
            content: 'approve',
            trimmed: false,
            incident: { id: 'PINC0001' },
            type: 'incident_note',
          },
        },
      }),
    );
    const signature = pagerDutySignature(note);
    const before = await writes();
    await fc.assert(
      fc.asyncProperty(mutated(note), fc.boolean(), async (body, asText) => {
        const sent = asText && body.every((b) => b < 0x80) ? body.toString('utf8') : body;
        const response = await world.pagerduty(sent, {
          'x-pagerduty-signature': signature,
          'x-webhook-id': 'w1',
        });
        expect(response.statusCode, answerOf(response)).toBe(401);
      }),
      RUNS,
    );
    expect(await writes()).toEqual(before);
  });
});
