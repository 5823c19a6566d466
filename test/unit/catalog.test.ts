import { describe, expect, it } from 'vitest';
import { CatalogError, MODES } from '../../lambdas/core/catalog';
import { loadCatalogFile, parseCatalogYaml } from '../../lambdas/platform/catalog-file';

const OK_ENTITLEMENT = `
  - id: okta-prod-readonly
    description: Read-only production access
    riskTier: low
    action: { kind: okta-group, groupId: 00g1prodreadonly0001 }
    duration: { default: 4h, max: 7d }
    owners: { escalationPolicy: PSREPOL, service: PSRESVC }
    approvers: { onCall: true }
`;

/** A catalog made of the given entitlement YAML blocks. */
const catalogOf = (...entitlements: string[]) => `version: 1\nentitlements:${entitlements.join('')}`;

function problemsOf(yaml: string) {
  try {
    parseCatalogYaml(yaml, 'catalog.yaml');
  } catch (error) {
    if (error instanceof CatalogError) return error.problems;
    throw error;
  }
  throw new Error('the catalog was accepted');
}

describe('the shipped catalog', () => {
  const catalog = loadCatalogFile('config/catalog.yaml');

  it('loads, and shows every capability the catalog has', () => {
    const entitlements = catalog.entitlements;
    expect(new Set(entitlements.map((e) => e.action.kind))).toEqual(
      new Set(['okta-group', 'aws-iam-policy', 'aws-identity-center']),
    );
    expect(new Set(entitlements.map((e) => e.mode))).toEqual(new Set(MODES));
    expect(entitlements.some((e) => e.approvalsRequired >= 2)).toBe(true);
    expect(entitlements.some((e) => e.breakGlass.allowed)).toBe(true);
    expect(entitlements.length).toBeGreaterThanOrEqual(5);
  });

  it('holds durations in seconds and fills defaults', () => {
    const readonly = catalog.entitlements.find((e) => e.id === 'okta-prod-readonly');
    expect(readonly?.duration).toEqual({ default: 8 * 3600, max: 7 * 86_400 });
    expect(readonly?.approvalsRequired).toBe(1);
    expect(readonly?.breakGlass).toEqual({ allowed: false });
    expect(readonly?.approvers).toEqual({ onCall: true, emails: [] });
  });
});

describe('a bad catalog names the file, the path and the reason', () => {
  it('unknown action kind', () => {
    const yaml = catalogOf(OK_ENTITLEMENT.replace('kind: okta-group', 'kind: okta-app'));
    expect(problemsOf(yaml)).toEqual([
      {
        path: 'entitlements[0].action.kind',
        message: 'unknown action kind "okta-app": use one of okta-group, aws-iam-policy, aws-identity-center',
        line: 6,
        column: 15,
      },
    ]);
  });

  it('default duration over the maximum', () => {
    const yaml = catalogOf(OK_ENTITLEMENT.replace('default: 4h, max: 7d', 'default: 8h, max: 4h'));
    expect(problemsOf(yaml)).toEqual([
      {
        path: 'entitlements[0].duration.default',
        message: 'default 8h is longer than max 4h',
        line: 7,
        column: 17,
      },
    ]);
  });

  it('no approvers on an approval entitlement', () => {
    const yaml = catalogOf(OK_ENTITLEMENT.replace('    approvers: { onCall: true }\n', ''));
    expect(problemsOf(yaml)).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].approvers',
        message:
          'no approvers: a approval entitlement needs at least one of onCall: true, emails or oktaGroup',
      }),
    ]);
  });

  it('approvers that are all switched off', () => {
    const yaml = catalogOf(
      OK_ENTITLEMENT.replace('approvers: { onCall: true }', 'approvers: { onCall: false, emails: [] }'),
    );
    expect(problemsOf(yaml).map((p) => p.path)).toEqual(['entitlements[0].approvers']);
  });

  it('duplicate ids', () => {
    const yaml = catalogOf(OK_ENTITLEMENT, OK_ENTITLEMENT);
    expect(problemsOf(yaml)).toEqual([
      {
        path: 'entitlements[1].id',
        message: 'duplicate id "okta-prod-readonly": entitlements[0] has it too',
        line: 11,
        column: 5,
      },
    ]);
  });

  it('bad duration syntax', () => {
    const yaml = catalogOf(OK_ENTITLEMENT.replace('max: 7d', 'max: 1 week'));
    expect(problemsOf(yaml)).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].duration.max',
        message:
          '"1 week" is not a duration: write a whole number and a unit (m, h or d), as in 30m, 4h or 7d',
        line: 7,
      }),
    ]);
  });

  it('unknown keys, each pointed at', () => {
    const yaml = catalogOf(
      OK_ENTITLEMENT.replace('riskTier: low', 'riskTier: low\n    ownerTeam: sre\n    sla: 1h'),
    );
    expect(problemsOf(yaml)).toEqual([
      { path: 'entitlements[0].ownerTeam', message: 'unknown key "ownerTeam"', line: 6, column: 5 },
      { path: 'entitlements[0].sla', message: 'unknown key "sla"', line: 7, column: 5 },
    ]);
  });

  it('an unknown key at the top level', () => {
    expect(problemsOf(`${catalogOf(OK_ENTITLEMENT)}defaults: {}\n`)).toEqual([
      expect.objectContaining({ path: 'defaults', message: 'unknown key "defaults"' }),
    ]);
  });

  it('an IAM action with both a managed policy and inline statements', () => {
    const yaml = catalogOf(
      OK_ENTITLEMENT.replace(
        'action: { kind: okta-group, groupId: 00g1prodreadonly0001 }',
        `action:
      kind: aws-iam-policy
      principalType: user
      policyArn: arn:aws:iam::aws:policy/ReadOnlyAccess
      statements: [{ Effect: Allow, Action: s3:GetObject, Resource: "*" }]`,
      ),
    );
    expect(problemsOf(yaml)).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].action',
        message: 'give exactly one of policyArn (a managed policy) or statements (an inline policy)',
      }),
    ]);
  });

  it('an inline IAM statement with a key IAM policies do not have', () => {
    const yaml = catalogOf(
      OK_ENTITLEMENT.replace(
        'action: { kind: okta-group, groupId: 00g1prodreadonly0001 }',
        `action:
      kind: aws-iam-policy
      principalType: user
      statements: [{ Effect: Allow, NotAction: s3:DeleteObject, Resource: "*" }]`,
      ),
    );
    expect(problemsOf(yaml).map((p) => [p.path, p.message])).toEqual([
      [
        'entitlements[0].action.statements[0].Action',
        'a statement lists its actions in Action (one action or a list)',
      ],
      [
        'entitlements[0].action.statements[0].NotAction',
        expect.stringMatching(/^NotAction allows everything except what it lists .*loopgate refuses it/),
      ],
    ]);
  });

  it('more approvals required than listed approvers can give', () => {
    const yaml = catalogOf(
      OK_ENTITLEMENT.replace(
        'approvers: { onCall: true }',
        'approvers: { emails: [ana@example.com] }\n    approvalsRequired: 2',
      ),
    );
    expect(problemsOf(yaml)).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].approvalsRequired',
        message: '2 approvals required but only 1 approver email(s) listed',
      }),
    ]);
  });

  it('a break-glass maximum longer than the entitlement maximum, and break-glass nobody hears of', () => {
    const yaml = catalogOf(
      `${OK_ENTITLEMENT}    breakGlass: { allowed: true, maxDuration: 1h, alert: { emails: [] } }\n`,
    );
    expect(problemsOf(yaml).map((p) => p.path)).toEqual(['entitlements[0].breakGlass.alert']);
    const longer = catalogOf(
      `${OK_ENTITLEMENT}    breakGlass: { allowed: true, maxDuration: 8d, alert: { emails: [sec@example.com] } }\n`,
    );
    expect(problemsOf(longer)).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].breakGlass.maxDuration',
        message: "break-glass maxDuration 8d is longer than the entitlement's max 7d",
      }),
    ]);
  });

  it('malformed YAML, with its line', () => {
    const problems = problemsOf('version: 1\nentitlements:\n  - id: [unclosed\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: '', line: expect.any(Number) });
    expect(problems[0]?.message).toMatch(/^YAML: /);
  });

  it('a repeated key in the YAML itself', () => {
    const problems = problemsOf(
      catalogOf(OK_ENTITLEMENT.replace('riskTier: low', 'riskTier: low\n    riskTier: high')),
    );
    expect(problems[0]?.message).toMatch(/^YAML: .*unique/i);
  });

  it('an empty catalog', () => {
    expect(problemsOf('version: 1\nentitlements: []\n').map((p) => p.path)).toEqual(['entitlements']);
  });

  it('a file that cannot be read', () => {
    expect(() => loadCatalogFile('config/no-such-catalog.yaml')).toThrow(
      /config\/no-such-catalog.yaml: the catalog is invalid .*\n.*cannot read the file: ENOENT/,
    );
  });

  it('the error message lists every problem with file:line:column', () => {
    const yaml = catalogOf(
      OK_ENTITLEMENT.replace('max: 7d', 'max: forever').replace('riskTier: low', 'riskTier: meh'),
    );
    expect(() => parseCatalogYaml(yaml, 'config/catalog.yaml')).toThrow(
      /^config\/catalog.yaml: the catalog is invalid \(2 problems\)\n {2}config\/catalog.yaml:5:5 entitlements\[0\].riskTier: .*\n {2}config\/catalog.yaml:7:30 entitlements\[0\].duration.max: "forever" is not a duration/,
    );
  });
});

describe('an IAM Identity Center entitlement', () => {
  const IDC = `
  - id: aws-prod-readonly-sso
    description: Read-only production through Identity Center
    riskTier: medium
    action:
      kind: aws-identity-center
      identityStoreId: d-9067a1b2c3
      permissionSetArn: arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-4a1b2c3d4e5f6a7b
      accountId: '111122223333'
      sessionDuration: 1h
    duration: { default: 2h, max: 4h }
    owners: { escalationPolicy: PSREPOL, service: PSRESVC }
    approvers: { onCall: true }
`;

  it('is accepted with a session no longer than the max grant, finding the user by userName unless told', () => {
    const catalog = parseCatalogYaml(catalogOf(IDC), 'catalog.yaml');
    expect(catalog.entitlements[0]?.action).toMatchObject({
      kind: 'aws-identity-center',
      sessionDuration: 3600,
      user: { by: 'userName' },
    });
  });

  it('refuses a permission set whose sessions outlast the max grant, at the line of sessionDuration', () => {
    const problems = problemsOf(catalogOf(IDC.replace('sessionDuration: 1h', 'sessionDuration: 8h')));
    expect(problems).toEqual([
      {
        path: 'entitlements[0].action.sessionDuration',
        line: 11,
        column: 7,
        message: expect.stringMatching(
          /sessions last 8h, longer than the max grant \(4h\), and removing the assignment ends no session: shorten .* or accept it with sessionMayOutliveGrant/,
        ),
      },
    ]);
  });

  it('accepts a long session when the entry says why, and refuses the acknowledgement where nothing needs it', () => {
    const ack =
      "\n      sessionMayOutliveGrant: { reason: 'operators need a whole shift without signing in again' }";
    const long = IDC.replace('sessionDuration: 1h', `sessionDuration: 8h${ack}`);
    expect(parseCatalogYaml(catalogOf(long), 'catalog.yaml').entitlements).toHaveLength(1);
    const needless = IDC.replace('sessionDuration: 1h', `sessionDuration: 1h${ack}`);
    expect(problemsOf(catalogOf(needless)).map((p) => p.path)).toEqual([
      'entitlements[0].action.sessionMayOutliveGrant',
    ]);
  });

  it('requires the session duration, and refuses ids that are not Identity Center ids', () => {
    const problems = problemsOf(
      catalogOf(
        IDC.replace('      sessionDuration: 1h\n', '')
          .replace('d-9067a1b2c3', 'store-1')
          .replace('ps-4a1b2c3d4e5f6a7b', 'ps-1')
          .replace("'111122223333'", "'1111'"),
      ),
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'entitlements[0].action.accountId',
      'entitlements[0].action.identityStoreId',
      'entitlements[0].action.permissionSetArn',
      'entitlements[0].action.sessionDuration',
    ]);
  });

  it('takes an external id match with its issuer', () => {
    const byExternal = IDC.replace(
      'sessionDuration: 1h',
      "sessionDuration: 1h\n      user: { by: externalId, issuer: 'https://example.okta.com' }",
    );
    expect(parseCatalogYaml(catalogOf(byExternal), 'catalog.yaml').entitlements[0]?.action).toMatchObject({
      user: { by: 'externalId', issuer: 'https://example.okta.com' },
    });
    expect(
      problemsOf(
        catalogOf(IDC.replace('sessionDuration: 1h', 'sessionDuration: 1h\n      user: { by: externalId }')),
      ).map((p) => p.path),
    ).toEqual(['entitlements[0].action.user.issuer']);
  });
});
