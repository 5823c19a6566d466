// The operator's commands (`loopgate requests`, `show`, `grants`, `revoke`,
// `cancel`) through the real command line, after the demo's four stories,
// reading a running sandbox's table (DynamoDB Local) and calling its SQS and
// STS the way they reach a deployed stage: text for people, JSON for scripts,
// and one clear line with exit 2 for bad input.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_COLUMNS } from '../../bin/audit-export';
import { runDemo } from '../../bin/demo/run';
import { type Io, run } from '../../bin/loopgate';
import type { AccessRequest } from '../../lambdas/core/model';
import { Sandbox } from '../../sandbox/world';
import { inChromium } from '../support/browser';
import { flow, until } from '../support/sandbox-flow';

let sandbox: Sandbox;
let granted: AccessRequest;
let pending: AccessRequest;
const saved: Record<string, string | undefined> = {};
const steps = flow(() => sandbox);

/** Sets a variable for the rest of the file (restored after it); undefined removes it. */
function setEnv(name: string, value: string | undefined) {
  if (!(name in saved)) saved[name] = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
  const demo = await runDemo(
    { out: () => {}, err: () => {}, interrupted: () => new Promise(() => {}) },
    { sandbox },
  );
  expect(demo.code).toBe(0);
  // The commands read the table and reach the queues, Okta and IAM through the same variables as
  // the functions, with an operator's AWS key (STS names its ARN).
  const env = sandbox.loopgateEnvironment();
  for (const [name, value] of Object.entries(env)) {
    if (
      /^(LOOPGATE_TABLE_NAME|LOOPGATE_DYNAMODB_ENDPOINT|AWS_REGION|LOOPGATE_(SQS|STS|IAM|IDENTITY_CENTER)_ENDPOINT|LOOPGATE_(REVOKE|DECIDE)_QUEUE_URL|LOOPGATE_JIRA_STATUS_CANCELLED|LOOPGATE_OKTA_(ORG_URL|TOKEN)|LOOPGATE_COMPANY_EMAIL_DOMAIN)$/.test(
        name,
      )
    )
      setEnv(name, value);
  }
  setEnv('LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID', sandbox.credentials.operator.accessKeyId);
  setEnv('LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY', sandbox.credentials.operator.secretAccessKey);
  const request = await steps.filed('dana', 'okta-prod-readonly', { duration: '2h' });
  await steps.note(request, 'priya', 'approve INC-4411 looks right');
  granted = await steps.inState(request.id, 'GRANTED');
  pending = await steps.filed('chloe', 'okta-prod-admin', { duration: '1h' });
}, 120_000);

afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await sandbox?.stop();
});

async function loopgate(...argv: string[]) {
  const io = { stdout: '', stderr: '' };
  const handle: Io = {
    out: (t) => {
      io.stdout += t;
    },
    err: (t) => {
      io.stderr += t;
    },
    interrupted: () => new Promise(() => {}),
  };
  const code = await run(argv, handle);
  return { code, ...io };
}

describe('loopgate requests', () => {
  it('lists requests newest first with their state and approvers so far', async () => {
    const { code, stdout } = await loopgate('requests');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KEY\s+REQUESTER\s+ENTITLEMENT\s+STATE\s+AGE\s+APPROVERS$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${pending.jiraIssueKey}\\s+chloe.martin@example.com\\s+okta-prod-admin\\s+PENDING\\s+\\S+\\s+-$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${granted.jiraIssueKey}\\s+dana.reyes@example.com\\s+okta-prod-readonly\\s+GRANTED\\s+\\S+\\s+priya.nair@example.com$`,
      ),
    );
  });

  it('filters by state, requester and entitlement, and gives scripts JSON', async () => {
    const byState = JSON.parse((await loopgate('requests', '--state', 'pending', '--json')).stdout);
    expect(byState.map((r: { key: string }) => r.key)).toEqual([pending.jiraIssueKey]);
    const byRequester = JSON.parse(
      (await loopgate('requests', '--requester', 'dana.reyes@example.com', '--json')).stdout,
    );
    // Dana's own request, and the demo's break-glass one before it.
    expect(byRequester).toEqual([
      expect.objectContaining({
        key: granted.jiraIssueKey,
        state: 'GRANTED',
        approvers: ['priya.nair@example.com'],
      }),
      expect.objectContaining({ entitlement: 'aws-prod-db-connect', requester: 'dana.reyes@example.com' }),
    ]);
    const byEntitlement = JSON.parse(
      (await loopgate('requests', '--entitlement', 'okta-prod-admin', '--json')).stdout,
    );
    // Chloe's, and the demo's two-approval story's.
    expect(byEntitlement.map((r: { key: string }) => r.key)).toHaveLength(2);
    expect(byEntitlement[0].key).toBe(pending.jiraIssueKey);
    expect((await loopgate('requests', '--since', '2999-01-01')).stdout).toBe('No requests match.\n');
  });
});

describe('loopgate show', () => {
  it('tells one request’s whole story, by Jira key or request id', async () => {
    const { code, stdout } = await loopgate('show', granted.jiraIssueKey);
    expect(code).toBe(0);
    expect(stdout).toContain(`${granted.jiraIssueKey}  okta-prod-readonly  GRANTED`);
    expect(stdout).toContain('decision     approve by priya.nair@example.com (person)');
    expect(stdout).toMatch(/grant {8}okta-group 00g1prodreadonly0001 to \S+, \S+ → \S+/);
    expect(stdout).toMatch(/page as sent: .*okta-prod-readonly/);
    expect(stdout).toMatch(/audit trail \(\d+ events\):/);
    expect(stdout).toMatch(/APPROVED → GRANTED\s+system:provision/);
    const byId = JSON.parse((await loopgate('show', granted.id, '--json')).stdout);
    expect(byId.request.jiraIssueKey).toBe(granted.jiraIssueKey);
    expect(byId.trail.length).toBeGreaterThan(3);
  });
});

describe('loopgate grants', () => {
  it('lists who holds what and until when, and what ends soon', async () => {
    const { code, stdout } = await loopgate('grants', '--active');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      new RegExp(
        `${granted.jiraIssueKey}\\s+dana.reyes@example.com\\s+okta-prod-readonly\\s+okta-group 00g1prodreadonly0001\\s+GRANTED`,
      ),
    );
    // The command counts from the machine's clock; the demo moved the sandbox's days ahead of it.
    const minutesLeft = Math.ceil((Date.parse(granted.grant?.expiresAt ?? '') - Date.now()) / 60_000);
    const within = (m: number) => loopgate('grants', '--expiring-within', `${m}m`, '--json');
    const soon = JSON.parse((await within(minutesLeft + 30)).stdout);
    expect(soon.map((g: { key: string }) => g.key)).toContain(granted.jiraIssueKey);
    const tooSoon = JSON.parse((await within(minutesLeft - 30)).stdout);
    expect(tooSoon.map((g: { key: string }) => g.key)).not.toContain(granted.jiraIssueKey);
  });
});

const OKTA_READONLY = '00g1prodreadonly0001';
const jiraStatus = (key: string) =>
  (
    sandbox.jira.state().issues.find((i) => (i as { key?: string }).key === key) as
      { fields?: { status?: { name?: string } } } | undefined
  )?.fields?.status?.name;

describe('loopgate revoke and cancel', () => {
  it('revokes a grant early through the revoke function, recorded with the operator’s ARN and told to people', async () => {
    const filed = await steps.filed('sam', 'okta-prod-readonly', { duration: '4h' });
    await steps.note(filed, 'priya', 'approve');
    const request = await steps.inState(filed.id, 'GRANTED');
    expect(await steps.oktaMembers(OKTA_READONLY)).toContain('sam.okafor@example.com');
    const operator = sandbox.credentials.operator.arn;

    const { code, stdout, stderr } = await loopgate(
      'revoke',
      request.jiraIssueKey,
      '--reason',
      'offboarding, per SEC-12',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(
      `${request.jiraIssueKey}: revoke queued, recorded as ${operator}. The revoke function removes the access; the incident and the ticket are told.\n`,
    );
    const asked = (await sandbox.store.listAuditEvents(request.id)).find(
      (e) => e.evidence?.command === 'revoke',
    );
    expect(asked?.actor).toEqual({ kind: 'person', id: operator });
    expect(asked?.reason).toBe(`early revoke asked by operator ${operator}: offboarding, per SEC-12`);
    expect(asked?.evidence?.operator).toMatchObject({
      arn: operator,
      account: sandbox.scenario.aws.accountId,
    });

    // The revoke function removes the access as at expiry; the decide function tells people.
    const revoked = await steps.inState(request.id, 'REVOKED');
    expect(revoked.grant?.expiresAt).toBe(request.grant?.expiresAt);
    expect(await steps.oktaMembers(OKTA_READONLY)).not.toContain('sam.okafor@example.com');
    await sandbox.settled();
    const notes = sandbox.pagerduty.incident(request.incidentId ?? '')?.notes.map((n) => n.content) ?? [];
    expect(notes).toContain(`Revoking now: operator ${operator} asked (offboarding, per SEC-12).`);
    await steps.commented(request.jiraIssueKey, `by an operator (${operator}): offboarding, per SEC-12`);
    expect(await sandbox.store.followUpsOf(request.id)).toEqual([]);
  });

  it('cancels a request nobody decided: CANCELLED with the operator as actor, page resolved, ticket moved', async () => {
    const request = await steps.filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    expect(request.state).toBe('PENDING');
    const operator = sandbox.credentials.operator.arn;
    const { code, stdout } = await loopgate(
      'cancel',
      request.jiraIssueKey,
      '--reason',
      'duplicate',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      key: request.jiraIssueKey,
      result: 'CANCELLED',
      actor: operator,
    });
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)).toMatchObject({
      from: 'PENDING',
      to: 'CANCELLED',
      actor: { kind: 'person', id: operator },
      reason: `cancelled by operator ${operator}: duplicate`,
    });
    await sandbox.settled();
    expect(sandbox.pagerduty.incident(request.incidentId ?? '')?.status).toBe('resolved');
    expect(jiraStatus(request.jiraIssueKey)).toBe('Cancelled');
    await steps.commented(request.jiraIssueKey, `cancelled by an operator (${operator}): duplicate`);
  });

  it.each([
    [
      () => ['revoke', pending.jiraIssueKey, '--reason', 'x'],
      'is PENDING: only a granted request can be revoked (use loopgate cancel)',
    ],
    [() => ['cancel', granted.jiraIssueKey, '--reason', 'x'], 'is GRANTED: use loopgate revoke'],
    [() => ['revoke', granted.jiraIssueKey], 'revoke needs --reason TEXT'],
    [() => ['cancel', 'ACCESS-99999', '--reason', 'x'], 'no request has the Jira key or id "ACCESS-99999"'],
  ])('refuses what does not apply, writing nothing (%#)', async (argv, message) => {
    const before = await sandbox.store.get(pending.id);
    const grantedBefore = await sandbox.store.get(granted.id);
    const { code, stdout, stderr } = await loopgate(...argv());
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect((await sandbox.store.get(pending.id))?.version).toBe(before?.version);
    expect((await sandbox.store.get(granted.id))?.version).toBe(grantedBefore?.version);
  });

  it('without AWS credentials: one line, exit 2, nothing recorded', async () => {
    const version = (await sandbox.store.get(granted.id))?.version;
    const keep = {
      id: process.env.LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID,
      secret: process.env.LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY,
    };
    for (const name of [
      'LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID',
      'LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
    ])
      setEnv(name, undefined);
    setEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/credentials');
    setEnv('AWS_CONFIG_FILE', '/nonexistent/config');
    setEnv('AWS_EC2_METADATA_DISABLED', 'true');
    try {
      const { code, stdout, stderr } = await loopgate('revoke', granted.jiraIssueKey, '--reason', 'x');
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /^loopgate: no usable AWS credentials \(.*\); use the credential chain the AWS CLI uses\n$/,
      );
    } finally {
      setEnv('LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID', keep.id);
      setEnv('LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY', keep.secret);
    }
    expect((await sandbox.store.get(granted.id))?.version).toBe(version);
  });

  it('with a key STS does not know: one line, exit 2, nothing recorded', async () => {
    const version = (await sandbox.store.get(granted.id))?.version;
    const keep = process.env.LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID;
    setEnv('LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID', 'AKIANOTAKNOWNKEY0000');
    try {
      const { code, stderr } = await loopgate('revoke', granted.jiraIssueKey, '--reason', 'x');
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /^loopgate: no usable AWS credentials \(The security token included in the request is invalid\.\)/,
      );
    } finally {
      setEnv('LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID', keep);
    }
    expect((await sandbox.store.get(granted.id))?.version).toBe(version);
  });
});

describe('loopgate grants --verify', () => {
  const okta = (method: string, path: string) =>
    fetch(`${sandbox.okta.url}/api/v1${path}`, {
      method,
      headers: { authorization: `SSWS ${sandbox.credentials.okta.token}`, accept: 'application/json' },
    });

  it('finds nothing amiss while Okta and IAM hold what loopgate recorded', async () => {
    const { code, stdout } = await loopgate('grants', '--verify');
    expect(stdout).toMatch(
      /^Checked \d+ live grants? and \d+ ended ones? against the systems that hold them\.\n/,
    );
    expect(stdout).toContain('No drift: every live grant is in place');
    expect(code).toBe(0);
  });

  it('lists drift both ways: a membership removed behind loopgate’s back, and access it revoked put back', async () => {
    // Removed in Okta by someone else: dana's grant is recorded GRANTED but not in place.
    const dana = granted.grant?.principal ?? '';
    expect((await okta('DELETE', `/groups/${OKTA_READONLY}/users/${dana}`)).status).toBe(204);
    // Put back after loopgate revoked it: sam's membership, which no live request holds.
    const samRevoked = (
      await sandbox.store.listByRequester('sam.okafor@example.com', { states: ['REVOKED'] })
    )
      .filter((r) => r.entitlementId === 'okta-prod-readonly')
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0] as AccessRequest;
    expect((await okta('PUT', `/groups/${OKTA_READONLY}/users/${samRevoked.grant?.principal}`)).status).toBe(
      204,
    );
    // And the demo's break-glass role policy, loopgate-named, written again after its revoke.
    const breakGlass = (
      await sandbox.store.listByRequester('dana.reyes@example.com', { states: ['REVOKED'] })
    ).find((r) => r.entitlementId === 'aws-prod-db-connect') as AccessRequest;
    const iam = new IAMClient({
      endpoint: sandbox.iam.url,
      region: 'us-east-1',
      credentials: sandbox.credentials.iam,
    });
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: breakGlass.grant?.principal.split('/').at(-1),
        PolicyName: breakGlass.grant?.target,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'rds-db:connect', Resource: '*' }],
        }),
      }),
    );
    iam.destroy();

    const { code, stdout } = await loopgate('grants', '--verify', '--json');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { drift: { kind: string; key: string; access: string }[] };
    expect(report.drift).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'missing',
          key: granted.jiraIssueKey,
          access: `okta-group ${OKTA_READONLY}`,
        }),
        expect.objectContaining({ kind: 'left-in-place', key: samRevoked.jiraIssueKey }),
        expect.objectContaining({
          kind: 'left-in-place',
          key: breakGlass.jiraIssueKey,
          access: `aws-iam-policy ${breakGlass.grant?.target}`,
        }),
      ]),
    );
    expect(report.drift).toHaveLength(3);
    const text = (await loopgate('grants', '--verify')).stdout;
    expect(text).toMatch(
      new RegExp(
        `missing\\s+${granted.jiraIssueKey}\\s+dana.reyes@example.com\\s+okta-group ${OKTA_READONLY}\\s+recorded GRANTED until \\S+, not in place`,
      ),
    );
    expect(text).toMatch(new RegExp(`left-in-place\\s+${samRevoked.jiraIssueKey}\\s+sam.okafor@example.com`));

    // Put right again, the check is clean.
    await okta('PUT', `/groups/${OKTA_READONLY}/users/${dana}`);
    await okta('DELETE', `/groups/${OKTA_READONLY}/users/${samRevoked.grant?.principal}`);
    const cleanup = new IAMClient({
      endpoint: sandbox.iam.url,
      region: 'us-east-1',
      credentials: sandbox.credentials.iam,
    });
    await cleanup.send(
      new DeleteRolePolicyCommand({
        RoleName: breakGlass.grant?.principal.split('/').at(-1),
        PolicyName: breakGlass.grant?.target,
      }),
    );
    cleanup.destroy();
    expect((await loopgate('grants', '--verify')).code).toBe(0);
  });
});

/** RFC 4180, read independently of the writer: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i += 1;
      } else {
        field += c;
        i += 1;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      if (c === '\n' || c === '\r') throw new Error(`a bare line break outside quotes at ${i}`);
      field += c;
      i += 1;
    }
  }
  if (field !== '' || record.length) throw new Error('the last record does not end with CRLF');
  return records;
}

describe('loopgate audit export', () => {
  const JUSTIFICATION = 'Checkout, payments and "refunds" are down\nsee INC-7, step 2\r\nthen roll back';
  let tricky: AccessRequest;
  const dir = mkdtempSync(join(tmpdir(), 'loopgate-audit-'));
  const period = () => ['--since', '2000-01-01', '--until', '2999-01-01'];

  beforeAll(async () => {
    const { key } = sandbox.jira.fileTicket({
      reporter: 'tomas',
      entitlement: 'okta-prod-readonly',
      justification: JUSTIFICATION,
      duration: '1h',
    });
    await sandbox.jira.settled();
    const filed = await until('the ticket to be paged', async () => {
      const r = await sandbox.store.getByJiraIssueKey(key);
      return r?.state === 'PENDING' && r.incidentId ? r : undefined;
    });
    await steps.note(filed, 'priya', 'approve, looks fine');
    tricky = await steps.inState(filed.id, 'GRANTED');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes RFC 4180 CSV: the documented header, one row per decided request, commas, quotes and line breaks kept', async () => {
    const out = join(dir, 'audit.csv');
    const { code, stdout, stderr } = await loopgate('audit', 'export', ...period(), '--out', out);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const text = readFileSync(out, 'utf8');
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...AUDIT_COLUMNS]);
    expect(stderr).toBe(`exported ${rows.length} decided requests to ${out}\n`);
    const column = (name: (typeof AUDIT_COLUMNS)[number]) => AUDIT_COLUMNS.indexOf(name);
    const row = rows.find((r) => r[column('jira_key')] === tricky.jiraIssueKey) ?? [];
    expect(row).toHaveLength(AUDIT_COLUMNS.length);
    expect(row[column('justification')]).toBe(JUSTIFICATION);
    expect(row[column('requester_email')]).toBe('tomas.silva@example.com');
    expect(row[column('decided_by')]).toBe('people');
    expect(row[column('approvers')]).toMatch(/^approve priya\.nair@example\.com \(okta \w+\) via .+ at \S+$/);
    expect(row[column('granted_at')]).toBe(tricky.grant?.grantedAt);
    expect(row[column('prompt_digest')]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(row[column('evidence_digest')]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(row[column('pagerduty_url')]).toMatch(/^https?:\/\//);
    expect(row[column('jira_url')]).toBe('');
    // Oldest first; the demo's break-glass story and its denial are there with how they were decided.
    const asked = rows.map((r) => r[column('asked_at')] ?? '');
    expect(asked).toEqual([...asked].sort());
    expect(rows.map((r) => r[column('decided_by')])).toContain('break-glass');
    expect(rows.map((r) => r[column('outcome')])).toContain('deny');
    // Undecided requests are not rows: chloe's pending one.
    expect(rows.map((r) => r[column('jira_key')])).not.toContain(pending.jiraIssueKey);
    expect(readdirSync(dir)).toEqual(['audit.csv']);
  });

  it('writes JSON lines with the same columns to stdout', async () => {
    const { code, stdout } = await loopgate('audit', 'export', ...period(), '--format', 'jsonl');
    expect(code).toBe(0);
    const rows = stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(Object.keys(rows[0] ?? {})).toEqual([...AUDIT_COLUMNS]);
    expect(rows.find((r) => r.jira_key === tricky.jiraIssueKey)?.justification).toBe(JUSTIFICATION);
  });

  it.each([
    [['--since', 'last quarter', '--until', '2999-01-01'], '--since must be a date like 2026-12-01'],
    [['--since', '2026-01-01', '--until', '2025-01-01'], '--until must be after --since'],
    [['--since', '2026-01-01'], 'audit export needs --since DATE and --until DATE'],
    [['--since', '2026-01-01', '--until', '2999-01-01', '--format', 'xlsx'], '--format must be csv or jsonl'],
  ])('bad input %j: one line, exit 2, no file', async (argv, message) => {
    const out = join(dir, 'bad.csv');
    const { code, stdout, stderr } = await loopgate('audit', 'export', ...argv, '--out', out);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('leaves no file, partial or whole, when the table does not exist', async () => {
    const table = process.env.LOOPGATE_TABLE_NAME;
    process.env.LOOPGATE_TABLE_NAME = 'no-such-table';
    try {
      const { code, stderr } = await loopgate('audit', 'export', ...period(), '--out', join(dir, 'gone.csv'));
      expect(code).toBe(2);
      expect(stderr).toContain('the table "no-such-table" does not exist');
      expect(readdirSync(dir).filter((f) => f.startsWith('gone'))).toEqual([]);
    } finally {
      process.env.LOOPGATE_TABLE_NAME = table;
    }
  });
});

describe('loopgate report --html', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopgate-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one self-contained page whose charts a real browser draws, with no console errors and no network', async () => {
    const file = join(dir, 'report.html');
    const { code, stderr } = await loopgate('report', '--html', file);
    expect(code).toBe(0);
    expect(stderr).toBe(`wrote ${file}\n`);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http|href="http|@import|url\(/i);

    const seen = await inChromium(file, { screenshot: join(tmpdir(), 'loopgate-report.png') });
    expect(seen.consoleErrors).toEqual([]);
    expect(seen.pageErrors).toEqual([]);
    expect(seen.requests).toEqual([`file://${file}`]);
    // Three distributions, the outcomes per entitlement, the agreement lines: each drawn, none empty.
    expect(seen.charts).toHaveLength(5);
    for (const chart of seen.charts) {
      expect(chart.empty).toBe(false);
      expect(chart.drawnPaths).toBeGreaterThan(0);
      expect(chart.width).toBeGreaterThan(100);
    }
    expect(seen.headings).toEqual([
      'Time to page, to decision, to grant',
      'Requests and outcomes per entitlement',
      'Model and people: agreement per prompt version, by week',
      'Break-glass grants and their reviews',
      'Active grants',
    ]);
    // The demo's break-glass grant and its review; dana's live grant.
    expect(seen.text).toMatch(/aws-prod-db-connect.*(kept|revoked) by /s);
    expect(seen.text).toContain(granted.jiraIssueKey);
  }, 60_000);

  it('a table that does not exist: one line, exit 2, no file', async () => {
    const table = process.env.LOOPGATE_TABLE_NAME;
    process.env.LOOPGATE_TABLE_NAME = 'no-such-table';
    try {
      const { code, stderr } = await loopgate('report', '--html', join(dir, 'gone.html'));
      expect(code).toBe(2);
      expect(stderr).toContain('the table "no-such-table" does not exist');
      expect(readdirSync(dir).filter((f) => f.startsWith('gone'))).toEqual([]);
    } finally {
      process.env.LOOPGATE_TABLE_NAME = table;
    }
  });
});

describe('bad input', () => {
  it.each([
    [['show', 'ACCESS-99999'], 'no request has the Jira key or id "ACCESS-99999"'],
    [['requests', '--state', 'WAITING'], 'unknown state "WAITING": one of RECEIVED, TRIAGING'],
    [['requests', '--since', 'last tuesday'], '--since must be a date like 2026-12-01'],
    [['grants', '--expiring-within', 'soon'], '--expiring-within must be a duration like 30m, 24h or 7d'],
    [['requests', '--limit', '0'], '--limit must be a positive whole number'],
  ])('%j: one clear line, exit 2, nothing on stdout', async (argv, message) => {
    const { code, stdout, stderr } = await loopgate(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names a table that does not exist', async () => {
    const table = process.env.LOOPGATE_TABLE_NAME;
    process.env.LOOPGATE_TABLE_NAME = 'no-such-table';
    try {
      const { code, stderr } = await loopgate('requests');
      expect(code).toBe(2);
      expect(stderr).toBe(
        'loopgate: the table "no-such-table" does not exist in this account and region (LOOPGATE_TABLE_NAME, AWS_REGION)\n',
      );
    } finally {
      process.env.LOOPGATE_TABLE_NAME = table;
    }
  });
});
