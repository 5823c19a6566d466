// `npm run bench -- export`: seeds decided requests (each with a five-event trail) into the
// sandbox's DynamoDB Local and runs `loopgate audit export` on them in a child process, at 1,000
// and then 10,000 requests: wall time, rows, bytes, and the child's peak RSS, which stays about
// the same as the table grows ten times (the export holds a page, not the table).

import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { indexAttributes, keys } from '../../lambdas/connectors/dynamodb/schema';
import type { AccessRequest, AuditEvent } from '../../lambdas/core/model';
import { localClientConfig } from '../../sandbox/dynamodb-local';
import type { Sandbox } from '../../sandbox/world';

const ENTITLEMENTS = ['okta-prod-readonly', 'okta-prod-admin', 'aws-logs-read', 'aws-prod-db-connect'];

function seeded(i: number, start: number): { request: AccessRequest; trail: AuditEvent[] } {
  const id = randomUUID();
  const at = (s: number) => new Date(start + i * 60_000 + s * 1000).toISOString();
  const denied = i % 7 === 0;
  const person = `person${i % 50}@example.com`;
  const request: AccessRequest = {
    id,
    jiraIssueKey: `ACCESS-${100_000 + i}`,
    requester: { jiraAccountId: `acc-${i % 50}`, directoryUserId: `00u${i % 50}`, email: person },
    entitlementId: ENTITLEMENTS[i % ENTITLEMENTS.length] as string,
    durationSeconds: 3600,
    justification: `INC-${i}: checkout, payments "degraded"\nsee the runbook`,
    breakGlass: false,
    state: denied ? 'DENIED' : 'REVOKED',
    version: 5,
    createdAt: at(0),
    updatedAt: at(3700),
    incidentId: `P${i}`,
    advice: {
      status: 'advised',
      recommendation: i % 5 === 0 ? 'deny' : 'approve',
      confidence: 0.8,
      model: 'gpt-4o-mini',
      promptVersion: 'p-000000000001',
    },
    decisions: [
      {
        outcome: denied ? 'deny' : 'approve',
        actor: { kind: 'person', id: 'priya.nair@example.com', personId: '00upriya' },
        decidedAt: at(90),
        sourceId: `N${i}`,
      },
    ],
    ...(denied
      ? {}
      : {
          grant: {
            action: 'okta-group' as const,
            principal: `00u${i % 50}`,
            target: '00g1prodreadonly0001',
            grantedAt: at(95),
            expiresAt: at(3695),
          },
        }),
  };
  const event = (
    version: number,
    from: AuditEvent['from'],
    to: AuditEvent['to'],
    s: number,
    evidence = {},
  ) => ({
    requestId: id,
    version,
    at: at(s),
    ...(from ? { from } : {}),
    to,
    actor: { kind: 'system' as const, id: 'bench' },
    reason: 'seeded',
    evidence,
  });
  const trail: AuditEvent[] = [
    event(1, undefined, 'RECEIVED', 0),
    event(2, 'RECEIVED', 'TRIAGING', 1),
    event(3, 'TRIAGING', 'PENDING', 20, {
      bundle: { facts: ['a', 'b'] },
      advice: { inputDigest: `sha256:${'0'.repeat(64)}` },
      incident: { id: `P${i}`, url: `https://example.pagerduty.com/incidents/P${i}` },
    }),
    event(4, 'PENDING', denied ? 'DENIED' : 'APPROVED', 90, { noteId: `N${i}`, authorizedAs: 'on-call' }),
    ...(denied ? [] : [event(5, 'APPROVED', 'GRANTED', 95), event(6, 'GRANTED', 'REVOKED', 3700)]),
  ];
  return { request, trail };
}

async function seed(client: DynamoDBDocumentClient, table: string, from: number, to: number, start: number) {
  const batch: Record<string, unknown>[] = [];
  const flush = async () => {
    while (batch.length) {
      const chunk = batch.splice(0, 25);
      let pending: Record<string, unknown>[] = chunk.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length) {
        const out = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = (out.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      }
    }
  };
  for (let i = from; i < to; i++) {
    const { request, trail } = seeded(i, start);
    batch.push({ ...keys.request(request.id), entity: 'request', ...request, ...indexAttributes(request) });
    for (const e of trail) batch.push({ ...keys.audit(e.requestId, e.version), entity: 'audit', ...e });
    if (batch.length >= 500) await flush();
  }
  await flush();
}

function exportOnce(sandbox: Sandbox, file: string) {
  const env = sandbox.loopgateEnvironment();
  const started = performance.now();
  const { stderr } = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/bench/export-child.ts',
      '--since',
      '2000-01-01',
      '--until',
      '2999-01-01',
      '--out',
      file,
    ],
    {
      env: {
        ...process.env,
        LOOPGATE_TABLE_NAME: env.LOOPGATE_TABLE_NAME,
        LOOPGATE_DYNAMODB_ENDPOINT: env.LOOPGATE_DYNAMODB_ENDPOINT,
        LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID: env.LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID,
        LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY: env.LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY,
        AWS_REGION: 'us-east-1',
      },
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const wallMs = Math.round(performance.now() - started);
  const stats = JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}') as { maxRssMb: number; code: number };
  return { wallMs, bytes: statSync(file).size, peakRssMb: stats.maxRssMb, exitCode: stats.code };
}

export async function benchExport(sandbox: Sandbox, count: number, progress: (line: string) => void) {
  await sandbox.host.sqs.stopPolling();
  const env = sandbox.loopgateEnvironment();
  const base = new DynamoDBClient(localClientConfig(env.LOOPGATE_DYNAMODB_ENDPOINT ?? ''));
  const client = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
  const dir = mkdtempSync(join(tmpdir(), 'loopgate-bench-export-'));
  const start = Date.parse('2026-01-01T00:00:00Z');
  try {
    const small = Math.min(1000, count);
    progress(`export: seeding ${small} requests`);
    let started = performance.now();
    await seed(client, env.LOOPGATE_TABLE_NAME ?? '', 0, small, start);
    const seedSmallMs = performance.now() - started;
    progress('export: exporting');
    const first = { requests: small, ...exportOnce(sandbox, join(dir, 'small.csv')) };
    progress(`export: seeding ${count - small} more`);
    started = performance.now();
    await seed(client, env.LOOPGATE_TABLE_NAME ?? '', small, count, start);
    const seedMs = Math.round(seedSmallMs + performance.now() - started);
    progress('export: exporting');
    const full = { requests: count, ...exportOnce(sandbox, join(dir, 'full.csv')) };
    return { seededItems: count, seedMs, runs: [first, full] };
  } finally {
    base.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
