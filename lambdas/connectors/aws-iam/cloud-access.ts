// CloudAccess on AWS IAM: what a user or role can already do, for the
// approver. Reads the principal, its attached and inline policies, a user's
// groups and their attached policies (all paged, in parallel), and IAM's
// service-last-accessed report, an asynchronous job polled for a bounded time:
// when it does not finish, the rest is still returned and says why the report
// is missing.

import {
  GenerateServiceLastAccessedDetailsCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetServiceLastAccessedDetailsCommand,
  type GetServiceLastAccessedDetailsCommandOutput,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  NoSuchEntityException,
  paginateListAttachedGroupPolicies,
  paginateListAttachedRolePolicies,
  paginateListAttachedUserPolicies,
  paginateListGroupsForUser,
  paginateListRolePolicies,
  paginateListUserPolicies,
  type ServiceLastAccessed,
} from '@aws-sdk/client-iam';
import { UpstreamError } from '../../core/errors';
import type { IamPolicyRef, PrincipalAccess } from '../../core/context';
import { type Clock, type CloudAccess, systemClock } from '../../core/ports';
import { IAM_SERVICE, iamError } from './client';

export interface IamCloudAccessOptions {
  client: IAMClient;
  /** How long to wait for the last-accessed report, by `clock`, before answering without it. */
  lastAccessedWaitMs: number;
  /** The pause between polls of the report (IAM's take a few seconds). */
  pollIntervalMs: number;
  /** Reads time for the wait above (default: the system clock). */
  clock?: Clock;
  /** Pauses between polls (default: a timer); tests move the sandbox clock here instead. */
  sleep?: (ms: number) => Promise<void>;
}

type PrincipalKind = 'user' | 'role';
type LastAccessed = PrincipalAccess['lastAccessed'];

/** Pages of the report read at most; IAM knows a few hundred services and pages by up to 1,000. */
const MAX_REPORT_PAGES = 10;

export class IamCloudAccess implements CloudAccess {
  private readonly client: IAMClient;
  private readonly waitMs: number;
  private readonly pollIntervalMs: number;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: IamCloudAccessOptions) {
    if (!(options.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be positive');
    if (!(options.lastAccessedWaitMs >= 0)) throw new RangeError('lastAccessedWaitMs must not be negative');
    this.client = options.client;
    this.waitMs = options.lastAccessedWaitMs;
    this.pollIntervalMs = options.pollIntervalMs;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async principalAccess(principal: { kind: PrincipalKind; name: string }): Promise<PrincipalAccess> {
    const { kind, name } = principal;
    // Everything but the report only needs the name; the report needs the ARN GetUser/GetRole returns.
    const arn = this.arnOf(kind, name);
    // When another read fails, the report's polling stops too instead of running on unseen.
    const giveUp = new AbortController();
    const [principalArn, attachedPolicies, inlinePolicies, groups, report] = await Promise.all([
      arn,
      this.attachedPolicies(kind, name),
      this.inlinePolicies(kind, name),
      kind === 'user' ? this.groupsOf(name) : Promise.resolve([]),
      arn.then((a) => this.lastAccessed(a, giveUp.signal)),
    ]).catch((error: unknown) => {
      giveUp.abort();
      throw error;
    });
    return {
      principal: { kind, name, arn: principalArn },
      attachedPolicies,
      inlinePolicies,
      groups,
      lastAccessed: report.services,
      ...(report.unavailable === undefined ? {} : { lastAccessedUnavailable: report.unavailable }),
    };
  }

  private async arnOf(kind: PrincipalKind, name: string): Promise<string> {
    const what = `${kind} named ${name}`;
    if (kind === 'user') {
      const { User } = await this.call(
        'GetUser',
        () => this.client.send(new GetUserCommand({ UserName: name })),
        what,
      );
      return requireString(User?.Arn, 'GetUser', 'User.Arn');
    }
    const { Role } = await this.call(
      'GetRole',
      () => this.client.send(new GetRoleCommand({ RoleName: name })),
      what,
    );
    return requireString(Role?.Arn, 'GetRole', 'Role.Arn');
  }

  private async attachedPolicies(kind: PrincipalKind, name: string): Promise<IamPolicyRef[]> {
    const what = `${kind} named ${name}`;
    if (kind === 'user') {
      return this.collect('ListAttachedUserPolicies', what, async (out) => {
        for await (const page of paginateListAttachedUserPolicies(
          { client: this.client },
          { UserName: name },
        )) {
          out.push(...policyRefs(page.AttachedPolicies, 'ListAttachedUserPolicies'));
        }
      });
    }
    return this.collect('ListAttachedRolePolicies', what, async (out) => {
      for await (const page of paginateListAttachedRolePolicies(
        { client: this.client },
        { RoleName: name },
      )) {
        out.push(...policyRefs(page.AttachedPolicies, 'ListAttachedRolePolicies'));
      }
    });
  }

  private async inlinePolicies(
    kind: PrincipalKind,
    name: string,
  ): Promise<PrincipalAccess['inlinePolicies']> {
    const what = `${kind} named ${name}`;
    const list = kind === 'user' ? 'ListUserPolicies' : 'ListRolePolicies';
    const names = await this.collect<string>(list, what, async (out) => {
      const pages =
        kind === 'user'
          ? paginateListUserPolicies({ client: this.client }, { UserName: name })
          : paginateListRolePolicies({ client: this.client }, { RoleName: name });
      for await (const page of pages) {
        out.push(...(page.PolicyNames ?? []).map((n) => requireString(n, list, 'PolicyNames')));
      }
    });
    const documents = await Promise.all(
      names.map((policyName) => this.inlineDocument(kind, name, policyName)),
    );
    return names.flatMap((policyName, i) => {
      const document = documents[i];
      return document === undefined ? [] : [{ name: policyName, document: document.value }];
    });
  }

  /** The parsed document, or undefined when the policy was deleted between the list and this read. */
  private async inlineDocument(
    kind: PrincipalKind,
    name: string,
    policyName: string,
  ): Promise<{ value: unknown } | undefined> {
    const action = kind === 'user' ? 'GetUserPolicy' : 'GetRolePolicy';
    let encoded: string | undefined;
    try {
      const output =
        kind === 'user'
          ? await this.client.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policyName }))
          : await this.client.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }));
      encoded = output.PolicyDocument;
    } catch (error) {
      if (error instanceof NoSuchEntityException) return undefined;
      throw iamError(error, action);
    }
    return { value: parsePolicyDocument(requireString(encoded, action, 'PolicyDocument'), action) };
  }

  private async groupsOf(userName: string): Promise<PrincipalAccess['groups']> {
    const names = await this.collect<string>('ListGroupsForUser', `user named ${userName}`, async (out) => {
      for await (const page of paginateListGroupsForUser({ client: this.client }, { UserName: userName })) {
        out.push(
          ...(page.Groups ?? []).map((g) => requireString(g.GroupName, 'ListGroupsForUser', 'GroupName')),
        );
      }
    });
    return Promise.all(
      names.map(async (groupName) => ({
        name: groupName,
        attachedPolicies: await this.collect<IamPolicyRef>(
          'ListAttachedGroupPolicies',
          `group named ${groupName}`,
          async (out) => {
            for await (const page of paginateListAttachedGroupPolicies(
              { client: this.client },
              { GroupName: groupName },
            )) {
              out.push(...policyRefs(page.AttachedPolicies, 'ListAttachedGroupPolicies'));
            }
          },
        ),
      })),
    );
  }

  /**
   * Starts IAM's report and polls it until it completes or the wait is over.
   * The report only adds to what the policies say, so its failures are told, not thrown.
   */
  private async lastAccessed(
    arn: string,
    signal: AbortSignal,
  ): Promise<{ services: LastAccessed; unavailable?: string }> {
    try {
      const { JobId } = await this.call('GenerateServiceLastAccessedDetails', () =>
        this.client.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: arn })),
      );
      const jobId = requireString(JobId, 'GenerateServiceLastAccessedDetails', 'JobId');
      const deadline = this.clock.now().getTime() + this.waitMs;
      for (;;) {
        if (this.clock.now().getTime() + this.pollIntervalMs > deadline) {
          return {
            services: [],
            unavailable: `IAM's last-accessed report did not finish within ${this.waitMs} ms`,
          };
        }
        await this.sleep(this.pollIntervalMs);
        if (signal.aborted) return { services: [], unavailable: 'abandoned' };
        const first = await this.reportPage(jobId);
        if (first.JobStatus === 'IN_PROGRESS') continue;
        if (first.JobStatus === 'FAILED') {
          return {
            services: [],
            unavailable: `IAM's last-accessed report failed: ${first.Error?.Message ?? 'no reason given'}`,
          };
        }
        if (first.JobStatus !== 'COMPLETED') {
          throw new UpstreamError(
            IAM_SERVICE,
            'bad-response',
            `GetServiceLastAccessedDetails: unknown JobStatus ${String(first.JobStatus)}`,
          );
        }
        return { services: await this.reportServices(jobId, first) };
      }
    } catch (error) {
      if (error instanceof UpstreamError) return { services: [], unavailable: error.message };
      throw error;
    }
  }

  private async reportServices(
    jobId: string,
    first: GetServiceLastAccessedDetailsCommandOutput,
  ): Promise<LastAccessed> {
    const entries: ServiceLastAccessed[] = [...(first.ServicesLastAccessed ?? [])];
    let page = first;
    for (let pages = 1; page.IsTruncated && pages < MAX_REPORT_PAGES; pages++) {
      page = await this.reportPage(
        jobId,
        requireString(page.Marker, 'GetServiceLastAccessedDetails', 'Marker'),
      );
      entries.push(...(page.ServicesLastAccessed ?? []));
    }
    const services = entries.map((s) => ({
      service: requireString(s.ServiceName, 'GetServiceLastAccessedDetails', 'ServiceName'),
      namespace: requireString(s.ServiceNamespace, 'GetServiceLastAccessedDetails', 'ServiceNamespace'),
      ...(validDate(s.LastAuthenticated) ? { lastAuthenticated: s.LastAuthenticated.toISOString() } : {}),
    }));
    // Most recent first; services never used (no date) last, by name.
    return services.sort(
      (a, b) =>
        (b.lastAuthenticated ?? '').localeCompare(a.lastAuthenticated ?? '') ||
        a.service.localeCompare(b.service),
    );
  }

  private reportPage(jobId: string, marker?: string): Promise<GetServiceLastAccessedDetailsCommandOutput> {
    return this.call('GetServiceLastAccessedDetails', () =>
      this.client.send(
        new GetServiceLastAccessedDetailsCommand({
          JobId: jobId,
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      ),
    );
  }

  private async call<T>(action: string, send: () => Promise<T>, what?: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw iamError(error, action, what);
    }
  }

  private async collect<T>(action: string, what: string, fill: (out: T[]) => Promise<void>): Promise<T[]> {
    const out: T[] = [];
    await this.call(action, () => fill(out), what);
    return out;
  }
}

function policyRefs(
  policies: { PolicyName?: string | undefined; PolicyArn?: string | undefined }[] | undefined,
  action: string,
): IamPolicyRef[] {
  return (policies ?? []).map((p) => ({
    name: requireString(p.PolicyName, action, 'PolicyName'),
    arn: requireString(p.PolicyArn, action, 'PolicyArn'),
  }));
}

/** IAM returns policy documents URL-encoded (RFC 3986). */
function parsePolicyDocument(encoded: string, action: string): unknown {
  try {
    return JSON.parse(decodeURIComponent(encoded));
  } catch (error) {
    throw new UpstreamError(
      IAM_SERVICE,
      'bad-response',
      `${action}: the policy document is not URL-encoded JSON`,
      {
        cause: error,
      },
    );
  }
}

function requireString(value: unknown, action: string, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new UpstreamError(IAM_SERVICE, 'bad-response', `${action}: ${field} is missing from the answer`);
  }
  return value;
}

function validDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}
