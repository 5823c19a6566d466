// Grants that end with the requester's on-call shift. An on-call-auto grant
// (and one of an entitlement with `onCall.endWithShift`) ends when the shift
// that made the requester count as on call ends, never later than its cap
// (what was asked, the approvers' shortest and the catalog maximum, counted
// from the grant). The requester is the directory person: their PagerDuty
// users are found by the directory's email and kept only when the directory
// maps each back to the same person id, so a PagerDuty account that merely
// shares an address never lends its shifts. Contiguous on-call entries (a
// shift and the override that extends it) are one shift.

import type { Entitlement } from './catalog';
import type { OnCallShift } from './context';
import type { AccessRequest, ShiftBinding } from './model';
import { isPermanent, onCallLevels } from './on-call';
import { type IdentitySettings, personOfPagerDutyUser } from './people';
import type { Directory, ShiftCalendar } from './ports';

export interface ShiftDeps {
  directory: Pick<Directory, 'findUserByEmail' | 'findUserByAttribute'>;
  calendar: ShiftCalendar;
  identity: IdentitySettings;
}

export type ShiftLookup =
  | {
      onCall: true;
      /** When the contiguous shift holding the moment ends, as PagerDuty says now. */
      end: Date;
      scheduleId?: string;
      level: number;
      pagerDutyUserIds: string[];
    }
  | { onCall: false; why: string };

/** Whether the grant of this request ends with the requester's shift. Break-glass never does. */
export function isShiftBound(request: AccessRequest, entitlement: Entitlement): boolean {
  if (request.breakGlass) return false;
  if (entitlement.onCall?.endWithShift) return true;
  return (
    entitlement.mode === 'on-call-auto' &&
    request.decisions.some((d) => d.actor.kind === 'rule' && d.actor.id === 'on-call')
  );
}

/**
 * The requester's shift for the entitlement's owners at `at`: a scheduled shift (or override) at one of
 * the catalog's levels, followed through the entries that continue it up to `horizon`. Throws when
 * PagerDuty or the directory cannot be asked: no answer is not "off call", and never "still on call".
 */
export async function requesterShift(
  deps: ShiftDeps,
  request: AccessRequest,
  entitlement: Entitlement,
  at: Date,
  horizon: Date,
): Promise<ShiftLookup> {
  const { directoryUserId, email } = request.requester;
  if (!directoryUserId || !email)
    return { onCall: false, why: 'the requester is not identified in the directory' };
  const userIds = await pagerDutyUsersOf(deps, directoryUserId, email);
  if (userIds.length === 0) {
    return { onCall: false, why: 'no PagerDuty user of the requester maps back to them in the directory' };
  }
  const policy = entitlement.owners.escalationPolicy;
  const levels = onCallLevels(entitlement);
  const until = new Date(Math.max(horizon.getTime(), at.getTime() + 1000));
  const entries: OnCallShift[] = [];
  for (const id of userIds) entries.push(...(await deps.calendar.shiftsBetween(id, at, until)));
  const counting = entries
    .filter((s) => s.escalationPolicyId === policy && !isPermanent(s) && levels.includes(s.level))
    .map((s) => ({ shift: s, start: Date.parse(s.start ?? ''), end: s.end ? Date.parse(s.end) : Infinity }))
    .filter((s) => !Number.isNaN(s.start))
    .sort((a, b) => a.start - b.start);
  const now = at.getTime();
  const current = counting.find((s) => s.start <= now && now < s.end);
  if (!current) {
    return { onCall: false, why: `not on call for ${policy} at level ${levels.join(', ')} now` };
  }
  // An override that takes over right where the shift ends (or a shift split at a layer boundary) continues it.
  let end = current.end;
  for (let grew = true; grew;) {
    grew = false;
    for (const s of counting) {
      if (s.start <= end && s.end > end) {
        end = s.end;
        grew = true;
      }
    }
  }
  return {
    onCall: true,
    end: new Date(Math.min(end, until.getTime())),
    ...(current.shift.scheduleId ? { scheduleId: current.shift.scheduleId } : {}),
    level: current.shift.level,
    pagerDutyUserIds: userIds,
  };
}

/**
 * The requester's PagerDuty users: found by the directory's email, each kept only if the directory
 * resolves it (by the mapping attribute, else its own address) to the requester's directory id.
 */
async function pagerDutyUsersOf(deps: ShiftDeps, personId: string, email: string): Promise<string[]> {
  const candidates = await deps.calendar.usersByEmail(email);
  const confirmed: string[] = [];
  for (const user of candidates) {
    const person = await personOfPagerDutyUser(deps.directory as Directory, deps.identity, user);
    if (person.found && person.user.id === personId) confirmed.push(user.id);
  }
  return confirmed;
}

/** When a shift-bound grant ends: the shift's end, never past the cap. */
export function shiftBoundEnd(shiftEnd: Date, capAt: Date): Date {
  return new Date(Math.min(shiftEnd.getTime(), capAt.getTime()));
}

/** What a grant records of the shift it is bound to. */
export function bindingOf(
  lookup: Extract<ShiftLookup, { onCall: true }>,
  entitlement: Entitlement,
  capAt: Date,
  checkedAt: Date,
): ShiftBinding {
  return {
    escalationPolicyId: entitlement.owners.escalationPolicy,
    levels: [...onCallLevels(entitlement)],
    ...(lookup.scheduleId ? { scheduleId: lookup.scheduleId } : {}),
    pagerDutyUserIds: lookup.pagerDutyUserIds,
    shiftEnd: lookup.end.toISOString(),
    capAt: capAt.toISOString(),
    checkedAt: checkedAt.toISOString(),
  };
}
