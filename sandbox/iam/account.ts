// The IAM account the stand-in serves: users, roles and groups with their
// attached managed policies and inline policies, the managed policies, and
// service-last-accessed jobs, built from the scenario. Every operation
// enforces IAM's rules (case-insensitive names, quotas, the inline size limit
// without white space) and fails with IAM's error codes and wording.

import { createHash, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import type { Scenario } from '../scenario/load';
import {
  invalidInput,
  limitExceeded,
  malformedPolicyDocument,
  noSuchEntity,
  unmodifiableEntity,
} from './errors';
import { allowedNamespaces, parsePolicyDocument, policySize } from './policy-document';

export type PrincipalKind = 'user' | 'role' | 'group';

export interface ManagedPolicy {
  arn: string;
  name: string;
  path: string;
  id: string;
  description: string;
  awsManaged: boolean;
  createDate: Date;
  updateDate: Date;
  defaultVersionId: string;
  /** The document text as IAM stores it (returned URL-encoded). */
  document: string;
}

export interface InlinePolicy {
  name: string;
  document: string;
}

interface PrincipalBase {
  name: string;
  id: string;
  path: string;
  arn: string;
  createDate: Date;
  /** Attached managed policy ARNs, in attachment order. */
  attached: string[];
  /** Keyed by lower-cased name: IAM names are unique regardless of case. */
  inline: Map<string, InlinePolicy>;
}

export interface User extends PrincipalBase {
  kind: 'user';
  /** Lower-cased group names. */
  groups: Set<string>;
  lastAccessed: { service: string; namespace: string; at: Date }[];
}

export interface Role extends PrincipalBase {
  kind: 'role';
  /** Created and changed by AWS only (Identity Center, a service-linked role): every write is UnmodifiableEntity. */
  protectedByAws: boolean;
  description: string;
  assumeRolePolicyDocument: string;
  maxSessionDuration: number;
}

export interface Group extends PrincipalBase {
  kind: 'group';
}

export type Principal = User | Role | Group;

export interface ServiceAccess {
  serviceName: string;
  serviceNamespace: string;
  lastAuthenticated?: Date;
  lastAuthenticatedEntity?: string;
  totalAuthenticatedEntities: number;
}

export interface LastAccessedJob {
  id: string;
  arn: string;
  granularity: 'SERVICE_LEVEL' | 'ACTION_LEVEL';
  createdAt: Date;
  /** Computed when the job is generated: the report describes the account at that moment. */
  services: ServiceAccess[];
}

/** IAM's default quotas (adjustable in a real account, fixed here). */
export const QUOTAS = {
  managedPoliciesPerPrincipal: 10,
  groupsPerUser: 10,
  /** Aggregate size of all inline policies of one principal, white space not counted. */
  inlinePolicySize: { user: 2048, role: 10240, group: 5120 },
} as const;

/** A report takes this long to complete; IAM's take seconds, so a test moves the clock. */
export const JOB_DURATION_MS = 1000;

const QUOTA_NAMES = { user: 'PoliciesPerUser', role: 'PoliciesPerRole', group: 'PoliciesPerGroup' } as const;
const ID_PREFIX = { user: 'AIDA', role: 'AROA', group: 'AGPA', policy: 'ANPA' } as const;

/** AWS publishes its managed policies; this is when the first ones appeared. */
const AWS_MANAGED_POLICY_DATE = new Date('2015-02-06T18:39:46Z');

/** Names of the service namespaces a policy can mention, for last-accessed reports of services never used. */
const SERVICE_NAMES: Record<string, string> = {
  'aws-portal': 'AWS Billing',
  budgets: 'AWS Budget Service',
  ce: 'AWS Cost Explorer Service',
  cloudtrail: 'AWS CloudTrail',
  cloudwatch: 'Amazon CloudWatch',
  config: 'AWS Config',
  dynamodb: 'Amazon DynamoDB',
  ec2: 'Amazon EC2',
  ecs: 'Amazon Elastic Container Service',
  iam: 'AWS Identity and Access Management',
  kms: 'AWS Key Management Service',
  lambda: 'AWS Lambda',
  logs: 'Amazon CloudWatch Logs',
  rds: 'Amazon RDS',
  s3: 'Amazon S3',
  secretsmanager: 'AWS Secrets Manager',
  sns: 'Amazon SNS',
  sqs: 'Amazon SQS',
  sts: 'AWS Security Token Service',
};

export class IamAccount {
  readonly accountId: string;
  private readonly users = new Map<string, User>();
  private readonly roles = new Map<string, Role>();
  private readonly groups = new Map<string, Group>();
  private readonly policies = new Map<string, ManagedPolicy>();
  private readonly jobs = new Map<string, LastAccessedJob>();

  constructor(
    scenario: Scenario,
    private readonly clock: SandboxClock,
  ) {
    this.accountId = scenario.aws.accountId;
    // The account predates every IAM entity the scenario describes.
    const accountCreated = new Date(Math.min(...scenario.people.map((p) => p.okta.created.getTime())));

    for (const p of scenario.aws.policies) {
      const { name, path } = parsePolicyArn(p.arn);
      const awsManaged = p.arn.startsWith('arn:aws:iam::aws:policy/');
      const created = awsManaged ? AWS_MANAGED_POLICY_DATE : accountCreated;
      this.policies.set(p.arn, {
        arn: p.arn,
        name,
        path,
        id: entityId('policy', p.arn),
        description: p.description,
        awsManaged,
        createDate: created,
        updateDate: created,
        defaultVersionId: 'v1',
        document: JSON.stringify(p.document, null, 4),
      });
    }
    for (const g of scenario.aws.groups) {
      this.groups.set(key(g.name), {
        kind: 'group',
        ...this.identity('group', g.name, accountCreated),
        attached: [...g.attachedPolicies],
        inline: inlineMap(g.inlinePolicies),
      });
    }
    for (const r of scenario.aws.roles) {
      const reserved = awsReservedPath(r.name);
      this.roles.set(key(r.name), {
        kind: 'role',
        ...this.identity('role', r.name, accountCreated, reserved?.path),
        protectedByAws: reserved !== undefined,
        description: r.description,
        // The scenario has no trust policies: roles trust the company's SAML identity provider,
        // which sets each session's source identity to the person's email (as docs/setup.md asks);
        // Identity Center's roles trust its own SAML provider, as AWS creates them.
        // UpdateAssumeRolePolicy changes them.
        assumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            reserved?.path === SSO_ROLE_PATH
              ? {
                  Effect: 'Allow',
                  Principal: {
                    Federated: `arn:aws:iam::${this.accountId}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE`,
                  },
                  Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
                  Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
                }
              : {
                  Effect: 'Allow',
                  Principal: { Federated: `arn:aws:iam::${this.accountId}:saml-provider/company-idp` },
                  Action: ['sts:AssumeRoleWithSAML', 'sts:SetSourceIdentity', 'sts:TagSession'],
                  Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
                },
          ],
        }),
        maxSessionDuration: 3600,
        attached: [...r.attachedPolicies],
        inline: inlineMap(r.inlinePolicies),
      });
    }
    for (const person of scenario.people) {
      if (!person.aws) continue;
      const aws = person.aws;
      this.users.set(key(aws.iamUser), {
        kind: 'user',
        ...this.identity('user', aws.iamUser, person.okta.created),
        attached: [...aws.attachedPolicies],
        inline: inlineMap(aws.inlinePolicies),
        groups: new Set(aws.groups.map(key)),
        lastAccessed: aws.lastAccessed.map((l) => ({ ...l })),
      });
    }
  }

  // --- lookups -------------------------------------------------------------

  user(name: string): User {
    const user = this.users.get(key(name));
    if (!user) throw noSuchEntity(`The user with name ${name} cannot be found.`);
    return user;
  }

  role(name: string): Role {
    const role = this.roles.get(key(name));
    if (!role) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return role;
  }

  group(name: string): Group {
    const group = this.groups.get(key(name));
    if (!group) throw noSuchEntity(`The group with name ${name} cannot be found.`);
    return group;
  }

  principal(kind: PrincipalKind, name: string): Principal {
    return kind === 'user' ? this.user(name) : kind === 'role' ? this.role(name) : this.group(name);
  }

  policy(arn: string): ManagedPolicy {
    const policy = this.policies.get(arn);
    if (!policy) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    return policy;
  }

  policyVersion(arn: string, versionId: string): ManagedPolicy {
    const policy = this.policy(arn);
    if (versionId !== policy.defaultVersionId) {
      throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
    }
    return policy;
  }

  groupsOf(user: User): Group[] {
    return [...user.groups].flatMap((g) => this.groups.get(g) ?? []);
  }

  membersOf(group: Group): User[] {
    return [...this.users.values()].filter((u) => u.groups.has(key(group.name)));
  }

  /** How many users, groups and roles have the policy attached (GetPolicy's AttachmentCount). */
  attachmentCount(arn: string): number {
    return [...this.users.values(), ...this.groups.values(), ...this.roles.values()].filter((p) =>
      p.attached.includes(arn),
    ).length;
  }

  inlinePolicy(principal: Principal, name: string): InlinePolicy {
    const policy = principal.inline.get(key(name));
    if (!policy) throw noSuchEntity(`The ${principal.kind} policy with name ${name} cannot be found.`);
    return policy;
  }

  // --- changes ---------------------------------------------------------------

  /** Creates or replaces an inline policy; the principal's inline policies together must stay within its quota. */
  putInlinePolicy(principal: Principal, name: string, document: string): void {
    this.modifiable(principal);
    parsePolicyDocument(document);
    const limit = QUOTAS.inlinePolicySize[principal.kind];
    let total = policySize(document);
    for (const [k, p] of principal.inline) if (k !== key(name)) total += policySize(p.document);
    if (total > limit) {
      throw limitExceeded(
        `Maximum policy size of ${limit} bytes exceeded for ${principal.kind} ${principal.name}`,
      );
    }
    principal.inline.set(key(name), { name, document });
  }

  deleteInlinePolicy(principal: Principal, name: string): void {
    this.modifiable(principal);
    this.inlinePolicy(principal, name);
    principal.inline.delete(key(name));
  }

  /** Replaces a role's trust policy (which names a Principal, unlike identity policies). */
  updateAssumeRolePolicy(role: Role, document: string): void {
    this.modifiable(role);
    let parsed: unknown;
    try {
      parsed = JSON.parse(document);
    } catch {
      throw malformedPolicyDocument('Syntax errors in policy.');
    }
    if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) {
      throw malformedPolicyDocument('Syntax errors in policy.');
    }
    role.assumeRolePolicyDocument = document;
  }

  /** Attaching a policy that is already attached succeeds without change, as in IAM. */
  attachPolicy(principal: Principal, arn: string): void {
    this.modifiable(principal);
    this.policy(arn);
    if (principal.attached.includes(arn)) return;
    if (principal.attached.length >= QUOTAS.managedPoliciesPerPrincipal) {
      throw limitExceeded(
        `Cannot exceed quota for ${QUOTA_NAMES[principal.kind]}: ${QUOTAS.managedPoliciesPerPrincipal}`,
      );
    }
    principal.attached.push(arn);
  }

  detachPolicy(principal: Principal, arn: string): void {
    this.modifiable(principal);
    const index = principal.attached.indexOf(arn);
    if (index < 0) throw noSuchEntity(`Policy ${arn} was not found.`);
    principal.attached.splice(index, 1);
  }

  /** Adding a member twice succeeds without change, as in IAM. */
  addUserToGroup(groupName: string, userName: string): void {
    const group = this.group(groupName);
    const user = this.user(userName);
    if (user.groups.has(key(group.name))) return;
    if (user.groups.size >= QUOTAS.groupsPerUser) {
      throw limitExceeded(`Cannot exceed quota for GroupsPerUser: ${QUOTAS.groupsPerUser}`);
    }
    user.groups.add(key(group.name));
  }

  removeUserFromGroup(groupName: string, userName: string): void {
    const group = this.group(groupName);
    const user = this.user(userName);
    if (!user.groups.delete(key(group.name))) {
      throw noSuchEntity(`The user with name ${user.name} cannot be found in group ${group.name}.`);
    }
  }

  /** IAM refuses any change to a role AWS owns before it looks at what was asked. */
  private modifiable(principal: Principal): void {
    if (principal.kind === 'role' && principal.protectedByAws) throw unmodifiableEntity(principal.name);
  }

  // --- service last accessed -------------------------------------------------

  /** Starts a report for a user, role, group or managed policy ARN. */
  generateLastAccessedJob(arn: string, granularity: LastAccessedJob['granularity']): LastAccessedJob {
    const entity = this.entityByArn(arn);
    const now = this.clock.now();
    const job: LastAccessedJob = {
      id: randomUUID(),
      arn,
      granularity,
      createdAt: now,
      services: this.serviceAccess(entity, now),
    };
    this.jobs.set(job.id, job);
    return job;
  }

  job(id: string): LastAccessedJob {
    const job = this.jobs.get(id);
    if (!job) throw noSuchEntity(`The job with id ${id} cannot be found.`);
    return job;
  }

  jobStatus(job: LastAccessedJob): { status: 'IN_PROGRESS' | 'COMPLETED'; completedAt?: Date } {
    const completedAt = new Date(job.createdAt.getTime() + JOB_DURATION_MS);
    return this.clock.now() >= completedAt ? { status: 'COMPLETED', completedAt } : { status: 'IN_PROGRESS' };
  }

  private entityByArn(arn: string): Principal | ManagedPolicy {
    const match = /^arn:aws:iam::(\d{12}|aws):(user|role|group|policy)(\/.*)$/.exec(arn);
    if (!match) throw invalidInput(`ARN ${arn} is not valid.`);
    const [, account, type, resource = ''] = match;
    if (type === 'policy') return this.policy(arn);
    if (account !== this.accountId) throw invalidInput(`ARN ${arn} is not valid.`);
    const name = resource.slice(resource.lastIndexOf('/') + 1);
    const entity = this.principal(type as PrincipalKind, name);
    if (entity.arn !== arn) throw noSuchEntity(`The ${type} with name ${name} cannot be found.`);
    return entity;
  }

  /**
   * The services the entity's policies allow, plus any it used, each with the
   * last authentication by the entities the report covers: the user itself,
   * a group's members, or every user a policy reaches directly or by group.
   */
  private serviceAccess(entity: Principal | ManagedPolicy, now: Date): ServiceAccess[] {
    let documents: string[];
    let users: User[];
    if ('kind' in entity) {
      const principals: Principal[] = entity.kind === 'user' ? [entity, ...this.groupsOf(entity)] : [entity];
      documents = principals.flatMap((p) => [
        ...[...p.inline.values()].map((i) => i.document),
        ...p.attached.flatMap((arn) => this.policies.get(arn)?.document ?? []),
      ]);
      users = entity.kind === 'user' ? [entity] : entity.kind === 'group' ? this.membersOf(entity) : [];
    } else {
      documents = [entity.document];
      users = [...this.users.values()].filter(
        (u) =>
          u.attached.includes(entity.arn) || this.groupsOf(u).some((g) => g.attached.includes(entity.arn)),
      );
    }

    const services = new Map<string, ServiceAccess>();
    const service = (namespace: string, name?: string): ServiceAccess => {
      let entry = services.get(namespace);
      if (!entry) {
        entry = {
          serviceName: name ?? SERVICE_NAMES[namespace] ?? namespace,
          serviceNamespace: namespace,
          totalAuthenticatedEntities: 0,
        };
        services.set(namespace, entry);
      }
      return entry;
    };
    for (const namespace of documents.flatMap(allowedNamespaces)) service(namespace);
    for (const user of users) {
      for (const access of user.lastAccessed) {
        if (access.at > now) continue;
        const entry = service(access.namespace, access.service);
        entry.serviceName = access.service;
        entry.totalAuthenticatedEntities += 1;
        if (!entry.lastAuthenticated || access.at > entry.lastAuthenticated) {
          entry.lastAuthenticated = access.at;
          entry.lastAuthenticatedEntity = user.arn;
        }
      }
    }
    return [...services.values()].sort((a, b) => compareKeys(a.serviceName, b.serviceName));
  }

  // --- inspection -------------------------------------------------------------

  allUsers(): User[] {
    return [...this.users.values()];
  }

  allRoles(): Role[] {
    return [...this.roles.values()];
  }

  allGroups(): Group[] {
    return [...this.groups.values()];
  }

  allPolicies(): ManagedPolicy[] {
    return [...this.policies.values()];
  }

  allJobs(): LastAccessedJob[] {
    return [...this.jobs.values()];
  }

  private identity(kind: PrincipalKind, name: string, createDate: Date, path = '/') {
    return {
      name,
      id: entityId(kind, name.toLowerCase()),
      path,
      arn: `arn:aws:iam::${this.accountId}:${kind}${path}${name}`,
      createDate,
    };
  }
}

const SSO_ROLE_PATH = '/aws-reserved/sso.amazonaws.com/';

/**
 * Roles AWS creates and alone may change, by the names AWS gives them: IAM Identity Center's
 * permission-set roles (AWSReservedSSO_<set>_<hex>, under /aws-reserved/sso.amazonaws.com/) and
 * service-linked roles (AWSServiceRoleFor…; AWS puts them under /aws-service-role/<service
 * principal>/, which the name does not give, so the stand-in uses /aws-service-role/).
 */
function awsReservedPath(roleName: string): { path: string } | undefined {
  if (roleName.startsWith('AWSReservedSSO_')) return { path: SSO_ROLE_PATH };
  if (roleName.startsWith('AWSServiceRoleFor')) return { path: '/aws-service-role/' };
  return undefined;
}

/** IAM names are compared without regard to case. */
export function key(name: string): string {
  return name.toLowerCase();
}

/** Orders list output (and markers) by name, case-insensitively, as IAM lists come sorted. */
export function compareKeys(a: string, b: string): number {
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** `arn:aws:iam::aws:policy/service-role/X` → name X, path /service-role/. */
export function parsePolicyArn(arn: string): { name: string; path: string } {
  const resource = arn.slice(arn.indexOf(':policy/') + ':policy'.length);
  const slash = resource.lastIndexOf('/');
  return { name: resource.slice(slash + 1), path: resource.slice(0, slash + 1) || '/' };
}

/** IAM unique ids: a type prefix and 17 upper-case letters and digits; derived from the name so runs repeat. */
function entityId(kind: keyof typeof ID_PREFIX, seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha256').update(`${kind}:${seed}`).digest();
  let id: string = ID_PREFIX[kind];
  for (let i = 0; i < 17; i++) id += alphabet[(digest[i] ?? 0) % alphabet.length];
  return id;
}

function inlineMap(policies: Record<string, Record<string, unknown>>): Map<string, InlinePolicy> {
  return new Map(
    Object.entries(policies).map(([name, document]) => [
      key(name),
      { name, document: JSON.stringify(document) },
    ]),
  );
}
