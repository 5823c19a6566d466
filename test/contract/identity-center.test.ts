// Contract tests of the IAM Identity Center stand-in, through the real
// @aws-sdk/client-sso-admin and @aws-sdk/client-identitystore over HTTP: the
// AWS JSON 1.1 protocol (X-Amz-Target SWBExternalService.* and
// AWSIdentityStore.*, as the SDKs' own sources name them), SigV4 scoped to the
// `sso` and `identitystore` signing names, asynchronous account assignments,
// typed errors, NextToken paging and throttling retries. Vendor documents:
// IAM Identity Center API Reference (CreateAccountAssignment,
// DeleteAccountAssignment, DescribeAccountAssignmentCreationStatus,
// ListAccountAssignmentCreationStatus, ListAccountAssignments,
// ListAccountAssignmentsForPrincipal, DescribePermissionSet, Common Errors:
// ConflictException, ThrottlingException, ResourceNotFoundException — all HTTP
// 400), and the Identity Store API Reference (GetUserId: "For the unique
// attribute, the only valid paths are userName and emails.value"; ExternalId
// with Issuer and Id; ResourceNotFoundException with ResourceType).

import {
  GetUserIdCommand,
  IdentitystoreClient,
  ResourceNotFoundException as StoreNotFound,
  ValidationException as StoreValidation,
} from '@aws-sdk/client-identitystore';
import {
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  paginateListAccountAssignmentsForPrincipal,
  ResourceNotFoundException,
  SSOAdminClient,
  type SSOAdminClientConfig,
  SSOAdminServiceException,
  ThrottlingException,
} from '@aws-sdk/client-sso-admin';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { IdentityCenterStandIn } from '../../sandbox/identity-center/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const CREDENTIALS = { accessKeyId: 'AKIASANDBOXLOOPGATE1', secretAccessKey: 'sandbox/secret+key/for-idc' };
const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6';
const STORE = 'd-9067a1b2c3';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-4a1b2c3d4e5f6a7b';
const OPERATOR = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9c8d7e6f5a4b3c2d';
const PROD = '111122223333';
const STAGING = '444455556666';

let scenario: Scenario;
let standIn: IdentityCenterStandIn;
let sso: SSOAdminClient;
let store: IdentitystoreClient;

beforeEach(async () => {
  scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, START);
  standIn = new IdentityCenterStandIn({
    scenario,
    clock: new SandboxClock({ start: START, frozen: true }),
    credentials: [CREDENTIALS],
  });
  await standIn.start();
  sso = new SSOAdminClient({ endpoint: standIn.url, region: 'us-east-1', credentials: CREDENTIALS });
  store = new IdentitystoreClient({ endpoint: standIn.url, region: 'us-east-1', credentials: CREDENTIALS });
});

afterEach(async () => {
  sso.destroy();
  store.destroy();
  await standIn.stop();
});

const person = (id: string) => {
  const p = scenario.people.find((x) => x.id === id);
  if (!p) throw new Error(id);
  return p;
};

async function userIdOf(id: string): Promise<string> {
  const out = await store.send(
    new GetUserIdCommand({
      IdentityStoreId: STORE,
      AlternateIdentifier: {
        UniqueAttribute: { AttributePath: 'userName', AttributeValue: person(id).email },
      },
    }),
  );
  return out.UserId ?? '';
}

const assignment = (principalId: string, permissionSetArn = READ_ONLY, account = PROD) => ({
  InstanceArn: INSTANCE,
  TargetId: account,
  TargetType: 'AWS_ACCOUNT' as const,
  PermissionSetArn: permissionSetArn,
  PrincipalType: 'USER' as const,
  PrincipalId: principalId,
});

async function assignees(permissionSetArn = READ_ONLY, account = PROD): Promise<string[]> {
  const out = await sso.send(
    new ListAccountAssignmentsCommand({
      InstanceArn: INSTANCE,
      AccountId: account,
      PermissionSetArn: permissionSetArn,
    }),
  );
  return (out.AccountAssignments ?? []).map((a) => a.PrincipalId ?? '');
}

describe('identitystore GetUserId', () => {
  it('finds a synced person by userName and by the Okta id as external id, to the same user', async () => {
    const byName = await userIdOf('dana');
    const byExternal = await store.send(
      new GetUserIdCommand({
        IdentityStoreId: STORE,
        AlternateIdentifier: {
          ExternalId: { Issuer: 'https://example.okta.com', Id: person('dana').okta.id },
        },
      }),
    );
    expect(byName).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(byExternal).toMatchObject({ UserId: byName, IdentityStoreId: STORE });
  });

  it('answers ResourceNotFoundException (ResourceType USER) for a person not synced, or an issuer that is not the sync', async () => {
    const notSynced = store.send(
      new GetUserIdCommand({
        IdentityStoreId: STORE,
        AlternateIdentifier: {
          UniqueAttribute: { AttributePath: 'userName', AttributeValue: person('loopgate').email },
        },
      }),
    );
    await expect(notSynced).rejects.toBeInstanceOf(StoreNotFound);
    await expect(notSynced).rejects.toMatchObject({
      ResourceType: 'USER',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      store.send(
        new GetUserIdCommand({
          IdentityStoreId: STORE,
          AlternateIdentifier: {
            ExternalId: { Issuer: 'https://attacker.example', Id: person('dana').okta.id },
          },
        }),
      ),
    ).rejects.toBeInstanceOf(StoreNotFound);
  });

  it('refuses an attribute path other than userName and emails.value', async () => {
    await expect(
      store.send(
        new GetUserIdCommand({
          IdentityStoreId: STORE,
          AlternateIdentifier: {
            UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'Dana Reyes' },
          },
        }),
      ),
    ).rejects.toBeInstanceOf(StoreValidation);
  });
});

describe('sso-admin account assignments', () => {
  it('creates asynchronously: IN_PROGRESS, then SUCCEEDED once polled, and only then listed', async () => {
    const dana = await userIdOf('dana');
    const created = await sso.send(new CreateAccountAssignmentCommand(assignment(dana)));
    const status = created.AccountAssignmentCreationStatus;
    expect(status).toMatchObject({
      Status: 'IN_PROGRESS',
      TargetId: PROD,
      PrincipalId: dana,
      PermissionSetArn: READ_ONLY,
    });
    expect(status?.CreatedDate).toEqual(START);
    expect(await assignees()).not.toContain(dana);
    const describe = () =>
      sso.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentCreationRequestId: status?.RequestId,
        }),
      );
    expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
    expect(await assignees()).toContain(dana);
  });

  it('refuses a second write of an assignment while one is in progress (ConflictException) and lists the one in progress', async () => {
    const dana = await userIdOf('dana');
    const first = await sso.send(new CreateAccountAssignmentCommand(assignment(dana)));
    const second = sso.send(new CreateAccountAssignmentCommand(assignment(dana)));
    await expect(second).rejects.toBeInstanceOf(ConflictException);
    await expect(second).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    const pending = await sso.send(
      new ListAccountAssignmentCreationStatusCommand({
        InstanceArn: INSTANCE,
        Filter: { Status: 'IN_PROGRESS' },
      }),
    );
    expect(pending.AccountAssignmentsCreationStatus?.map((s) => s.RequestId)).toEqual([
      first.AccountAssignmentCreationStatus?.RequestId,
    ]);
    expect(standIn.count('CreateAccountAssignment')).toBe(2);
    expect(standIn.instance.operations).toHaveLength(1);
  });

  it('stays IN_PROGRESS while held, whatever is polled', async () => {
    standIn.instance.hold = true;
    const dana = await userIdOf('dana');
    const created = await sso.send(new CreateAccountAssignmentCommand(assignment(dana)));
    for (let i = 0; i < 5; i++) {
      const out = await sso.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
        }),
      );
      expect(out.AccountAssignmentCreationStatus?.Status).toBe('IN_PROGRESS');
    }
    expect(await assignees()).not.toContain(dana);
  });

  it('deletes asynchronously, leaving other principals’ assignments', async () => {
    const maria = await userIdOf('maria');
    const kenji = await userIdOf('kenji');
    expect(await assignees()).toEqual(expect.arrayContaining([maria, kenji]));
    const deleted = await sso.send(new DeleteAccountAssignmentCommand(assignment(maria)));
    expect(deleted.AccountAssignmentDeletionStatus?.Status).toBe('IN_PROGRESS');
    expect(await assignees()).toContain(maria);
    const describe = () =>
      sso.send(
        new DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentDeletionRequestId: deleted.AccountAssignmentDeletionStatus?.RequestId,
        }),
      );
    await describe();
    expect((await describe()).AccountAssignmentDeletionStatus?.Status).toBe('SUCCEEDED');
    expect(await assignees()).toEqual([kenji]);
  });

  it('answers ResourceNotFoundException for an unknown permission set or instance, and for an unknown request id', async () => {
    const dana = await userIdOf('dana');
    const unknownSet = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0000000000000000';
    await expect(
      sso.send(new CreateAccountAssignmentCommand(assignment(dana, unknownSet))),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      sso.send(
        new CreateAccountAssignmentCommand({
          ...assignment(dana),
          InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000',
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      sso.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE,
          AccountAssignmentCreationRequestId: '00000000-0000-0000-0000-000000000000',
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('pages ListAccountAssignmentsForPrincipal with NextToken, filtered by account', async () => {
    standIn.pageSize = 1;
    const felix = await userIdOf('felix');
    standIn.instance.assignments.push({
      accountId: PROD,
      permissionSetArn: READ_ONLY,
      principalType: 'USER',
      principalId: felix,
    });
    const pages = [];
    for await (const page of paginateListAccountAssignmentsForPrincipal(
      { client: sso },
      { InstanceArn: INSTANCE, PrincipalId: felix, PrincipalType: 'USER' },
    )) {
      pages.push(page);
    }
    expect(pages).toHaveLength(2);
    expect(pages[0]?.NextToken).toBeTruthy();
    expect(
      pages.flatMap((p) => p.AccountAssignments ?? []).map((a) => [a.AccountId, a.PermissionSetArn]),
    ).toEqual([
      [STAGING, OPERATOR],
      [PROD, READ_ONLY],
    ]);
    const onProd = await sso.send(
      new ListAccountAssignmentsForPrincipalCommand({
        InstanceArn: INSTANCE,
        PrincipalId: felix,
        PrincipalType: 'USER',
        Filter: { AccountId: PROD },
      }),
    );
    expect(onProd.AccountAssignments?.map((a) => a.PermissionSetArn)).toEqual([READ_ONLY]);
    await expect(
      sso.send(
        new ListAccountAssignmentsForPrincipalCommand({
          InstanceArn: INSTANCE,
          PrincipalId: felix,
          PrincipalType: 'USER',
          NextToken: 'not-a-token',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('describes a permission set with its SessionDuration', async () => {
    const out = await sso.send(
      new DescribePermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: OPERATOR }),
    );
    expect(out.PermissionSet).toMatchObject({
      Name: 'ProdOperator',
      SessionDuration: 'PT8H',
      PermissionSetArn: OPERATOR,
    });
  });

  it('throttles with ThrottlingException, which the SDK retries', async () => {
    standIn.operationFaults.set('ListAccountAssignments', { failNext: 1, status: 429 });
    expect((await assignees()).length).toBeGreaterThan(0);
    standIn.operationFaults.set('ListAccountAssignments', { failNext: 5, status: 429 });
    const once = new SSOAdminClient({
      endpoint: standIn.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    await expect(
      once.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: INSTANCE,
          AccountId: PROD,
          PermissionSetArn: READ_ONLY,
        }),
      ),
    ).rejects.toBeInstanceOf(ThrottlingException);
    once.destroy();
  });
});

describe('SigV4', () => {
  it('refuses a wrong secret, an unknown key, and a signature scoped to another service', async () => {
    const wrong = new SSOAdminClient({
      endpoint: standIn.url,
      region: 'us-east-1',
      credentials: { ...CREDENTIALS, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    const unknown = new SSOAdminClient({
      endpoint: standIn.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    // identitystore's signing name on an sso-admin target.
    const otherService = new SSOAdminClient({
      endpoint: standIn.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      signingName: 'identitystore',
      maxAttempts: 1,
    } as SSOAdminClientConfig);
    const list = new ListAccountAssignmentsCommand({
      InstanceArn: INSTANCE,
      AccountId: PROD,
      PermissionSetArn: READ_ONLY,
    });
    try {
      await expect(wrong.send(list)).rejects.toMatchObject({ name: 'InvalidSignatureException' });
      await expect(unknown.send(list)).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
      await expect(otherService.send(list)).rejects.toBeInstanceOf(SSOAdminServiceException);
    } finally {
      wrong.destroy();
      unknown.destroy();
      otherService.destroy();
    }
    expect(standIn.count('ListAccountAssignments')).toBe(0);
  });
});
