// What loopgate's functions may do in IAM, derived from the catalog at synth
// time: only the actions the connectors call (lambdas/connectors/aws-iam), only
// on the principals the catalog can grant to, and managed policies attached or
// detached only when the catalog names them. Change the catalog, and the next
// deploy changes these with it.

import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { Catalog } from '../lambdas/core/catalog';

export interface CatalogPrincipals {
  /** Inline policies on requesters' IAM users (statements with principalType user). */
  userInline: boolean;
  /** Managed policies attached to requesters' IAM users: their ARNs. */
  userManagedPolicies: string[];
  /** Roles the catalog grants on (statements scoped to the requester's sessions). */
  roleNames: string[];
}

export function catalogPrincipals(catalog: Catalog): CatalogPrincipals {
  const userManaged = new Set<string>();
  const roles = new Set<string>();
  let userInline = false;
  for (const { action } of catalog.entitlements) {
    if (action.kind !== 'aws-iam-policy') continue;
    if (action.principalType === 'role' && action.roleName !== undefined) roles.add(action.roleName);
    else if (action.policyArn !== undefined) userManaged.add(action.policyArn);
    else userInline = true;
  }
  return { userInline, userManagedPolicies: [...userManaged].sort(), roleNames: [...roles].sort() };
}

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
