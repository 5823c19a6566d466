// OnCall on PagerDuty: where a person is on call at a moment. The person is
// their PagerDuty user (a note's author), or found by email among PagerDuty's
// users (a requester), then their on-call entries covering
// that moment are read from GET /oncalls: one per escalation policy and level,
// through a schedule or as a permanent, direct target of the policy.

import { z } from 'zod';
import type { OnCallShift } from '../../core/context';
import { UpstreamError } from '../../core/errors';
import type { OnCall, ShiftCalendar } from '../../core/ports';
import { PAGERDUTY, type PagerDutyClient } from './client';

const reference = z.object({ id: z.string().min(1), summary: z.string().optional() });

const user = z.object({ id: z.string().min(1), email: z.string() });

const timestamp = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'not a timestamp')
  .transform((value) => new Date(value));

const onCallEntry = z.object({
  escalation_policy: reference,
  escalation_level: z.number().int().min(1),
  schedule: reference.nullish(),
  user: reference,
  // Null for a user the policy targets directly: on call for as long as the policy says so.
  start: timestamp.nullable(),
  end: timestamp.nullable(),
});

type OnCallEntry = z.infer<typeof onCallEntry>;

export class PagerDutyOnCall implements OnCall, ShiftCalendar {
  constructor(private readonly client: PagerDutyClient) {}

  async shiftsOf(who: { pagerDutyUserId: string } | { email: string }, at: Date): Promise<OnCallShift[]> {
    if (Number.isNaN(at.getTime())) throw new RangeError('shiftsOf needs a valid moment');
    const userId = 'pagerDutyUserId' in who ? who.pagerDutyUserId : await this.userIdOf(who.email);
    if (userId === undefined) return [];
    // PagerDuty returns every on-call that overlaps [since, until] in whole seconds; a one-second
    // window around the moment, filtered to the entries that hold it, is the on-call "at" it.
    const since = new Date(Math.floor(at.getTime() / 1000) * 1000);
    const until = new Date(since.getTime() + 1000);
    const entries = await this.client.list(
      '/oncalls',
      'oncalls',
      {
        'user_ids[]': [userId],
        since: since.toISOString(),
        until: until.toISOString(),
        time_zone: 'UTC',
      },
      onCallEntry,
    );
    return entries.filter((e) => e.user.id === userId && holds(e, at)).map(toShift);
  }

  /**
   * The user's on-calls overlapping [since, until] (GET /oncalls with user_ids[], since, until), each
   * with PagerDuty's own start and end: the boundaries of a shift, overrides applied.
   */
  async shiftsBetween(pagerDutyUserId: string, since: Date, until: Date): Promise<OnCallShift[]> {
    if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || until < since) {
      throw new RangeError('shiftsBetween needs a valid window');
    }
    const entries = await this.client.list(
      '/oncalls',
      'oncalls',
      {
        'user_ids[]': [pagerDutyUserId],
        since: since.toISOString(),
        until: until.toISOString(),
        time_zone: 'UTC',
      },
      onCallEntry,
    );
    return entries.filter((e) => e.user.id === pagerDutyUserId).map(toShift);
  }

  /** PagerDuty users whose email is exactly this one, ASCII case aside (the query also matches names). */
  async usersByEmail(email: string): Promise<{ id: string; email: string }[]> {
    const wanted = email.trim().toLowerCase();
    if (!wanted) return [];
    const users = await this.client.list('/users', 'users', { query: wanted }, user);
    return users.filter((u) => u.email.trim().toLowerCase() === wanted);
  }

  /** The PagerDuty user id of the one user whose email is exactly `email` (the query also matches names). */
  private async userIdOf(email: string): Promise<string | undefined> {
    const matches = new Set((await this.usersByEmail(email)).map((u) => u.id));
    if (matches.size > 1) {
      // PagerDuty keeps emails unique; two accounts for one address is not something to guess about.
      throw new UpstreamError(PAGERDUTY, 'bad-response', 'GET /users found several users with one email');
    }
    return [...matches][0];
  }
}

function holds(entry: OnCallEntry, at: Date): boolean {
  const afterStart = entry.start === null || entry.start <= at;
  const beforeEnd = entry.end === null || at < entry.end;
  return afterStart && beforeEnd;
}

function toShift(entry: OnCallEntry): OnCallShift {
  return {
    escalationPolicyId: entry.escalation_policy.id,
    ...(entry.escalation_policy.summary ? { escalationPolicyName: entry.escalation_policy.summary } : {}),
    ...(entry.schedule ? { scheduleId: entry.schedule.id } : {}),
    level: entry.escalation_level,
    ...(entry.start ? { start: entry.start.toISOString() } : {}),
    ...(entry.end ? { end: entry.end.toISOString() } : {}),
  };
}
