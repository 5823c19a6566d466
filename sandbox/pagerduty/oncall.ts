// Who is on call, computed from the scenario: each schedule is one rotation
// (person index = floor((t − start) / shift) mod n) with overrides on top (the
// final schedule: an override replaces whoever the rotation has for its
// window, the later of two overlapping overrides winning); each escalation rule
// is a level (1, 2, …) whose targets are schedules or users. A user target is
// on call permanently at its level: PagerDuty's OpenAPI (Oncall.start: "If
// `null`, the on-call is a permanent user on-call") reports null start and end.
// GET /oncalls gives "the computed result of a Schedule" (api-schema CONCEPTS.md),
// so an override shows as the overriding user's entry at the schedule's level.

import type { ScenarioPerson } from '../scenario/load';
import type { Directory, ScenarioPolicy, ScenarioSchedule } from './directory';

export interface OnCallEntry {
  policy: ScenarioPolicy;
  level: number;
  person: ScenarioPerson;
  /** Absent for a user targeted directly by the escalation rule. */
  schedule?: ScenarioSchedule;
  /** Absent (null on the wire) for a permanent, direct on-call. */
  start?: Date;
  end?: Date;
}

export interface Shift {
  person: ScenarioPerson;
  start: Date;
  end: Date;
}

/** Shifts of a schedule that overlap [since, until]; an instant (since = until) gets the shift containing it. */
export function shifts(directory: Directory, schedule: ScenarioSchedule, since: Date, until: Date): Shift[] {
  const overlaps = (piece: { start: Date; end: Date }) =>
    since.getTime() === until.getTime()
      ? piece.start <= since && since < piece.end
      : piece.start < until && piece.end > since;
  const overrides = schedule.overrides.flatMap((o) => {
    const person = directory.personByScenarioId(o.person);
    return person ? [{ person, start: o.start, end: o.end }] : [];
  });
  // Each override loses what later ones cover; the rotation loses what any override covers.
  const final = [
    ...rotationShifts(directory, schedule, earliest(since, overrides), latest(until, overrides)).flatMap(
      (shift) => without(shift, overrides),
    ),
    ...overrides.flatMap((o, i) => without(o, overrides.slice(i + 1))),
  ];
  return final.filter(overlaps).sort((a, b) => a.start.getTime() - b.start.getTime());
}

function earliest(at: Date, overrides: readonly Shift[]): Date {
  return new Date(Math.min(at.getTime(), ...overrides.map((o) => o.start.getTime())));
}

function latest(at: Date, overrides: readonly Shift[]): Date {
  return new Date(Math.max(at.getTime(), ...overrides.map((o) => o.end.getTime())));
}

/** What is left of `shift` outside every one of `covers`. */
function without(shift: Shift, covers: readonly Shift[]): Shift[] {
  let pieces = [shift];
  for (const cover of covers) {
    pieces = pieces.flatMap((p) => {
      if (cover.end <= p.start || cover.start >= p.end) return [p];
      return [
        ...(cover.start > p.start ? [{ ...p, end: cover.start }] : []),
        ...(cover.end < p.end ? [{ ...p, start: cover.end }] : []),
      ];
    });
  }
  return pieces;
}

/** The rotation's own shifts that touch [since, until]. */
function rotationShifts(directory: Directory, schedule: ScenarioSchedule, since: Date, until: Date): Shift[] {
  const { start, shiftHours, people } = schedule.rotation;
  const shiftMs = shiftHours * 3_600_000;
  const from = Math.floor((since.getTime() - start.getTime()) / shiftMs);
  const to = Math.floor((until.getTime() - start.getTime()) / shiftMs);
  const result: Shift[] = [];
  for (let k = Math.max(0, from); k <= to; k++) {
    const personId = people[k % people.length];
    const person = personId === undefined ? undefined : directory.personByScenarioId(personId);
    if (!person) continue;
    const shiftStart = new Date(start.getTime() + k * shiftMs);
    result.push({ person, start: shiftStart, end: new Date(shiftStart.getTime() + shiftMs) });
  }
  return result;
}

/** Every on-call of every escalation policy over [since, until], by policy, level, then start. */
export function onCalls(directory: Directory, since: Date, until: Date): OnCallEntry[] {
  const entries: OnCallEntry[] = [];
  for (const policy of directory.policies) {
    policy.rules.forEach((rule, i) => {
      const level = i + 1;
      for (const target of rule.targets) {
        const [kind, id = ''] = target.split(':');
        if (kind === 'user') {
          const person = directory.personByScenarioId(id);
          if (person) entries.push({ policy, level, person });
          continue;
        }
        const schedule = directory.schedule(id);
        if (!schedule) continue;
        for (const shift of shifts(directory, schedule, since, until)) {
          entries.push({ policy, level, person: shift.person, schedule, start: shift.start, end: shift.end });
        }
      }
    });
  }
  return entries;
}

/** The people paged first by a policy at `at`: the on-calls of its first rule. */
export function firstResponders(directory: Directory, policy: ScenarioPolicy, at: Date): ScenarioPerson[] {
  const seen = new Set<string>();
  return onCalls(directory, at, at)
    .filter((e) => e.policy.id === policy.id && e.level === 1)
    .map((e) => e.person)
    .filter((p) => !seen.has(p.id) && seen.add(p.id));
}
