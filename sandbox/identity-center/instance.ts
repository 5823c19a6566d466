// The state behind the Identity Center stand-in: one instance, its identity
// store (users synced from the scenario's Okta people), permission sets,
// accounts, account assignments, and the asynchronous operations that create
// and delete assignments. An operation answers IN_PROGRESS until it has been
// described `settleAfterPolls` times (or, while `hold` is set, until released),
// then applies its change and answers SUCCEEDED, as AWS's status APIs do.

import { createHash, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import type { Scenario } from '../scenario/load';

export class IdentityCenterError extends Error {
  constructor(
    /** The exception's shape name (`__type`), e.g. ConflictException. */
    readonly type: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'IdentityCenterError';
  }
}

export const notFound = (message: string, extra: Record<string, unknown> = {}) =>
  new IdentityCenterError('ResourceNotFoundException', 400, message, extra);
export const validation = (message: string) => new IdentityCenterError('ValidationException', 400, message);
export const conflict = (message: string) => new IdentityCenterError('ConflictException', 400, message);
export const throttled = () => new IdentityCenterError('ThrottlingException', 400, 'Rate exceeded');
export const internal = () =>
  new IdentityCenterError(
    'InternalServerException',
    500,
    'The request processing has failed because of an unknown error',
  );

export interface IdcUser {
  userId: string;
  userName: string;
  displayName: string;
  externalIds: { Issuer: string; Id: string }[];
  /** The scenario person it was synced from. */
  person: string;
}

export interface PermissionSet {
  arn: string;
  name: string;
  description: string;
  sessionDuration: string;
  createdDate: Date;
}

export interface Assignment {
  accountId: string;
  permissionSetArn: string;
  principalType: 'USER' | 'GROUP';
  principalId: string;
}

export type OperationKind = 'create' | 'delete';
export type Status = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface Operation extends Assignment {
  requestId: string;
  kind: OperationKind;
  status: Status;
  failureReason?: string;
  createdDate: Date;
  /** Describes left before it settles. */
  pollsLeft: number;
}

export class IdentityCenterInstance {
  readonly instanceArn: string;
  readonly identityStoreId: string;
  readonly externalIdIssuer: string;
  readonly accounts: { id: string; name: string }[];
  readonly users: IdcUser[] = [];
  readonly permissionSets: PermissionSet[] = [];
  readonly assignments: Assignment[] = [];
  readonly operations: Operation[] = [];
  /** How many times an operation is described IN_PROGRESS before it settles. */
  settleAfterPolls = 1;
  /** While set, operations stay IN_PROGRESS whatever is polled (a slow propagation). */
  hold = false;

  constructor(
    scenario: Scenario,
    private readonly clock: SandboxClock,
  ) {
    const ic = scenario.identityCenter ?? {
      instanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000',
      identityStoreId: 'd-0000000000',
      externalIdIssuer: 'sandbox',
      accounts: [],
      permissionSets: [],
      notSynced: [],
      assignments: [],
    };
    this.instanceArn = ic.instanceArn;
    this.identityStoreId = ic.identityStoreId;
    this.externalIdIssuer = ic.externalIdIssuer;
    this.accounts = ic.accounts.map((a) => ({ ...a }));
    const instanceId = ic.instanceArn.slice(ic.instanceArn.lastIndexOf('/') + 1);
    for (const ps of ic.permissionSets) {
      this.permissionSets.push({
        arn: `arn:aws:sso:::permissionSet/${instanceId}/${ps.id}`,
        name: ps.name,
        description: ps.description,
        sessionDuration: ps.sessionDuration,
        createdDate: scenario.start,
      });
    }
    for (const p of scenario.people) {
      if (ic.notSynced.includes(p.id)) continue;
      this.users.push({
        userId: stableUuid(`${ic.identityStoreId}/${p.id}`),
        userName: p.email,
        displayName: p.name,
        externalIds: [{ Issuer: ic.externalIdIssuer, Id: p.okta.id }],
        person: p.id,
      });
    }
    for (const a of ic.assignments) {
      const user = this.users.find((u) => u.person === a.person);
      const ps = this.permissionSets.find((x) => x.name === a.permissionSet);
      if (user && ps) {
        this.assignments.push({
          accountId: a.account,
          permissionSetArn: ps.arn,
          principalType: 'USER',
          principalId: user.userId,
        });
      }
    }
  }

  checkInstance(instanceArn: unknown): void {
    if (instanceArn !== this.instanceArn) {
      throw notFound(`Instance ${String(instanceArn)} does not exist`);
    }
  }

  permissionSet(arn: unknown): PermissionSet {
    const ps = this.permissionSets.find((p) => p.arn === arn);
    if (!ps) throw notFound(`Could not find PermissionSet with ARN ${String(arn)}`);
    return ps;
  }

  checkStore(identityStoreId: unknown): void {
    if (identityStoreId !== this.identityStoreId) {
      throw notFound(`Identity store ${String(identityStoreId)} not found`, {
        ResourceType: 'IDENTITY_STORE',
        ResourceId: identityStoreId,
      });
    }
  }

  hasAssignment(a: Assignment): boolean {
    return this.assignments.some((x) => same(x, a));
  }

  /** Starts creating or deleting an assignment; refused while another operation on it is under way. */
  start(kind: OperationKind, a: Assignment): Operation {
    if (!this.accounts.some((x) => x.id === a.accountId)) {
      throw validation(`The account ${a.accountId} is not a member of the organization`);
    }
    this.permissionSet(a.permissionSetArn);
    if (a.principalType === 'USER' && !this.users.some((u) => u.userId === a.principalId)) {
      throw notFound(`Principal ${a.principalId} does not exist`);
    }
    if (this.operations.some((o) => o.status === 'IN_PROGRESS' && same(o, a))) {
      throw conflict(
        `An account assignment operation is already in progress for principal ${a.principalId} on account ${a.accountId}`,
      );
    }
    const op: Operation = {
      ...a,
      requestId: randomUUID(),
      kind,
      status: 'IN_PROGRESS',
      createdDate: this.clock.now(),
      pollsLeft: this.settleAfterPolls,
    };
    this.operations.push(op);
    return op;
  }

  /** One Describe of an operation: it moves on when its polls run out and nothing holds it. */
  describe(kind: OperationKind, requestId: unknown): Operation {
    const op = this.operations.find((o) => o.kind === kind && o.requestId === requestId);
    if (!op) throw notFound(`Request ${String(requestId)} does not exist`);
    if (op.status === 'IN_PROGRESS' && !this.hold) {
      if (op.pollsLeft > 0) op.pollsLeft -= 1;
      else this.settle(op);
    }
    return op;
  }

  /** Settles every operation under way (the service catching up), unless held. */
  settleAll(): void {
    for (const op of this.operations) if (op.status === 'IN_PROGRESS') this.settle(op);
  }

  private settle(op: Operation): void {
    const exists = this.hasAssignment(op);
    if (op.kind === 'create' && !exists) this.assignments.push(pick(op));
    if (op.kind === 'delete' && exists) {
      this.assignments.splice(
        this.assignments.findIndex((x) => same(x, op)),
        1,
      );
    }
    op.status = 'SUCCEEDED';
  }
}

function pick(a: Assignment): Assignment {
  return {
    accountId: a.accountId,
    permissionSetArn: a.permissionSetArn,
    principalType: a.principalType,
    principalId: a.principalId,
  };
}

export function same(a: Assignment, b: Assignment): boolean {
  return (
    a.accountId === b.accountId &&
    a.permissionSetArn === b.permissionSetArn &&
    a.principalType === b.principalType &&
    a.principalId === b.principalId
  );
}

/** Identity store user ids are UUID-shaped; derived from the person so every run has the same ids. */
function stableUuid(seed: string): string {
  const s = createHash('sha256').update(seed).digest('hex');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
