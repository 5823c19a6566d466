// IamCloudAccess against the IAM stand-in over real HTTP with the real SDK:
// a user's and a role's access, the last-accessed report on the sandbox clock,
// and IAM's failures as loopgate reports them.

import type { IAMClient } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIamClient } from '../../../lambdas/connectors/aws-iam/client';
import { IamCloudAccess, type IamCloudAccessOptions } from '../../../lambdas/connectors/aws-iam/cloud-access';
import { NotFoundError, UpstreamError } from '../../../lambdas/core/errors';
import { SandboxClock } from '../../../sandbox/clock';
import { type IamCredentials, IamStandIn } from '../../../sandbox/iam/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile } from '../../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const CREDENTIALS: IamCredentials = {
  accessKeyId: 'AKIASANDBOXLOOPGATE1',
  secretAccessKey: 'sandbox/secret+key/for-the-iam-stand-in',
};
const ACCOUNT = '111122223333';
const READ_ONLY = { name: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' };
const ONCALL_TOOLS = { name: 'sre-oncall-tools', arn: `arn:aws:iam::${ACCOUNT}:policy/sre-oncall-tools` };
const hoursAgo = (h: number) => new Date(START.getTime() - h * 3_600_000).toISOString();

let clock: SandboxClock;
let standIn: IamStandIn;
const clients: IAMClient[] = [];

beforeEach(async () => {
  clock = new SandboxClock({ start: START, frozen: true });
  standIn = new IamStandIn({
    scenario: loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now()),
    clock,
    credentials: [CREDENTIALS],
  });
  await standIn.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await standIn.stop();
});

/** A connector whose pauses between polls move the sandbox clock instead of waiting. */
function cloudAccess(
  options: { credentials?: IamCredentials; timeoutMs?: number; maxAttempts?: number } = {},
  overrides: Partial<IamCloudAccessOptions> = {},
): IamCloudAccess {
  const client = createIamClient({
    region: 'us-east-1',
    endpoint: standIn.url,
    credentials: options.credentials ?? CREDENTIALS,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxAttempts: options.maxAttempts ?? 3,
  });
  clients.push(client);
  return new IamCloudAccess({
    client,
    lastAccessedWaitMs: 5_000,
    pollIntervalMs: 500,
    clock,
    sleep: async (ms) => {
      clock.advance(ms);
    },
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(error)}`);
  return error;
}

describe('what a principal can already do', () => {
  it('reads dana: her policy, her group’s, and the services she used, most recent first', async () => {
    const access = await cloudAccess().principalAccess({ kind: 'user', name: 'dana.reyes' });

    expect(access).toEqual({
      principal: { kind: 'user', name: 'dana.reyes', arn: `arn:aws:iam::${ACCOUNT}:user/dana.reyes` },
      attachedPolicies: [ONCALL_TOOLS],
      inlinePolicies: [],
      groups: [{ name: 'engineers', attachedPolicies: [READ_ONLY] }],
      lastAccessed: [
        { service: 'Amazon CloudWatch', namespace: 'cloudwatch', lastAuthenticated: hoursAgo(2) },
        { service: 'Amazon EC2', namespace: 'ec2', lastAuthenticated: hoursAgo(24) },
        { service: 'Amazon RDS', namespace: 'rds', lastAuthenticated: hoursAgo(20 * 24) },
        { service: 'Amazon Elastic Container Service', namespace: 'ecs' },
        { service: 'Amazon S3', namespace: 's3' },
      ],
    });
    // The report is a job: generated once, polled until the sandbox clock passed its second.
    const calls = standIn.actionCalls.map((c) => c.action);
    expect(calls.filter((a) => a === 'GenerateServiceLastAccessedDetails')).toHaveLength(1);
    expect(calls.filter((a) => a === 'GetServiceLastAccessedDetails')).toHaveLength(2);
  });

  it('decodes and parses inline policies', async () => {
    const document = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }],
    };
    standIn.account.putInlinePolicy(
      standIn.account.user('dana.reyes'),
      'loopgate-ACCESS-7',
      JSON.stringify(document),
    );

    const access = await cloudAccess().principalAccess({ kind: 'user', name: 'dana.reyes' });

    expect(access.inlinePolicies).toEqual([{ name: 'loopgate-ACCESS-7', document }]);
  });

  it('reads the role prod-incident-operator', async () => {
    const access = await cloudAccess().principalAccess({ kind: 'role', name: 'prod-incident-operator' });

    expect(access).toMatchObject({
      principal: {
        kind: 'role',
        name: 'prod-incident-operator',
        arn: `arn:aws:iam::${ACCOUNT}:role/prod-incident-operator`,
      },
      attachedPolicies: [READ_ONLY],
      inlinePolicies: [],
      groups: [],
    });
    // Nobody signs in as the role in the scenario: every service it may use is unused.
    expect(access.lastAccessed.map((s) => s.namespace)).toEqual(['cloudwatch', 'ec2', 'rds', 's3']);
    expect(access.lastAccessed.every((s) => s.lastAuthenticated === undefined)).toBe(true);
    expect(access.lastAccessedUnavailable).toBeUndefined();
  });

  it('answers without the report, and says so, when IAM’s job does not finish in time', async () => {
    // The connector's own time moves on while the sandbox's stands still: the job stays IN_PROGRESS.
    let waited = 0;
    const access = await cloudAccess(
      {},
      {
        lastAccessedWaitMs: 2_000,
        clock: { now: () => new Date(START.getTime() + waited) },
        sleep: async (ms) => {
          waited += ms;
        },
      },
    ).principalAccess({ kind: 'user', name: 'dana.reyes' });

    expect(access.attachedPolicies).toEqual([ONCALL_TOOLS]);
    expect(access.lastAccessed).toEqual([]);
    expect(access.lastAccessedUnavailable).toMatch(/did not finish within 2000 ms/);
    const polls = standIn.actionCalls.filter((c) => c.action === 'GetServiceLastAccessedDetails');
    expect(polls).toHaveLength(4);
  });

  it('answers without the report when IAM refuses to generate it', async () => {
    standIn.actionFaults.set('GenerateServiceLastAccessedDetails', { failNext: 1, status: 403 });

    const access = await cloudAccess().principalAccess({ kind: 'user', name: 'dana.reyes' });

    expect(access.groups).toEqual([{ name: 'engineers', attachedPolicies: [READ_ONLY] }]);
    expect(access.lastAccessed).toEqual([]);
    expect(access.lastAccessedUnavailable).toMatch(
      /GenerateServiceLastAccessedDetails failed \(AccessDenied/,
    );
  });

  it('reports an unknown principal as not found', async () => {
    const error = await cloudAccess()
      .principalAccess({ kind: 'user', name: 'nobody' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe('aws-iam: no IAM user named nobody');
  });
});

describe('IAM failures', () => {
  it('wrong credentials are unauthorized, and the secret is nowhere in the error', async () => {
    const error = await failure(
      cloudAccess({ credentials: { ...CREDENTIALS, secretAccessKey: 'not-the-secret' } }).principalAccess({
        kind: 'user',
        name: 'dana.reyes',
      }),
    );

    expect(error.failure).toBe('unauthorized');
    expect(error.message).toMatch(/SignatureDoesNotMatch/);
    expect(error.message).not.toContain('not-the-secret');
  });

  it('an unknown access key is unauthorized', async () => {
    const error = await failure(
      cloudAccess({ credentials: { ...CREDENTIALS, accessKeyId: 'AKIAUNKNOWNKEY000000' } }).principalAccess({
        kind: 'role',
        name: 'prod-incident-operator',
      }),
    );

    expect(error.failure).toBe('unauthorized');
  });

  it('AccessDenied on a list is forbidden', async () => {
    standIn.actionFaults.set('ListGroupsForUser', { failNext: 1, status: 403 });

    const error = await failure(cloudAccess().principalAccess({ kind: 'user', name: 'dana.reyes' }));

    expect(error.failure).toBe('forbidden');
    expect(error.message).toMatch(/^aws-iam: ListGroupsForUser failed \(AccessDenied/);
  });

  it('an answer slower than the timeout is a timeout', async () => {
    standIn.faults.set('POST /', { delayMs: 400 });

    const error = await failure(
      cloudAccess({ timeoutMs: 100, maxAttempts: 2 }).principalAccess({ kind: 'user', name: 'dana.reyes' }),
    );

    expect(error.failure).toBe('timeout');
  });

  it('throttling is retried by the client and then succeeds', async () => {
    standIn.actionFaults.set('GetUser', { failNext: 1, status: 400 });

    const access = await cloudAccess().principalAccess({ kind: 'user', name: 'dana.reyes' });

    expect(access.principal.arn).toBe(`arn:aws:iam::${ACCOUNT}:user/dana.reyes`);
    const getUser = standIn.actionCalls.filter((c) => c.action === 'GetUser');
    expect(getUser.map((c) => [c.status, c.code])).toEqual([
      [400, 'Throttling'],
      [200, undefined],
    ]);
  });

  it('throttling that outlasts the attempts is rate-limited', async () => {
    standIn.actionFaults.set('GetRole', { failNext: 5, status: 400 });

    const error = await failure(
      cloudAccess({ maxAttempts: 2 }).principalAccess({ kind: 'role', name: 'prod-incident-operator' }),
    );

    expect(error.failure).toBe('rate-limited');
  });

  it('a 5xx from IAM is unavailable', async () => {
    standIn.actionFaults.set('ListAttachedRolePolicies', { failNext: 5, status: 503 });

    const error = await failure(
      cloudAccess({ maxAttempts: 2 }).principalAccess({ kind: 'role', name: 'prod-incident-operator' }),
    );

    expect(error.failure).toBe('unavailable');
  });
});
