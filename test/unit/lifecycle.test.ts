import { describe, expect, it } from 'vitest';
import {
  assertTransition,
  FINAL_STATES,
  IllegalTransitionError,
  isLegalTransition,
  nextStates,
  TRANSITIONS,
} from '../../lambdas/core/lifecycle';
import { REQUEST_STATES, type RequestState } from '../../lambdas/core/model';

// The lifecycle of DESIGN.md, written out independently of the code's table.
const EXPECTED: Record<RequestState, RequestState[]> = {
  RECEIVED: ['TRIAGING', 'REJECTED', 'CANCELLED'],
  TRIAGING: ['TRIAGING', 'PENDING', 'APPROVED', 'GRANTED', 'REJECTED', 'CANCELLED'],
  PENDING: ['PENDING', 'APPROVED', 'DENIED', 'CANCELLED'],
  APPROVED: ['GRANTED', 'FAILED', 'CANCELLED'],
  GRANTED: ['GRANTED', 'REVOKED', 'FAILED'],
  FAILED: ['REVOKED'],
  DENIED: [],
  CANCELLED: [],
  REJECTED: [],
  REVOKED: [],
};

const legal = Object.entries(EXPECTED).flatMap(([from, tos]) =>
  tos.map((to) => [from, to] as [RequestState, RequestState]),
);

describe('the transition table', () => {
  it('is exactly the lifecycle of the design', () => {
    for (const state of REQUEST_STATES) expect(new Set(nextStates(state))).toEqual(new Set(EXPECTED[state]));
    expect(TRANSITIONS).toHaveLength(legal.length);
  });

  it.each(legal)('allows %s → %s', (from, to) => {
    expect(isLegalTransition(from, to)).toBe(true);
    expect(() => assertTransition('req-1', from, to)).not.toThrow();
  });

  it.each([
    ['RECEIVED', 'GRANTED', 'nothing is granted before triage'],
    ['RECEIVED', 'APPROVED', 'nothing is approved before triage'],
    ['PENDING', 'GRANTED', 'a pending request needs approval before a grant'],
    ['DENIED', 'APPROVED', 'a denial is final'],
    ['REVOKED', 'GRANTED', 'a revoked grant is not re-granted'],
    ['REJECTED', 'TRIAGING', 'a rejected request is not triaged'],
    ['APPROVED', 'DENIED', 'an approval is not turned into a denial'],
    ['GRANTED', 'PENDING', 'a grant does not go back to waiting'],
    ['CANCELLED', 'PENDING', 'a cancelled request stays cancelled'],
    ['FAILED', 'GRANTED', 'a failed provisioning is cleaned up, not marked granted'],
  ] as [RequestState, RequestState, string][])('refuses %s → %s (%s)', (from, to) => {
    expect(isLegalTransition(from, to)).toBe(false);
    const error = (() => {
      try {
        assertTransition('req-42', from, to);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ requestId: 'req-42', from, to, code: 'illegal_transition' });
    expect((error as Error).message).toContain(`request req-42 is ${from} and cannot move to ${to}`);
  });

  it('says where a state may go, or that it is final', () => {
    expect(() => assertTransition('req-7', 'PENDING', 'REVOKED')).toThrow(
      'request req-7 is PENDING and cannot move to REVOKED (from PENDING it may move to PENDING, APPROVED, DENIED, CANCELLED)',
    );
    expect(() => assertTransition('req-7', 'DENIED', 'APPROVED')).toThrow(
      'request req-7 is DENIED and cannot move to APPROVED (DENIED is final)',
    );
  });

  it('has no way out of a final state, and a way to a final state from every other', () => {
    for (const state of FINAL_STATES) expect(nextStates(state)).toEqual([]);
    const reachesFinal = (state: RequestState, seen = new Set<RequestState>()): boolean =>
      FINAL_STATES.has(state) ||
      nextStates(state).some((next) => !seen.has(next) && reachesFinal(next, new Set([...seen, state])));
    for (const state of REQUEST_STATES) expect(reachesFinal(state), state).toBe(true);
  });

  it('grants only after an approval or a break-glass triage', () => {
    const intoGranted = TRANSITIONS.filter((t) => t.to === 'GRANTED' && t.from !== 'GRANTED').map(
      (t) => t.from,
    );
    expect(intoGranted.sort()).toEqual(['APPROVED', 'TRIAGING']);
  });
});
