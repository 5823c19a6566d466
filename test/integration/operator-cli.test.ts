// The operator's commands (`loopgate requests`, `show`, `grants`) through the
// real command line, reading a running sandbox's table (DynamoDB Local) the
// way they read a deployed one: text for people, JSON for scripts, and one
// clear line with exit 2 for bad input.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Io, run } from '../../bin/loopgate';
import type { AccessRequest } from '../../lambdas/core/model';
import { Sandbox } from '../../sandbox/world';
import { flow } from '../support/sandbox-flow';

let sandbox: Sandbox;
let granted: AccessRequest;
let pending: AccessRequest;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
  // The commands read the table through the same variables as the functions.
  for (const [name, value] of Object.entries(sandbox.loopgateEnvironment())) {
    if (!/^(LOOPGATE_TABLE_NAME|LOOPGATE_DYNAMODB_ENDPOINT|LOOPGATE_SANDBOX_AWS_|AWS_REGION)/.test(name))
      continue;
    saved[name] = process.env[name];
    process.env[name] = value;
  }
  const steps = flow(() => sandbox);
  const request = await steps.filed('dana', 'okta-prod-readonly', { duration: '2h' });
  await steps.note(request, 'priya', 'approve INC-4411 looks right');
  granted = await steps.inState(request.id, 'GRANTED');
  pending = await steps.filed('chloe', 'okta-prod-admin', { duration: '1h' });
});

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
    expect(byRequester).toEqual([
      expect.objectContaining({
        key: granted.jiraIssueKey,
        state: 'GRANTED',
        approvers: ['priya.nair@example.com'],
      }),
    ]);
    const byEntitlement = JSON.parse(
      (await loopgate('requests', '--entitlement', 'okta-prod-admin', '--json')).stdout,
    );
    expect(byEntitlement.map((r: { key: string }) => r.key)).toEqual([pending.jiraIssueKey]);
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
    const soon = JSON.parse((await loopgate('grants', '--expiring-within', '3h', '--json')).stdout);
    expect(soon.map((g: { key: string }) => g.key)).toContain(granted.jiraIssueKey);
    const tooSoon = JSON.parse((await loopgate('grants', '--expiring-within', '30m', '--json')).stdout);
    expect(tooSoon.map((g: { key: string }) => g.key)).not.toContain(granted.jiraIssueKey);
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
