// The AWS IAM stand-in: IAM's Query API (form-encoded `POST /` with `Action`
// and `Version=2010-05-08`, XML answers) over the scenario's account, so the
// real @aws-sdk/client-iam runs against it unchanged. Requests must carry a
// valid SigV4 signature from a known access key; faults can be injected per
// route (the base class) or per action, and are answered as IAM answers them.

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import { Faults } from '../http/faults';
import { HttpStandIn, type StandInRequest, type StandInResponse } from '../http/stand-in';
import type { Scenario } from '../scenario/load';
import { IamAccount, type Principal, type PrincipalKind } from './account';
import { type ActionHandler, iamActions } from './actions';
import { IamError, serviceFailure, throttling } from './errors';
import { Params } from './params';
import { parseAuthorization, signedRequestOf, verifySignature } from './sigv4';
import { actionResponse, errorResponse, isoSeconds } from './xml';

export const IAM_API_VERSION = '2010-05-08';

export interface IamCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface IamStandInOptions {
  scenario: Scenario;
  clock: SandboxClock;
  /** The access keys the stand-in accepts; requests must be signed with the matching secret. */
  credentials: readonly IamCredentials[];
}

export interface IamActionCall {
  at: string;
  action: string;
  status: number;
  /** IAM's error code when the call failed. */
  code?: string;
}

export interface PrincipalPolicies {
  /** Attached managed policy ARNs. */
  attached: string[];
  /** Inline policy documents by name, parsed. */
  inline: Record<string, unknown>;
  /** For users: the groups they belong to. */
  groups?: string[];
}

export class IamStandIn extends HttpStandIn {
  /** Faults per IAM action (`GetUser`, `PutUserPolicy`…, or `*`), applied after authentication. */
  readonly actionFaults = new Faults();
  /** Every action the stand-in dispatched (authenticated requests naming an action), in order. */
  readonly actionCalls: IamActionCall[] = [];
  readonly account: IamAccount;
  private readonly clock: SandboxClock;
  private readonly secrets: Map<string, string>;
  private readonly actions: Record<string, ActionHandler>;

  constructor(options: IamStandInOptions) {
    super('iam', options.clock);
    this.clock = options.clock;
    this.account = new IamAccount(options.scenario, options.clock);
    this.secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
    this.actions = iamActions(this.account);
    this.route('POST', '/', (request) => this.handleAction(request));
  }

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const header = request.headers.authorization;
    try {
      if (!header)
        throw new IamError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
      const auth = parseAuthorization(header);
      const secret = this.secrets.get(auth.accessKeyId);
      if (secret === undefined) {
        throw new IamError(
          'InvalidClientTokenId',
          403,
          'The security token included in the request is invalid.',
        );
      }
      verifySignature(signedRequestOf(request), auth, secret);
      return undefined;
    } catch (error) {
      if (error instanceof IamError) return errorResponse(error, randomUUID());
      throw error;
    }
  }

  /** IAM throttles with HTTP 400 `Throttling` (not 429); 5xx faults come as ServiceFailure or ServiceUnavailable. */
  protected faultResponse(status: number, request: StandInRequest): StandInResponse {
    return errorResponse(this.faultError(status, formOf(request).get('Action') ?? 'unknown'), randomUUID());
  }

  protected routeNotFound(request: StandInRequest): StandInResponse {
    return errorResponse(
      new IamError('InvalidAction', 400, `Could not find operation for ${request.method} ${request.path}`),
      randomUUID(),
    );
  }

  protected malformedBody(message: string): StandInResponse {
    return errorResponse(new IamError('MalformedQueryString', 404, message), randomUUID());
  }

  /** The account as plain data: users, roles, groups, managed policies with their attachments, jobs. */
  state() {
    const attachments = (p: Principal) => ({
      attachedPolicies: [...p.attached],
      inlinePolicies: Object.fromEntries([...p.inline.values()].map((i) => [i.name, JSON.parse(i.document)])),
    });
    const identity = (p: Principal) => ({
      name: p.name,
      id: p.id,
      arn: p.arn,
      createDate: isoSeconds(p.createDate),
    });
    return {
      accountId: this.account.accountId,
      users: this.account.allUsers().map((u) => ({
        ...identity(u),
        groups: this.account.groupsOf(u).map((g) => g.name),
        ...attachments(u),
      })),
      roles: this.account
        .allRoles()
        .map((r) => ({ ...identity(r), description: r.description, ...attachments(r) })),
      groups: this.account.allGroups().map((g) => ({
        ...identity(g),
        members: this.account.membersOf(g).map((u) => u.name),
        ...attachments(g),
      })),
      policies: this.account.allPolicies().map((p) => ({
        arn: p.arn,
        name: p.name,
        awsManaged: p.awsManaged,
        attachmentCount: this.account.attachmentCount(p.arn),
        document: JSON.parse(p.document) as unknown,
      })),
      lastAccessedJobs: this.account.allJobs().map((j) => ({
        jobId: j.id,
        arn: j.arn,
        status: this.account.jobStatus(j).status,
        createdAt: isoSeconds(j.createdAt),
      })),
      faults: { routes: this.faults.list(), actions: this.actionFaults.list() },
    };
  }

  /** What a user, role or group holds directly; undefined when there is no such principal. */
  principalPolicies(kind: PrincipalKind, name: string): PrincipalPolicies | undefined {
    let principal: Principal;
    try {
      principal = this.account.principal(kind, name);
    } catch (error) {
      if (error instanceof IamError) return undefined;
      throw error;
    }
    return {
      attached: [...principal.attached],
      inline: Object.fromEntries([...principal.inline.values()].map((i) => [i.name, JSON.parse(i.document)])),
      ...(principal.kind === 'user' ? { groups: this.account.groupsOf(principal).map((g) => g.name) } : {}),
    };
  }

  private async handleAction(request: StandInRequest): Promise<StandInResponse> {
    const form = formOf(request);
    const action = form.get('Action');
    const requestId = randomUUID();
    let response: StandInResponse;
    try {
      if (!action) throw new IamError('MissingAction', 400, 'Missing Action');
      const version = form.get('Version');
      const handler = Object.hasOwn(this.actions, action) ? this.actions[action] : undefined;
      if (version !== IAM_API_VERSION || !handler) {
        throw new IamError(
          'InvalidAction',
          400,
          `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`,
        );
      }
      const fault = await this.actionFaults.apply(action);
      if (fault !== undefined) throw this.faultError(fault, action);
      response = actionResponse(action, handler(new Params(form)), requestId);
    } catch (error) {
      if (!(error instanceof IamError)) throw error;
      response = errorResponse(error, requestId);
    }
    this.actionCalls.push({
      at: this.clock.now().toISOString(),
      action: action ?? '',
      status: response.status,
      ...(response.status >= 400 ? { code: errorCode(response) } : {}),
    });
    return response;
  }

  private faultError(status: number, action: string): IamError {
    if (status === 400 || status === 429) return throttling();
    if (status === 403) {
      return new IamError(
        'AccessDenied',
        403,
        `User: arn:aws:sts::${this.account.accountId}:assumed-role/loopgate/sandbox is not authorized to perform: iam:${action}`,
      );
    }
    if (status === 500) return serviceFailure();
    if (status === 503) return new IamError('ServiceUnavailable', 503, 'Service Unavailable');
    return new IamError(
      status >= 500 ? 'InternalFailure' : 'InvalidInput',
      status,
      `Injected fault (HTTP ${status})`,
    );
  }
}

function formOf(request: StandInRequest): URLSearchParams {
  return new URLSearchParams(request.rawBody.toString('utf8'));
}

function errorCode(response: StandInResponse): string | undefined {
  return typeof response.body === 'string' ? /<Code>([^<]*)<\/Code>/.exec(response.body)?.[1] : undefined;
}
