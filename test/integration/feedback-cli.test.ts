// `loopgate report` and `loopgate export-feedback` over requests decided in
// DynamoDB Local: the model's advice stored next to the people's decisions.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportFeedbackCommand, reportCommand } from '../../bin/feedback';
import { DynamoRequestStore } from '../../lambdas/connectors/dynamodb/request-store';
import type { AccessRequest, AdviceSummary, Decision, RequestState } from '../../lambdas/core/model';
import { loadCatalogFile } from '../../lambdas/platform/catalog-file';
import { TestClock } from '../support/clock';
import { createTestTable, type TestTable } from '../support/dynamodb';
import { auditBy, newRequest } from '../support/requests';

let table: TestTable;
let store: DynamoRequestStore;
let dir: string;
const catalog = loadCatalogFile('config/catalog.yaml');
const messages = [
  { role: 'system', content: 'You advise.' },
  { role: 'user', content: '<request>\nRequest …\n</request>' },
];

beforeAll(async () => {
  table = await createTestTable();
  store = new DynamoRequestStore({
    client: table.client,
    tableName: table.tableName,
    clock: new TestClock(),
  });
  dir = mkdtempSync(join(tmpdir(), 'loopgate-feedback-'));
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await table.drop();
});

/** A request taken through triage (with advice) to a decision by people. */
async function decide(entitlementId: string, advice: AdviceSummary, to: RequestState, decisions: Decision[]) {
  let { request } = await store.create(newRequest({ entitlementId }), auditBy('filed'));
  const step = async (
    next: RequestState,
    changes: Partial<AccessRequest> = {},
    evidence?: Record<string, unknown>,
  ) => {
    request = await store.transition({
      requestId: request.id,
      from: request.state,
      to: next,
      expectedVersion: request.version,
      audit: { ...auditBy(`to ${next}`), ...(evidence ? { evidence } : {}) },
      changes,
    });
  };
  await step('TRIAGING');
  await step('TRIAGING', { advice }, { advice: { status: advice.status, messages } });
  await step('PENDING');
  await step(to, { decisions });
}

const person = (outcome: Decision['outcome'], comment: string): Decision => ({
  outcome,
  actor: { kind: 'person', id: 'ops@example.com' },
  decidedAt: '2026-11-20T10:00:00.000Z',
  comment,
});
const advised = (recommendation: 'approve' | 'deny'): AdviceSummary => ({
  status: 'advised',
  recommendation,
  confidence: 0.8,
  model: 'gpt-4o-mini',
  promptVersion: 'p-abc',
});

describe('the feedback loop', () => {
  beforeAll(async () => {
    await decide('okta-prod-readonly', advised('approve'), 'APPROVED', [person('approve', 'on call, fine')]);
    await decide('okta-prod-readonly', advised('approve'), 'DENIED', [person('deny', 'No change ticket')]);
    await decide(
      'aws-logs-read',
      { status: 'unavailable', reason: 'timeout', promptVersion: 'p-abc' },
      'DENIED',
      [person('deny', 'wrong team')],
    );
  });

  it('reports agreement by entitlement and prompt version, and why people disagreed', async () => {
    let text = '';
    expect(await reportCommand({ store, catalog }, { json: false, limit: 100 }, (t) => (text += t))).toBe(0);
    expect(text).toMatch(/^aws-logs-read\s+p-abc\s+1\s+0\s+0\s+0\s+1\s+-$/m);
    expect(text).toMatch(/^okta-prod-readonly\s+p-abc\s+2\s+1\s+1\s+0\s+0\s+50%$/m);
    expect(text).toMatch(/^all\s+3\s+1\s+1\s+0\s+1\s+50%$/m);
    expect(text).toContain('  1×  No change ticket');
    // The one approved request's justification, studied; the denied ones are left out.
    expect(text).toContain('Why people ask (justifications of approved and audit-only requests):');
    expect(text).toMatch(/^ {2}okta-prod-readonly \(1 granted\): tickets /m);
    expect(text).not.toMatch(/^ {2}aws-logs-read \(/m);

    let json = '';
    await reportCommand({ store, catalog }, { json: true, limit: 100 }, (t) => (json += t));
    expect(JSON.parse(json).justifications).toEqual([
      expect.objectContaining({ entitlementId: 'okta-prod-readonly', requests: 1 }),
    ]);
    expect(JSON.parse(json).totals).toEqual({
      decided: 3,
      agreed: 1,
      disagreed: 1,
      needsInfo: 0,
      unavailable: 1,
    });
  });

  it('exports each decided request as a chat example: the recorded prompt and the decision', async () => {
    const file = join(dir, 'feedback.jsonl');
    let note = '';
    expect(await exportFeedbackCommand({ store, catalog }, { file, limit: 100 }, (t) => (note += t))).toBe(0);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.messages.slice(0, 2)).toEqual(messages);
      expect(line.messages[2].role).toBe('assistant');
    }
    expect(lines.map((l) => JSON.parse(l.messages[2].content).recommendation).sort()).toEqual([
      'approve',
      'deny',
      'deny',
    ]);
    expect(note).toBe(`wrote 3 examples to ${file}\n`);
  });
});
