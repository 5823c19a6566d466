// IamPolicyProvisioner against the IAM stand-in over real HTTP with the real
// SDK: inline grants stored with their expiry (and, on a role, the requester's
// sessions) as conditions, managed policies attached unless they already
// were, idempotent grants and revokes, and IAM's failures as UpstreamError.

import { IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIamClient } from '../../../lambdas/connectors/aws-iam/client';
import {
  companyPrincipalFor,
  IamPolicyProvisioner,
  type IamPolicyAction,
  type IamStatement,
} from '../../../lambdas/connectors/aws-iam/provisioner';
import { NotFoundError, UpstreamError, ValidationError } from '../../../lambdas/core/errors';
import type { GrantSubject } from '../../../lambdas/core/ports';
import { SandboxClock } from '../../../sandbox/clock';
import { type IamCredentials, IamStandIn } from '../../../sandbox/iam/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile } from '../../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const EXPIRES = new Date('2026-11-21T13:00:00.000Z');
const CREDENTIALS: IamCredentials = {
  accessKeyId: 'AKIASANDBOXLOOPGATE1',
  secretAccessKey: 'sandbox/secret+key/for-the-iam-stand-in',
};
const ACCOUNT = '111122223333';
const REQUEST_ID = '0b6f3a52-94d7-4c1e-8f0a-5d2e7c9b1a34';
const POLICY = `loopgate-${REQUEST_ID}`;
const ROLE = 'prod-incident-operator';
const BILLING = 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess';
const ONCALL_TOOLS = `arn:aws:iam::${ACCOUNT}:policy/sre-oncall-tools`;
const LOGS: IamStatement = {
  Sid: 'ReadLogs',
  Effect: 'Allow',
  Action: ['logs:GetLogEvents', 'logs:FilterLogEvents'],
  Resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/prod/*`,
};

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

function provisioner(options: { timeoutMs?: number; maxAttempts?: number } = {}): IamPolicyProvisioner {
  const client = createIamClient({
    region: 'us-east-1',
    endpoint: standIn.url,
    credentials: CREDENTIALS,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxAttempts: options.maxAttempts ?? 1,
  });
  clients.push(client);
  return new IamPolicyProvisioner({ client, principalFor: companyPrincipalFor('example.com') });
}

const inlineOnUser = (statements: IamStatement[] = [LOGS]): IamPolicyAction => ({
  kind: 'aws-iam-policy',
  principalType: 'user',
  statements,
});
const inlineOnRole = (statements: IamStatement[] = [LOGS]): IamPolicyAction => ({
  kind: 'aws-iam-policy',
  principalType: 'role',
  roleName: ROLE,
  statements,
});
const managed = (policyArn: string): IamPolicyAction => ({
  kind: 'aws-iam-policy',
  principalType: 'user',
  policyArn,
});

function subject(email: string, action: IamPolicyAction, expiresAt = EXPIRES): GrantSubject {
  return { requestId: REQUEST_ID, email, action, expiresAt };
}

function held(kind: 'user' | 'role', name: string) {
  const policies = standIn.principalPolicies(kind, name);
  if (!policies) throw new Error(`no ${kind} ${name}`);
  return policies;
}

function actions(name: string): number[] {
  return standIn.actionCalls.filter((c) => c.action === name).map((c) => c.status);
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('inline grants on a user', () => {
  it('puts loopgate-<requestId> on priya with the exact expiry condition on every statement', async () => {
    const outcome = await provisioner().grant(subject('priya.nair@example.com', inlineOnUser()));

    expect(outcome).toEqual({
      principal: `arn:aws:iam::${ACCOUNT}:user/priya.nair`,
      target: POLICY,
      preExisting: false,
    });
    expect(held('user', 'priya.nair').inline).toEqual({
      [POLICY]: {
        Version: '2012-10-17',
        Statement: [
          { ...LOGS, Condition: { DateLessThan: { 'aws:CurrentTime': '2026-11-21T13:00:00.000Z' } } },
        ],
      },
    });
  });

  it('granting again, or extending, overwrites the one policy', async () => {
    const iam = provisioner();
    await iam.grant(subject('priya.nair@example.com', inlineOnUser()));
    await iam.grant(subject('priya.nair@example.com', inlineOnUser()));
    const later = new Date('2026-11-21T17:00:00.000Z');

    const extended = await iam.grant(subject('priya.nair@example.com', inlineOnUser(), later));

    expect(extended.preExisting).toBe(false);
    const inline = held('user', 'priya.nair').inline;
    expect(Object.keys(inline)).toEqual([POLICY]);
    expect(inline[POLICY]).toMatchObject({
      Statement: [{ Condition: { DateLessThan: { 'aws:CurrentTime': later.toISOString() } } }],
    });
    expect(actions('PutUserPolicy')).toEqual([200, 200, 200]);
  });

  it('revoking deletes the policy; revoking again is fine', async () => {
    const iam = provisioner();
    const priya = subject('priya.nair@example.com', inlineOnUser());
    const outcome = await iam.grant(priya);

    await iam.revoke(outcome);
    expect(held('user', 'priya.nair').inline).toEqual({});

    await iam.revoke(outcome);
    expect(actions('DeleteUserPolicy')).toEqual([200, 404]);
  });

  it('deletes loopgate’s inline policy even when recorded as pre-existing: only loopgate writes that name', async () => {
    const iam = provisioner();
    const priya = subject('priya.nair@example.com', inlineOnUser());
    const outcome = await iam.grant(priya);

    await iam.revoke({ ...outcome, preExisting: true });

    expect(held('user', 'priya.nair').inline).toEqual({});
  });

  it('verify reads the policy back: absent, present, absent', async () => {
    const iam = provisioner();
    const priya = subject('priya.nair@example.com', inlineOnUser());

    expect(await iam.verify(priya)).toBe(false);
    const outcome = await iam.grant(priya);
    expect(await iam.verify(priya)).toBe(true);
    await iam.revoke(outcome);
    expect(await iam.verify(priya)).toBe(false);
  });

  it('verify refuses a policy of loopgate’s name that does not end at the expiry', async () => {
    const iam = provisioner();
    const user = standIn.account.user('priya.nair');
    standIn.account.putInlinePolicy(
      user,
      POLICY,
      JSON.stringify({ Version: '2012-10-17', Statement: [LOGS] }),
    );

    const unbounded = await errorOf(iam.verify(subject('priya.nair@example.com', inlineOnUser())));
    expect(unbounded).toBeInstanceOf(UpstreamError);
    expect((unbounded as Error).message).toMatch(/does not end by 2026-11-21T13:00:00.000Z/);

    // Written for a later expiry than the grant's: it would outlast the grant.
    await iam.grant(subject('priya.nair@example.com', inlineOnUser(), new Date('2026-11-22T13:00:00Z')));
    expect(await errorOf(iam.verify(subject('priya.nair@example.com', inlineOnUser())))).toBeInstanceOf(
      UpstreamError,
    );
  });

  it('refuses an email outside the company domain before calling IAM', async () => {
    const error = await errorOf(provisioner().grant(subject('priya.nair@contractor.io', inlineOnUser())));

    expect(error).toBeInstanceOf(ValidationError);
    expect(standIn.actionCalls).toEqual([]);
  });

  it('a company email without an IAM user is NotFoundError, and nothing is written', async () => {
    const error = await errorOf(provisioner().grant(subject('nobody@example.com', inlineOnUser())));

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain('nobody');
    expect(actions('PutUserPolicy')).toEqual([]);
  });
});

describe('inline grants on a role', () => {
  it('scopes every statement to the requester’s sessions and keeps the statement’s own conditions', async () => {
    const regional: IamStatement = {
      ...LOGS,
      Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
    };

    const outcome = await provisioner().grant(subject('dana.reyes@example.com', inlineOnRole([regional])));

    expect(outcome).toEqual({
      principal: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
      target: POLICY,
      preExisting: false,
    });
    expect(held('role', ROLE).inline[POLICY]).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          ...LOGS,
          Condition: {
            StringEquals: { 'aws:RequestedRegion': 'eu-west-1' },
            DateLessThan: { 'aws:CurrentTime': '2026-11-21T13:00:00.000Z' },
            StringEqualsIgnoreCase: { 'aws:SourceIdentity': 'dana.reyes@example.com' },
          },
        },
      ],
    });
    // The role's own policies are untouched.
    expect(held('role', ROLE).attached).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
  });

  it('verify, revoke and verify again on the role', async () => {
    const iam = provisioner();
    const dana = subject('dana.reyes@example.com', inlineOnRole());
    const outcome = await iam.grant(dana);
    expect(await iam.verify(dana)).toBe(true);
    // Another requester's grant of the same request id would not be this one.
    expect(await errorOf(iam.verify({ ...dana, email: 'tomas.silva@example.com' }))).toBeInstanceOf(
      UpstreamError,
    );

    await iam.revoke(outcome);
    await iam.revoke(outcome);

    expect(held('role', ROLE).inline).toEqual({});
    expect(actions('DeleteRolePolicy')).toEqual([200, 404]);
    expect(await iam.verify(dana)).toBe(false);
  });

  it('an unknown role is NotFoundError', async () => {
    const action = { ...inlineOnRole(), roleName: 'no-such-role' };

    const error = await errorOf(provisioner().grant(subject('dana.reyes@example.com', action)));

    expect(error).toBeInstanceOf(NotFoundError);
  });
});

describe('managed policies', () => {
  it('attaches billing read-only to priya, once however often granted, and detaches it at revoke', async () => {
    const iam = provisioner();
    const priya = subject('priya.nair@example.com', managed(BILLING));

    expect(await iam.verify(priya)).toBe(false);
    const outcome = await iam.grant(priya);
    expect(outcome).toEqual({
      principal: `arn:aws:iam::${ACCOUNT}:user/priya.nair`,
      target: BILLING,
      preExisting: false,
    });
    await iam.grant(priya);
    expect(held('user', 'priya.nair').attached).toEqual([BILLING]);
    expect(actions('AttachUserPolicy')).toEqual([200]);
    expect(await iam.verify(priya)).toBe(true);

    await iam.revoke(outcome);
    await iam.revoke(outcome);
    expect(held('user', 'priya.nair').attached).toEqual([]);
    expect(actions('DetachUserPolicy')).toEqual([200, 404]);
    expect(await iam.verify(priya)).toBe(false);
  });

  it('keeps a policy dana had attached before: pre-existing, never detached', async () => {
    const iam = provisioner();
    const dana = subject('dana.reyes@example.com', managed(ONCALL_TOOLS));

    const outcome = await iam.grant(dana);
    expect(outcome).toEqual({
      principal: `arn:aws:iam::${ACCOUNT}:user/dana.reyes`,
      target: ONCALL_TOOLS,
      preExisting: true,
    });
    await iam.revoke(outcome);

    expect(held('user', 'dana.reyes').attached).toEqual([ONCALL_TOOLS]);
    expect(actions('AttachUserPolicy')).toEqual([]);
    expect(actions('DetachUserPolicy')).toEqual([]);
    expect(await iam.verify(dana)).toBe(true);
  });

  it('a policy IAM does not have is NotFoundError naming the policy', async () => {
    const missing = `arn:aws:iam::${ACCOUNT}:policy/never-created`;

    const error = await errorOf(provisioner().grant(subject('priya.nair@example.com', managed(missing))));

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain('never-created');
  });

  it('verify of an unknown user is false', async () => {
    expect(await provisioner().verify(subject('nobody@example.com', managed(BILLING)))).toBe(false);
  });
});

describe('when IAM fails', () => {
  it('a 500 on PutUserPolicy is an UpstreamError and no policy is written', async () => {
    standIn.actionFaults.set('PutUserPolicy', { failNext: 1, status: 500 });

    const error = await errorOf(provisioner().grant(subject('priya.nair@example.com', inlineOnUser())));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ service: 'aws-iam', failure: 'unavailable' });
    expect(held('user', 'priya.nair').inline).toEqual({});
  });

  it('a 500 on DeleteUserPolicy is an UpstreamError, not a silent success', async () => {
    const iam = provisioner();
    const priya = subject('priya.nair@example.com', inlineOnUser());
    const outcome = await iam.grant(priya);
    standIn.actionFaults.set('DeleteUserPolicy', { failNext: 1, status: 500 });

    const error = await errorOf(iam.revoke(outcome));

    expect(error).toMatchObject({ service: 'aws-iam', failure: 'unavailable' });
    expect(Object.keys(held('user', 'priya.nair').inline)).toEqual([POLICY]);
  });

  it('a 500 on the read back is an UpstreamError, not "not granted"', async () => {
    standIn.actionFaults.set('GetUserPolicy', { failNext: 1, status: 500 });

    const error = await errorOf(provisioner().verify(subject('priya.nair@example.com', inlineOnUser())));

    expect(error).toMatchObject({ service: 'aws-iam', failure: 'unavailable' });
  });

  it('an answer slower than the timeout is an UpstreamError of kind timeout', async () => {
    standIn.faults.set('POST /', { delayMs: 400 });

    const error = await errorOf(
      provisioner({ timeoutMs: 100 }).grant(subject('priya.nair@example.com', inlineOnUser())),
    );

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ failure: 'timeout' });
  });
});

describe('a role grant reaches only the requester', () => {
  it('is refused before anything is written when the role lets its callers choose their source identity', async () => {
    const iam = new IAMClient({ endpoint: standIn.url, region: 'us-east-1', credentials: CREDENTIALS });
    clients.push(iam);
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: ROLE,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
            },
          ],
        }),
      }),
    );

    const error = await errorOf(provisioner().grant(subject('dana.reyes@example.com', inlineOnRole())));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(
      /^aws-iam: no grant on role prod-incident-operator: it cannot be limited to dana\.reyes@example\.com's sessions, because trust statement 1 lets its callers set any source identity/,
    );
    expect(actions('PutRolePolicy')).toEqual([]);
    expect(held('role', ROLE).inline).toEqual({});
  });

  it('verify compares the source identity without regard to case, as the condition does', async () => {
    const iam = provisioner();
    await iam.grant(subject('dana.reyes@example.com', inlineOnRole()));

    expect(await iam.verify(subject('Dana.Reyes@example.com', inlineOnRole()))).toBe(true);
  });
});

describe('refusals no retry can change fail at once, saying what to change', () => {
  const SSO_ROLE = 'AWSReservedSSO_DataEngineer_0a1b2c3d4e5f6789';

  /** Restarts the stand-in on the default scenario changed by `change`. */
  async function restartWith(change: (scenario: ReturnType<typeof loadScenarioFile>) => void) {
    await standIn.stop();
    const scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now());
    change(scenario);
    standIn = new IamStandIn({ scenario, clock, credentials: [CREDENTIALS] });
    await standIn.start();
  }

  it('UnmodifiableEntity on an Identity Center role: one write, a ValidationError naming the role and the fix', async () => {
    await restartWith((s) =>
      s.aws.roles.push({ name: SSO_ROLE, description: '', attachedPolicies: [], inlinePolicies: {} }),
    );
    const iam = provisioner({ maxAttempts: 3 });

    // A grant is refused before any write: Identity Center's trust policy lets no one set a source identity.
    const grant = await errorOf(
      iam.grant(subject('dana.reyes@example.com', { ...inlineOnRole(), roleName: SSO_ROLE })),
    );
    expect(grant).toBeInstanceOf(ValidationError);
    expect(actions('PutRolePolicy')).toEqual([]);

    // A write IAM answers with UnmodifiableEntity (here a revoke recorded against the role).
    const error = await errorOf(
      iam.revoke({
        principal: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${SSO_ROLE}`,
        target: POLICY,
        preExisting: false,
      }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(
      `aws-iam: DeleteRolePolicy refused, and no retry can change that ` +
        `(UnmodifiableEntity: Cannot perform the operation on the protected role '${SSO_ROLE}' - this role is only modifiable by AWS). ` +
        'Only AWS may change this role: the roles IAM Identity Center creates (AWSReservedSSO_*, under /aws-reserved/) and service-linked roles take no grant from loopgate. Name a role your account manages in the catalog.',
    );
    // Neither the SDK (maxAttempts 3) nor the connector tried again.
    expect(actions('DeleteRolePolicy')).toEqual([400]);
  });

  /** Statements of about `resources` × 42 characters: 60 pass a user's 2,048, 300 a role's 10,240. */
  const bigStatements = (resources: number): IamStatement[] => [
    {
      Sid: 'ReadBuckets',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: Array.from({ length: resources }, (_, i) => `arn:aws:s3:::loopgate-grant-bucket-${i}/*`),
    },
  ];

  it('LimitExceeded on the inline quota: one write, a ValidationError saying how full the user is', async () => {
    const iam = provisioner({ maxAttempts: 3 });
    await iam.grant({ ...subject('priya.nair@example.com', inlineOnUser()), requestId: 'earlier-grant' });
    const before = held('user', 'priya.nair').inline;

    const error = await errorOf(
      iam.grant(subject('priya.nair@example.com', inlineOnUser(bigStatements(60)))),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(
      new RegExp(
        "^aws-iam: PutUserPolicy on user priya\\.nair refused, and no retry can change that: the grant does not fit IAM's quota on inline policies " +
          '\\(LimitExceeded: Maximum policy size of 2048 bytes exceeded for user priya\\.nair\\)\\. ' +
          "A user's inline policies may total 2,048 characters, white space not counted; " +
          'priya\\.nair holds \\d{3} in 1 other inline policy \\(1 of them written by loopgate\\) and this grant needs 2,\\d{3}\\. ' +
          "Remove inline policies it no longer needs, or make the entitlement's statements shorter\\.$",
      ),
    );
    // IAM refused once; neither the SDK (maxAttempts 3) nor the connector wrote again, and nothing changed.
    expect(actions('PutUserPolicy')).toEqual([200, 409]);
    expect(held('user', 'priya.nair').inline).toEqual(before);
  });

  it('the same on a role, against its 10,240', async () => {
    const error = await errorOf(
      provisioner({ maxAttempts: 3 }).grant(
        subject('dana.reyes@example.com', inlineOnRole(bigStatements(300))),
      ),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(
      /Maximum policy size of 10240 bytes exceeded for role prod-incident-operator\)\. A role's inline policies may total 10,240 characters/,
    );
    expect(actions('PutRolePolicy')).toEqual([409]);
  });

  it('when the principal cannot be read after the refusal, IAM’s answer alone, still permanent', async () => {
    standIn.actionFaults.set('ListUserPolicies', { failNext: 1, status: 403 });

    const error = await errorOf(
      provisioner({ maxAttempts: 3 }).grant(
        subject('priya.nair@example.com', inlineOnUser(bigStatements(60))),
      ),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(
      /^aws-iam: PutUserPolicy on user named priya\.nair refused, and no retry can change that \(LimitExceeded: Maximum policy size of 2048 bytes exceeded for user priya\.nair\)\. IAM caps the inline policies/,
    );
  });

  it('LimitExceeded on the managed policy quota: one attach, a ValidationError', async () => {
    const extra = Array.from({ length: 10 }, (_, i) => `arn:aws:iam::${ACCOUNT}:policy/extra-${i}`);
    await restartWith((s) => {
      for (const arn of extra)
        s.aws.policies.push({
          arn,
          description: '',
          document: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }],
          },
        });
    });
    const iam = provisioner({ maxAttempts: 3 });
    for (const arn of extra) await iam.grant(subject('priya.nair@example.com', managed(arn)));

    const error = await errorOf(iam.grant(subject('priya.nair@example.com', managed(BILLING))));

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(
      '(LimitExceeded: Cannot exceed quota for PoliciesPerUser: 10)',
    );
    expect(actions('AttachUserPolicy').filter((status) => status !== 200)).toEqual([409]);
  });

  it('throttling is still retried by the SDK', async () => {
    standIn.actionFaults.set('PutUserPolicy', { failNext: 1, status: 400 });

    await provisioner({ maxAttempts: 3 }).grant(subject('priya.nair@example.com', inlineOnUser()));

    expect(actions('PutUserPolicy')).toEqual([400, 200]);
  });

  it('MalformedPolicyDocument: one write, a ValidationError pointing at the catalog', async () => {
    const bad: IamStatement = { Effect: 'Allow', Action: 'getobject', Resource: '*' };

    const error = await errorOf(
      provisioner({ maxAttempts: 3 }).grant(subject('priya.nair@example.com', inlineOnUser([bad]))),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/\(MalformedPolicyDocument: .*\)\. IAM does not accept/);
    expect(actions('PutUserPolicy')).toEqual([400]);
  });
});
