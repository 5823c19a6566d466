// The IAM Identity Center stand-in: the sso-admin API (target prefix
// SWBExternalService, signing name `sso`) and the identitystore API (target
// prefix AWSIdentityStore, signing name `identitystore`), both AWS JSON 1.1:
// `POST /` with `X-Amz-Target: <prefix>.<Operation>`, a JSON body, JSON answers,
// errors as `{"__type": "...Exception", "Message": ...}`. Requests must carry a
// valid SigV4 signature (verified as the IAM stand-in verifies it) scoped to the
// service the target names. Real AWS serves the two at different hosts; one
// stand-in serves both, telling them apart by the target, as the SDK sends it.

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import { Faults } from '../http/faults';
import { HttpStandIn, json, jsonBody, type StandInRequest, type StandInResponse } from '../http/stand-in';
import { IamError } from '../iam/errors';
import { parseAuthorization, signedRequestOf, verifySignature } from '../iam/sigv4';
import type { Scenario } from '../scenario/load';
import {
  type Assignment,
  IdentityCenterError,
  IdentityCenterInstance,
  internal,
  notFound,
  type Operation,
  throttled,
  validation,
} from './instance';

export const SSO_ADMIN_TARGET = 'SWBExternalService';
export const IDENTITY_STORE_TARGET = 'AWSIdentityStore';
const SIGNING_NAME: Record<string, string> = {
  [SSO_ADMIN_TARGET]: 'sso',
  [IDENTITY_STORE_TARGET]: 'identitystore',
};

export interface IdentityCenterStandInOptions {
  scenario: Scenario;
  clock: SandboxClock;
  credentials: readonly { accessKeyId: string; secretAccessKey: string }[];
  /** Items per page of the list operations at most (AWS's own maximum is 100): small pages test paging. */
  pageSize?: number;
}

export interface IdentityCenterCall {
  at: string;
  /** `SWBExternalService.CreateAccountAssignment`, … */
  target: string;
  status: number;
  type?: string;
}

type Body = Record<string, unknown>;
type Handler = (body: Body) => unknown;

export class IdentityCenterStandIn extends HttpStandIn {
  /** Faults per operation name (`CreateAccountAssignment`, …, or `*`), applied after authentication. */
  readonly operationFaults = new Faults();
  readonly operationCalls: IdentityCenterCall[] = [];
  readonly instance: IdentityCenterInstance;
  pageSize: number;
  private readonly clock: SandboxClock;
  private readonly secrets: Map<string, string>;
  private readonly handlers: Record<string, Handler>;

  constructor(options: IdentityCenterStandInOptions) {
    super('identity-center', options.clock);
    this.clock = options.clock;
    this.instance = new IdentityCenterInstance(options.scenario, options.clock);
    this.secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
    this.pageSize = options.pageSize ?? 100;
    this.handlers = this.operations();
    this.route('POST', '/', (request) => this.handleOperation(request));
  }

  /** Authenticated calls of one operation, e.g. `CreateAccountAssignment`, refused ones included. */
  count(operation: string): number {
    return this.operationCalls.filter((c) => c.target.endsWith(`.${operation}`)).length;
  }

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const header = request.headers.authorization;
    const target = targetOf(request);
    try {
      if (!header)
        throw new IdentityCenterError(
          'MissingAuthenticationTokenException',
          400,
          'Missing Authentication Token',
        );
      const auth = parseAuthorization(header);
      const secret = this.secrets.get(auth.accessKeyId);
      if (secret === undefined) {
        throw new IdentityCenterError(
          'UnrecognizedClientException',
          400,
          'The security token included in the request is invalid.',
        );
      }
      verifySignature(signedRequestOf(request), auth, secret, SIGNING_NAME[target.prefix] ?? 'sso');
      return undefined;
    } catch (error) {
      // JSON services name SigV4 refusals with their own exception names.
      if (error instanceof IamError) {
        const type =
          error.code === 'SignatureDoesNotMatch'
            ? 'InvalidSignatureException'
            : 'IncompleteSignatureException';
        return errorResponse(new IdentityCenterError(type, 400, error.message));
      }
      if (error instanceof IdentityCenterError) return errorResponse(error);
      throw error;
    }
  }

  protected faultResponse(status: number): StandInResponse {
    return errorResponse(faultError(status));
  }

  protected routeNotFound(request: StandInRequest): StandInResponse {
    return errorResponse(
      new IdentityCenterError(
        'UnknownOperationException',
        404,
        `No route for ${request.method} ${request.path}`,
      ),
    );
  }

  protected malformedBody(message: string): StandInResponse {
    return errorResponse(new IdentityCenterError('SerializationException', 400, message));
  }

  state() {
    const i = this.instance;
    return {
      instanceArn: i.instanceArn,
      identityStoreId: i.identityStoreId,
      users: i.users.map((u) => ({ userId: u.userId, userName: u.userName, person: u.person })),
      permissionSets: i.permissionSets.map((p) => ({
        arn: p.arn,
        name: p.name,
        sessionDuration: p.sessionDuration,
      })),
      accounts: i.accounts,
      assignments: i.assignments.map((a) => ({ ...a })),
      operations: i.operations.map((o) => ({
        requestId: o.requestId,
        kind: o.kind,
        status: o.status,
        principalId: o.principalId,
      })),
      faults: { routes: this.faults.list(), operations: this.operationFaults.list() },
    };
  }

  private async handleOperation(request: StandInRequest): Promise<StandInResponse> {
    const target = targetOf(request);
    let response: StandInResponse;
    try {
      const handler = Object.hasOwn(this.handlers, target.full) ? this.handlers[target.full] : undefined;
      if (!handler) {
        throw new IdentityCenterError(
          'UnknownOperationException',
          400,
          `Unknown operation ${target.full || '(no X-Amz-Target)'}`,
        );
      }
      const contentType = String(request.headers['content-type'] ?? '');
      if (!contentType.startsWith('application/x-amz-json-1.1')) {
        throw new IdentityCenterError(
          'SerializationException',
          400,
          `Unsupported content type ${contentType}`,
        );
      }
      const fault = await this.operationFaults.apply(target.operation);
      if (fault !== undefined) throw faultError(fault);
      const body = jsonBody<Body>(request);
      response = json(200, handler(body ?? {}), {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
      });
    } catch (error) {
      if (!(error instanceof IdentityCenterError)) throw error;
      response = errorResponse(error);
    }
    this.operationCalls.push({
      at: this.clock.now().toISOString(),
      target: target.full,
      status: response.status,
      ...(response.status >= 400 ? { type: (response.body as { __type?: string }).__type ?? '' } : {}),
    });
    return response;
  }

  private operations(): Record<string, Handler> {
    const i = this.instance;
    const sso = (op: string) => `${SSO_ADMIN_TARGET}.${op}`;
    const ids = (op: string) => `${IDENTITY_STORE_TARGET}.${op}`;
    const assignmentOf = (b: Body): Assignment => {
      i.checkInstance(b.InstanceArn);
      if (b.TargetType !== 'AWS_ACCOUNT') throw validation('TargetType must be AWS_ACCOUNT');
      if (b.PrincipalType !== 'USER' && b.PrincipalType !== 'GROUP')
        throw validation('PrincipalType must be USER or GROUP');
      return {
        accountId: requiredString(b, 'TargetId'),
        permissionSetArn: requiredString(b, 'PermissionSetArn'),
        principalType: b.PrincipalType,
        principalId: requiredString(b, 'PrincipalId'),
      };
    };
    return {
      [sso('CreateAccountAssignment')]: (b) => ({
        AccountAssignmentCreationStatus: status(i.start('create', assignmentOf(b))),
      }),
      [sso('DeleteAccountAssignment')]: (b) => ({
        AccountAssignmentDeletionStatus: status(i.start('delete', assignmentOf(b))),
      }),
      [sso('DescribeAccountAssignmentCreationStatus')]: (b) => {
        i.checkInstance(b.InstanceArn);
        return {
          AccountAssignmentCreationStatus: status(i.describe('create', b.AccountAssignmentCreationRequestId)),
        };
      },
      [sso('DescribeAccountAssignmentDeletionStatus')]: (b) => {
        i.checkInstance(b.InstanceArn);
        return {
          AccountAssignmentDeletionStatus: status(i.describe('delete', b.AccountAssignmentDeletionRequestId)),
        };
      },
      [sso('ListAccountAssignmentCreationStatus')]: (b) =>
        this.statusList(b, 'create', 'AccountAssignmentsCreationStatus'),
      [sso('ListAccountAssignmentDeletionStatus')]: (b) =>
        this.statusList(b, 'delete', 'AccountAssignmentsDeletionStatus'),
      [sso('ListAccountAssignments')]: (b) => {
        i.checkInstance(b.InstanceArn);
        const accountId = requiredString(b, 'AccountId');
        const ps = i.permissionSet(b.PermissionSetArn);
        const items = i.assignments
          .filter((a) => a.accountId === accountId && a.permissionSetArn === ps.arn)
          .map(assignmentShape);
        return this.page(b, items, 'AccountAssignments');
      },
      [sso('ListAccountAssignmentsForPrincipal')]: (b) => {
        i.checkInstance(b.InstanceArn);
        const principalId = requiredString(b, 'PrincipalId');
        const account = (b.Filter as { AccountId?: string } | undefined)?.AccountId;
        const items = i.assignments
          .filter((a) => a.principalId === principalId && a.principalType === b.PrincipalType)
          .filter((a) => account === undefined || a.accountId === account)
          .map(assignmentShape);
        return this.page(b, items, 'AccountAssignments');
      },
      [sso('DescribePermissionSet')]: (b) => {
        i.checkInstance(b.InstanceArn);
        const ps = i.permissionSet(b.PermissionSetArn);
        return {
          PermissionSet: {
            Name: ps.name,
            PermissionSetArn: ps.arn,
            Description: ps.description,
            CreatedDate: ps.createdDate.getTime() / 1000,
            SessionDuration: ps.sessionDuration,
          },
        };
      },
      [ids('GetUserId')]: (b) => {
        i.checkStore(b.IdentityStoreId);
        const alt = (b.AlternateIdentifier ?? {}) as {
          UniqueAttribute?: { AttributePath?: string; AttributeValue?: unknown };
          ExternalId?: { Issuer?: string; Id?: string };
        };
        let user;
        if (alt.UniqueAttribute && !alt.ExternalId) {
          const { AttributePath, AttributeValue } = alt.UniqueAttribute;
          if (AttributePath !== 'userName' && AttributePath !== 'emails.value') {
            throw validation('Invalid AttributePath: only userName and emails.value are valid');
          }
          user = i.users.find((u) => u.userName === AttributeValue);
        } else if (alt.ExternalId && !alt.UniqueAttribute) {
          const { Issuer, Id } = alt.ExternalId;
          user = i.users.find((u) => u.externalIds.some((x) => x.Issuer === Issuer && x.Id === Id));
        } else {
          throw validation('AlternateIdentifier must have exactly one of ExternalId and UniqueAttribute');
        }
        if (!user) throw notFound('USER not found.', { ResourceType: 'USER', RequestId: randomUUID() });
        return { UserId: user.userId, IdentityStoreId: i.identityStoreId };
      },
    };
  }

  private statusList(b: Body, kind: 'create' | 'delete', key: string) {
    this.instance.checkInstance(b.InstanceArn);
    const wanted = (b.Filter as { Status?: string } | undefined)?.Status;
    const items = this.instance.operations
      .filter((o) => o.kind === kind && (wanted === undefined || o.status === wanted))
      .map((o) => ({
        Status: o.status,
        RequestId: o.requestId,
        CreatedDate: o.createdDate.getTime() / 1000,
      }));
    return this.page(b, items, key);
  }

  /** NextToken paging: an opaque token names the next offset; a token not issued here is refused. */
  private page(b: Body, items: unknown[], key: string) {
    const max = b.MaxResults === undefined ? 100 : Number(b.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100)
      throw validation('MaxResults must be between 1 and 100');
    let offset = 0;
    if (b.NextToken !== undefined) {
      const decoded = /^lg1:(\d+)$/.exec(Buffer.from(String(b.NextToken), 'base64url').toString());
      if (!decoded) throw validation('Invalid NextToken');
      offset = Number(decoded[1]);
    }
    const size = Math.min(max, this.pageSize);
    const next = offset + size;
    return {
      [key]: items.slice(offset, next),
      ...(next < items.length ? { NextToken: Buffer.from(`lg1:${next}`).toString('base64url') } : {}),
    };
  }
}

function targetOf(request: StandInRequest): { full: string; prefix: string; operation: string } {
  const full = String(request.headers['x-amz-target'] ?? '');
  const dot = full.indexOf('.');
  return { full, prefix: dot < 0 ? full : full.slice(0, dot), operation: dot < 0 ? '' : full.slice(dot + 1) };
}

function status(op: Operation) {
  return {
    Status: op.status,
    RequestId: op.requestId,
    ...(op.failureReason ? { FailureReason: op.failureReason } : {}),
    TargetId: op.accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: op.permissionSetArn,
    PrincipalType: op.principalType,
    PrincipalId: op.principalId,
    CreatedDate: op.createdDate.getTime() / 1000,
  };
}

function assignmentShape(a: Assignment) {
  return {
    AccountId: a.accountId,
    PermissionSetArn: a.permissionSetArn,
    PrincipalType: a.principalType,
    PrincipalId: a.principalId,
  };
}

function requiredString(b: Body, name: string): string {
  const value = b[name];
  if (typeof value !== 'string' || value === '')
    throw validation(
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function faultError(status: number): IdentityCenterError {
  if (status === 400 || status === 429) return throttled();
  if (status === 403)
    return new IdentityCenterError(
      'AccessDeniedException',
      400,
      'User is not authorized to perform this operation',
    );
  if (status >= 500) return internal();
  return validation(`Injected fault (HTTP ${status})`);
}

function errorResponse(error: IdentityCenterError): StandInResponse {
  return json(
    error.status,
    { __type: error.type, Message: error.message, ...error.extra },
    {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': error.type,
    },
  );
}
