// The Provisioner for `aws-identity-center` actions: a grant is an account
// assignment of a permission set to the requester's Identity Center user. The
// user is found from the directory identity (the Okta user id as the SCIM
// sync's external id, or the directory email as userName); none is a
// NotFoundError. Assignments are created and deleted asynchronously: each
// write is polled until it settles, within a budget; a write still in
// progress when the budget runs out is left to the retry, which finds it
// (ListAccountAssignment…Status) and waits for it instead of writing again.
// An assignment is shared by every grant of it to the person, and may exist
// outside loopgate: the core counts its holders (holdings) and keeps one that
// was there before.

import {
  type AccountAssignmentOperationStatus,
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentsCommand,
} from '@aws-sdk/client-sso-admin';
import { GetUserIdCommand } from '@aws-sdk/client-identitystore';
import { NotFoundError, UpstreamError, ValidationError } from '../../core/errors';
import {
  type AssignmentTarget,
  assignmentTarget,
  type IdentityCenterAction,
  parseAssignmentTarget,
} from '../../core/identity-center';
import type { GrantOutcome, GrantSubject, HeldAccess, Provisioner } from '../../core/ports';
import { IDENTITY_CENTER_SERVICE, type IdentityCenterClients, identityCenterError } from './client';

export interface IdentityCenterProvisionerOptions {
  clients: IdentityCenterClients;
  /** How long one grant or revoke waits for its assignment write to settle (within the function's timeout). */
  maxWaitMs: number;
  /** The first pause between status polls; it doubles up to 4 s. */
  pollMs: number;
  sleep?: (ms: number) => Promise<void>;
}

type Kind = 'create' | 'delete';

interface Assignment extends AssignmentTarget {
  principalId: string;
}

/** Pages of a list read before the connector gives up: a server that keeps paging is broken. */
const MAX_PAGES = 100;
const MAX_POLL_MS = 4000;

export class IdentityCenterProvisioner implements Provisioner {
  /** Status polls made so far (the grant bench reports them per grant). */
  statusPolls = 0;
  private readonly clients: IdentityCenterClients;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: IdentityCenterProvisionerOptions) {
    this.clients = options.clients;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async locate(subject: GrantSubject): Promise<HeldAccess> {
    const action = actionOf(subject);
    return { principal: await this.userIdOf(subject, action), target: assignmentTarget(action) };
  }

  /** One assignment, whichever grants give it. */
  isShared(): boolean {
    return true;
  }

  async grant(subject: GrantSubject): Promise<GrantOutcome> {
    const access = await this.locate(subject);
    const assignment = assignmentOf(access);
    if (await this.exists(assignment)) return { ...access, preExisting: true };
    // Another write of this assignment under way (an earlier attempt of this grant, cut off while it
    // waited, or a change outside loopgate): wait for it rather than create a second one. Whether it
    // is loopgate's is the holding's to say (it marks what loopgate placed before writing).
    const pending = await this.findPending('create', assignment);
    if (pending) {
      await this.settle('create', assignment, pending);
      return { ...access, preExisting: true };
    }
    let started: AccountAssignmentOperationStatus;
    try {
      started = await this.call('CreateAccountAssignment', async () => {
        const out = await this.clients.ssoAdmin.send(new CreateAccountAssignmentCommand(request(assignment)));
        return required(out.AccountAssignmentCreationStatus, 'CreateAccountAssignment');
      });
    } catch (error) {
      // Started by someone else between the read and the write: that one is waited for.
      const conflicting = error instanceof UpstreamError && error.cause instanceof ConflictException;
      const found = conflicting ? await this.findPending('create', assignment) : undefined;
      if (!found) throw error;
      await this.settle('create', assignment, found);
      return { ...access, preExisting: true };
    }
    await this.settle('create', assignment, started);
    return { ...access, preExisting: false };
  }

  async revoke(grant: GrantOutcome): Promise<void> {
    if (grant.preExisting) return;
    // The ids recorded at grant time: what was granted is what goes, even if the catalog changed since.
    const assignment = assignmentOf(grant);
    const pending = await this.findPending('delete', assignment);
    if (pending) {
      await this.settle('delete', assignment, pending);
      return;
    }
    if (!(await this.exists(assignment))) return;
    const started = await this.call('DeleteAccountAssignment', async () => {
      const out = await this.clients.ssoAdmin.send(new DeleteAccountAssignmentCommand(request(assignment)));
      return required(out.AccountAssignmentDeletionStatus, 'DeleteAccountAssignment');
    });
    await this.settle('delete', assignment, started);
  }

  async verify(subject: GrantSubject): Promise<boolean> {
    let access: HeldAccess;
    try {
      access = await this.locate(subject);
    } catch (error) {
      // No Identity Center user, no access.
      if (error instanceof NotFoundError) return false;
      throw error;
    }
    return this.exists(assignmentOf(access));
  }

  async holds(access: HeldAccess): Promise<boolean> {
    return this.exists(assignmentOf(access));
  }

  /** The requester's Identity Center user id, by the directory identity; NotFoundError when none. */
  private async userIdOf(subject: GrantSubject, action: IdentityCenterAction): Promise<string> {
    const { user } = action;
    let alternate;
    if (user.by === 'externalId') {
      if (subject.personId === undefined) {
        throw new ValidationError(
          `${IDENTITY_CENTER_SERVICE}: the request records no directory user id to find the Identity Center user by`,
        );
      }
      alternate = { ExternalId: { Issuer: user.issuer, Id: subject.personId } };
    } else {
      if (!subject.email.trim())
        throw new ValidationError(`${IDENTITY_CENTER_SERVICE}: the requester has no email`);
      alternate = { UniqueAttribute: { AttributePath: 'userName', AttributeValue: subject.email } };
    }
    try {
      const out = await this.clients.identityStore.send(
        new GetUserIdCommand({ IdentityStoreId: action.identityStoreId, AlternateIdentifier: alternate }),
      );
      if (!out.UserId)
        throw new UpstreamError(IDENTITY_CENTER_SERVICE, 'bad-response', 'GetUserId gave no UserId');
      return out.UserId;
    } catch (error) {
      const mapped = identityCenterError(error, 'GetUserId');
      if (mapped instanceof NotFoundError) {
        const who =
          user.by === 'externalId'
            ? `the external id ${subject.personId} (issuer ${user.issuer})`
            : `the userName ${subject.email}`;
        throw new NotFoundError(
          `${IDENTITY_CENTER_SERVICE}: no Identity Center user in ${action.identityStoreId} has ${who}: the requester is not synced to Identity Center (check the directory's provisioning to AWS)`,
          { cause: error },
        );
      }
      throw mapped;
    }
  }

  private async exists(a: Assignment): Promise<boolean> {
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.call('ListAccountAssignments', () =>
        this.clients.ssoAdmin.send(
          new ListAccountAssignmentsCommand({
            InstanceArn: a.instanceArn,
            AccountId: a.accountId,
            PermissionSetArn: a.permissionSetArn,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      if (
        (out.AccountAssignments ?? []).some(
          (x) => x.PrincipalType === 'USER' && x.PrincipalId === a.principalId,
        )
      )
        return true;
      token = out.NextToken;
      if (!token) return false;
    }
    throw new UpstreamError(IDENTITY_CENTER_SERVICE, 'bad-response', 'ListAccountAssignments kept paging');
  }

  /** A write of this assignment still in progress, found among the instance's in-progress operations. */
  private async findPending(
    kind: Kind,
    a: Assignment,
  ): Promise<AccountAssignmentOperationStatus | undefined> {
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const input = {
        InstanceArn: a.instanceArn,
        Filter: { Status: 'IN_PROGRESS' as const },
        ...(token ? { NextToken: token } : {}),
      };
      const listed = await this.call(`ListAccountAssignment${label(kind)}Status`, async () => {
        if (kind === 'create') {
          const out = await this.clients.ssoAdmin.send(new ListAccountAssignmentCreationStatusCommand(input));
          return { items: out.AccountAssignmentsCreationStatus, next: out.NextToken };
        }
        const out = await this.clients.ssoAdmin.send(new ListAccountAssignmentDeletionStatusCommand(input));
        return { items: out.AccountAssignmentsDeletionStatus, next: out.NextToken };
      });
      for (const item of listed.items ?? []) {
        if (!item.RequestId) continue;
        const status = await this.describe(kind, a.instanceArn, item.RequestId);
        if (status.Status === 'IN_PROGRESS' && matches(status, a)) return status;
      }
      token = listed.next;
      if (!token) return undefined;
    }
    throw new UpstreamError(
      IDENTITY_CENTER_SERVICE,
      'bad-response',
      `ListAccountAssignment${label(kind)}Status kept paging`,
    );
  }

  /** Polls a write until it settles; FAILED and a budget run out are errors a retry may fix. */
  private async settle(kind: Kind, a: Assignment, started: AccountAssignmentOperationStatus): Promise<void> {
    const deadline = Date.now() + this.options.maxWaitMs;
    let status = started;
    let pause = this.options.pollMs;
    for (;;) {
      if (status.Status === 'SUCCEEDED') return;
      if (status.Status === 'FAILED') {
        throw new UpstreamError(
          IDENTITY_CENTER_SERVICE,
          'bad-response',
          `the account assignment ${kind === 'create' ? 'creation' : 'deletion'} ${status.RequestId ?? ''} failed: ${status.FailureReason ?? 'no reason given'}`,
        );
      }
      if (Date.now() + pause > deadline) {
        throw new UpstreamError(
          IDENTITY_CENTER_SERVICE,
          'timeout',
          `the account assignment ${kind === 'create' ? 'creation' : 'deletion'} ${status.RequestId ?? ''} for ${a.principalId} on ${a.accountId} is still in progress after ${this.options.maxWaitMs} ms; the retry waits for it rather than writing again`,
        );
      }
      await this.sleep(pause);
      pause = Math.min(pause * 2, MAX_POLL_MS);
      if (!status.RequestId)
        throw new UpstreamError(
          IDENTITY_CENTER_SERVICE,
          'bad-response',
          'an assignment status without a RequestId',
        );
      status = await this.describe(kind, a.instanceArn, status.RequestId);
    }
  }

  private async describe(
    kind: Kind,
    instanceArn: string,
    requestId: string,
  ): Promise<AccountAssignmentOperationStatus> {
    this.statusPolls += 1;
    return this.call(`DescribeAccountAssignment${label(kind)}Status`, async () => {
      if (kind === 'create') {
        const out = await this.clients.ssoAdmin.send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn: instanceArn,
            AccountAssignmentCreationRequestId: requestId,
          }),
        );
        return required(out.AccountAssignmentCreationStatus, 'DescribeAccountAssignmentCreationStatus');
      }
      const out = await this.clients.ssoAdmin.send(
        new DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: instanceArn,
          AccountAssignmentDeletionRequestId: requestId,
        }),
      );
      return required(out.AccountAssignmentDeletionStatus, 'DescribeAccountAssignmentDeletionStatus');
    });
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw identityCenterError(error, operation);
    }
  }
}

function actionOf(subject: GrantSubject): IdentityCenterAction {
  if (subject.action.kind !== 'aws-identity-center') {
    throw new ValidationError(`${IDENTITY_CENTER_SERVICE}: cannot provision a ${subject.action.kind} action`);
  }
  return subject.action;
}

function assignmentOf(access: HeldAccess): Assignment {
  // Identity store user ids are UUIDs (optionally prefixed by a store id); nothing else goes into a call.
  if (
    !/^([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(access.principal)
  ) {
    throw new ValidationError(
      `${IDENTITY_CENTER_SERVICE}: ${JSON.stringify(access.principal)} is not an Identity Center user id`,
    );
  }
  return { ...parseAssignmentTarget(access.target), principalId: access.principal };
}

function request(a: Assignment) {
  return {
    InstanceArn: a.instanceArn,
    TargetId: a.accountId,
    TargetType: 'AWS_ACCOUNT' as const,
    PermissionSetArn: a.permissionSetArn,
    PrincipalType: 'USER' as const,
    PrincipalId: a.principalId,
  };
}

function matches(s: AccountAssignmentOperationStatus, a: Assignment): boolean {
  return (
    s.TargetId === a.accountId &&
    s.PermissionSetArn === a.permissionSetArn &&
    s.PrincipalType === 'USER' &&
    s.PrincipalId === a.principalId
  );
}

function required<T>(value: T | undefined, operation: string): T {
  if (value === undefined)
    throw new UpstreamError(IDENTITY_CENTER_SERVICE, 'bad-response', `${operation} gave no status`);
  return value;
}

const label = (kind: Kind) => (kind === 'create' ? 'Creation' : 'Deletion');
