// The request lifecycle as an explicit table. Anything not listed here is illegal;
// the store checks the table before it writes, so an illegal step never reaches storage.

import { ConflictError, LoopgateError } from './errors';
import type { RequestState } from './model';

interface Transition {
  from: RequestState;
  to: RequestState;
  /** Why this step exists; shown when someone asks for an illegal one. */
  when: string;
}

export const TRANSITIONS: readonly Transition[] = [
  { from: 'RECEIVED', to: 'TRIAGING', when: 'triage started' },
  { from: 'RECEIVED', to: 'REJECTED', when: 'invalid at intake (unknown entitlement, duration over max, …)' },
  { from: 'RECEIVED', to: 'CANCELLED', when: 'ticket closed before triage' },
  {
    from: 'TRIAGING',
    to: 'TRIAGING',
    when: 'context gathered (evidence, signals, policy), then advice recorded',
  },
  { from: 'TRIAGING', to: 'PENDING', when: 'owners paged' },
  { from: 'TRIAGING', to: 'APPROVED', when: 'a deterministic catalog rule approved (audit-only, on-call)' },
  { from: 'TRIAGING', to: 'GRANTED', when: 'break-glass: granted at once, reviewed after' },
  {
    from: 'TRIAGING',
    to: 'REJECTED',
    when: 'found invalid during triage, or the requester did not confirm it with an Okta Verify push',
  },
  { from: 'TRIAGING', to: 'CANCELLED', when: 'ticket closed or withdrawn, or triage timed out' },
  { from: 'PENDING', to: 'PENDING', when: 'an approval recorded, quorum not yet met' },
  { from: 'PENDING', to: 'APPROVED', when: 'quorum of approvals reached' },
  { from: 'PENDING', to: 'DENIED', when: 'an approver denied' },
  { from: 'PENDING', to: 'CANCELLED', when: 'decision timed out, ticket closed or withdrawn' },
  { from: 'APPROVED', to: 'GRANTED', when: 'provisioned' },
  { from: 'APPROVED', to: 'FAILED', when: 'provisioning failed after retries' },
  {
    from: 'APPROVED',
    to: 'CANCELLED',
    when: "shift-bound: the requester's on-call shift ended before the grant",
  },
  { from: 'GRANTED', to: 'GRANTED', when: 'grant extended' },
  { from: 'GRANTED', to: 'REVOKED', when: 'expired or revoked early' },
  { from: 'GRANTED', to: 'FAILED', when: 'revocation failed after retries' },
  { from: 'FAILED', to: 'REVOKED', when: 'cleanup completed: nothing of the grant is left' },
];

/** States no transition leaves: the request is finished. */
export const FINAL_STATES: ReadonlySet<RequestState> = new Set([
  'DENIED',
  'CANCELLED',
  'REJECTED',
  'REVOKED',
]);

export function isFinal(state: RequestState): boolean {
  return FINAL_STATES.has(state);
}

export function isLegalTransition(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.to === to);
}

export function nextStates(from: RequestState): RequestState[] {
  return TRANSITIONS.filter((t) => t.from === from).map((t) => t.to);
}

export class IllegalTransitionError extends LoopgateError {
  readonly code = 'illegal_transition';

  constructor(
    readonly requestId: string,
    readonly from: RequestState,
    readonly to: RequestState,
  ) {
    const allowed = nextStates(from);
    super(
      `request ${requestId} is ${from} and cannot move to ${to}` +
        (allowed.length ? ` (from ${from} it may move to ${allowed.join(', ')})` : ` (${from} is final)`),
    );
  }
}

export function assertTransition(requestId: string, from: RequestState, to: RequestState): void {
  if (!isLegalTransition(from, to)) throw new IllegalTransitionError(requestId, from, to);
}

/** Another writer moved the request first (a racing webhook, a retried message). Re-read and decide again. */
export class TransitionConflictError extends ConflictError {
  constructor(
    readonly requestId: string,
    readonly expected: { state: RequestState; version: number },
    readonly found?: { state: RequestState; version: number },
    options?: { cause?: unknown },
  ) {
    super(
      `request ${requestId} was expected ${expected.state} at version ${expected.version}` +
        (found ? ` but is ${found.state} at version ${found.version}` : ' but changed concurrently'),
      options,
    );
  }
}
