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
import { describeShift, onCallLevels, onCallVerdict } from '../on-call';
import type { Clock, OnCall } from '../ports';
import { requesterShift, type ShiftDeps } from '../shift';
import { duration, minute } from './text';

export interface RuleApproval {
  rule: 'audit-only' | 'on-call' | 'break-glass';
  /** What the page and the ticket say about it. */
  explanation: string;
  /** The duration the rule grants, when shorter than asked. */
  durationSeconds?: number;
  /** Who is paged: the owners, or for break-glass whoever the catalog names for review. */
  escalationPolicyId: string;
  urgency: 'high' | 'low';
  /** An on-call grant ends with the requester's shift: when it ends, as PagerDuty said at triage. */
  shiftEnd?: string;
}

export async function approvalByRule(
  deps: { onCall: OnCall; clock: Clock; shifts?: ShiftDeps },
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
  if (entitlement.mode === 'on-call-auto' && deps.shifts) {
    // The requester as the directory person: their PagerDuty users confirmed by directory id.
    const now = deps.clock.now();
    const cap = new Date(now.getTime() + Math.min(request.durationSeconds, entitlement.duration.max) * 1000);
    const shift = await requesterShift(deps.shifts, request, entitlement, now, cap).catch(() => undefined);
    if (shift?.onCall) {
      const ends = new Date(Math.min(shift.end.getTime(), cap.getTime())).toISOString();
      const until = minute(ends);
      const where = describeShift({
        escalationPolicyId: owners,
        level: shift.level,
        ...(shift.scheduleId ? { scheduleId: shift.scheduleId } : {}),
        end: shift.end.toISOString(),
      });
      return {
        rule: 'on-call',
        explanation: `APPROVED BY RULE: the requester is on call now for the owners' escalation policy (${where}), and ${entitlement.id} is on-call-auto: granted until your shift ends at ${until} (never longer than ${duration(Math.min(request.durationSeconds, entitlement.duration.max))}; earlier if the shift is handed over). No answer is needed; "revoke <reason>" removes it.`,
        escalationPolicyId: owners,
        urgency: 'low',
        shiftEnd: ends,
      };
    }
    return undefined;
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

/**
 * For an approval entitlement whose grants end with the shift (`onCall.endWithShift`): what the page
 * and the ticket say about how long the access would last. A failed lookup says so; it decides nothing.
 */
export async function shiftNotice(
  deps: { clock: Clock; shifts?: ShiftDeps },
  request: AccessRequest,
  entitlement: Entitlement,
): Promise<string | undefined> {
  if (!entitlement.onCall?.endWithShift || request.breakGlass || !deps.shifts) return undefined;
  const now = deps.clock.now();
  const cap = new Date(now.getTime() + Math.min(request.durationSeconds, entitlement.duration.max) * 1000);
  const shift = await requesterShift(deps.shifts, request, entitlement, now, cap).catch(
    (error: unknown) => `unknown (${error instanceof Error ? error.message : String(error)})` as const,
  );
  const rule =
    "If approved, the access lasts until the requester's on-call shift ends, and is granted only while they are on call";
  if (typeof shift === 'string') return `SHIFT-BOUND: ${rule}. PagerDuty could not be asked now: ${shift}.`;
  if (!shift.onCall)
    return `SHIFT-BOUND: ${rule}. They are not on call now (${shift.why}): approving grants nothing unless they are on call when it is granted.`;
  return `SHIFT-BOUND: ${rule}: until your shift ends at ${minute(new Date(Math.min(shift.end.getTime(), cap.getTime())).toISOString())}.`;
}
