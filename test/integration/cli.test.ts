import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { type Io, run } from '../../bin/loopgate';
import { localClientConfig } from '../../sandbox/dynamodb-local';

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
    expect(io.stdout).toBe('config/catalog.yaml: valid, 6 entitlements\n');
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
    expect(lines).toHaveLength(7);
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
  it('runs DynamoDB Local with the loopgate table until interrupted', async () => {
    let tableStatus: string | undefined;
    const { io, handle } = captureIo(async (out) => {
      const endpoint = /DynamoDB Local is up at (\S+) /.exec(out)?.[1];
      if (!endpoint) throw new Error(`no endpoint in: ${out}`);
      const client = new DynamoDBClient(localClientConfig(endpoint));
      tableStatus = (await client.send(new DescribeTableCommand({ TableName: 'loopgate' }))).Table
        ?.TableStatus;
      client.destroy();
    });

    expect(await run(['sandbox'], handle)).toBe(0);
    expect(tableStatus).toBe('ACTIVE');
    expect(io.stdout).toContain('stopping');
  });
});
