import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { type Io, run } from '../../bin/loopgate';
import { localClientConfig } from '../../sandbox/dynamodb-local';
import type { SandboxSummary } from '../../sandbox/world';

function captureIo(onInterruptWait: (out: string) => Promise<void> = async () => {}) {
  const io = { stdout: '', stderr: '' };
  const handle: Io = {
    out: (text) => {
      io.stdout += text;
    },
    err: (text) => {
      io.stderr += text;
    },
    interrupted: () => onInterruptWait(io.stdout),
  };
  return { io, handle };
}

describe('loopgate catalog', () => {
  it('check: says the shipped catalog is valid', async () => {
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check'], handle)).toBe(0);
    expect(io.stdout).toBe('config/catalog.yaml: valid, 7 entitlements\n');
  });

  it('check: lists the problems of a bad catalog and exits 1', async () => {
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check', 'test/fixtures/catalogs/duplicate-ids.yaml'], handle)).toBe(1);
    expect(io.stderr).toContain(
      'duplicate-ids.yaml:10:5 entitlements[1].id: duplicate id "okta-prod-readonly"',
    );
    expect(io.stdout).toBe('');
  });

  it('check --json: gives scripts the problems as JSON', async () => {
    const { io, handle } = captureIo();
    expect(
      await run(['catalog', 'check', '--json', 'test/fixtures/catalogs/duplicate-ids.yaml'], handle),
    ).toBe(1);
    expect(JSON.parse(io.stdout)).toEqual({
      ok: false,
      file: 'test/fixtures/catalogs/duplicate-ids.yaml',
      problems: [expect.objectContaining({ path: 'entitlements[1].id', line: 10, column: 5 })],
    });
  });

  it('list: one row per entitlement with who approves', async () => {
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'list'], handle)).toBe(0);
    const lines = io.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ENTITLEMENT\s+RISK\s+MODE\s+ACTION/);
    expect(lines).toHaveLength(8);
    expect(io.stdout).toMatch(
      /okta-prod-admin\s+high\s+approval\s+okta-group\s+1h \/ 4h\s+2 of on-call PIAMPOL/,
    );
    expect(io.stdout).toMatch(/aws-prod-db-connect .*yes, 1h/);
  });

  it('rejects unknown commands and options with usage and exit 2', async () => {
    for (const argv of [['catalog', 'frob'], ['deploy'], ['catalog', 'check', '--verbose']]) {
      const { io, handle } = captureIo();
      expect(await run(argv, handle)).toBe(2);
      expect(io.stderr).toContain('usage: loopgate');
    }
  });
});

describe('loopgate sandbox', () => {
  it('prints the JSON summary first, serves the whole world, and stops it all when interrupted', async () => {
    let summary: SandboxSummary | undefined;
    let tableStatus: string | undefined;
    let jiraUser: unknown;
    let filed: { key?: string } = {};
    let issuesInJira: string[] = [];
    const { io, handle } = captureIo(async (out) => {
      summary = JSON.parse(out.split('\n')[0] ?? '') as SandboxSummary;
      const dynamo = new DynamoDBClient(localClientConfig(summary.services.dynamodb));
      tableStatus = (await dynamo.send(new DescribeTableCommand({ TableName: summary.table }))).Table
        ?.TableStatus;
      dynamo.destroy();
      const { email, apiToken } = summary.credentials.jira;
      const auth = `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`;
      jiraUser = await (
        await fetch(`${summary.services.jira}/rest/api/3/myself`, { headers: { authorization: auth } })
      ).json();
      filed = (await (
        await fetch(`${summary.control}/jira/tickets`, {
          method: 'POST',
          body: JSON.stringify({
            reporter: 'dana',
            entitlement: 'okta-prod-readonly',
            duration: '4h',
            justification: 'INC-4411',
          }),
        })
      ).json()) as { key?: string };
      const jira = (await (await fetch(`${summary.control}/state/jira`)).json()) as {
        issues: { key: string }[];
      };
      issuesInJira = jira.issues.map((i) => i.key);
    });

    expect(await run(['sandbox'], handle)).toBe(0);
    expect(summary?.webhooks.jira.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/jira-webhook$/);
    expect(summary?.webhooks.pagerduty.secrets).toHaveLength(1);
    expect(Object.keys(summary?.services ?? {}).sort()).toEqual(
      ['dynamodb', 'iam', 'identityCenter', 'jira', 'okta', 'openai', 'pagerduty', 'slack', 'sts'].sort(),
    );
    expect(tableStatus).toBe('ACTIVE');
    expect(jiraUser).toMatchObject({ emailAddress: summary?.credentials.jira.email });
    expect(filed.key).toMatch(/^ACCESS-\d+$/);
    expect(issuesInJira).toContain(filed.key);
    expect(io.stderr).toContain('sandbox: stopped');
    for (const url of [summary?.services.jira, summary?.control, summary?.services.dynamodb]) {
      await expect(fetch(url ?? '')).rejects.toThrow();
    }
  });

  it('refuses a port base out of range', async () => {
    const { io, handle } = captureIo();
    expect(await run(['sandbox', '--port-base', '80'], handle)).toBe(2);
    expect(io.stderr).toContain('--port-base must be a whole number from 1024 to 65000, got "80"');
  });
});
