// What counts as "on call" for an entitlement: a scheduled shift at one of the
// catalog's escalation levels (level 1, the first responders, unless the
// entitlement says otherwise) of the owners' escalation policy. A permanent
// escalation target (PagerDuty's on-call with no start and no end: a user the
// policy names directly) is never on call in this sense: it is a fallback,
// not a rotation anyone is answerable for now. An override is reported by
// PagerDuty as the overriding user's shift at the level of the schedule it
// replaces, so it counts exactly as the shift it overrides.

import type { Entitlement } from './catalog';
import type { OnCallShift } from './context';

/** The escalation levels that count unless the catalog names others: the first responders. */
export const DEFAULT_ON_CALL_LEVELS: readonly number[] = [1];

export function onCallLevels(entitlement: Pick<Entitlement, 'onCall'>): readonly number[] {
  return entitlement.onCall?.levels ?? DEFAULT_ON_CALL_LEVELS;
}

/** No start: PagerDuty's "permanent user on-call", a direct target of the policy. */
export function isPermanent(shift: OnCallShift): boolean {
  return shift.start === undefined;
}

export type OnCallVerdict =
  /** On call in the sense that counts; `rule` says which, for the page and the audit. */
  | { counts: true; shift: OnCallShift; rule: string }
  /** Not on call in that sense; `why` says what PagerDuty showed instead. */
  | { counts: false; why: string };

/** Whether these shifts (one person's, at one moment) make them on call for `policyId` at `levels`. */
export function onCallVerdict(
  shifts: readonly OnCallShift[],
  policyId: string,
  levels: readonly number[],
): OnCallVerdict {
  const forPolicy = shifts.filter((s) => s.escalationPolicyId === policyId);
  const counting = forPolicy
    .filter((s) => !isPermanent(s) && levels.includes(s.level))
    .sort((a, b) => a.level - b.level)[0];
  if (counting) return { counts: true, shift: counting, rule: describeShift(counting) };
  const wanted = levelsText(levels);
  if (forPolicy.length === 0) return { counts: false, why: `not on call for ${policyId}` };
  const seen = [
    ...new Set(
      forPolicy.map((s) => `${isPermanent(s) ? 'a permanent target' : 'on call'} at level ${s.level}`),
    ),
  ];
  return {
    counts: false,
    why:
      `${seen.join(' and ')} of ${policyId} only; only a scheduled shift at ${wanted} counts ` +
      '(permanent escalation targets never do)',
  };
}

/** "on call at level 1 of PDBAPOL (schedule PDBASCH, until 2026-11-28 09:00 UTC)". */
export function describeShift(shift: OnCallShift): string {
  const where = [
    ...(shift.scheduleId ? [`schedule ${shift.scheduleId}`] : []),
    ...(shift.end ? [`until ${minuteUtc(shift.end)}`] : []),
  ];
  return `on call at level ${shift.level} of ${shift.escalationPolicyId}${where.length ? ` (${where.join(', ')})` : ''}`;
}

/** Who counts, in words: "whoever is on call for PagerDuty escalation policy PSREPOL at level 1 (…)". */
export function describeOnCallRule(policyId: string, levels: readonly number[]): string {
  return (
    `whoever is on call for PagerDuty escalation policy ${policyId} at ${levelsText(levels)} ` +
    '(a scheduled shift or an override; permanent escalation targets do not count)'
  );
}

function levelsText(levels: readonly number[]): string {
  const sorted = [...levels].sort((a, b) => a - b);
  return sorted.length === 1 ? `level ${sorted[0]}` : `levels ${sorted.join(', ')}`;
}

function minuteUtc(iso: string): string {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
