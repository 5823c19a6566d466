// Okta Verify pushes, as loopgate waits for them: sent once, then looked at
// again every few seconds by a delayed queue message until the person answers
// or Okta lets the push expire. Shared by the approvers' step-up (decide) and
// the requester's proof (triage).

import type { Clock, PushResult, StepUp } from './ports';
import type { PushCheck } from './model';

/** How long a function waits before asking Okta again. */
export const PUSH_POLL_SECONDS = 10;
/** Okta lets a push wait five minutes; after a little more loopgate stops asking and records it unanswered. */
export const PUSH_GIVE_UP_MS = 6 * 60_000;

/** Okta's answer so far; a push Okta still calls waiting long after it should have expired counts as unanswered. */
export async function pushAnswer(
  stepUp: StepUp,
  clock: Clock,
  personId: string,
  check: PushCheck,
): Promise<PushResult> {
  const answer = await stepUp.result(personId, {
    factorId: check.factorId,
    transactionId: check.transactionId,
  });
  const overdue = clock.now().getTime() - Date.parse(check.sentAt) > PUSH_GIVE_UP_MS;
  return answer === 'waiting' && overdue ? 'timed-out' : answer;
}
