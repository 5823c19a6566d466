// Catalog rules that approve without waiting for a person: deterministic,
// never the model. audit-only entitlements are granted at once and recorded;
// on-call-auto ones when the requester is on call now for the owners' policy
// (a scheduled shift at the catalog's levels, level 1 by default);
// break-glass (when the catalog allows it and the ticket asks for it) at once
// for at most the break-glass maximum, with a high-urgency page for review.
// None of them grants through a separation-of-duties conflict: the request
// then waits for approval like any other, with the conflict's approvers added.

import type { Entitlement } from '../catalog';
import type { AccessRequest } from '../model';
import { onCallLevels, onCallVerdict } from '../on-call';
import type { Clock, OnCall } from '../ports';
import { duration } from './text';

export interface RuleApproval {
  rule: 'audit-only' | 'on-call' | 'break-glass';
  /** What the page and the ticket say about it. */
  explanation: string;
  /** The duration the rule grants, when shorter than asked. */
  durationSeconds?: number;
  /** Who is paged: the owners, or for break-glass whoever the catalog names for review. */
  escalationPolicyId: string;
  urgency: 'high' | 'low';
}

export async function approvalByRule(
  deps: { onCall: OnCall; clock: Clock },
  request: AccessRequest,
  entitlement: Entitlement,
): Promise<RuleApproval | undefined> {
  // Separation of duties: a conflict (or one that could not be ruled out) is decided by people.
  if ((request.conflicts?.length ?? 0) > 0) return undefined;
  const owners = entitlement.owners.escalationPolicy;
  if (request.breakGlass && entitlement.breakGlass.allowed) {
    const max = entitlement.breakGlass.maxDuration;
    return {
      rule: 'break-glass',
      explanation:
        `BREAK-GLASS: granted at once for ${duration(Math.min(max, request.durationSeconds))} (the break-glass maximum is ${duration(max)}). ` +
        'Review it now: "approve <reason>" keeps it and records your review; "revoke <reason>" removes it at once.',
      ...(request.durationSeconds > max ? { durationSeconds: max } : {}),
      escalationPolicyId: entitlement.breakGlass.alert.escalationPolicy ?? owners,
      urgency: 'high',
    };
  }
  if (entitlement.mode === 'audit-only') {
    return {
      rule: 'audit-only',
      explanation: `APPROVED BY RULE: ${entitlement.id} is audit-only; it is granted at once and recorded. No answer is needed; "revoke <reason>" removes it.`,
      escalationPolicyId: owners,
      urgency: 'low',
    };
  }
  if (entitlement.mode === 'on-call-auto' && request.requester.email) {
    // A failure to ask PagerDuty is not an answer: the request then waits for a person, as usual.
    const shifts = await deps.onCall
      .shiftsOf({ email: request.requester.email }, deps.clock.now())
      .catch(() => []);
    // A scheduled shift at the catalog's levels (level 1 by default); a permanent target never counts.
    const verdict = onCallVerdict(shifts, owners, onCallLevels(entitlement));
    if (verdict.counts) {
      return {
        rule: 'on-call',
        explanation: `APPROVED BY RULE: the requester is on call now for the owners' escalation policy (${verdict.rule}), and ${entitlement.id} is on-call-auto. No answer is needed; "revoke <reason>" removes it.`,
        escalationPolicyId: owners,
        urgency: 'low',
      };
    }
  }
  return undefined;
}
