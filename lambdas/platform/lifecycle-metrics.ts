// The business metrics: how many requests are filed, paged, approved, denied,
// granted, revoked, failed (and cancelled, rejected), and how long filing takes
// to reach the page, the decision and the grant. Counted where each step is
// written (the request store's onStep), so no handler can forget one and a step
// that lost a race is never counted. Each goes out for the stage and, when the
// entitlement is in the catalog, per entitlement too: catalog ids are a bounded
// set, whereas a ticket's entitlement field is free text.

import type { RequestState } from '../core/model';
import type { LifecycleStep } from '../connectors/dynamodb/request-store';
import type { MetricsWriter } from './metrics';

/** The second dimension of the lifecycle metrics, valued with a catalog entitlement id. */
export const ENTITLEMENT_DIMENSION = 'Entitlement';

/** The count each step adds to; a step within one state (a vote, an extension) counts nothing. */
export const LIFECYCLE_COUNTS = {
  RequestsFiled: 'a request opened from a ticket',
  RequestsPaged: 'owners paged (TRIAGING → PENDING)',
  RequestsApproved: 'approved by people or by a catalog rule',
  RequestsDenied: 'denied by an approver',
  RequestsGranted: 'access granted (after approval, or break-glass)',
  RequestsRevoked: 'access taken away (at expiry, early, or cleanup after a failure)',
  RequestsFailed: 'provisioning or revocation failed after retries',
  RequestsCancelled: 'cancelled: ticket closed, withdrawn, or nobody decided in time',
  RequestsRejected: 'invalid: unknown entitlement, duration over its maximum, not confirmed',
} as const;
export type LifecycleCount = keyof typeof LIFECYCLE_COUNTS;

/** Milliseconds from filing (the request's createdAt) to the step. */
export const LIFECYCLE_LATENCIES = {
  TimeToPage: 'filed → owners paged',
  TimeToDecision: 'filed → approved or denied (by people or a rule)',
  TimeToGrant: 'filed → access granted',
} as const;
export type LifecycleLatency = keyof typeof LIFECYCLE_LATENCIES;

const ENTERED: Partial<Record<RequestState, LifecycleCount>> = {
  PENDING: 'RequestsPaged',
  APPROVED: 'RequestsApproved',
  DENIED: 'RequestsDenied',
  GRANTED: 'RequestsGranted',
  REVOKED: 'RequestsRevoked',
  FAILED: 'RequestsFailed',
  CANCELLED: 'RequestsCancelled',
  REJECTED: 'RequestsRejected',
};

const LATENCY_OF: Partial<Record<RequestState, LifecycleLatency>> = {
  PENDING: 'TimeToPage',
  APPROVED: 'TimeToDecision',
  DENIED: 'TimeToDecision',
  GRANTED: 'TimeToGrant',
};

/** What a step counts and measures: nothing for a step that stays in its state. */
export function lifecycleMetricsOf({ request, from }: LifecycleStep): {
  count?: LifecycleCount;
  latency?: { name: LifecycleLatency; ms: number };
} {
  if (from === undefined) return { count: 'RequestsFiled' };
  if (from === request.state) return {};
  const latency = LATENCY_OF[request.state];
  const ms = Date.parse(request.updatedAt) - Date.parse(request.createdAt);
  return {
    ...(ENTERED[request.state] ? { count: ENTERED[request.state] } : {}),
    ...(latency && ms >= 0 ? { latency: { name: latency, ms } } : {}),
  };
}

/** The request store's onStep: writes each step's count and latency through `metrics`. */
export function lifecycleMetrics(
  metrics: MetricsWriter,
  catalogIds: ReadonlySet<string>,
): (step: LifecycleStep) => void {
  return (step) => {
    const { count, latency } = lifecycleMetricsOf(step);
    const { entitlementId } = step.request;
    const dimensions: Record<string, string> = catalogIds.has(entitlementId)
      ? { [ENTITLEMENT_DIMENSION]: entitlementId }
      : {};
    if (count) metrics.emit({ [count]: 1 }, { dimensions });
    if (latency) metrics.emit({ [latency.name]: latency.ms }, { unit: 'Milliseconds', dimensions });
  };
}
