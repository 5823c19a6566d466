// findConflicts: what the requester holds of a conflict's other members, read from live loopgate
// requests, Okta groups and IAM policies; a member whose source did not answer is not ruled out.
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../../lambdas/core/catalog';
import { findConflicts } from '../../../lambdas/core/triage/conflicts';
import { entitlement, routineContext, request } from './fakes';

const base = routineContext();
const catalog = parseCatalog(
  {
    version: 1,
    entitlements: [
      {
        id: 'okta-prod-readonly',
        description: 'read',
        riskTier: 'low',
        action: { kind: 'okta-group', groupId: '00g1prodreadonly0001' },
        duration: { default: '1h', max: '4h' },
        owners: { escalationPolicy: 'PSREPOL', service: 'PSRESVC' },
        approvers: { onCall: true },
      },
      {
        id: 'aws-billing-read',
        description: 'billing',
        riskTier: 'low',
        action: {
          kind: 'aws-iam-policy',
          principalType: 'user',
          policyArn: 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess',
        },
        duration: { default: '1h', max: '4h' },
        owners: { escalationPolicy: 'PFINPOL', service: 'PFINSVC' },
        mode: 'audit-only',
      },
    ],
    conflicts: [
      {
        id: 'readonly-vs-billing',
        reason: 'a test conflict between the two',
        members: [
          { entitlement: 'okta-prod-readonly' },
          { entitlement: 'aws-billing-read' },
          { iamPolicy: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
        ],
        approvers: { emails: ['sec@example.com'] },
      },
    ],
  },
  { source: 'test' },
);
const readonly = catalog.entitlements[0];
if (!readonly) throw new Error('the test catalog has its entitlements');

describe('findConflicts', () => {
  it('finds an IAM policy held through a group, and nothing when the other side is not held', () => {
    const context = { ...base, entitlement: readonly };
    expect(findConflicts(catalog, context)).toEqual([
      {
        id: 'readonly-vs-billing',
        reason: 'a test conflict between the two',
        held: ['IAM policy ReadOnlyAccess: ReadOnlyAccess attached through group engineers'],
        unchecked: [],
      },
    ]);
    const withoutPolicy = {
      ...context,
      cloud: { status: 'ok' as const, value: { ...base.cloud, ...routineAccessWithout() } },
    };
    expect(findConflicts(catalog, withoutPolicy)).toEqual([]);
  });

  it('finds a live loopgate request for another member, whatever state it waits in', () => {
    const live = request({ entitlementId: 'aws-billing-read', state: 'PENDING', jiraIssueKey: 'ACCESS-9' });
    const context = {
      ...base,
      entitlement: readonly,
      cloud: { status: 'ok' as const, value: routineAccessWithout() },
      history: {
        status: 'ok' as const,
        value: {
          requesterRequests: [],
          entitlementDecisions: [],
          peers: { total: 0, holding: 0 },
          liveRequests: [live],
        },
      },
    };
    expect(findConflicts(catalog, context)[0]?.held).toEqual([
      'aws-billing-read through loopgate (ACCESS-9, PENDING)',
    ]);
  });

  it('does not rule a conflict out when the sources that would tell did not answer', () => {
    const context = {
      ...base,
      entitlement: readonly,
      cloud: { status: 'unavailable' as const, reason: 'timeout' },
      history: { status: 'unavailable' as const, reason: 'timeout' },
    };
    expect(findConflicts(catalog, context)).toEqual([
      expect.objectContaining({
        held: [],
        unchecked: [
          'aws-billing-read (the request history and IAM did not answer)',
          'IAM policy arn:aws:iam::aws:policy/ReadOnlyAccess (IAM did not answer)',
        ],
      }),
    ]);
  });

  it('an entitlement in no conflict meets none', () => {
    expect(findConflicts(catalog, { ...base, entitlement: entitlement('okta-prod-admin') })).toEqual([]);
  });
});

function routineAccessWithout() {
  const access = routineContext().cloud;
  if (access.status !== 'ok') throw new Error('routine access is ok');
  return { ...access.value, groups: [] };
}
