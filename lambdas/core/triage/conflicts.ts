// Separation of duties: does the requester already hold (or is about to hold)
// access that conflicts with what they ask for? A person may hold at most one
// member of a catalog conflict. "Held" is read from every place it can be:
// live loopgate requests (granted, approved, or still being decided, so two
// tickets filed together see each other), the Okta groups and the IAM policies
// triage gathers (access granted outside loopgate counts the same). A member
// that could not be checked because its source did not answer is reported as
// unchecked: the conflict cannot be ruled out, and it is treated as one.

import type { Catalog, ConflictMember, Entitlement } from '../catalog';
import { conflictsOf, entitlementById } from '../catalog';
import type { RequestContext } from '../context';
import type { AccessRequest, ConflictHold, RequestState } from '../model';
import { iamPolicyHeld, oktaGroupHeld, policyNameOf } from './facts';

/** Requests that hold access, or may soon: a pending one may be approved after this one is. */
export const LIVE_STATES: readonly RequestState[] = [
  'RECEIVED',
  'TRIAGING',
  'PENDING',
  'APPROVED',
  'GRANTED',
  // A failed grant or revoke may have left the access in place.
  'FAILED',
];

/** The catalog's conflicts the request meets, with what is held of the other members. */
export function findConflicts(catalog: Catalog, context: RequestContext): ConflictHold[] {
  const { request, entitlement } = context;
  const found: ConflictHold[] = [];
  for (const conflict of conflictsOf(catalog, entitlement.id)) {
    const held: string[] = [];
    const unchecked: string[] = [];
    for (const member of conflict.members) {
      if (member.entitlement === entitlement.id) continue;
      const verdict = memberHeld(catalog, member, context, request);
      if (verdict.held) held.push(verdict.how);
      else if (verdict.unknown) unchecked.push(verdict.unknown);
    }
    if (held.length > 0 || unchecked.length > 0)
      found.push({ id: conflict.id, reason: conflict.reason, held, unchecked });
  }
  return found;
}

type Verdict = { held: true; how: string } | { held: false; unknown?: string };

function memberHeld(
  catalog: Catalog,
  member: ConflictMember,
  context: RequestContext,
  request: AccessRequest,
): Verdict {
  const { directory, cloud, history } = context;
  if (member.oktaGroup !== undefined) {
    const groupId = member.oktaGroup;
    if (directory.status !== 'ok')
      return { held: false, unknown: `Okta group ${groupId} (Okta did not answer)` };
    const group = directory.value.groups.find((g) => g.id === groupId);
    return group ? { held: true, how: `member of Okta group ${group.name} (${group.id})` } : { held: false };
  }
  if (member.iamPolicy !== undefined) {
    const arn = member.iamPolicy;
    if (cloud.status !== 'ok') return { held: false, unknown: `IAM policy ${arn} (IAM did not answer)` };
    const holding = iamPolicyHeld(asPolicyEntitlement(arn), cloud.value);
    return holding?.held
      ? { held: true, how: `IAM policy ${policyNameOf(arn)}: ${holding.how}` }
      : { held: false };
  }
  const id = member.entitlement ?? '';
  const unknown: string[] = [];
  if (history.status === 'ok') {
    const live = history.value.liveRequests?.find((r) => r.entitlementId === id && r.id !== request.id);
    if (live) return { held: true, how: `${id} through loopgate (${live.jiraIssueKey}, ${live.state})` };
  } else unknown.push('the request history');
  // The same access granted outside loopgate counts too.
  const other = entitlementById(catalog, id);
  if (other?.action.kind === 'okta-group') {
    if (directory.status === 'ok') {
      const holding = oktaGroupHeld(other, directory.value);
      if (holding?.held) return { held: true, how: `${id} outside loopgate: ${holding.how}` };
    } else unknown.push('Okta');
  } else if (other?.action.kind === 'aws-iam-policy') {
    if (cloud.status === 'ok') {
      const holding = iamPolicyHeld(other, cloud.value);
      if (holding?.held) return { held: true, how: `${id} outside loopgate: ${holding.how}` };
    } else unknown.push('IAM');
  }
  return unknown.length > 0
    ? { held: false, unknown: `${id} (${unknown.join(' and ')} did not answer)` }
    : { held: false };
}

/** A managed policy named in a conflict, shaped as an entitlement so the holding check is the one triage uses. */
function asPolicyEntitlement(arn: string): Entitlement {
  return {
    action: { kind: 'aws-iam-policy', principalType: 'user', policyArn: arn },
  } as Entitlement;
}
