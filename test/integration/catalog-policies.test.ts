// `loopgate catalog check` on the catalog's managed policy ARNs: a misspelt AWS
// managed policy is a well-formed ARN that fails only at the first grant.
// Offline it is a warning pointing at the line (the list may be older than the
// policy); with --live, IAM's GetPolicy decides, here against the IAM stand-in
// (which answers GetPolicy as the IAM API Reference describes, NoSuchEntity
// for a policy that does not exist).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Io, run } from '../../bin/loopgate';
import { awsManagedPolicyNames } from '../../bin/managed-policies';
import { SandboxClock } from '../../sandbox/clock';
import { type IamCredentials, IamStandIn } from '../../sandbox/iam/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile } from '../../sandbox/scenario/load';

const SHIPPED = 'config/catalog.yaml';
const BILLING = 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess';
const CREDENTIALS: IamCredentials = {
  accessKeyId: 'AKIASANDBOXLOOPGATE1',
  secretAccessKey: 'sandbox/secret+key/for-the-iam-stand-in',
};

let folder: string;

/** Where the shipped catalog names its one managed policy, and how many entitlements it has. */
const SHIPPED_TEXT = readFileSync(SHIPPED, 'utf8');
const POLICY_AT = `${SHIPPED_TEXT.split('\n').findIndex((line) => line.includes('policyArn:')) + 1}:7`;
const ENTITLEMENTS = (parse(SHIPPED_TEXT) as { entitlements: unknown[] }).entitlements.length;

/** The shipped catalog with its one managed policy ARN replaced: same lines, same columns. */
function catalogWith(arn: string): string {
  const file = join(folder, `catalog-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, readFileSync(SHIPPED, 'utf8').replace(BILLING, arn));
  return file;
}

function captureIo() {
  const io = { stdout: '', stderr: '' };
  const handle: Io = {
    out: (text) => void (io.stdout += text),
    err: (text) => void (io.stderr += text),
    interrupted: () => new Promise(() => {}),
  };
  return { io, handle };
}

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'loopgate-catalog-policies-'));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('the offline list', () => {
  it("holds the AWS managed policies by path and name, the shipped catalog's included", () => {
    const names = awsManagedPolicyNames();
    expect(names.size).toBeGreaterThan(1000);
    for (const name of [
      'AWSBillingReadOnlyAccess',
      'ReadOnlyAccess',
      'service-role/AWSLambdaBasicExecutionRole',
    ]) {
      expect(names).toContain(name);
    }
  });
});

describe('catalog check, offline', () => {
  it('finds nothing to say about the shipped catalog', async () => {
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check'], handle)).toBe(0);
    expect(io.stderr).toBe('');
  });

  it('warns about a misspelt AWS managed policy at its line and column, with the name meant, and still exits 0', async () => {
    const file = catalogWith('arn:aws:iam::aws:policy/AWSBillingReadOnlyAcess');
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check', file], handle)).toBe(0);
    expect(io.stderr).toBe(
      `${file}:${POLICY_AT} entitlements[2].action.policyArn: warning: arn:aws:iam::aws:policy/AWSBillingReadOnlyAcess is not an AWS managed policy in loopgate's list (bin/aws-managed-policies.txt); did you mean AWSBillingReadOnlyAccess? A policy newer than the list is fine: check with --live\n`,
    );
    expect(io.stdout).toBe(`${file}: valid, ${ENTITLEMENTS} entitlements (1 warning)\n`);
  });

  it('gives the warning to scripts too', async () => {
    const file = catalogWith('arn:aws:iam::aws:policy/NoSuchThingAtAll');
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check', '--json', file], handle)).toBe(0);
    const out = JSON.parse(io.stdout) as { ok: boolean; warnings: string[] };
    expect(out.ok).toBe(true);
    expect(out.warnings).toEqual([
      expect.stringContaining(`:${POLICY_AT} entitlements[2].action.policyArn: warning: `),
    ]);
    expect(out.warnings[0]).not.toContain('did you mean');
  });

  it("says nothing offline about the account's own policies: only IAM knows them", async () => {
    const file = catalogWith('arn:aws:iam::111122223333:policy/no-such-policy');
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check', file], handle)).toBe(0);
    expect(io.stderr).toBe('');
  });

  it('refuses --live with catalog list', async () => {
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'list', '--live'], handle)).toBe(2);
    expect(io.stderr).toContain('--live goes with catalog check');
  });
});

describe('catalog check --live, against the IAM stand-in', () => {
  let standIn: IamStandIn;
  const saved = { ...process.env };

  beforeAll(async () => {
    const start = new Date('2026-11-21T09:00:00.000Z');
    standIn = new IamStandIn({
      scenario: loadScenarioFile(DEFAULT_SCENARIO_FILE, start),
      clock: new SandboxClock({ start, frozen: true }),
      credentials: [CREDENTIALS],
    });
    await standIn.start();
  });

  afterEach(() => {
    process.env = { ...saved };
  });

  afterAll(() => standIn?.stop());

  const live = () => {
    process.env.LOOPGATE_IAM_ENDPOINT = standIn.url;
    process.env.LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID = CREDENTIALS.accessKeyId;
    process.env.LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY = CREDENTIALS.secretAccessKey;
  };

  it('passes the shipped catalog: IAM has every policy it names', async () => {
    live();
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check', '--live'], handle)).toBe(0);
    expect(io.stderr).toBe('');
    expect(io.stdout).toBe(`config/catalog.yaml: valid, ${ENTITLEMENTS} entitlements\n`);
  });

  it("fails a policy IAM does not have, AWS managed or the account's own, at its line, and exits 1", async () => {
    live();
    for (const arn of [
      'arn:aws:iam::aws:policy/AWSBillingReadOnlyAcess',
      'arn:aws:iam::111122223333:policy/no-such-policy',
    ]) {
      const file = catalogWith(arn);
      const { io, handle } = captureIo();
      expect(await run(['catalog', 'check', '--live', file], handle)).toBe(1);
      expect(io.stderr).toBe(
        `${file}:${POLICY_AT} entitlements[2].action.policyArn: IAM has no policy ${arn} (GetPolicy: NoSuchEntity)\n`,
      );
      expect(io.stdout).toBe('');
    }
  });

  it('fails when IAM cannot be asked, saying why, rather than passing unchecked', async () => {
    live();
    process.env.LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    const { io, handle } = captureIo();
    expect(await run(['catalog', 'check', '--live'], handle)).toBe(1);
    expect(io.stderr).toMatch(
      new RegExp(
        `^config/catalog\\.yaml:${POLICY_AT} entitlements\\[2\\]\\.action\\.policyArn: could not check `,
      ),
    );
    expect(io.stderr).not.toContain('not-the-secret');
  });
});
