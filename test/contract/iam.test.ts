// Contract tests of the AWS IAM stand-in, through the real @aws-sdk/client-iam
// over HTTP: what a loopgate connector relies on to read a principal's access
// and grant time-bound policies (shapes, URL-encoded documents, pagination,
// typed errors, SigV4 authentication, throttling retries, last-accessed jobs).

import {
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  GenerateServiceLastAccessedDetailsCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetServiceLastAccessedDetailsCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type GetUserPolicyCommandInput,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  paginateListAttachedUserPolicies,
  paginateListUserPolicies,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  ServiceFailureException,
  UnmodifiableEntityException,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { QUOTAS } from '../../sandbox/iam/account';
import { type IamCredentials, IamStandIn } from '../../sandbox/iam/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../sandbox/scenario/load';

const START = new Date('2026-11-21T09:00:00.000Z');
const CREDENTIALS: IamCredentials = {
  accessKeyId: 'AKIASANDBOXLOOPGATE1',
  secretAccessKey: 'sandbox/secret+key/for-the-iam-stand-in',
};
const ACCOUNT = '111122223333';
const DANA = 'dana.reyes';
const DANA_ARN = `arn:aws:iam::${ACCOUNT}:user/${DANA}`;
const ROLE = 'prod-incident-operator';
const ONCALL_TOOLS = `arn:aws:iam::${ACCOUNT}:policy/sre-oncall-tools`;
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const BILLING = 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess';

let scenario: Scenario;
let clock: SandboxClock;
let standIn: IamStandIn;
let iam: IAMClient;

beforeEach(() => {
  scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, START);
  clock = new SandboxClock({ start: START, frozen: true });
});

afterEach(async () => {
  iam?.destroy();
  await standIn?.stop();
});

async function start(): Promise<void> {
  standIn = new IamStandIn({ scenario, clock, credentials: [CREDENTIALS] });
  await standIn.start();
  iam = client();
}

function client(credentials: IamCredentials = CREDENTIALS): IAMClient {
  return new IAMClient({ endpoint: standIn.url, region: 'us-east-1', credentials });
}

function person(id: string) {
  const found = scenario.people.find((p) => p.id === id);
  if (!found) throw new Error(`no person ${id} in the scenario`);
  return found;
}

/** A time-bound grant as loopgate writes it: the statement stops applying at expiry even if cleanup fails. */
function timeBoundPolicy(
  expiry: Date,
  resources: string[] = ['arn:aws:rds:eu-west-1:111122223333:db:prod-*'],
) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'LoopgateGrant',
        Effect: 'Allow',
        Action: ['rds:DescribeDBInstances', 'rds-db:connect'],
        Resource: resources,
        Condition: { DateLessThan: { 'aws:CurrentTime': expiry.toISOString() } },
      },
    ],
  };
}

async function rejection(promise: Promise<unknown>): Promise<IAMServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof IAMServiceException)) throw new Error(`expected an IAM error, got ${String(error)}`);
  return error;
}

describe('reading a principal', () => {
  beforeEach(start);

  it('GetUser returns the scenario user with its IAM identity', async () => {
    const { User } = await iam.send(new GetUserCommand({ UserName: DANA }));
    expect(User).toMatchObject({ UserName: DANA, Arn: DANA_ARN, Path: '/' });
    expect(User?.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(User?.CreateDate).toEqual(person('dana').okta.created);
  });

  it('finds names regardless of case, answering with the stored name', async () => {
    const { User } = await iam.send(new GetUserCommand({ UserName: 'Dana.Reyes' }));
    expect(User?.UserName).toBe(DANA);
  });

  it('lists groups, attached policies and the groups’ policies for effective access', async () => {
    const groups = await iam.send(new ListGroupsForUserCommand({ UserName: DANA }));
    expect(groups.Groups?.map((g) => g.GroupName)).toEqual(['engineers']);
    expect(groups.Groups?.[0]?.Arn).toBe(`arn:aws:iam::${ACCOUNT}:group/engineers`);
    expect(groups.IsTruncated).toBe(false);

    const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: DANA }));
    expect(attached.AttachedPolicies).toEqual([{ PolicyName: 'sre-oncall-tools', PolicyArn: ONCALL_TOOLS }]);

    const groupPolicies = await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'engineers' }));
    expect(groupPolicies.AttachedPolicies).toEqual([{ PolicyName: 'ReadOnlyAccess', PolicyArn: READ_ONLY }]);

    const inline = await iam.send(new ListUserPoliciesCommand({ UserName: DANA }));
    expect(inline.PolicyNames).toEqual([]);
  });

  it('GetPolicy and GetPolicyVersion return the scenario document, URL-encoded as IAM sends it', async () => {
    const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: ONCALL_TOOLS }));
    expect(Policy).toMatchObject({
      PolicyName: 'sre-oncall-tools',
      Arn: ONCALL_TOOLS,
      Path: '/',
      DefaultVersionId: 'v1',
      AttachmentCount: 1,
      IsAttachable: true,
      Description: 'Restart and scale production services during an incident.',
    });
    expect(Policy?.PolicyId).toMatch(/^ANPA/);

    const { PolicyVersion } = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: ONCALL_TOOLS, VersionId: Policy?.DefaultVersionId }),
    );
    expect(PolicyVersion?.IsDefaultVersion).toBe(true);
    expect(PolicyVersion?.Document).toMatch(/^%7B/);
    const document = JSON.parse(decodeURIComponent(PolicyVersion?.Document ?? ''));
    const expected = scenario.aws.policies.find((p) => p.arn === ONCALL_TOOLS)?.document;
    expect(document).toEqual(expected);
  });

  it('GetRole carries the trust policy URL-encoded', async () => {
    // IAM API Reference, GetRole / Role data type: AssumeRolePolicyDocument is "URL-encoded
    // compliant with RFC 3986". IAM User Guide, "Monitor and control actions taken with assumed
    // roles": the trust policy must allow sts:SetSourceIdentity for the SAML provider that sets it.
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
    expect(Role).toMatchObject({
      RoleName: ROLE,
      Arn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
      MaxSessionDuration: 3600,
    });
    expect(Role?.RoleId).toMatch(/^AROA/);
    const trust = JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? ''));
    // The company's SAML identity provider, which may set the session's source identity.
    expect(trust.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:saml-provider/company-idp` },
      Action: ['sts:AssumeRoleWithSAML', 'sts:SetSourceIdentity', 'sts:TagSession'],
    });
  });

  it('UpdateAssumeRolePolicy replaces the trust policy; GetRole returns it', async () => {
    // IAM API Reference, UpdateAssumeRolePolicy: "Updates the policy that grants an IAM entity
    // permission to assume a role"; Errors: MalformedPolicyDocument (HTTP 400).
    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        },
      ],
    };
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: ROLE, PolicyDocument: JSON.stringify(trust) }),
    );

    const { Role } = await iam.send(new GetRoleCommand({ RoleName: ROLE }));
    expect(JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? ''))).toEqual(trust);
    const bad = await rejection(
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: ROLE, PolicyDocument: '{not json' })),
    );
    expect(bad).toBeInstanceOf(MalformedPolicyDocumentException);
  });
});

describe('granting and revoking', () => {
  beforeEach(start);

  it('puts a time-bound inline policy, reads it back, and deletes it', async () => {
    const expiry = new Date(START.getTime() + 4 * 3_600_000);
    const document = JSON.stringify(timeBoundPolicy(expiry), null, 2);
    await iam.send(
      new PutUserPolicyCommand({ UserName: DANA, PolicyName: 'loopgate-ACCESS-1', PolicyDocument: document }),
    );

    const read = await iam.send(
      new GetUserPolicyCommand({ UserName: DANA, PolicyName: 'loopgate-ACCESS-1' }),
    );
    expect(read).toMatchObject({ UserName: DANA, PolicyName: 'loopgate-ACCESS-1' });
    expect(decodeURIComponent(read.PolicyDocument ?? '')).toBe(document);
    expect(standIn.principalPolicies('user', DANA)?.inline).toEqual({
      'loopgate-ACCESS-1': timeBoundPolicy(expiry),
    });

    await iam.send(new DeleteUserPolicyCommand({ UserName: DANA, PolicyName: 'loopgate-ACCESS-1' }));
    const gone = await rejection(
      iam.send(new GetUserPolicyCommand({ UserName: DANA, PolicyName: 'loopgate-ACCESS-1' })),
    );
    expect(gone).toBeInstanceOf(NoSuchEntityException);
    expect(gone.message).toBe('The user policy with name loopgate-ACCESS-1 cannot be found.');
    expect(standIn.principalPolicies('user', DANA)?.inline).toEqual({});
  });

  it('replaces an inline policy put twice under the same name', async () => {
    const first = JSON.stringify(timeBoundPolicy(new Date(START.getTime() + 3_600_000)));
    const second = JSON.stringify(timeBoundPolicy(new Date(START.getTime() + 7_200_000)));
    await iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'grant', PolicyDocument: first }));
    await iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'grant', PolicyDocument: second }));
    expect(Object.keys(standIn.principalPolicies('role', ROLE)?.inline ?? {})).toEqual(['grant']);
    expect(standIn.principalPolicies('role', ROLE)?.inline.grant).toEqual(JSON.parse(second));
  });

  it('attaches and detaches a managed policy on the role', async () => {
    await iam.send(new AttachRolePolicyCommand({ RoleName: ROLE, PolicyArn: BILLING }));
    // Attaching again is not an error in IAM.
    await iam.send(new AttachRolePolicyCommand({ RoleName: ROLE, PolicyArn: BILLING }));
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: ROLE }));
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([BILLING, READ_ONLY]);
    const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: BILLING }));
    expect(Policy?.AttachmentCount).toBe(2);

    await iam.send(new DetachRolePolicyCommand({ RoleName: ROLE, PolicyArn: BILLING }));
    expect(standIn.principalPolicies('role', ROLE)?.attached).toEqual([READ_ONLY]);
    const again = await rejection(
      iam.send(new DetachRolePolicyCommand({ RoleName: ROLE, PolicyArn: BILLING })),
    );
    expect(again).toBeInstanceOf(NoSuchEntityException);
  });

  it('adds a user to a group and removes them', async () => {
    await iam.send(new AddUserToGroupCommand({ GroupName: 'finance', UserName: DANA }));
    expect(standIn.principalPolicies('user', DANA)?.groups).toEqual(['engineers', 'finance']);
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'finance', UserName: DANA }));
    expect(standIn.principalPolicies('user', DANA)?.groups).toEqual(['engineers']);
    const unknown = await rejection(
      iam.send(new AddUserToGroupCommand({ GroupName: 'admins', UserName: DANA })),
    );
    expect(unknown).toBeInstanceOf(NoSuchEntityException);
  });
});

describe('pagination', () => {
  beforeEach(start);

  it('pages attached policies and inline policy names with MaxItems=1 through the SDK paginators', async () => {
    await iam.send(new AttachUserPolicyCommand({ UserName: DANA, PolicyArn: READ_ONLY }));
    for (const name of ['grant-a', 'grant-b', 'grant-c']) {
      await iam.send(
        new PutUserPolicyCommand({
          UserName: DANA,
          PolicyName: name,
          PolicyDocument: JSON.stringify(timeBoundPolicy(new Date(START.getTime() + 3_600_000))),
        }),
      );
    }

    const attachedPages = [];
    for await (const page of paginateListAttachedUserPolicies(
      { client: iam, pageSize: 1 },
      { UserName: DANA },
    )) {
      attachedPages.push(page);
    }
    expect(attachedPages.map((p) => p.AttachedPolicies?.map((a) => a.PolicyName))).toEqual([
      ['ReadOnlyAccess'],
      ['sre-oncall-tools'],
    ]);
    expect(attachedPages[0]).toMatchObject({ IsTruncated: true, Marker: expect.any(String) });
    expect(attachedPages[1]?.IsTruncated).toBe(false);

    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateListUserPolicies({ client: iam, pageSize: 1 }, { UserName: DANA })) {
      pages += 1;
      names.push(...(page.PolicyNames ?? []));
    }
    expect(pages).toBe(3);
    expect(names).toEqual(['grant-a', 'grant-b', 'grant-c']);
  });

  it('keeps its place when an item is removed between pages', async () => {
    for (const name of ['grant-a', 'grant-b', 'grant-c']) {
      await iam.send(
        new PutUserPolicyCommand({
          UserName: DANA,
          PolicyName: name,
          PolicyDocument: JSON.stringify(timeBoundPolicy(new Date(START.getTime() + 3_600_000))),
        }),
      );
    }
    const first = await iam.send(new ListUserPoliciesCommand({ UserName: DANA, MaxItems: 1 }));
    await iam.send(new DeleteUserPolicyCommand({ UserName: DANA, PolicyName: 'grant-a' }));
    const second = await iam.send(
      new ListUserPoliciesCommand({ UserName: DANA, MaxItems: 1, Marker: first.Marker }),
    );
    expect(second.PolicyNames).toEqual(['grant-b']);
  });
});

describe('errors come out typed', () => {
  beforeEach(start);

  it('NoSuchEntityException for an unknown user, role or policy', async () => {
    const user = await rejection(iam.send(new GetUserCommand({ UserName: 'nobody' })));
    expect(user).toBeInstanceOf(NoSuchEntityException);
    expect(user.message).toBe('The user with name nobody cannot be found.');
    expect(user.$metadata.httpStatusCode).toBe(404);
    expect(user.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    expect(await rejection(iam.send(new GetRoleCommand({ RoleName: 'nobody' })))).toBeInstanceOf(
      NoSuchEntityException,
    );
    const policy = await rejection(
      iam.send(
        new AttachUserPolicyCommand({ UserName: DANA, PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/missing` }),
      ),
    );
    expect(policy).toBeInstanceOf(NoSuchEntityException);
    expect(policy.message).toBe(
      `Policy arn:aws:iam::${ACCOUNT}:policy/missing does not exist or is not attachable.`,
    );
  });

  it('MalformedPolicyDocumentException for invalid JSON and for grammar IAM refuses', async () => {
    const put = (document: string) =>
      rejection(
        iam.send(new PutUserPolicyCommand({ UserName: DANA, PolicyName: 'bad', PolicyDocument: document })),
      );

    const syntax = await put('{"Version": "2012-10-17", "Statement": [');
    expect(syntax).toBeInstanceOf(MalformedPolicyDocumentException);
    expect(syntax.message).toBe('Syntax errors in policy.');
    expect(syntax.$metadata.httpStatusCode).toBe(400);

    const principal = await put(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
      }),
    );
    expect(principal.message).toBe('Policy document should not specify a principal.');
    const noResource = await put(
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] }),
    );
    expect(noResource.message).toBe('Policy statement must contain resources.');
    const vendor = await put(
      JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'GetObject', Resource: '*' }] }),
    );
    expect(vendor).toBeInstanceOf(MalformedPolicyDocumentException);
    expect(standIn.principalPolicies('user', DANA)?.inline).toEqual({});
  });

  it('LimitExceededException when the user’s inline policies pass 2,048 characters without white space', async () => {
    // Many resources make a document past the user quota; the white space IAM ignores is not counted.
    const resources = Array.from({ length: 60 }, (_, i) => `arn:aws:s3:::loopgate-grant-bucket-${i}/*`);
    const big = JSON.stringify(timeBoundPolicy(new Date(START.getTime() + 3_600_000), resources), null, 8);
    expect(big.replace(/\s/g, '').length).toBeGreaterThan(QUOTAS.inlinePolicySize.user);

    const error = await rejection(
      iam.send(new PutUserPolicyCommand({ UserName: DANA, PolicyName: 'big', PolicyDocument: big })),
    );
    expect(error).toBeInstanceOf(LimitExceededException);
    expect(error.message).toBe(`Maximum policy size of 2048 bytes exceeded for user ${DANA}`);
    expect(error.$metadata.httpStatusCode).toBe(409);

    // The same document fits a role's 10,240.
    await iam.send(new PutRolePolicyCommand({ RoleName: ROLE, PolicyName: 'big', PolicyDocument: big }));
  });

  it('LimitExceededException past 10 managed policies on one principal', async () => {
    for (let i = 0; i < 10; i++) {
      scenario.aws.policies.push({
        arn: `arn:aws:iam::${ACCOUNT}:policy/extra-${i}`,
        description: '',
        document: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }],
        },
      });
    }
    await standIn.stop();
    iam.destroy();
    await start();
    // dana has sre-oncall-tools; nine more reach the quota of ten.
    for (let i = 0; i < 9; i++) {
      await iam.send(
        new AttachUserPolicyCommand({
          UserName: DANA,
          PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/extra-${i}`,
        }),
      );
    }
    const error = await rejection(
      iam.send(
        new AttachUserPolicyCommand({ UserName: DANA, PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/extra-9` }),
      ),
    );
    expect(error).toBeInstanceOf(LimitExceededException);
    expect(error.message).toBe('Cannot exceed quota for PoliciesPerUser: 10');
    // The SDK's default strategy counts LimitExceededException as throttling and retries it, against IAM too.
    expect(error.$metadata.attempts).toBe(3);
  });

  it('UnmodifiableEntityException (HTTP 400) for any change to a role AWS owns, as the IAM API reference names it', async () => {
    // IAM API Reference, PutRolePolicy / AttachRolePolicy / DetachRolePolicy Errors: UnmodifiableEntity,
    // HTTP 400. IAM Identity Center User Guide, "Referencing permission sets in resource policies":
    // its roles are AWSReservedSSO_<set>_<id> under /aws-reserved/sso.amazonaws.com/. IAM User
    // Guide, "Using service-linked roles": AWSServiceRoleFor… roles under /aws-service-role/, which
    // only the linked service may change.
    const sso = 'AWSReservedSSO_DataEngineer_0a1b2c3d4e5f6789';
    const linked = 'AWSServiceRoleForSupport';
    for (const name of [sso, linked]) {
      scenario.aws.roles.push({ name, description: 'AWS owns it', attachedPolicies: [], inlinePolicies: {} });
    }
    await standIn.stop();
    iam.destroy();
    await start();

    const { Role } = await iam.send(new GetRoleCommand({ RoleName: sso }));
    expect(Role).toMatchObject({
      Path: '/aws-reserved/sso.amazonaws.com/',
      Arn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${sso}`,
    });
    const trust = JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? ''));
    expect(trust.Statement[0]).toMatchObject({
      Principal: { Federated: expect.stringMatching(/:saml-provider\/AWSSSO_/) },
      Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
    });

    const document = JSON.stringify(timeBoundPolicy(new Date(START.getTime() + 3_600_000)));
    const writes = [
      () =>
        iam.send(
          new PutRolePolicyCommand({ RoleName: sso, PolicyName: 'loopgate-x', PolicyDocument: document }),
        ),
      () => iam.send(new AttachRolePolicyCommand({ RoleName: sso, PolicyArn: READ_ONLY })),
      () => iam.send(new DetachRolePolicyCommand({ RoleName: sso, PolicyArn: READ_ONLY })),
    ];
    for (const write of writes) {
      const error = await rejection(write());
      expect(error).toBeInstanceOf(UnmodifiableEntityException);
      expect(error.message).toBe(
        `Cannot perform the operation on the protected role '${sso}' - this role is only modifiable by AWS`,
      );
      expect(error.$metadata.httpStatusCode).toBe(400);
    }
    expect(standIn.principalPolicies('role', sso)).toEqual({ attached: [], inline: {} });

    const { Role: serviceRole } = await iam.send(new GetRoleCommand({ RoleName: linked }));
    expect(serviceRole?.Path).toBe('/aws-service-role/');
    const refused = await rejection(
      iam.send(
        new PutRolePolicyCommand({ RoleName: linked, PolicyName: 'loopgate-x', PolicyDocument: document }),
      ),
    );
    expect(refused).toBeInstanceOf(UnmodifiableEntityException);
    expect(standIn.principalPolicies('role', linked)).toEqual({ attached: [], inline: {} });
  });

  it('ValidationError for a missing parameter and for a name IAM does not allow', async () => {
    const missing = await rejection(
      iam.send(new GetUserPolicyCommand({ UserName: DANA } as GetUserPolicyCommandInput)),
    );
    expect(missing.name).toBe('ValidationError');
    expect(missing.message).toBe(
      "1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null",
    );
    expect(missing.$metadata.httpStatusCode).toBe(400);

    const badName = await rejection(iam.send(new GetUserCommand({ UserName: 'dana reyes!' })));
    expect(badName.name).toBe('ValidationError');
    expect(badName.message).toContain('The specified value for userName is invalid');

    // loopgate runs with role credentials: GetUser needs a name.
    const noName = await rejection(iam.send(new GetUserCommand({})));
    expect(noName.message).toBe('Must specify userName when calling with non-User credentials');

    const maxItems = await rejection(iam.send(new ListUserPoliciesCommand({ UserName: DANA, MaxItems: 0 })));
    expect(maxItems.message).toContain('Member must have value greater than or equal to 1');
  });

  it('InvalidAction for an action IAM does not have', async () => {
    iam.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown };
        if (typeof request.body === 'string')
          request.body = request.body.replace('Action=GetUser&', 'Action=GetUsers&');
        return next(args);
      },
      { step: 'build', priority: 'high' },
    );
    const error = await rejection(iam.send(new GetUserCommand({ UserName: DANA })));
    expect(error.name).toBe('InvalidAction');
    expect(error.message).toBe('Could not find operation GetUsers for version 2010-05-08');
    expect(error.$metadata.httpStatusCode).toBe(400);
  });
});

describe('authentication', () => {
  beforeEach(start);

  it('refuses an unknown access key with InvalidClientTokenId', async () => {
    const stranger = client({
      accessKeyId: 'AKIAUNKNOWNKEY000000',
      secretAccessKey: CREDENTIALS.secretAccessKey,
    });
    const error = await rejection(stranger.send(new GetUserCommand({ UserName: DANA })));
    stranger.destroy();
    expect(error.name).toBe('InvalidClientTokenId');
    expect(error.message).toBe('The security token included in the request is invalid.');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  it('refuses a request signed with the wrong secret with SignatureDoesNotMatch', async () => {
    const forger = client({ accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' });
    const error = await rejection(forger.send(new GetUserCommand({ UserName: DANA })));
    forger.destroy();
    expect(error.name).toBe('SignatureDoesNotMatch');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  it('refuses a body changed after signing', async () => {
    iam.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown };
        // Same length, so only the signature can tell.
        if (typeof request.body === 'string') request.body = request.body.replace(DANA, 'dana.reyez');
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    const error = await rejection(iam.send(new GetUserCommand({ UserName: DANA })));
    expect(error.name).toBe('SignatureDoesNotMatch');
  });

  it('answers an unsigned request with MissingAuthenticationToken', async () => {
    const response = await fetch(standIn.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetUser&Version=2010-05-08&UserName=dana.reyes',
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('text/xml');
    const body = await response.text();
    expect(body).toContain('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">');
    expect(body).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(body).toContain('<Type>Sender</Type>');
  });
});

describe('injected faults', () => {
  beforeEach(start);

  it('a throttled action is retried by the SDK and then succeeds', async () => {
    standIn.actionFaults.set('GetUser', { failNext: 1, status: 429 });
    const before = standIn.calls.length;
    const { User } = await iam.send(new GetUserCommand({ UserName: DANA }));
    expect(User?.UserName).toBe(DANA);
    expect(standIn.calls.length - before).toBe(2);
    expect(standIn.calls.slice(-2).map((c) => c.status)).toEqual([400, 200]);
    expect(standIn.actionCalls.slice(-2).map((c) => c.code ?? 'OK')).toEqual(['Throttling', 'OK']);
  });

  it('throttling is HTTP 400 Throttling "Rate exceeded", as IAM sends it', async () => {
    standIn.actionFaults.set('GetUser', { failNext: 3, status: 429 });
    const error = await rejection(iam.send(new GetUserCommand({ UserName: DANA })));
    expect(error.name).toBe('Throttling');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 3 });
  });

  it('a route-level 500 comes as ServiceFailure and is retried', async () => {
    standIn.faults.set('POST /', { failNext: 1, status: 500 });
    const { User } = await iam.send(new GetUserCommand({ UserName: DANA }));
    expect(User?.UserName).toBe(DANA);

    standIn.faults.set('POST /', { failNext: 3, status: 500 });
    const error = await rejection(iam.send(new GetUserCommand({ UserName: DANA })));
    expect(error).toBeInstanceOf(ServiceFailureException);
  });
});

describe('service last accessed', () => {
  beforeEach(start);

  it('a job is in progress until the clock moves, then reports the scenario’s services', async () => {
    const { JobId } = await iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: DANA_ARN }));
    expect(JobId).toMatch(/^[0-9a-f-]{36}$/);

    const pending = await iam.send(new GetServiceLastAccessedDetailsCommand({ JobId }));
    expect(pending).toMatchObject({
      JobStatus: 'IN_PROGRESS',
      JobType: 'SERVICE_LEVEL',
      ServicesLastAccessed: [],
    });
    expect(pending.JobCreationDate).toEqual(START);
    expect(pending.JobCompletionDate).toBeUndefined();

    clock.advance(1000);
    const done = await iam.send(new GetServiceLastAccessedDetailsCommand({ JobId }));
    expect(done.JobStatus).toBe('COMPLETED');
    expect(done.JobCompletionDate).toEqual(new Date(START.getTime() + 1000));
    const services = new Map(done.ServicesLastAccessed?.map((s) => [s.ServiceNamespace, s]));
    for (const used of person('dana').aws?.lastAccessed ?? []) {
      expect(services.get(used.namespace)).toMatchObject({
        ServiceName: used.service,
        LastAuthenticated: used.at,
        LastAuthenticatedEntity: DANA_ARN,
        TotalAuthenticatedEntities: 1,
      });
    }
    // Allowed by her policies (ReadOnlyAccess through engineers, sre-oncall-tools) but never used.
    expect(services.get('ecs')).toMatchObject({ TotalAuthenticatedEntities: 0 });
    expect(services.get('ecs')?.LastAuthenticated).toBeUndefined();
    expect(services.get('s3')?.LastAuthenticated).toBeUndefined();
  });

  it('pages the services and reports a group across its members', async () => {
    const { JobId } = await iam.send(
      new GenerateServiceLastAccessedDetailsCommand({ Arn: `arn:aws:iam::${ACCOUNT}:group/engineers` }),
    );
    clock.advance(1000);
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await iam.send(
        new GetServiceLastAccessedDetailsCommand({ JobId, MaxItems: 2, Marker: marker }),
      );
      pages += 1;
      seen.push(...(page.ServicesLastAccessed ?? []).map((s) => s.ServiceNamespace ?? ''));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    const full = await iam.send(new GetServiceLastAccessedDetailsCommand({ JobId }));
    const ec2 = full.ServicesLastAccessed?.find((s) => s.ServiceNamespace === 'ec2');
    // dana (-1d) and tomas (-3d) used EC2; dana was the last.
    expect(ec2).toMatchObject({ TotalAuthenticatedEntities: 2, LastAuthenticatedEntity: DANA_ARN });
  });

  it('refuses an ARN that is not a known user or role', async () => {
    const error = await rejection(
      iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: `arn:aws:iam::${ACCOUNT}:user/nobody` })),
    );
    expect(error).toBeInstanceOf(NoSuchEntityException);
  });
});
