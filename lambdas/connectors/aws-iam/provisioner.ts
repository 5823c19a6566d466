// The Provisioner for `aws-iam-policy` actions. An inline grant is a policy
// named `loopgate-<requestId>` whose every statement stops working at the
// expiry (an `aws:CurrentTime` condition), so the access ends even if the
// revoke never runs; on a role, shared by everyone who assumes it, the
// statements also apply only to sessions whose source identity is the
// requester's email, and only on a role whose trust policy proves that the
// source identity is set by the identity provider (trust-policy.ts). A managed grant
// attaches a policy to the requester's IAM user, unless it is attached
// already (then it pre-existed); an attachment is shared by every grant of the
// policy to the user, so the core counts them (holdings) and decides when it goes.

import {
  AttachUserPolicyCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  LimitExceededException,
  NoSuchEntityException,
  paginateListAttachedUserPolicies,
  paginateListRolePolicies,
  paginateListUserPolicies,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { EntitlementAction } from '../../core/catalog';
import { NotFoundError, UpstreamError, ValidationError } from '../../core/errors';
import type { GrantOutcome, GrantSubject, HeldAccess, Provisioner } from '../../core/ports';
import { IAM_SERVICE, INLINE_QUOTA, iamError } from './client';
import { sourceIdentityProblem } from './trust-policy';

export type IamPolicyAction = Extract<EntitlementAction, { kind: 'aws-iam-policy' }>;
export type IamStatement = NonNullable<IamPolicyAction['statements']>[number];

export interface IamPrincipal {
  kind: 'user' | 'role';
  name: string;
}

/** Who in IAM receives a requester's grant. Throws ValidationError when the requester has no principal. */
export type PrincipalFor = (email: string, action: IamPolicyAction) => IamPrincipal;

export interface IamPolicyProvisionerOptions {
  /** Built by createIamClient (timeouts, bounded attempts). */
  client: IAMClient;
  /** See companyPrincipalFor. */
  principalFor: PrincipalFor;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

/** The prefix of every inline policy loopgate writes: the only inline policies it ever deletes. */
export const INLINE_POLICY_PREFIX = 'loopgate-';

const NAME = /^[\w+=,.@-]+$/;
/** What STS accepts as a source identity (and a session name): an email outside this cannot be one. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const CURRENT_TIME = 'aws:CurrentTime';
const SOURCE_IDENTITY = 'aws:SourceIdentity';
/** Exact, and case-insensitive: an IdP may send `Dana.Reyes@…` for `dana.reyes@…`. */
const SOURCE_IDENTITY_OPERATOR = 'StringEqualsIgnoreCase';

/**
 * The default mapping: a user grant goes to the IAM user named by the local part of a company
 * email (dana.reyes@example.com → dana.reyes); anyone else has no IAM user, so that
 * `alice@contractor.io` is never granted on employee alice's user. A role grant goes to the role
 * the action names.
 */
export function companyPrincipalFor(companyDomain: string): PrincipalFor {
  const domain = companyDomain.trim().toLowerCase();
  if (!domain) throw new ValidationError('aws-iam: the company email domain is empty');
  return (email, action) => {
    if (action.principalType === 'role') {
      if (action.roleName === undefined) throw new ValidationError('aws-iam: a role grant names no role');
      return { kind: 'role', name: action.roleName };
    }
    const at = email.lastIndexOf('@');
    const local = email.slice(0, at);
    if (at < 1 || email.slice(at + 1).toLowerCase() !== domain) {
      throw new ValidationError(`aws-iam: ${email} is not a ${domain} email, so it has no IAM user`);
    }
    if (local.length > 64 || !NAME.test(local)) {
      throw new ValidationError(`aws-iam: "${local}" cannot be an IAM user name`);
    }
    return { kind: 'user', name: local };
  };
}

/**
 * The inline policy of a grant: every statement carries `DateLessThan aws:CurrentTime` at the
 * expiry (a statement's own earlier time is kept), merged into its own conditions; with the
 * requester's email (grants on a role), also `StringEqualsIgnoreCase aws:SourceIdentity` = email,
 * which matches only sessions whose source identity is that email. Not the session name
 * (`aws:userid` `*:<email>`): its caller chooses it freely.
 */
export function timeBoundDocument(
  statements: readonly IamStatement[],
  expiresAt: Date,
  sessionEmail?: string,
): PolicyDocument {
  if (Number.isNaN(expiresAt.getTime())) throw new ValidationError('aws-iam: the expiry is not a date');
  if (sessionEmail !== undefined && !SESSION_NAME.test(sessionEmail)) {
    throw new ValidationError(`aws-iam: ${JSON.stringify(sessionEmail)} cannot be a source identity`);
  }
  return {
    Version: '2012-10-17',
    Statement: statements.map((statement, i) => {
      const condition = structuredClone(statement.Condition ?? {});
      const dates = { ...condition.DateLessThan };
      const ownKey = keyOf(dates, CURRENT_TIME);
      let until = expiresAt.toISOString();
      if (ownKey !== undefined) {
        const own = latestDate(dates[ownKey], i);
        if (own.time < expiresAt.getTime()) until = own.text;
        delete dates[ownKey];
      }
      condition.DateLessThan = { ...dates, [CURRENT_TIME]: until };
      if (sessionEmail !== undefined) {
        const operator = keyOf(condition, SOURCE_IDENTITY_OPERATOR) ?? SOURCE_IDENTITY_OPERATOR;
        const equals = { ...condition[operator] };
        if (keyOf(equals, SOURCE_IDENTITY) !== undefined) {
          // Two values under one key would be alternatives, widening the grant instead of narrowing it.
          throw new ValidationError(
            `aws-iam: statement ${i + 1} has its own ${SOURCE_IDENTITY_OPERATOR} ${SOURCE_IDENTITY}; a role grant sets that condition itself`,
          );
        }
        condition[operator] = { ...equals, [SOURCE_IDENTITY]: sessionEmail };
      }
      return { ...statement, Condition: condition };
    }),
  };
}

export class IamPolicyProvisioner implements Provisioner {
  private readonly client: IAMClient;
  private readonly principalFor: PrincipalFor;

  constructor(options: IamPolicyProvisionerOptions) {
    this.client = options.client;
    this.principalFor = options.principalFor;
  }

  async locate(subject: GrantSubject): Promise<HeldAccess> {
    const action = iamActionOf(subject);
    const principal = this.principalFor(subject.email, action);
    const arn = await this.arnOf(principal);
    return {
      principal: arn,
      target:
        action.statements !== undefined
          ? inlinePolicyName(subject.requestId)
          : managedArnOf(action, principal),
    };
  }

  /** A managed policy's attachment is one, whichever grants give it; an inline policy is its grant's own. */
  isShared(access: HeldAccess): boolean {
    return access.target.startsWith('arn:');
  }

  async holds(access: HeldAccess): Promise<boolean> {
    const principal = principalOfArn(access.principal);
    if (this.isShared(access)) {
      try {
        return await this.isAttached(principal, access.target);
      } catch (error) {
        // No such user: no access.
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    }
    try {
      await (principal.kind === 'user'
        ? this.client.send(new GetUserPolicyCommand({ UserName: principal.name, PolicyName: access.target }))
        : this.client.send(
            new GetRolePolicyCommand({ RoleName: principal.name, PolicyName: access.target }),
          ));
      return true;
    } catch (error) {
      if (error instanceof NoSuchEntityException) return false;
      throw iamError(error, principal.kind === 'user' ? 'GetUserPolicy' : 'GetRolePolicy');
    }
  }

  async grant(subject: GrantSubject): Promise<GrantOutcome> {
    const action = iamActionOf(subject);
    const principal = this.principalFor(subject.email, action);
    const { arn, trustPolicy } = await this.lookUp(principal);
    if (principal.kind === 'role') {
      // Before anything is written: a grant anyone who may assume the role could claim is no grant.
      const problem = sourceIdentityProblem(trustPolicy);
      if (problem) {
        throw new ValidationError(
          `${IAM_SERVICE}: no grant on role ${principal.name}: it cannot be limited to ${subject.email}'s sessions, because ${problem.reason}. ` +
            "Let the identity provider set the source identity to the person's email (see docs/setup.md), or grant on IAM users.",
        );
      }
    }

    if (action.statements !== undefined) {
      const policyName = inlinePolicyName(subject.requestId);
      const document = JSON.stringify(
        timeBoundDocument(
          action.statements,
          subject.expiresAt,
          principal.kind === 'role' ? subject.email : undefined,
        ),
      );
      // The same name every time: a redelivery or an extension overwrites the grant, never adds one.
      const put = principal.kind === 'user' ? 'PutUserPolicy' : 'PutRolePolicy';
      try {
        await (principal.kind === 'user'
          ? this.client.send(
              new PutUserPolicyCommand({
                UserName: principal.name,
                PolicyName: policyName,
                PolicyDocument: document,
              }),
            )
          : this.client.send(
              new PutRolePolicyCommand({
                RoleName: principal.name,
                PolicyName: policyName,
                PolicyDocument: document,
              }),
            ));
      } catch (error) {
        if (error instanceof LimitExceededException) {
          throw await this.quotaRefusal(put, principal, policyName, document, error);
        }
        throw iamError(error, put, `${principal.kind} named ${principal.name}`);
      }
      return { principal: arn, target: policyName, preExisting: false };
    }

    const policyArn = managedArnOf(action, principal);
    if (await this.isAttached(principal, policyArn)) {
      return { principal: arn, target: policyArn, preExisting: true };
    }
    try {
      await this.client.send(new AttachUserPolicyCommand({ UserName: principal.name, PolicyArn: policyArn }));
    } catch (error) {
      // The user was just read: a NoSuchEntity here is about the policy.
      throw iamError(error, 'AttachUserPolicy', `policy ${policyArn}`);
    }
    return { principal: arn, target: policyArn, preExisting: false };
  }

  /** Writes an inline grant again with the new expiry condition; a managed attachment carries none. */
  async extend(subject: GrantSubject): Promise<void> {
    if (iamActionOf(subject).statements !== undefined) await this.grant(subject);
  }

  async revoke(grant: GrantOutcome): Promise<void> {
    // What was recorded at grant time goes, even if the catalog or the mapping changed since.
    const principal = principalOfArn(grant.principal);
    if (grant.target.startsWith('arn:')) {
      if (grant.preExisting) return;
      if (principal.kind !== 'user') {
        throw new ValidationError(`aws-iam: managed grants are on users, not ${grant.principal}`);
      }
      await this.gone('DetachUserPolicy', () =>
        this.client.send(new DetachUserPolicyCommand({ UserName: principal.name, PolicyArn: grant.target })),
      );
      return;
    }
    // An inline policy of this name is loopgate's own, whatever `preExisting` says: leaving it
    // would leave access no one owns.
    if (!grant.target.startsWith(INLINE_POLICY_PREFIX)) {
      throw new ValidationError(`aws-iam: ${grant.target} is not a policy loopgate wrote`);
    }
    await this.gone(principal.kind === 'user' ? 'DeleteUserPolicy' : 'DeleteRolePolicy', () =>
      principal.kind === 'user'
        ? this.client.send(
            new DeleteUserPolicyCommand({ UserName: principal.name, PolicyName: grant.target }),
          )
        : this.client.send(
            new DeleteRolePolicyCommand({ RoleName: principal.name, PolicyName: grant.target }),
          ),
    );
  }

  /**
   * Whether the grant is in place. An inline policy that is there but not bounded by the expiry
   * (or, on a role, not scoped to the requester) is neither in place as granted nor gone: that
   * throws, so neither a grant nor a revoke is recorded on it.
   */
  async verify(subject: GrantSubject): Promise<boolean> {
    const action = iamActionOf(subject);
    const principal = this.principalFor(subject.email, action);
    if (action.statements === undefined) {
      try {
        return await this.isAttached(principal, managedArnOf(action, principal));
      } catch (error) {
        // No such user: no access.
        if (error instanceof NotFoundError) return false;
        throw error;
      }
    }

    const policyName = inlinePolicyName(subject.requestId);
    const getPolicy = principal.kind === 'user' ? 'GetUserPolicy' : 'GetRolePolicy';
    let encoded: string | undefined;
    try {
      const output =
        principal.kind === 'user'
          ? await this.client.send(
              new GetUserPolicyCommand({ UserName: principal.name, PolicyName: policyName }),
            )
          : await this.client.send(
              new GetRolePolicyCommand({ RoleName: principal.name, PolicyName: policyName }),
            );
      encoded = output.PolicyDocument;
    } catch (error) {
      // No such policy, or no such principal: either way the access is not there.
      if (error instanceof NoSuchEntityException) return false;
      throw iamError(error, getPolicy);
    }
    const problem = boundProblem(
      parseDocument(encoded, getPolicy),
      subject.expiresAt,
      principal.kind === 'role' ? subject.email : undefined,
    );
    if (problem !== undefined) {
      throw new UpstreamError(
        IAM_SERVICE,
        'bad-response',
        `${getPolicy}: ${policyName} on ${principal.kind} ${principal.name} is not the time-bound grant loopgate wrote (${problem})`,
      );
    }
    return true;
  }

  /**
   * IAM refused an inline grant for the principal's inline-policy quota (all its inline policies
   * together; LimitExceeded, permanent). Says how full the principal is, read after the refusal.
   *
   * Why after, not before the write: IAM's own check is the authority and is atomic, where a read
   * before each write would cost a list and a read per policy on every grant and could still race
   * another writer. A refused write changes nothing, so reading then is as good for the message.
   * Without the read (no iam:List*Policies, or IAM failing), IAM's answer alone is given.
   */
  private async quotaRefusal(
    put: string,
    principal: IamPrincipal,
    policyName: string,
    document: string,
    refusal: LimitExceededException,
  ): Promise<Error> {
    const fallback = iamError(refusal, put, `${principal.kind} named ${principal.name}`);
    let others: { name: string; size: number }[];
    try {
      others = await this.inlineSizes(principal, policyName);
    } catch {
      return fallback;
    }
    const quota = INLINE_QUOTA[principal.kind];
    const held = others.reduce((sum, p) => sum + p.size, 0);
    const ours = others.filter((p) => p.name.startsWith(INLINE_POLICY_PREFIX)).length;
    const n = (value: number) => value.toLocaleString('en');
    return new ValidationError(
      `${IAM_SERVICE}: ${put} on ${principal.kind} ${principal.name} refused, and no retry can change that: ` +
        `the grant does not fit IAM's quota on inline policies (LimitExceeded: ${refusal.message}). ` +
        `A ${principal.kind}'s inline policies may total ${n(quota)} characters, white space not counted; ` +
        `${principal.name} holds ${n(held)} in ${others.length} other inline polic${others.length === 1 ? 'y' : 'ies'}` +
        `${ours ? ` (${ours} of them written by loopgate)` : ''} and this grant needs ${n(policySize(document))}. ` +
        `Remove inline policies it no longer needs, or make the entitlement's statements shorter.`,
      { cause: refusal },
    );
  }

  /** The sizes IAM counts of the principal's inline policies, except `except` (the one being replaced). */
  private async inlineSizes(
    principal: IamPrincipal,
    except: string,
  ): Promise<{ name: string; size: number }[]> {
    const names: string[] = [];
    const pages =
      principal.kind === 'user'
        ? paginateListUserPolicies({ client: this.client }, { UserName: principal.name })
        : paginateListRolePolicies({ client: this.client }, { RoleName: principal.name });
    for await (const page of pages) names.push(...(page.PolicyNames ?? []));
    const sizes: { name: string; size: number }[] = [];
    for (const name of names) {
      if (name.toLowerCase() === except.toLowerCase()) continue;
      const { PolicyDocument } = await (principal.kind === 'user'
        ? this.client.send(new GetUserPolicyCommand({ UserName: principal.name, PolicyName: name }))
        : this.client.send(new GetRolePolicyCommand({ RoleName: principal.name, PolicyName: name })));
      sizes.push({ name, size: policySize(decodeURIComponent(PolicyDocument ?? '')) });
    }
    return sizes;
  }

  private async arnOf(principal: IamPrincipal): Promise<string> {
    return (await this.lookUp(principal)).arn;
  }

  /** The principal's ARN, and a role's trust policy (URL-encoded, as IAM returns it). */
  private async lookUp(principal: IamPrincipal): Promise<{ arn: string; trustPolicy?: string }> {
    if (principal.kind === 'user') {
      const { User } = await this.call('GetUser', principal, () =>
        this.client.send(new GetUserCommand({ UserName: principal.name })),
      );
      return { arn: requireArn(User?.Arn, 'GetUser') };
    }
    const { Role } = await this.call('GetRole', principal, () =>
      this.client.send(new GetRoleCommand({ RoleName: principal.name })),
    );
    return { arn: requireArn(Role?.Arn, 'GetRole'), trustPolicy: Role?.AssumeRolePolicyDocument };
  }

  private async isAttached(user: IamPrincipal, policyArn: string): Promise<boolean> {
    return this.call('ListAttachedUserPolicies', user, async () => {
      for await (const page of paginateListAttachedUserPolicies(
        { client: this.client },
        { UserName: user.name },
      )) {
        if ((page.AttachedPolicies ?? []).some((p) => p.PolicyArn === policyArn)) return true;
      }
      return false;
    });
  }

  /** A call whose NoSuchEntity means the principal does not exist (NotFoundError). */
  private async call<T>(action: string, principal: IamPrincipal, send: () => Promise<T>) {
    try {
      return await send();
    } catch (error) {
      throw iamError(error, action, `${principal.kind} named ${principal.name}`);
    }
  }

  /** A removal: NoSuchEntity (the policy, attachment or principal is gone already) is success. */
  private async gone(action: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (error instanceof NoSuchEntityException) return;
      throw iamError(error, action);
    }
  }
}

function iamActionOf(subject: GrantSubject): IamPolicyAction {
  if (subject.action.kind !== 'aws-iam-policy') {
    throw new ValidationError(`aws-iam: cannot provision a ${subject.action.kind} action`);
  }
  return subject.action;
}

/** Request ids are UUIDs; anything IAM would refuse as a policy name is refused before a call. */
function inlinePolicyName(requestId: string): string {
  const name = INLINE_POLICY_PREFIX + requestId;
  if (name.length > 128 || !NAME.test(requestId)) {
    throw new ValidationError(`aws-iam: request id ${JSON.stringify(requestId)} cannot name a policy`);
  }
  return name;
}

function managedArnOf(action: IamPolicyAction, principal: IamPrincipal): string {
  // The catalog refuses managed policies on roles: every session of the role would get it.
  if (action.policyArn === undefined || principal.kind !== 'user') {
    throw new ValidationError('aws-iam: a managed policy is granted to an IAM user only');
  }
  return action.policyArn;
}

function principalOfArn(arn: string): IamPrincipal {
  const match = /^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/(?:[^/]+\/)*([\w+=,.@-]{1,64})$/.exec(arn);
  if (!match) throw new ValidationError(`aws-iam: ${JSON.stringify(arn)} is not an IAM user or role ARN`);
  return { kind: match[1] as IamPrincipal['kind'], name: match[2] as string };
}

function requireArn(value: string | undefined, action: string): string {
  if (!value) throw new UpstreamError(IAM_SERVICE, 'bad-response', `${action}: no Arn in the answer`);
  return value;
}

/** What IAM counts against the inline-policy quota: the document without white space. */
export function policySize(document: string): number {
  return document.replace(/\s/g, '').length;
}

/** IAM compares condition keys without regard to case. */
function keyOf(block: Record<string, unknown>, wanted: string): string | undefined {
  return Object.keys(block).find((k) => k.toLowerCase() === wanted.toLowerCase());
}

/** A statement's own time: several values are alternatives, so the latest one bounds it. */
function latestDate(value: unknown, index: number): { text: string; time: number } {
  const values = Array.isArray(value) ? value : [value];
  let latest: { text: string; time: number } | undefined;
  for (const v of values) {
    const time = typeof v === 'string' ? Date.parse(v) : NaN;
    if (Number.isNaN(time)) {
      throw new ValidationError(
        `aws-iam: statement ${index + 1} has a DateLessThan ${CURRENT_TIME} that is not an ISO 8601 date`,
      );
    }
    if (!latest || time > latest.time) latest = { text: v as string, time };
  }
  if (!latest) {
    throw new ValidationError(`aws-iam: statement ${index + 1} has an empty DateLessThan ${CURRENT_TIME}`);
  }
  return latest;
}

/** IAM returns policy documents URL-encoded (RFC 3986). */
function parseDocument(encoded: string | undefined, action: string): unknown {
  try {
    return JSON.parse(decodeURIComponent(encoded ?? ''));
  } catch (error) {
    throw new UpstreamError(IAM_SERVICE, 'bad-response', `${action}: the policy document is not JSON`, {
      cause: error,
    });
  }
}

/** What keeps a stored document from being a grant that ends by `expiresAt`; undefined when nothing. */
function boundProblem(document: unknown, expiresAt: Date, sessionEmail?: string): string | undefined {
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  const statements = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  if (statements.length === 0) return 'no statements';
  for (const [i, statement] of statements.entries()) {
    const condition = (statement as { Condition?: Record<string, unknown> } | null)?.Condition ?? {};
    const dates = (condition.DateLessThan ?? {}) as Record<string, unknown>;
    const dateKey = keyOf(dates, CURRENT_TIME);
    const until = dateKey === undefined ? NaN : Date.parse(String(dates[dateKey]));
    if (Number.isNaN(until) || until > expiresAt.getTime()) {
      return `statement ${i + 1} does not end by ${expiresAt.toISOString()}`;
    }
    if (sessionEmail !== undefined) {
      const operator = keyOf(condition, SOURCE_IDENTITY_OPERATOR);
      const equals = (operator === undefined ? {} : (condition[operator] ?? {})) as Record<string, unknown>;
      const key = keyOf(equals, SOURCE_IDENTITY);
      const value = key === undefined ? undefined : equals[key];
      if (typeof value !== 'string' || value.toLowerCase() !== sessionEmail.toLowerCase()) {
        return `statement ${i + 1} is not limited to sessions whose source identity is ${sessionEmail}`;
      }
    }
  }
  return undefined;
}
