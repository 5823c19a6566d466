// In-memory fakes for deciding: a directory of people and groups, a PagerDuty
// on-call that knows who holds which policy, and a small catalog with one
// entitlement per approver rule. Dana asks; the others may answer.

import { type Entitlement, parseCatalog } from '../../../lambdas/core/catalog';
import type { DirectoryUser, OnCallShift } from '../../../lambdas/core/context';
import { UpstreamError } from '../../../lambdas/core/errors';
import type { RecordedDecision } from '../../../lambdas/core/decide/decide';
import type { AccessRequest } from '../../../lambdas/core/model';
import type { Directory, OnCall } from '../../../lambdas/core/ports';

export const NOW = new Date('2026-11-21T09:00:00.000Z');
export const HOUR = 3600;

export const SECURITY_LEADS = '00g1securityleads003';

const catalog = parseCatalog(
  {
    version: 1,
    entitlements: [
      {
        id: 'okta-prod-readonly',
        description: 'Read-only production dashboards.',
        riskTier: 'low',
        action: { kind: 'okta-group', groupId: '00g1prodreadonly0001' },
        duration: { default: '8h', max: '7d' },
        owners: { escalationPolicy: 'PSREPOL', service: 'PSRESVC' },
        approvers: { onCall: true },
      },
      {
        id: 'okta-prod-admin',
        description: 'Administrator of the production Okta apps.',
        riskTier: 'high',
        action: { kind: 'okta-group', groupId: '00g1prodadmin0000002' },
        duration: { default: '1h', max: '4h' },
        owners: { escalationPolicy: 'PIAMPOL', service: 'PIAMSVC' },
        approvers: { onCall: true, oktaGroup: SECURITY_LEADS },
        approvalsRequired: 2,
      },
      {
        id: 'aws-logs-read',
        description: 'Read the central S3 log archive.',
        riskTier: 'medium',
        action: { kind: 'okta-group', groupId: '00g1logsreaders00007' },
        duration: { default: '4h', max: '3d' },
        owners: { escalationPolicy: 'PSECPOL', service: 'PSECSVC' },
        approvers: { emails: ['ana.lima@example.com', 'sam.okafor@example.com'] },
      },
      {
        id: 'aws-billing-read',
        description: 'Read the AWS billing console.',
        riskTier: 'low',
        action: { kind: 'okta-group', groupId: '00g1billingread00008' },
        duration: { default: '1d', max: '7d' },
        owners: { escalationPolicy: 'PFINPOL', service: 'PFINSVC' },
        mode: 'audit-only',
      },
    ],
  },
  { source: 'test' },
);

export function entitlement(id: string): Entitlement {
  const found = catalog.entitlements.find((e) => e.id === id);
  if (!found) throw new Error(`no entitlement ${id} in the test catalog`);
  return found;
}

export function person(id: string, email: string): DirectoryUser {
  return {
    id,
    login: email,
    email,
    status: 'ACTIVE',
    displayName: email.split('@')[0] ?? email,
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

export class FakeDirectory implements Directory {
  users = new Map<string, DirectoryUser>(
    [
      person('00u1dana', 'dana@example.com'),
      person('00u1lee', 'lee@example.com'),
      person('00u1kim', 'kim@example.com'),
      person('00u1ana', 'ana.lima@example.com'),
      person('00u1sam', 'sam.okafor@example.com'),
    ].map((u) => [u.email, u]),
  );
  /** Custom profile attributes: `attribute=value` → user id. */
  attributes = new Map<string, string>();
  groups = new Map<string, Set<string>>([[SECURITY_LEADS, new Set(['00u1kim'])]]);
  /** When set, every call throws it, as an Okta outage would. */
  failure: Error | undefined;
  calls: string[] = [];

  /** As Okta compares logins: ASCII case does not matter, nothing else is folded. */
  async findUserByEmail(email: string) {
    this.calls.push(`findUserByEmail ${email}`);
    if (this.failure) throw this.failure;
    const wanted = email.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
    return [...this.users.values()].find((u) => u.login.replace(/[A-Z]/g, (c) => c.toLowerCase()) === wanted);
  }
  async userById(id: string) {
    this.calls.push(`userById ${id}`);
    if (this.failure) throw this.failure;
    return [...this.users.values()].find((u) => u.id === id);
  }
  async findUserByAttribute(attribute: string, value: string) {
    this.calls.push(`findUserByAttribute ${attribute} ${value}`);
    if (this.failure) throw this.failure;
    const id = this.attributes.get(`${attribute}=${value}`);
    return [...this.users.values()].find((u) => u.id === id);
  }
  async groupMemberIds(groupId: string) {
    this.calls.push(`groupMemberIds ${groupId}`);
    if (this.failure) throw this.failure;
    return this.groups.get(groupId) ?? new Set<string>();
  }
  profile(): never {
    throw new Error('not used by deciding');
  }
  peersOf(): never {
    throw new Error('not used by deciding');
  }
}

/** Who is on call where, as intervals, by PagerDuty user id; `shiftsOf` answers for the moment it is asked about. */
export class FakeOnCall implements OnCall {
  shifts: { userId: string; policy: string; start: Date; end: Date }[] = [];
  failure: Error | undefined;
  asked: { who: string; at: string }[] = [];

  onCall(userId: string, policy: string, start: Date, end: Date) {
    this.shifts.push({ userId, policy, start, end });
    return this;
  }

  async shiftsOf(who: { pagerDutyUserId: string } | { email: string }, at: Date): Promise<OnCallShift[]> {
    const key = 'pagerDutyUserId' in who ? who.pagerDutyUserId : who.email;
    this.asked.push({ who: key, at: at.toISOString() });
    if (this.failure) throw this.failure;
    return this.shifts
      .filter((s) => s.userId === key && s.start <= at && at < s.end)
      .map((s) => ({
        escalationPolicyId: s.policy,
        level: 1,
        start: s.start.toISOString(),
        end: s.end.toISOString(),
      }));
  }
}

export const outage = (service: string) => new UpstreamError(service, 'unavailable', 'HTTP 503');

export function pendingRequest(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'req-1',
    jiraIssueKey: 'ACCESS-101',
    requester: { jiraAccountId: 'acct-dana', email: 'dana@example.com', displayName: 'Dana Reyes' },
    entitlementId: 'okta-prod-admin',
    durationSeconds: 2 * HOUR,
    justification: 'INC-4411: rotate the SCIM token',
    breakGlass: false,
    state: 'PENDING',
    version: 4,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    incidentId: 'PINC001',
    decisions: [],
    ...overrides,
  };
}

export function approval(
  email: string,
  sourceId: string,
  extra: Partial<RecordedDecision> = {},
): RecordedDecision {
  return {
    outcome: 'approve',
    actor: { kind: 'person', id: email },
    decidedAt: NOW.toISOString(),
    sourceId,
    ...extra,
  };
}
