// Who is on call, computed from the scenario: each schedule is one rotation
// (person index = floor((t − start) / shift) mod n), each escalation rule is a
// level (1, 2, …) whose targets are schedules or users; a user target is on
// call permanently at its level (PagerDuty reports null start and end).

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
  const { start, shiftHours, people } = schedule.rotation;
  const shiftMs = shiftHours * 3_600_000;
  const from = Math.floor((since.getTime() - start.getTime()) / shiftMs);
  const lastTouching = Math.floor((until.getTime() - start.getTime()) / shiftMs);
  // A shift starting exactly at `until` does not overlap a non-empty window.
  const to =
    until > since && (until.getTime() - start.getTime()) % shiftMs === 0 ? lastTouching - 1 : lastTouching;
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
