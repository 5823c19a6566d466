// Break-glass access is granted at once and reviewed after the fact by the
// people the catalog alerts, not by the owners who could have approved it.

import type { Catalog, Entitlement } from '../catalog';
import { FollowUps } from '../follow-up';
import type { AccessRequest, Actor, RequestState } from '../model';
import { minute } from '../triage/text';
import { type Command, REVIEW_SYNTAX } from './command';
import type { IncidentRef, Pager, RequestStore } from '../ports';
import { type AnnotatedEvent, answered, type DecideDeps, type EventOutcome } from './deps';

/** A break-glass request is reviewed from the moment it was decided: while it is granted, and after. */
export const REVIEWED_IN: ReadonlySet<RequestState> = new Set(['APPROVED', 'GRANTED', 'REVOKED', 'FAILED']);

/**
 * A command on a break-glass request once it was decided is the review after the fact (keep it,
 * end it, ask the requester), not a vote: its authority is the reviewers the catalog alerts
 * (REVIEW_SYNTAX). Extending it stays the owners'.
 */
export function isBreakGlassReview(request: AccessRequest, command: Command): boolean {
  return request.breakGlass && command.verb !== 'extend' && REVIEWED_IN.has(request.state);
}

/**
 * Break-glass grants nobody has reviewed yet, among each break-glass entitlement's newest
 * `limitPerEntitlement` requests: the review after the fact is required, so they are listed (and
 * escalated by the sweeper) until it happens.
 */
export async function unreviewedBreakGlass(
  store: RequestStore,
  catalog: Catalog,
  limitPerEntitlement: number,
): Promise<AccessRequest[]> {
  const lists = await Promise.all(
    catalog.entitlements
      .filter((e) => e.breakGlass.allowed)
      .map((e) => store.listByEntitlement(e.id, { states: [...REVIEWED_IN], limit: limitPerEntitlement })),
  );
  return lists.flat().filter((r) => r.breakGlass && !r.review);
}

/**
 * Pages a break-glass grant's reviewers again on a new, high-urgency incident (`key` makes a retry
 * find the one it opened); the request follows the new incident once the caller records it.
 */
export function pageReviewersAgain(
  pager: Pick<Pager, 'openIncident'>,
  input: { request: AccessRequest; entitlement: Entitlement; key: string; headline: string; why: string },
): Promise<IncidentRef> {
  const { request, entitlement } = input;
  const alert = entitlement.breakGlass.allowed ? entitlement.breakGlass.alert : undefined;
  return pager.openIncident({
    incidentKey: `${request.id}:${input.key}`,
    serviceId: entitlement.owners.service,
    escalationPolicyId: alert?.escalationPolicy ?? entitlement.owners.escalationPolicy,
    title: `BREAK-GLASS ${input.headline}: ${request.requester.displayName ?? request.requester.email ?? request.jiraIssueKey} → ${entitlement.id} (${request.jiraIssueKey})`,
    urgency: 'high',
    details: `${input.why} The grant is ${request.state}.\n\n${REVIEW_SYNTAX}`,
  });
}

/**
 * Who reviews a break-glass grant: whoever the catalog alerts (on call for its escalation policy,
 * or listed), not the owners, who could have approved it the ordinary way.
 */
export function breakGlassReviewers(entitlement: Entitlement): Entitlement {
  if (!entitlement.breakGlass.allowed) return entitlement;
  const { alert } = entitlement.breakGlass;
  return {
    ...entitlement,
    owners: {
      ...entitlement.owners,
      escalationPolicy: alert.escalationPolicy ?? entitlement.owners.escalationPolicy,
    },
    approvers: { onCall: alert.escalationPolicy !== undefined, emails: alert.emails },
  };
}

/**
 * The review a break-glass grant requires after the fact, recorded on the request (`loopgate
 * report` lists grants still waiting for one): `approve` keeps the access until it expires,
 * `deny` revokes it at once. A grant that already ended can still be reviewed.
 */
export async function reviewBreakGlass(
  deps: DecideDeps,
  input: { request: AccessRequest; event: AnnotatedEvent; actor: Actor; approved: boolean; reason?: string },
): Promise<EventOutcome> {
  const { request, event, actor } = input;
  const followUps = new FollowUps();
  if (request.review) {
    // An answer to this note, not a follow-up of a recorded step: sent now, or thrown and redelivered.
    await deps.pager.addNote(
      event.incidentId,
      `This break-glass grant was reviewed already: ${request.review.outcome} by ${request.review.by} at ${minute(request.review.at)}.`,
    );
    return answered(request.id, 'already reviewed');
  }
  // Refused while provisioning is still running: provisioning removes it the moment it lands.
  const revoking = !input.approved && request.state === 'GRANTED';
  const outcome = input.approved ? 'kept' : 'revoked';
  const message = input.approved
    ? request.state === 'GRANTED'
      ? 'Break-glass review recorded; the access stays until it expires.'
      : 'Break-glass review recorded.'
    : revoking
      ? 'Break-glass review recorded: refused. Revoking now.'
      : request.state === 'APPROVED'
        ? 'Break-glass review recorded: refused. The grant is still being made; it is removed the moment it is in place.'
        : `Break-glass review recorded: refused. The access is no longer granted (${request.state}).`;
  followUps.note(event.incidentId, message);
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `break-glass reviewed by ${actor.id}: ${input.approved ? 'kept' : 'refused'}${input.reason ? `: ${input.reason}` : ''}`,
      evidence: { review: outcome, noteId: event.noteId },
    },
    changes: {
      review: {
        by: actor.id,
        at: deps.clock.now().toISOString(),
        outcome,
        ...(input.reason ? { reason: input.reason } : {}),
        sourceId: event.noteId,
      },
    },
    followUps: followUps.items,
  });
  if (revoking) await deps.queue.send('revoke', { requestId: request.id });
  await followUps.deliver(deps, request.id);
  return answered(request.id, `break-glass review: ${outcome}`, followUps);
}
