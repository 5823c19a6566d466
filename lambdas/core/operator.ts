// An operator's early revoke or cancel (`loopgate revoke|cancel KEY --reason`),
// by the same steps a ticket closed by its requester takes: a revoke is
// recorded with who asked and handed to the revoke function (which holds the
// permissions to remove access, and removes it as at expiry); a cancel is the
// request's CANCELLED transition. What people are told (a note on the
// incident, a comment and a status on the ticket) is written with the step
// into the follow-up outbox and delivered by the decide function.

import { FollowUps, queueFollowUps } from './follow-up';
import { isFinal, TransitionConflictError } from './lifecycle';
import type { AccessRequest, Actor } from './model';
import type { RequestStore, WorkQueue } from './ports';

export interface OperatorActionDeps {
  store: RequestStore;
  queue: WorkQueue;
}

export interface OperatorActionSettings {
  /** Where a cancelled ticket moves, when configured (LOOPGATE_JIRA_STATUS_CANCELLED). */
  jiraStatuses: { cancelled?: string };
}

export interface OperatorAction {
  requestId: string;
  /** The operator, by their AWS identity (the caller's ARN). */
  actor: Actor;
  reason: string;
  /** What proves who the operator is (STS GetCallerIdentity's answer), for the trail. */
  identity: Record<string, string>;
}

export type OperatorOutcome =
  | { kind: 'done'; request: AccessRequest; result: string; problems: string[] }
  /** Nothing was written: the request is not in a state the action applies to. */
  | { kind: 'refused'; reason: string };

/** Racing writers (a vote, triage, the sweeper): read again and decide again, a few times. */
const MAX_ATTEMPTS = 4;

export async function revokeByOperator(
  deps: OperatorActionDeps,
  action: OperatorAction,
): Promise<OperatorOutcome> {
  return retried(deps, action.requestId, async (request) => {
    const live = request.state === 'GRANTED' || (request.state === 'FAILED' && request.grant);
    if (!live || !request.grant) {
      return {
        kind: 'refused',
        reason: `${request.jiraIssueKey} is ${request.state}: only a granted request can be revoked${
          request.state === 'APPROVED' ? ' (it is being granted now; revoke it once it is GRANTED)' : ''
        }${['PENDING', 'TRIAGING', 'RECEIVED'].includes(request.state) ? ' (use loopgate cancel)' : ''}`,
      };
    }
    const who = action.actor.id;
    const followUps = new FollowUps()
      .note(request.incidentId, `Revoking now: operator ${who} asked (${action.reason}).`)
      .comment(
        request.jiraIssueKey,
        `Your access to ${request.entitlementId} is being removed now, before its expiry, by an operator (${who}): ${action.reason}`,
      );
    const recorded = await deps.store.recordEvent({
      requestId: request.id,
      state: request.state,
      expectedVersion: request.version,
      audit: {
        actor: action.actor,
        reason: `early revoke asked by operator ${who}: ${action.reason}`,
        evidence: { command: 'revoke', operator: action.identity },
      },
      followUps: followUps.items,
    });
    await deps.queue.send('revoke', { requestId: request.id });
    await queueFollowUps(deps, request.id, followUps);
    return { kind: 'done', request: recorded, result: 'revoke queued', problems: followUps.problems };
  });
}

export async function cancelByOperator(
  deps: OperatorActionDeps,
  settings: OperatorActionSettings,
  action: OperatorAction,
): Promise<OperatorOutcome> {
  return retried(deps, action.requestId, async (request) => {
    if (request.state === 'GRANTED') {
      return { kind: 'refused', reason: `${request.jiraIssueKey} is GRANTED: use loopgate revoke` };
    }
    if (request.state === 'APPROVED') {
      return {
        kind: 'refused',
        reason: `${request.jiraIssueKey} is APPROVED and being granted now: revoke it once it is GRANTED`,
      };
    }
    if (isFinal(request.state) || request.state === 'FAILED') {
      return { kind: 'refused', reason: `${request.jiraIssueKey} is ${request.state} already` };
    }
    const who = action.actor.id;
    const followUps = new FollowUps()
      .note(
        request.incidentId,
        `Cancelled by operator ${who}: ${action.reason}. Nothing will be granted; no decision is needed.`,
      )
      .resolve(request.incidentId)
      .comment(
        request.jiraIssueKey,
        `This request was cancelled by an operator (${who}): ${action.reason}. Nothing was granted; file a new ticket if you still need the access.`,
      )
      .moveTicket(request.jiraIssueKey, settings.jiraStatuses.cancelled);
    const cancelled = await deps.store.transition({
      requestId: request.id,
      from: request.state,
      to: 'CANCELLED',
      expectedVersion: request.version,
      audit: {
        actor: action.actor,
        reason: `cancelled by operator ${who}: ${action.reason}`,
        evidence: { command: 'cancel', operator: action.identity },
      },
      followUps: followUps.items,
    });
    await queueFollowUps(deps, request.id, followUps);
    return { kind: 'done', request: cancelled, result: 'CANCELLED', problems: followUps.problems };
  });
}

async function retried(
  deps: OperatorActionDeps,
  requestId: string,
  step: (request: AccessRequest) => Promise<OperatorOutcome>,
): Promise<OperatorOutcome> {
  for (let attempt = 1; ; attempt++) {
    const request = await deps.store.get(requestId);
    if (!request) return { kind: 'refused', reason: `no request ${requestId}` };
    try {
      return await step(request);
    } catch (error) {
      if (!(error instanceof TransitionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}
