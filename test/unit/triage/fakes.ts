// In-memory fakes of the ports triage reads, and a routine world to vary per test:
// an active, long-standing employee with MFA asking for read-only access with a
// ticket reference, at their usual hour, like most of their peers.

import { type Entitlement, parseCatalog } from '../../../lambdas/core/catalog';
import type {
  ChatMessage,
  DirectoryProfile,
  DirectoryUser,
  OnCallShift,
  PrincipalAccess,
  RequestContext,
} from '../../../lambdas/core/context';
import type { AccessRequest, AuditEvent } from '../../../lambdas/core/model';
import type {
  ChatSearch,
  CloudAccess,
  Directory,
  ListOptions,
  OnCall,
  RequestStore,
} from '../../../lambdas/core/ports';

export const NOW = new Date('2026-11-21T09:00:00.000Z');
const DAY = 86_400_000;
export const daysAgo = (days: number, hour = 9) => {
  const d = new Date(NOW.getTime() - days * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
};

const catalog = parseCatalog(
  {
    version: 1,
    entitlements: [
      {
        id: 'okta-prod-readonly',
        description: 'Read-only access to production dashboards and consoles (Okta group prod-readonly).',
        riskTier: 'low',
        action: { kind: 'okta-group', groupId: '00g1prodreadonly0001' },
        duration: { default: '8h', max: '7d' },
        owners: { escalationPolicy: 'PSREPOL', service: 'PSRESVC' },
        approvers: { onCall: true },
      },
      {
        id: 'okta-prod-admin',
        description: 'Administrator of the production Okta apps (Okta group prod-admin).',
        riskTier: 'high',
        action: { kind: 'okta-group', groupId: '00g1prodadmin0000002' },
        duration: { default: '1h', max: '4h' },
        owners: { escalationPolicy: 'PIAMPOL', service: 'PIAMSVC' },
        approvers: { onCall: true },
      },
      {
        id: 'aws-billing-read',
        description: 'Read the AWS billing console and Cost Explorer (AWS managed policy).',
        riskTier: 'low',
        action: {
          kind: 'aws-iam-policy',
          principalType: 'user',
          policyArn: 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess',
        },
        duration: { default: '1d', max: '7d' },
        owners: { escalationPolicy: 'PFINPOL', service: 'PFINSVC' },
        mode: 'audit-only',
      },
      {
        id: 'aws-prod-db-connect',
        description: 'Connect to the production Postgres cluster with IAM authentication.',
        riskTier: 'critical',
        action: {
          kind: 'aws-iam-policy',
          principalType: 'role',
          roleName: 'prod-incident-operator',
          statements: [
            {
              Effect: 'Allow',
              Action: 'rds-db:connect',
              Resource: 'arn:aws:rds-db:eu-west-1:111122223333:dbuser:cluster-PRODPG01/incident_rw',
            },
          ],
        },
        duration: { default: '2h', max: '8h' },
        owners: { escalationPolicy: 'PDBAPOL', service: 'PDBASVC' },
        approvers: { onCall: true },
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

export function user(overrides: Partial<DirectoryUser> = {}): DirectoryUser {
  return {
    id: '00u1dana',
    login: 'dana@example.com',
    email: 'dana@example.com',
    status: 'ACTIVE',
    displayName: 'Dana Reyes',
    title: 'Site Reliability Engineer',
    department: 'Engineering',
    managerId: '00u1maria',
    createdAt: daysAgo(500),
    ...overrides,
  };
}

/** Thirty days of sign-ins from the United States between 08:00 and 10:00 UTC. */
export function routineProfile(): DirectoryProfile {
  return {
    user: user(),
    manager: user({
      id: '00u1maria',
      email: 'maria@example.com',
      login: 'maria@example.com',
      displayName: 'Maria Gonzalez',
    }),
    groups: [
      { id: '00g1everyone00000005', name: 'Everyone' },
      { id: '00g1engineering00006', name: 'engineering' },
    ],
    factors: [{ type: 'push', provider: 'OKTA', status: 'ACTIVE' }],
    signIns: Array.from({ length: 30 }, (_, i) => ({
      at: daysAgo(i + 1, 8 + (i % 3)),
      outcome: 'SUCCESS',
      country: 'United States',
      city: 'Seattle',
      device: 'Chrome on Mac OS X',
    })),
  };
}

export function routineAccess(): PrincipalAccess {
  return {
    principal: { kind: 'user', name: 'dana', arn: 'arn:aws:iam::111122223333:user/dana' },
    attachedPolicies: [{ name: 'sre-tools', arn: 'arn:aws:iam::111122223333:policy/sre-tools' }],
    inlinePolicies: [],
    groups: [
      {
        name: 'engineers',
        attachedPolicies: [{ name: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      },
    ],
    lastAccessed: [{ service: 'Amazon CloudWatch', namespace: 'cloudwatch', lastAuthenticated: daysAgo(1) }],
  };
}

let seq = 0;
export function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  seq += 1;
  return {
    id: `req-${seq}`,
    jiraIssueKey: `ACCESS-${100 + seq}`,
    requester: { jiraAccountId: 'acct-dana', email: 'dana@example.com', displayName: 'Dana Reyes' },
    entitlementId: 'okta-prod-readonly',
    durationSeconds: 4 * 3600,
    justification: 'Investigating INC-4411: checkout latency in production dashboards',
    breakGlass: false,
    state: 'TRIAGING',
    version: 2,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    decisions: [],
    ...overrides,
  };
}

/** A decided precedent: an approved (REVOKED) or denied request for the entitlement. */
export function precedent(
  entitlementId: string,
  hours: number,
  outcome: 'approve' | 'deny',
  daysBack = 40,
  requester = 'sam@example.com',
): AccessRequest {
  const decidedAt = daysAgo(daysBack);
  return request({
    entitlementId,
    durationSeconds: hours * 3600,
    requester: { jiraAccountId: `acct-${requester}`, email: requester },
    state: outcome === 'approve' ? 'REVOKED' : 'DENIED',
    createdAt: decidedAt,
    updatedAt: decidedAt,
    decisions: [
      {
        outcome,
        actor: { kind: 'person', id: 'owner@example.com' },
        decidedAt,
        comment: outcome === 'deny' ? 'No incident named' : undefined,
      },
    ],
  });
}

export const routinePrecedents = () =>
  [4, 8, 8, 4, 2].map((h, i) => precedent('okta-prod-readonly', h, 'approve', 10 + i));

export class FakeDirectory implements Directory {
  users = new Map<string, DirectoryUser>([['dana@example.com', user()]]);
  profiles = new Map<string, DirectoryProfile>([['00u1dana', routineProfile()]]);
  peers: DirectoryUser[] = ['a', 'b', 'c', 'd', 'e'].map((n) =>
    user({ id: `00u1${n}`, email: `${n}@example.com` }),
  );
  groups = new Map<string, Set<string>>([['00g1prodreadonly0001', new Set(['00u1a', '00u1b', '00u1c'])]]);
  calls: string[] = [];

  async findUserByEmail(email: string) {
    this.calls.push(`findUserByEmail ${email}`);
    return this.users.get(email);
  }
  async userById(id: string) {
    this.calls.push(`userById ${id}`);
    return [...this.users.values()].find((u) => u.id === id);
  }
  async findUserByAttribute(): Promise<undefined> {
    throw new Error('triage uses the directory id intake recorded');
  }
  async profile(userId: string, signInsSince: Date) {
    this.calls.push(`profile ${userId} ${signInsSince.toISOString()}`);
    const found = this.profiles.get(userId);
    if (!found) throw new Error('no such profile');
    return found;
  }
  async peersOf(of: DirectoryUser) {
    this.calls.push(`peersOf ${of.id}`);
    return this.peers;
  }
  async groupMemberIds(groupId: string) {
    this.calls.push(`groupMemberIds ${groupId}`);
    return this.groups.get(groupId) ?? new Set<string>();
  }
}

export class FakeCloud implements CloudAccess {
  access = routineAccess();
  asked: { kind: string; name: string }[] = [];
  async principalAccess(principal: { kind: 'user' | 'role'; name: string }) {
    this.asked.push(principal);
    return this.access;
  }
}

export class FakeChat implements ChatSearch {
  messages: ChatMessage[] = [
    {
      channelId: 'C01',
      channelName: 'sre',
      authorName: 'Dana Reyes',
      text: 'Looking at INC-4411, will request prod-readonly',
      at: daysAgo(0, 8),
      permalink: 'https://example.slack.com/archives/C01/p1',
    },
  ];
  queries: { terms: string[]; authorEmail?: string; since: Date }[] = [];
  async recentMessages(query: { terms: string[]; authorEmail?: string; since: Date }) {
    this.queries.push(query);
    return this.messages;
  }
}

export class FakeOnCall implements OnCall {
  shifts: OnCallShift[] = [];
  asked: string[] = [];
  async shiftsOf(who: { pagerDutyUserId: string } | { email: string }) {
    this.asked.push('email' in who ? who.email : who.pagerDutyUserId);
    return this.shifts;
  }
}

/** The store's read side triage uses; writes are not triage's business here. */
export class FakeStore implements RequestStore {
  requests: AccessRequest[] = routinePrecedents();

  async listByRequester(email: string, options?: ListOptions) {
    return this.newest((r) => r.requester.email === email, options);
  }
  async listByEntitlement(entitlementId: string, options?: ListOptions) {
    return this.newest((r) => r.entitlementId === entitlementId, options);
  }
  private newest(match: (r: AccessRequest) => boolean, options?: ListOptions) {
    return this.requests
      .filter((r) => match(r) && (!options?.states || options.states.includes(r.state)))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, options?.limit ?? 25);
  }

  create(): never {
    throw new Error('not used by triage');
  }
  async get() {
    return undefined;
  }
  async getByJiraIssueKey() {
    return undefined;
  }
  async getByIncidentId() {
    return undefined;
  }
  transition(): never {
    throw new Error('not used by triage');
  }
  recordEvent(): never {
    throw new Error('not used by triage');
  }
  async listAuditEvents(): Promise<AuditEvent[]> {
    return [];
  }
  async listDue() {
    return [];
  }
  async claimDelivery() {
    return { status: 'claimed', token: 'fake' } as const;
  }
  async completeDelivery() {}
  async releaseDelivery() {}
}

/** A context as gather would return it for the routine world, to vary per test. */
export function routineContext(overrides: Partial<RequestContext> = {}): RequestContext {
  const req = request();
  return {
    request: req,
    entitlement: entitlement(req.entitlementId),
    gatheredAt: NOW.toISOString(),
    directory: { status: 'ok', value: routineProfile() },
    cloud: { status: 'ok', value: routineAccess() },
    chat: { status: 'ok', value: new FakeChat().messages },
    onCall: { status: 'ok', value: [] },
    history: {
      status: 'ok',
      value: {
        requesterRequests: [],
        entitlementDecisions: routinePrecedents(),
        peers: { total: 5, holding: 3 },
      },
    },
    ...overrides,
  };
}
