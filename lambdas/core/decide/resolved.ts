// An incident resolved before anyone decided: the request is cancelled. A
// break-glass review incident resolved before anyone reviewed the grant: the
// reviewers are paged again on a new incident, and the trail records who
// closed it (the requester closing their own review is a security event).

import { FollowUps } from '../follow-up';
import type { Entitlement } from '../catalog';
import type { AccessRequest, Actor } from '../model';
import {
  answered,
  type DecideDeps,
  type DecideSettings,
  type EventOutcome,
  type IncidentEvent,
  requestOf,
} from './deps';
import { pageReviewersAgain, REVIEWED_IN } from './review';

const SYSTEM: Actor = { kind: 'system', id: 'pagerduty-webhook' };

export async function onResolved(
  deps: DecideDeps,
  settings: DecideSettings,
  event: Extract<IncidentEvent, { kind: 'resolved' }>,
): Promise<EventOutcome> {
  const found = await requestOf(deps, event.incidentId);
  if (found.kind === 'ignored') return found;
  const { request, entitlement } = found;
  if (awaitsReview(request, entitlement)) return repageReview(deps, request, entitlement, event);
  if (request.state !== 'PENDING') return { kind: 'ignored', reason: `request is ${request.state}` };
  if (!settings.cancelOnResolve) return { kind: 'ignored', reason: 'resolving does not cancel (configured)' };
  const author = event.agentId ? await deps.pager.getUser(event.agentId) : undefined;
  const actor: Actor = author ? { kind: 'person', id: author.email } : SYSTEM;
  const followUps = new FollowUps()
    .comment(
      request.jiraIssueKey,
      `The page was closed${author ? ` by ${author.name}` : ''} without a decision, so this request is cancelled and nothing was granted. File a new ticket if you still need the access.`,
    )
    .moveTicket(request.jiraIssueKey, settings.jiraStatuses.cancelled);
  await deps.store.transition({
    requestId: request.id,
    from: 'PENDING',
    to: 'CANCELLED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: 'the incident was resolved without a decision',
      evidence: { incidentId: event.incidentId },
    },
    followUps: followUps.items,
  });
  await followUps.deliver(deps, request.id);
  return answered(request.id, 'CANCELLED', followUps);
}

function awaitsReview(request: AccessRequest, entitlement: Entitlement): boolean {
  return (
    request.breakGlass && entitlement.breakGlass.allowed && !request.review && REVIEWED_IN.has(request.state)
  );
}

/**
 * Pages the break-glass reviewers again on a new incident, which the request follows from now on.
 * Its key names the resolved incident, so a redelivered resolve finds the page it opened.
 */
async function repageReview(
  deps: DecideDeps,
  request: AccessRequest,
  entitlement: Entitlement,
  event: Extract<IncidentEvent, { kind: 'resolved' }>,
): Promise<EventOutcome> {
  const author = event.agentId ? await deps.pager.getUser(event.agentId) : undefined;
  const person = author ? await deps.directory.findUserByEmail(author.email) : undefined;
  const byRequester = person !== undefined && person.id === request.requester.directoryUserId;
  const who = author ? `${author.name} <${author.email}>` : 'PagerDuty (no person)';
  const incident = await pageReviewersAgain(deps.pager, {
    request,
    entitlement,
    key: `review-after:${event.incidentId}`,
    headline: 'review still missing',
    why:
      `The review incident of this break-glass grant was resolved by ${who} before anyone reviewed it` +
      `${byRequester ? ' (the requester closed their own review)' : ''}.`,
  });
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: {
      actor: author
        ? { kind: 'person', id: author.email, ...(person ? { personId: person.id } : {}) }
        : SYSTEM,
      reason: `break-glass review incident resolved by ${who} without a review; the reviewers are paged again (${incident.id})`,
      evidence: {
        securityEvent: byRequester ? 'review-closed-by-requester' : 'review-closed-unreviewed',
        resolvedIncidentId: event.incidentId,
        incidentId: incident.id,
      },
    },
    changes: { incidentId: incident.id },
  });
  return { kind: 'answered', requestId: request.id, result: `review re-paged on ${incident.id}` };
}
