// IAM Identity Center grants as the core sees them: how an assignment is named
// in a grant record (what a revoke removes, even after the catalog changed),
// and what a revoke cannot take back (sessions already issued).

import type { Entitlement } from './catalog';
import { formatDuration } from './duration';
import { ValidationError } from './errors';

export type IdentityCenterAction = Extract<Entitlement['action'], { kind: 'aws-identity-center' }>;

/** One assignment's target: the account and the permission set, `<account id>:<permission set ARN>`. */
export interface AssignmentTarget {
  accountId: string;
  permissionSetArn: string;
  /** The instance the permission set belongs to (its ARN names it). */
  instanceArn: string;
}

const TARGET =
  /^(\d{12}):(arn:(aws[a-z-]*):sso:::permissionSet\/(ssoins-[a-zA-Z0-9.-]{16})\/ps-[a-zA-Z0-9.-]{16})$/;

export function assignmentTarget(
  action: Pick<IdentityCenterAction, 'accountId' | 'permissionSetArn'>,
): string {
  return `${action.accountId}:${action.permissionSetArn}`;
}

/** Reads a recorded target back; throws ValidationError on anything else (it goes into API calls). */
export function parseAssignmentTarget(target: string): AssignmentTarget {
  const m = TARGET.exec(target);
  if (!m) {
    throw new ValidationError(
      `identity-center: ${JSON.stringify(target)} is not an assignment target (<account id>:<permission set ARN>)`,
    );
  }
  const [, accountId = '', permissionSetArn = '', partition = '', instance = ''] = m;
  return { accountId, permissionSetArn, instanceArn: `arn:${partition}:sso:::instance/${instance}` };
}

/** The instance ARN a permission set ARN names. */
export function instanceOf(permissionSetArn: string): string {
  return parseAssignmentTarget(`000000000000:${permissionSetArn}`).instanceArn;
}

/** What the page and the ticket say: removing the assignment ends no session already issued. */
export function sessionCaveat(sessionSeconds: number): string {
  return `a session issued before the revoke keeps working up to ${formatDuration(sessionSeconds)} after it`;
}
