// The catalog refuses IAM grants that let their holder widen their own access,
// unless a person approves each grant and the entry opts in with a reason.

import { describe, expect, it } from 'vitest';
import { CatalogError } from '../../lambdas/core/catalog';
import { parseCatalogYaml } from '../../lambdas/platform/catalog-file';

interface Entry {
  mode?: 'approval' | 'audit-only' | 'on-call-auto';
  riskTier?: string;
  /** YAML lines of the action, indented under `action:`. */
  action: string;
  extra?: string;
}

const entry = ({ mode = 'approval', riskTier = 'high', action, extra = '' }: Entry) => `
  - id: aws-test-grant
    description: A grant under test
    riskTier: ${riskTier}
    action:
      kind: aws-iam-policy
      principalType: user
${action}
    duration: { default: 1h, max: 4h }
    owners: { escalationPolicy: PSREPOL, service: PSRESVC }
    approvers: { onCall: true }
    mode: ${mode}
${extra}`;

const statements = (...lines: string[]) =>
  `      statements:\n${lines.map((l) => `        - ${l}`).join('\n')}`;
const OPT_IN =
  '    allowPrivilegeEscalation: { reason: "the platform team rotates access keys during incidents" }';

function problemsOf(entitlementYaml: string) {
  try {
    parseCatalogYaml(`version: 1\nentitlements:${entitlementYaml}`, 'catalog.yaml');
  } catch (error) {
    if (error instanceof CatalogError) return error.problems;
    throw error;
  }
  return [];
}
const pathsOf = (yaml: string) => problemsOf(yaml).map((p) => p.path);

describe('the catalog refuses privilege escalation (issue 15)', () => {
  it('an audit-only Action "*" on Resource "*", even with allowPrivilegeEscalation', () => {
    const action = statements('{ Sid: Everything, Effect: Allow, Action: "*", Resource: "*" }');
    const problems = problemsOf(entry({ mode: 'audit-only', action, extra: OPT_IN }));
    expect(problems).toEqual([
      {
        path: 'entitlements[0].action.statements[0].Action',
        message: expect.stringMatching(
          /^entitlement "aws-test-grant", statement "Everything" \(statements\[0\]\): Action "\*" allows every AWS action, administration included \(unbounded access\); mode audit-only grants without a person approving, .*refused even with allowPrivilegeEscalation/,
        ),
        line: 10,
        column: 45,
      },
    ]);
  });

  it('iam:PutUserPolicy, iam:CreateAccessKey, iam:PassRole and sts:AssumeRole on "*": each refused, each named', () => {
    const action = statements(
      'Effect: Allow\n          Action: [iam:PutUserPolicy, iam:CreateAccessKey, iam:PassRole, sts:AssumeRole, s3:GetObject]\n          Resource: "*"',
    );
    const problems = problemsOf(entry({ action }));
    expect(problems.map((p) => p.path)).toEqual(
      [0, 1, 2, 3].map((k) => `entitlements[0].action.statements[0].Action[${k}]`),
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /statements\[0\]: Action "iam:PutUserPolicy", which writes an inline policy on a user.*\(privilege escalation\); refused: .*allowPrivilegeEscalation/,
      ),
      expect.stringMatching(/Action "iam:CreateAccessKey", which creates long-lived access keys/),
      expect.stringMatching(/Action "iam:PassRole" on any role \(Resource has a wildcard\)/),
      expect.stringMatching(/Action "sts:AssumeRole" on any role/),
    ]);
    expect(problems.every((p) => p.line === 11)).toBe(true);
  });

  it('an on-call-auto AdministratorAccess, even with allowPrivilegeEscalation', () => {
    const action = '      policyArn: arn:aws:iam::aws:policy/AdministratorAccess';
    expect(problemsOf(entry({ mode: 'on-call-auto', riskTier: 'critical', action, extra: OPT_IN }))).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].action.policyArn',
        message: expect.stringMatching(
          /^entitlement "aws-test-grant", managed policy AdministratorAccess: the AWS managed policy AdministratorAccess is administrative .*mode on-call-auto grants without a person approving/,
        ),
      }),
    ]);
  });

  it.each(['IAMFullAccess', 'PowerUserAccess', 'job-function/SystemAdministrator'])(
    'the administrative managed policy %s without opt-in',
    (name) => {
      expect(pathsOf(entry({ action: `      policyArn: arn:aws:iam::aws:policy/${name}` }))).toEqual([
        'entitlements[0].action.policyArn',
      ]);
    },
  );

  it('a read-only managed policy and a customer policy of the same name are not refused', () => {
    expect(pathsOf(entry({ action: '      policyArn: arn:aws:iam::aws:policy/ReadOnlyAccess' }))).toEqual([]);
    expect(
      pathsOf(entry({ action: '      policyArn: arn:aws:iam::111122223333:policy/AdministratorAccess' })),
    ).toEqual([]);
  });

  it('break-glass grants without a person: refused even in approval mode with the opt-in', () => {
    const action = statements('{ Effect: Allow, Action: iam:AttachUserPolicy, Resource: "*" }');
    const breakGlass = `${OPT_IN}\n    breakGlass: { allowed: true, maxDuration: 1h, alert: { emails: [sec@example.com] } }`;
    expect(problemsOf(entry({ action, extra: breakGlass }))).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/break-glass grants without a person approving/),
      }),
    ]);
  });

  it('approval mode, high or critical risk, with a reason: accepted', () => {
    const action = statements(
      '{ Effect: Allow, Action: [iam:CreateAccessKey, sts:AssumeRole], Resource: "*" }',
    );
    expect(pathsOf(entry({ action, extra: OPT_IN }))).toEqual([]);
    expect(pathsOf(entry({ action, riskTier: 'critical', extra: OPT_IN }))).toEqual([]);
  });

  it('the opt-in at low or medium risk, with too short a reason, or where nothing escalates', () => {
    const escalating = statements('{ Effect: Allow, Action: iam:CreateAccessKey, Resource: "*" }');
    expect(problemsOf(entry({ action: escalating, riskTier: 'medium', extra: OPT_IN }))).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(
          /allowPrivilegeEscalation needs riskTier high or critical, not medium/,
        ),
      }),
    ]);
    expect(
      pathsOf(entry({ action: escalating, extra: '    allowPrivilegeEscalation: { reason: yes }' })),
    ).toEqual(['entitlements[0].allowPrivilegeEscalation.reason']);
    const harmless = statements('{ Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::logs/*" }');
    expect(problemsOf(entry({ action: harmless, extra: OPT_IN }))).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].allowPrivilegeEscalation',
        message: expect.stringMatching(/grants nothing that escalates: remove allowPrivilegeEscalation/),
      }),
    ]);
  });

  it('NotAction and NotResource are refused with the reason', () => {
    const problems = problemsOf(
      entry({ action: statements('{ Effect: Allow, NotAction: iam:*, Resource: "*" }') }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'entitlements[0].action.statements[0].NotAction',
        message: expect.stringMatching(
          /^NotAction allows everything except what it lists .*loopgate refuses it/,
        ),
      }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({
        path: 'entitlements[0].action.statements[0].Action',
        message: 'a statement lists its actions in Action (one action or a list)',
      }),
    );
    const notResource = statements(
      '{ Effect: Allow, Action: s3:GetObject, Resource: "*", NotResource: "arn:aws:s3:::secret/*" }',
    );
    expect(pathsOf(entry({ action: notResource }))).toEqual([
      'entitlements[0].action.statements[0].NotResource',
    ]);
  });

  it.each([
    ['iam:Put*', '*'],
    ['iam:*', 'arn:aws:iam::111122223333:user/dana'],
    ['IAM:putUSERpolicy', 'arn:aws:iam::111122223333:user/dana'],
    ['sts:*', '*'],
    ['sts:Assume*', 'arn:aws:iam::111122223333:role/*'],
    ['lambda:UpdateFunctionCode', 'arn:aws:lambda:eu-west-1:111122223333:function:billing'],
    ['*:*', 'arn:aws:s3:::logs'],
    ['ec2:*', '*'],
  ])('refused: %s on %s', (actionName, resource) => {
    const action = statements(`{ Effect: Allow, Action: "${actionName}", Resource: "${resource}" }`);
    expect(pathsOf(entry({ action }))).toEqual(['entitlements[0].action.statements[0].Action']);
  });

  it.each([
    ['sts:AssumeRole', 'arn:aws:iam::111122223333:role/read-only-auditor'],
    ['iam:PassRole', 'arn:aws:iam::111122223333:role/batch-worker'],
    ['s3:*', 'arn:aws:s3:::example-log-archive/*'],
    ['iam:Get*', '*'],
    ['logs:FilterLogEvents', '*'],
  ])('accepted: %s on %s', (actionName, resource) => {
    const action = statements(`{ Effect: Allow, Action: "${actionName}", Resource: "${resource}" }`);
    expect(pathsOf(entry({ action }))).toEqual([]);
  });

  it('a Deny statement takes away: "*" there is not an escalation', () => {
    const action = statements(
      '{ Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::logs/*" }',
      '{ Effect: Deny, Action: "*", Resource: "arn:aws:s3:::logs/secret/*" }',
    );
    expect(pathsOf(entry({ action }))).toEqual([]);
  });

  it('the error message points at file:line:column with the entitlement and the reason', () => {
    const yaml = `version: 1\nentitlements:${entry({ mode: 'audit-only', action: statements('{ Effect: Allow, Action: "*", Resource: "*" }') })}`;
    expect(() => parseCatalogYaml(yaml, 'config/catalog.yaml')).toThrow(
      /config\/catalog.yaml:10:28 entitlements\[0\].action.statements\[0\].Action: entitlement "aws-test-grant", statements\[0\]: Action "\*" allows every AWS action/,
    );
  });
});

describe('roles only AWS may change are refused at check', () => {
  it.each([
    [
      'AWSReservedSSO_DataEngineer_0a1b2c3d4e5f6789',
      /belong to IAM Identity Center: only AWS may change them/,
    ],
    ['AWSServiceRoleForSupport', /service-linked: only AWS may change them/],
  ])('%s', (roleName, message) => {
    const yaml = entry({
      action: `      roleName: ${roleName}\n${statements('{ Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::logs/*" }')}`,
    }).replace('principalType: user', 'principalType: role');
    expect(problemsOf(yaml)).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].action.roleName',
        message: expect.stringMatching(message),
      }),
    ]);
  });
});

describe('an inline grant that could never fit its principal’s quota', () => {
  const resources = Array.from({ length: 60 }, (_, i) => `"arn:aws:s3:::loopgate-grant-bucket-${i}/*"`).join(
    ', ',
  );
  const action = statements(`{ Effect: Allow, Action: s3:GetObject, Resource: [${resources}] }`);

  it('is refused on a user (2,048), with its size', () => {
    expect(problemsOf(entry({ action }))).toEqual([
      expect.objectContaining({
        path: 'entitlements[0].action.statements',
        message: expect.stringMatching(
          /^entitlement "aws-test-grant": its inline policy takes up to 2,\d{3} characters as loopgate writes it .*more than IAM allows all inline policies of a user together \(2,048, white space not counted\): it could never be granted/,
        ),
      }),
    ]);
  });

  it('fits a role (10,240)', () => {
    const onRole = entry({ action: `      roleName: data-reader\n${action}` }).replace(
      'principalType: user',
      'principalType: role',
    );
    expect(problemsOf(onRole)).toEqual([]);
  });
});
