// catalog check: separation-of-duties conflicts and approval stages (the manager, failover) are
// validated with the file, line, column, path and reason of each mistake.
import { describe, expect, it } from 'vitest';
import { CatalogError, conflictsOf } from '../../lambdas/core/catalog';
import { parseCatalogYaml } from '../../lambdas/platform/catalog-file';

const ENTITLEMENTS = `version: 1
entitlements:
  - id: deploy-prod
    description: Deploy to production
    riskTier: high
    action: { kind: okta-group, groupId: 00g1deployprod000001 }
    duration: { default: 1h, max: 4h }
    owners: { escalationPolicy: PSREPOL, service: PSRESVC }
    approvers: { onCall: true }
  - id: audit-logs-admin
    description: Administer the audit log archive
    riskTier: high
    action: { kind: okta-group, groupId: 00g1auditadmin000002 }
    duration: { default: 1h, max: 4h }
    owners: { escalationPolicy: PSECPOL, service: PSECSVC }
    approvers: { onCall: true }
`;

function problemsOf(yaml: string) {
  try {
    parseCatalogYaml(yaml, 'catalog.yaml');
  } catch (error) {
    if (error instanceof CatalogError) return { problems: error.problems, message: error.message };
    throw error;
  }
  throw new Error('the catalog was accepted');
}

const withConflicts = (conflicts: string) => `${ENTITLEMENTS}conflicts:\n${conflicts}`;

describe('conflicts (separation of duties)', () => {
  it('accepts a pair with a reason and its approvers, and finds it by either entitlement', () => {
    const catalog = parseCatalogYaml(
      withConflicts(`  - id: deploy-vs-audit
    reason: whoever deploys must not also administer the logs that record it
    members: [{ entitlement: deploy-prod }, { entitlement: audit-logs-admin }, { oktaGroup: 00g1auditors00000003 }]
    approvers: { escalationPolicy: PSECPOL }
`),
      'catalog.yaml',
    );
    expect(conflictsOf(catalog, 'deploy-prod').map((c) => c.id)).toEqual(['deploy-vs-audit']);
    expect(conflictsOf(catalog, 'audit-logs-admin')[0]?.approvalsRequired).toBe(1);
  });

  it('a catalog without conflicts has none', () => {
    expect(parseCatalogYaml(ENTITLEMENTS, 'catalog.yaml').conflicts).toEqual([]);
  });

  it('reports an unknown entitlement at its line and column', () => {
    const { problems, message } = problemsOf(
      withConflicts(`  - id: deploy-vs-audit
    reason: whoever deploys must not also administer the logs
    members:
      - entitlement: deploy-prod
      - entitlement: audit-log-admin
    approvers: { escalationPolicy: PSECPOL }
`),
    );
    expect(problems).toEqual([
      {
        path: 'conflicts[0].members[1].entitlement',
        message: 'no entitlement "audit-log-admin" in the catalog',
        line: 22,
        column: 9,
      },
    ]);
    expect(message).toContain(
      'catalog.yaml:22:9 conflicts[0].members[1].entitlement: no entitlement "audit-log-admin" in the catalog',
    );
  });

  it('refuses a conflict of an entitlement with itself', () => {
    const { problems } = problemsOf(
      withConflicts(`  - id: deploy-vs-deploy
    reason: a mistake that conflicts deploy with itself
    members:
      - entitlement: deploy-prod
      - entitlement: deploy-prod
    approvers: { emails: [sec@example.com] }
`),
    );
    expect(problems).toEqual([
      {
        path: 'conflicts[0].members[1].entitlement',
        message: '"deploy-prod" is already members[0]: an entitlement does not conflict with itself',
        line: 22,
        column: 9,
      },
      expect.objectContaining({
        path: 'conflicts[0].members',
        message: 'a conflict needs at least two different members',
        line: 20,
      }),
    ]);
  });

  it('refuses fewer than two members, a conflict naming no entitlement, a member naming two things', () => {
    const { problems } = problemsOf(
      withConflicts(`  - id: alone
    reason: only one member is listed here
    members: [{ entitlement: deploy-prod }]
    approvers: { emails: [sec@example.com] }
  - id: outside-only
    reason: only outside groups are listed here
    members: [{ oktaGroup: 00g1auditors00000003 }, { iamPolicy: "arn:aws:iam::aws:policy/ReadOnlyAccess" }]
    approvers: { emails: [sec@example.com] }
  - id: both
    reason: one member names two things at once
    members: [{ entitlement: deploy-prod, oktaGroup: 00g1auditors00000003 }, { entitlement: audit-logs-admin }]
    approvers: {}
`),
    );
    expect(problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      '20:5 conflicts[0].members: a conflict needs at least two members',
      '28:15 conflicts[2].members[0]: name exactly one of entitlement, oktaGroup or iamPolicy',
      '29:5 conflicts[2].approvers: name who approves through the conflict: an escalationPolicy, emails or an oktaGroup',
      '24:5 conflicts[1].members: name at least one entitlement: loopgate checks a conflict when one of its entitlements is requested',
    ]);
  });
});

describe('approval stages and the manager', () => {
  const entitlementWith = (lines: string) =>
    ENTITLEMENTS.replace(
      '    approvers: { onCall: true }\n  - id: audit-logs-admin',
      `${lines}\n  - id: audit-logs-admin`,
    );

  it('accepts manager then owners, with a failover', () => {
    const catalog = parseCatalogYaml(
      entitlementWith(`    approvers: { onCall: true }
    stages:
      - { name: manager, approvers: { manager: true }, withoutManager: skip }`),
      'catalog.yaml',
    );
    expect(catalog.entitlements[0]?.stages).toEqual([
      {
        name: 'manager',
        approvers: { manager: true, onCall: false, emails: [] },
        approvalsRequired: 1,
        withoutManager: 'skip',
      },
    ]);
  });

  it('a manager-only stage must say what happens without a manager', () => {
    const { problems } = problemsOf(
      entitlementWith(`    approvers: { onCall: true }
    stages:
      - approvers: { manager: true }`),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].stages[0].withoutManager',
        message: expect.stringContaining('the manager is the only approver'),
      }),
    ]);
  });

  it('the last stage cannot skip: somebody must approve', () => {
    const { problems } = problemsOf(
      entitlementWith(`    approvers: { manager: true }\n    withoutManager: skip`),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].withoutManager',
        message: expect.stringContaining('skip would leave nobody to approve'),
        line: 10,
      }),
    ]);
  });

  it('a failover names people, and is not the manager again', () => {
    const { problems } = problemsOf(
      entitlementWith(`    approvers: { manager: true }
    withoutManager: { approvers: { manager: true } }`),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'entitlements[0].withoutManager.approvers: the failover cannot be the manager again',
    ]);
  });

  it('stage names are unique, and owners is the approvers’ own', () => {
    const { problems } = problemsOf(
      entitlementWith(`    approvers: { onCall: true }
    stages:
      - { name: owners, approvers: { emails: [a@example.com] } }
      - { name: lead, approvers: { emails: [b@example.com] } }
      - { name: lead, approvers: { emails: [c@example.com] } }`),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'entitlements[0].stages[0].name: stage name "owners" is taken: it is the approvers\' own stage',
      'entitlements[0].stages[2].name: stage name "lead" is taken: an earlier stage has it',
    ]);
  });

  it('withoutManager without the manager has no effect', () => {
    const { problems } = problemsOf(
      entitlementWith(`    approvers: { onCall: true }\n    withoutManager: skip`),
    );
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].withoutManager',
        message: 'withoutManager has no effect: approvers does not name the manager',
      }),
    ]);
  });
});
