// What loopgate's functions may do in IAM and IAM Identity Center, derived from
// the catalog at synth time: only the actions the connectors call
// (lambdas/connectors/aws-iam, identity-center), only on the principals the
// catalog can grant to, managed policies attached or detached only when the
// catalog names them, and only the permission set and account pairs it names. Change the catalog, and the next
// deploy changes these with it.

import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { Catalog } from '../lambdas/core/catalog';
import { instanceOf } from '../lambdas/core/identity-center';

export interface CatalogPrincipals {
  /** Inline policies on requesters' IAM users (statements with principalType user). */
  userInline: boolean;
  /** Managed policies attached to requesters' IAM users: their ARNs. */
  userManagedPolicies: string[];
  /** Roles the catalog grants on (statements scoped to the requester's sessions). */
  roleNames: string[];
  /** Identity Center: each permission set on each account the catalog assigns, and the stores users are found in. */
  identityCenter: {
    assignments: { permissionSetArn: string; accountId: string }[];
    identityStoreIds: string[];
  };
}

export function catalogPrincipals(catalog: Catalog): CatalogPrincipals {
  const userManaged = new Set<string>();
  const roles = new Set<string>();
  let userInline = false;
  const assignments = new Map<string, { permissionSetArn: string; accountId: string }>();
  const stores = new Set<string>();
  for (const { action } of catalog.entitlements) {
    if (action.kind === 'aws-identity-center') {
      const { permissionSetArn, accountId } = action;
      assignments.set(`${accountId}:${permissionSetArn}`, { permissionSetArn, accountId });
      stores.add(action.identityStoreId);
      continue;
    }
    if (action.kind !== 'aws-iam-policy') continue;
    if (action.principalType === 'role' && action.roleName !== undefined) roles.add(action.roleName);
    else if (action.policyArn !== undefined) userManaged.add(action.policyArn);
    else userInline = true;
  }
  return {
    userInline,
    userManagedPolicies: [...userManaged].sort(),
    roleNames: [...roles].sort(),
    identityCenter: {
      assignments: [...assignments.keys()]
        .sort()
        .map((key) => assignments.get(key) as { permissionSetArn: string; accountId: string }),
      identityStoreIds: [...stores].sort(),
    },
  };
}

/**
 * Identity Center writes: one statement per permission set and account the catalog names, each with
 * its instance, so no pair the catalog does not name can be assigned (IAM checks each resource type
 * of the action against the statement's list: listing every set and account together would allow
 * any combination). Status reads are on the instance; users are looked up in the catalog's stores.
 */
function identityCenterStatements(
  principals: CatalogPrincipals,
  write: 'sso:CreateAccountAssignment' | 'sso:DeleteAccountAssignment',
): PolicyStatement[] {
  const { assignments, identityStoreIds } = principals.identityCenter;
  if (assignments.length === 0) return [];
  const verb = write === 'sso:CreateAccountAssignment' ? 'Creation' : 'Deletion';
  const prefix = write === 'sso:CreateAccountAssignment' ? 'Provision' : 'Revoke';
  const instances = [...new Set(assignments.map((a) => instanceOf(a.permissionSetArn)))].sort();
  return [
    ...assignments.map((a, i) =>
      allow(
        `${prefix}IdentityCenterAssignment${i + 1}`,
        [write, 'sso:ListAccountAssignments'],
        [
          instanceOf(a.permissionSetArn),
          a.permissionSetArn,
          `${partitionOf(a.permissionSetArn)}:sso:::account/${a.accountId}`,
        ],
      ),
    ),
    allow(
      `${prefix}IdentityCenterStatus`,
      [`sso:DescribeAccountAssignment${verb}Status`, `sso:ListAccountAssignment${verb}Status`],
      instances,
    ),
    // A store's ARN names the account that owns it, which may not be this stack's: the store id pins it.
    // Any of the company's users may ask, so the user is found at run time.
    allow(
      `${prefix}IdentityStoreUsers`,
      ['identitystore:GetUserId'],
      [
        ...identityStoreIds.map((id) => `arn:aws:identitystore::*:identitystore/${id}`),
        'arn:aws:identitystore:::user/*',
      ],
    ),
  ];
}

/**
 * Reading Identity Center assignments back (an operator's `grants --verify`): ListAccountAssignments
 * on each permission set and account the catalog names, and finding users in the catalog's stores.
 */
export function identityCenterReadStatements(principals: CatalogPrincipals): PolicyStatement[] {
  const { assignments, identityStoreIds } = principals.identityCenter;
  if (assignments.length === 0) return [];
  return [
    ...assignments.map((a, i) =>
      allow(
        `VerifyIdentityCenterAssignment${i + 1}`,
        ['sso:ListAccountAssignments'],
        [
          instanceOf(a.permissionSetArn),
          a.permissionSetArn,
          `${partitionOf(a.permissionSetArn)}:sso:::account/${a.accountId}`,
        ],
      ),
    ),
    allow(
      'VerifyIdentityStoreUsers',
      ['identitystore:GetUserId'],
      [
        ...identityStoreIds.map((id) => `arn:aws:identitystore::*:identitystore/${id}`),
        'arn:aws:identitystore:::user/*',
      ],
    ),
  ];
}

/** cdk-nag's findings on the identity store resources above, each with its reason. */
export function identityStoreAcknowledgements(
  principals: CatalogPrincipals,
): { id: string; reason: string }[] {
  if (principals.identityCenter.assignments.length === 0) return [];
  return [
    {
      id: 'AwsSolutions-IAM5[Resource::arn:aws:identitystore:::user/*]',
      reason:
        "identitystore:GetUserId finds the requester's Identity Center user, who may be any synced person: users are known only at run time. Read only, in the catalog's identity stores.",
    },
    ...principals.identityCenter.identityStoreIds.map((id) => ({
      id: `AwsSolutions-IAM5[Resource::arn:aws:identitystore::*:identitystore/${id}]`,
      reason:
        "An identity store's ARN names the account that owns it (the organization's management or delegated administrator account), which may not be this stack's; the store id itself is pinned.",
    })),
  ];
}

const partitionOf = (arn: string) => arn.slice(0, arn.indexOf(':sso:'));

/** `user/*`: requesters are the company's IAM users, named by their email (see companyPrincipalFor). */
export const anyUserArn = (scope: IConstruct) => iamArn(scope, 'user', '*');
export const roleArn = (scope: IConstruct, name: string) => iamArn(scope, 'role', name);
export const anyGroupArn = (scope: IConstruct) => iamArn(scope, 'group', '*');

function iamArn(scope: IConstruct, resource: string, name: string): string {
  return Stack.of(scope).formatArn({
    service: 'iam',
    region: '',
    resource,
    resourceName: name,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * The provision function: write a grant and read it back (verify), and look the principal up.
 * `iam:PutUserPolicy` cannot be limited by condition; it is on users only when the catalog
 * grants inline policies to users.
 */
export function grantStatements(scope: IConstruct, principals: CatalogPrincipals): PolicyStatement[] {
  const users = anyUserArn(scope);
  const statements: PolicyStatement[] = [];
  const { userInline, userManagedPolicies, roleNames } = principals;
  if (userInline || userManagedPolicies.length) {
    statements.push(allow('ProvisionReadUser', ['iam:GetUser'], [users]));
  }
  if (userInline) {
    // ListUserPolicies: after IAM's LimitExceeded the provisioner says how full the user's quota is.
    statements.push(
      allow(
        'ProvisionUserInline',
        ['iam:PutUserPolicy', 'iam:GetUserPolicy', 'iam:ListUserPolicies'],
        [users],
      ),
    );
  }
  if (userManagedPolicies.length) {
    statements.push(
      allow('ProvisionAttachCatalogPolicies', ['iam:AttachUserPolicy'], [users], {
        ArnEquals: { 'iam:PolicyARN': userManagedPolicies },
      }),
      allow('ProvisionListUserAttachments', ['iam:ListAttachedUserPolicies'], [users]),
    );
  }
  if (roleNames.length) {
    statements.push(
      allow(
        'ProvisionRoleInline',
        // GetRole: the trust policy is checked before a grant; ListRolePolicies: the quota, as above.
        ['iam:GetRole', 'iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies'],
        roleNames.map((name) => roleArn(scope, name)),
      ),
    );
  }
  statements.push(...identityCenterStatements(principals, 'sso:CreateAccountAssignment'));
  return statements;
}

/** The revoke and sweeper functions: remove a grant and check that it is gone. */
export function revokeStatements(scope: IConstruct, principals: CatalogPrincipals): PolicyStatement[] {
  const users = anyUserArn(scope);
  const statements: PolicyStatement[] = [];
  const { userInline, userManagedPolicies, roleNames } = principals;
  if (userInline) {
    statements.push(allow('RevokeUserInline', ['iam:DeleteUserPolicy', 'iam:GetUserPolicy'], [users]));
  }
  if (userManagedPolicies.length) {
    statements.push(
      allow('RevokeDetachCatalogPolicies', ['iam:DetachUserPolicy'], [users], {
        ArnEquals: { 'iam:PolicyARN': userManagedPolicies },
      }),
      allow('RevokeListUserAttachments', ['iam:ListAttachedUserPolicies'], [users]),
    );
  }
  if (roleNames.length) {
    statements.push(
      allow(
        'RevokeRoleInline',
        ['iam:DeleteRolePolicy', 'iam:GetRolePolicy'],
        roleNames.map((name) => roleArn(scope, name)),
      ),
    );
  }
  statements.push(...identityCenterStatements(principals, 'sso:DeleteAccountAssignment'));
  return statements;
}

/**
 * Triage's context: what a requester's IAM user can already do (IamCloudAccess). Read only.
 * Triage maps requesters to IAM users only, never to roles.
 */
export function contextReadStatements(scope: IConstruct): PolicyStatement[] {
  return [
    allow(
      'ReadRequesterUser',
      [
        'iam:GetUser',
        'iam:ListAttachedUserPolicies',
        'iam:ListUserPolicies',
        'iam:GetUserPolicy',
        'iam:ListGroupsForUser',
        'iam:GenerateServiceLastAccessedDetails',
      ],
      [anyUserArn(scope)],
    ),
    allow('ReadRequesterGroups', ['iam:ListAttachedGroupPolicies'], [anyGroupArn(scope)]),
    // The report is read by job id: the action has no resource type to scope it to.
    allow('ReadLastAccessedReport', ['iam:GetServiceLastAccessedDetails'], ['*']),
  ];
}

function allow(
  sid: string,
  actions: string[],
  resources: string[],
  conditions?: Record<string, Record<string, unknown>>,
): PolicyStatement {
  return new PolicyStatement({
    sid,
    effect: Effect.ALLOW,
    actions,
    resources,
    ...(conditions ? { conditions } : {}),
  });
}
