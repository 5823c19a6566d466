// A break-glass grant must be reviewed after the fact. A review that does not
// come (the page was acknowledged and forgotten, the reviewer was asleep) is
// escalated once the catalog's `breakGlass.reviewWithin` has passed since the
// grant was decided: the sweeper pages the reviewers again on a new incident,
// which the request follows from then on, and audits it as a security event.
// Once per request: after that `loopgate report` lists it until someone reviews.

import type { Catalog } from '../catalog';
import { entitlementById } from '../catalog';
import { pageReviewersAgain, unreviewedBreakGlass } from '../decide/review';
import type { AccessRequest } from '../model';
import type { Clock, Pager, RequestStore } from '../ports';
import { duration, minute } from '../triage/text';

export interface OverdueReviewDeps {
  store: RequestStore;
  catalog: Catalog;
  pager: Pick<Pager, 'openIncident'>;
  clock: Clock;
}

/** Break-glass requests read per entitlement, newest first: break-glass is rare, reviews are owed on recent ones. */
const RECENT = 100;

/** Pages the reviewers of every overdue review again: the requests escalated, and those that failed. */
export async function escalateOverdueReviews(
  deps: OverdueReviewDeps,
): Promise<{ escalated: string[]; errors: { requestId: string; error: string }[] }> {
  const escalated: string[] = [];
  const errors: { requestId: string; error: string }[] = [];
  for (const request of await unreviewedBreakGlass(deps.store, deps.catalog, RECENT)) {
    try {
      if (await escalate(deps, request)) escalated.push(request.id);
    } catch (error) {
      errors.push({ requestId: request.id, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { escalated, errors };
}

async function escalate(deps: OverdueReviewDeps, request: AccessRequest): Promise<boolean> {
  const now = deps.clock.now();
  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  if (!entitlement?.breakGlass.allowed || request.reviewEscalatedAt) return false;
  const decidedAt = Date.parse(decidedAtOf(request));
  if (now.getTime() - decidedAt < entitlement.breakGlass.reviewWithin * 1000) return false;
  const { reviewWithin } = entitlement.breakGlass;
  // Keyed by the request: a sweep that crashed after paging finds the same incident again.
  const incident = await pageReviewersAgain(deps.pager, {
    request,
    entitlement,
    key: 'review-overdue',
    headline: 'review overdue',
    why:
      `This break-glass grant was decided ${minute(decidedAtOf(request))} and nobody has reviewed it; ` +
      `${entitlement.id} asks for a review within ${duration(reviewWithin)}.`,
  });
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: {
      actor: { kind: 'system', id: 'sweeper' },
      reason: `break-glass review overdue (${duration(reviewWithin)} after the decision): the reviewers are paged again (${incident.id})`,
      evidence: {
        securityEvent: 'review-overdue',
        incidentId: incident.id,
        previousIncidentId: request.incidentId,
      },
    },
    changes: { incidentId: incident.id, reviewEscalatedAt: now.toISOString() },
  });
  return true;
}

function decidedAtOf(request: AccessRequest): string {
  return request.decisions[0]?.decidedAt ?? request.grant?.grantedAt ?? request.createdAt;
}
