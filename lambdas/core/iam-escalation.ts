// Finds what in an IAM grant lets its holder give themselves more than the
// catalog says: wildcard actions, the known privilege-escalation actions, and
// the AWS managed policies that amount to administration. The expiry condition
// bounds the granted policy, not what its holder writes while it is live (a new
// access key, an inline policy of their own), so the catalog refuses these.
//
// The escalation actions follow Rhino Security Labs' list of AWS IAM privilege
// escalation methods (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/,
// and aws_escalate.py in github.com/RhinoSecurityLabs/Security-Research), with
// the permissions-boundary and Identity Center writes that reach the same end.

export interface IamStatementLike {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | readonly string[];
  Resource: string | readonly string[];
}

export interface IamGrantLike {
  policyArn?: string;
  statements?: readonly IamStatementLike[];
}

export interface Escalation {
  /** Where, relative to the action: ['statements', 0, 'Action', 1] or ['policyArn']. */
  path: (string | number)[];
  /** Which statement or policy, for people: `statement "ReadLogs" (statements[0])`. */
  subject: string;
  /** What it allows and why that is an escalation. */
  why: string;
}

const WRITES_ANY_POLICY = 'lets its holder give themselves (or a principal they control) any permission';

/**
 * Actions that escalate whatever their Resource, with why. IAM compares action names
 * case-insensitively, and so does this check.
 */
const ESCALATING_ACTIONS: ReadonlyMap<string, string> = new Map([
  ['iam:CreatePolicyVersion', `rewrites a managed policy (as the default version): ${WRITES_ANY_POLICY}`],
  ['iam:SetDefaultPolicyVersion', `switches a managed policy to another, possibly wider, version`],
  ['iam:PutUserPolicy', `writes an inline policy on a user: ${WRITES_ANY_POLICY}`],
  ['iam:PutRolePolicy', `writes an inline policy on a role: ${WRITES_ANY_POLICY}`],
  ['iam:PutGroupPolicy', `writes an inline policy on a group: ${WRITES_ANY_POLICY}`],
  ['iam:AttachUserPolicy', `attaches any managed policy (AdministratorAccess included) to a user`],
  ['iam:AttachRolePolicy', `attaches any managed policy (AdministratorAccess included) to a role`],
  ['iam:AttachGroupPolicy', `attaches any managed policy (AdministratorAccess included) to a group`],
  ['iam:AddUserToGroup', `adds a user to any group, and so to that group's permissions`],
  ['iam:CreateAccessKey', `creates long-lived access keys for a user: access that outlives the grant`],
  ['iam:CreateLoginProfile', `sets a console password on a user who has none: signs in as them`],
  ['iam:UpdateLoginProfile', `changes another user's console password: signs in as them`],
  ['iam:UpdateAssumeRolePolicy', `rewrites a role's trust policy so its holder may assume the role`],
  ['iam:DeleteUserPermissionsBoundary', `removes the permissions boundary that limits a user`],
  ['iam:DeleteRolePermissionsBoundary', `removes the permissions boundary that limits a role`],
  ['iam:PutUserPermissionsBoundary', `replaces the permissions boundary that limits a user`],
  ['iam:PutRolePermissionsBoundary', `replaces the permissions boundary that limits a role`],
  ['lambda:UpdateFunctionCode', `runs code of its holder's choosing as the function's role`],
  ['lambda:UpdateFunctionConfiguration', `adds a layer or handler that runs as the function's role`],
  ['glue:UpdateDevEndpoint', `installs an SSH key on a Glue endpoint and acts as its role`],
  ['sso:CreateAccountAssignment', `assigns any Identity Center permission set to anyone, itself included`],
  ['sso:PutInlinePolicyToPermissionSet', `rewrites what an Identity Center permission set allows`],
  [
    'sso:AttachManagedPolicyToPermissionSet',
    `attaches any managed policy to an Identity Center permission set`,
  ],
  ['identitystore:CreateGroupMembership', `adds anyone to an Identity Store group and its assignments`],
]);

/**
 * Actions that escalate when they reach any role (a Resource with a wildcard): with one named role
 * they reach only that role's permissions, which the catalog author can read.
 */
const ESCALATING_ON_ANY_ROLE: ReadonlyMap<string, string> = new Map([
  ['sts:AssumeRole', `assumes any role that trusts the account, administrators' included`],
  [
    'iam:PassRole',
    `hands any role to a service it then controls (EC2, Lambda, CloudFormation…): acts as that role`,
  ],
]);

/**
 * AWS managed policies that amount to administration, or to writing one's own permissions
 * (by name, under arn:aws:iam::aws:policy/).
 */
const ADMINISTRATIVE_MANAGED_POLICIES: ReadonlyMap<string, string> = new Map([
  ['AdministratorAccess', 'every action on every resource'],
  ['AdministratorAccess-Amplify', 'administration through Amplify, IAM role writes included'],
  ['AdministratorAccess-AWSElasticBeanstalk', 'administration through Elastic Beanstalk, with iam:PassRole'],
  [
    'PowerUserAccess',
    "every action outside IAM and Organizations, lambda:UpdateFunctionCode included: runs code as existing functions' roles",
  ],
  ['IAMFullAccess', 'iam:*: writes any permission for anyone'],
  ['AWSOrganizationsFullAccess', 'administration of the whole AWS organisation'],
  ['AWSSSOMasterAccountAdministrator', 'administration of IAM Identity Center: assigns any permission set'],
  ['AWSSSOMemberAccountAdministrator', 'administration of IAM Identity Center: assigns any permission set'],
  [
    'AWSSSODirectoryAdministrator',
    'administration of the Identity Center directory: adds anyone to any group',
  ],
  ['AWSLambda_FullAccess', 'lambda:* and iam:PassRole to Lambda: runs code as any role Lambda may use'],
  ['job-function/SystemAdministrator', 'broad administration of EC2, Lambda and more, with iam:PassRole'],
]);

/** Service-wide wildcards (`ec2:*`) are refused on Resource "*": every action of a service on everything. */
const wildcardRegex = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );

const listOf = (value: string | readonly string[]): readonly string[] =>
  typeof value === 'string' ? [value] : value;

export function escalationsOf(grant: IamGrantLike): Escalation[] {
  const found: Escalation[] = [];
  if (grant.policyArn !== undefined) {
    const managed = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/.exec(grant.policyArn)?.[1];
    const why = managed === undefined ? undefined : ADMINISTRATIVE_MANAGED_POLICIES.get(managed);
    if (managed !== undefined && why !== undefined) {
      found.push({
        path: ['policyArn'],
        subject: `managed policy ${managed}`,
        why: `the AWS managed policy ${managed} is administrative (${why})`,
      });
    }
  }
  grant.statements?.forEach((statement, i) => {
    if (statement.Effect !== 'Allow') return; // a Deny takes away, it cannot escalate
    const subject =
      statement.Sid === undefined ? `statements[${i}]` : `statement "${statement.Sid}" (statements[${i}])`;
    const actions = listOf(statement.Action);
    const resources = listOf(statement.Resource);
    const anyResource = resources.includes('*');
    const anyRole = resources.some((r) => r.includes('*'));
    actions.forEach((pattern, k) => {
      const path = ['statements', i, 'Action', ...(typeof statement.Action === 'string' ? [] : [k])];
      const why = whyEscalating(pattern, { anyResource, anyRole });
      if (why !== undefined) found.push({ path, subject, why });
    });
  });
  return found;
}

function whyEscalating(
  pattern: string,
  reach: { anyResource: boolean; anyRole: boolean },
): string | undefined {
  const shown = JSON.stringify(pattern);
  if (/^[*?]*(:[*?]*)?$/.test(pattern)) {
    return `Action ${shown} allows every AWS action, administration included (unbounded access)`;
  }
  const hasWildcard = /[*?]/.test(pattern);
  const matches = hasWildcard ? wildcardRegex(pattern) : undefined;
  const hits = (table: ReadonlyMap<string, string>) =>
    [...table.entries()].filter(([name]) =>
      matches ? matches.test(name) : name.toLowerCase() === pattern.toLowerCase(),
    );
  const always = hits(ESCALATING_ACTIONS);
  const onAnyRole = reach.anyRole ? hits(ESCALATING_ON_ANY_ROLE) : [];
  const escalating = [...always, ...onAnyRole];
  if (escalating.length > 0) {
    const [first] = escalating as [[string, string], ...[string, string][]];
    const onRoles = always.length === 0 ? ' on any role (Resource has a wildcard)' : '';
    const named = hasWildcard
      ? `Action ${shown} includes ${escalating.length === 1 ? first[0] : `${escalating.length} escalation actions, among them ${first[0]}`}`
      : `Action ${shown}`;
    return `${named}${onRoles}, which ${first[1]} (privilege escalation)`;
  }
  if (reach.anyResource && /^[\w-]+:\*$/.test(pattern)) {
    return `Action ${shown} on Resource "*" allows every ${pattern.slice(0, -2)} action on every resource (unbounded access)`;
  }
  return undefined;
}
