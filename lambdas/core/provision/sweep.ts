// The sweeper, every five minutes: the safety net under every timer and queue.
// It revokes anything still GRANTED past its expiry (a lost schedule must not
// leave access in place), cancels requests that waited too long for a
// decision, re-drives approved requests provisioning never picked up and
// tickets whose triage stopped, counts FAILED requests so an alarm can page a person, and
// reconciles shared access: what loopgate placed and no live request holds is removed and audited.
// Live grants of entitlements a deploy removed from the catalog are listed on every run and
// revoked from their record: at their expiry, or at once when the stage says so.
// One request's failure never stops the sweep.

import { entitlementById } from '../catalog';
import { deliverFollowUps, FollowUps } from '../follow-up';
import { escalateOverdueReviews } from './overdue-reviews';
import { TransitionConflictError } from '../lifecycle';
import type { AccessRequest, RequestState } from '../model';
import type { HoldingRef, Pager, WorkQueue } from '../ports';
import { minute } from '../triage/text';
import { reconcileHolding, type Reconciled } from './holding';
import { recheckShift } from './shift-recheck';
import { type ProvisionDeps, type ProvisionSettings, revokeRequest } from './provision';

export interface SweepDeps extends ProvisionDeps {
  queue: WorkQueue;
  /** Opens the incident that pages break-glass reviewers again when a review is overdue. */
  pager: ProvisionDeps['pager'] & Pick<Pager, 'openIncident'>;
}

/** When live grants of an entitlement that is no longer in the catalog are revoked. */
export type RevokeUncataloged = 'at-expiry' | 'at-once';

export interface SweepSettings extends ProvisionSettings {
  /** At their recorded expiry, like any grant (the default), or at once. */
  revokeUncataloged?: RevokeUncataloged;
}

export interface SweepReport {
  revoked: string[];
  cancelled: string[];
  redriven: string[];
  /** Requests whose triage stopped (RECEIVED or TRIAGING past their deadline), queued again. */
  retriaged: string[];
  /** Requests in FAILED: each needs a person. */
  failed: string[];
  /** Shared access loopgate had placed and no live request held, removed (`kind target of principal`). */
  reconciled: string[];
  /**
   * GRANTED requests whose entitlement is no longer in the catalog (removed or renamed by a deploy):
   * revoked this run when the stage revokes them at once, else still waiting for their expiry.
   */
  uncataloged: string[];
  /** Break-glass grants whose review is overdue: their reviewers were paged again. */
  reviewsEscalated: string[];
  /** Shift-bound grants whose shift changed: moved to the new end, or ended at a handover. */
  shiftsChanged: string[];
  /** Requests the sweep could not handle this time, with why; the next sweep tries again. */
  errors: { requestId: string; error: string }[];
}

/** How long past its expiry a grant may still be retried before the request is FAILED. */
export const REVOKE_GRACE_MS = 30 * 60_000;
/** At most this many requests per state per run; the rest wait five minutes. */
const BATCH = 100;
/**
 * Live grants read per run to find those whose entitlement left the catalog, soonest expiry first:
 * beyond that many, the later ones are found as the earlier ones end (and revoked at expiry anyway).
 */
const LIVE_GRANTS = 1000;
const END_OF_TIME = new Date('9999-12-31T23:59:59.999Z');

export async function sweep(deps: SweepDeps, settings: SweepSettings): Promise<SweepReport> {
  const now = deps.clock.now();
  const report: SweepReport = {
    revoked: [],
    cancelled: [],
    redriven: [],
    retriaged: [],
    failed: [],
    reconciled: [],
    uncataloged: [],
    reviewsEscalated: [],
    shiftsChanged: [],
    errors: [],
  };
  const due = (state: RequestState) => deps.store.listDue(state, now, { limit: BATCH });
  const each = async (
    requests: AccessRequest[],
    work: (r: AccessRequest) => Promise<string | undefined>,
    into: string[],
  ) => {
    for (const request of requests) {
      try {
        const done = await work(request);
        if (done) into.push(done);
      } catch (error) {
        report.errors.push({
          requestId: request.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };

  await each(
    await due('GRANTED'),
    async (request) => {
      const overdue = now.getTime() - Date.parse(request.grant?.expiresAt ?? request.dueAt ?? '');
      const outcome = await revokeRequest(deps, settings, request.id, {
        // Six sweeps past expiry and still in place: FAILED, so a person is paged.
        finalAttempt: overdue > REVOKE_GRACE_MS,
        reason:
          request.review?.outcome === 'revoked'
            ? 'the break-glass reviewer refused it; revoked by the sweeper'
            : `expired at ${minute(request.grant?.expiresAt)}; revoked by the sweeper`,
      });
      return outcome.kind === 'done' ? request.id : undefined;
    },
    report.revoked,
  );
  const live = await deps.store.listDue('GRANTED', END_OF_TIME, { limit: LIVE_GRANTS });
  // Grants that end with the requester's shift follow it (shift-recheck.ts); a failed check changes nothing.
  await each(
    live.filter((request) => request.grant?.shift),
    async (request) => {
      const change = await recheckShift(deps, settings, request);
      return change.kind === 'unchanged' ? undefined : request.id;
    },
    report.shiftsChanged,
  );
  // A revoke works from the grant's record, so these need no catalog entry either way; they are
  // listed so that a deploy which dropped an entitlement with live grants shows in the metrics.
  const uncataloged = live.filter((request) => !entitlementById(deps.catalog, request.entitlementId));
  report.uncataloged.push(...uncataloged.map((request) => request.id));
  if (settings.revokeUncataloged === 'at-once') {
    await each(
      uncataloged,
      async (request) => {
        const outcome = await revokeRequest(deps, settings, request.id, {
          finalAttempt: false,
          reason: 'revoked at once by the sweeper (LOOPGATE_REVOKE_UNCATALOGED=at-once)',
        });
        return outcome.kind === 'done' ? request.id : undefined;
      },
      report.revoked,
    );
  }
  await each(await due('PENDING'), (request) => cancelStale(deps, settings, request), report.cancelled);
  await each(
    await due('APPROVED'),
    async (request) => {
      await deps.queue.send('provision', { requestId: request.id });
      return request.id;
    },
    report.redriven,
  );
  // Triage carries on from its last recorded step, so a lost or dead-lettered message strands no ticket.
  await each(
    [...(await due('RECEIVED')), ...(await due('TRIAGING'))],
    async (request) => {
      await deps.queue.send('triage', { requestId: request.id });
      return request.id;
    },
    report.retriaged,
  );
  // A FAILED request that holds a grant (a revoke that failed, or a grant that could not be
  // completed) is revoked again on every sweep; what is still FAILED afterwards needs a person.
  for (const request of await due('FAILED')) {
    if (request.grant && !request.grant.preExisting) {
      try {
        await revokeRequest(deps, settings, request.id, {
          finalAttempt: false,
          reason: 'removed by the sweeper after a failure',
        });
        report.revoked.push(request.id);
        continue;
      } catch (error) {
        report.errors.push({
          requestId: request.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    report.failed.push(request.id);
  }
  // Last, after the revokes above: what is still held by nobody live is an orphan.
  for (const holding of await deps.holdings.listDue(now, BATCH)) {
    try {
      const outcome = await reconcileHolding(deps, deps.provisioners[holding.kind], holding);
      if (outcome?.removed) {
        report.reconciled.push(describeAccess(holding));
        await auditRemoval(deps, outcome, holding.lastHolder);
      }
    } catch (error) {
      report.errors.push({
        requestId: holding.lastHolder ?? describeAccess(holding),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  // Follow-ups a vendor outage held back (or their writer crashed before sending): each request's
  // whole outbox, so its notes and Jira updates stay in order.
  const behind = new Set((await deps.outbox.dueFollowUps(now, BATCH)).map((f) => f.requestId));
  for (const requestId of behind) {
    try {
      const failed = await deliverFollowUps(deps, await deps.outbox.followUpsOf(requestId));
      report.errors.push(...failed.map((f) => ({ requestId: f.requestId, error: f.problem })));
    } catch (error) {
      report.errors.push({ requestId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  try {
    const reviews = await escalateOverdueReviews(deps);
    report.reviewsEscalated.push(...reviews.escalated);
    report.errors.push(...reviews.errors);
  } catch (error) {
    report.errors.push({
      requestId: 'break-glass reviews',
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return report;
}

const describeAccess = (ref: HoldingRef) => `${ref.kind} ${ref.target} of ${ref.principal}`;

/** Recorded on the requests that held the orphan (or the last one that did), which may be final. */
async function auditRemoval(deps: SweepDeps, outcome: Reconciled, lastHolder: string | undefined) {
  const ids = new Set([...outcome.dropped, ...(lastHolder ? [lastHolder] : [])]);
  for (const requestId of ids) {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const request = await deps.store.get(requestId);
      if (!request) break;
      try {
        await deps.store.recordEvent({
          requestId,
          state: request.state,
          expectedVersion: request.version,
          audit: {
            actor: { kind: 'system', id: 'sweeper' },
            reason: `the sweeper removed ${describeAccess(outcome.access)}: loopgate granted it and no live request holds it`,
            evidence: { reconciled: { ...outcome.access, dropped: outcome.dropped } },
          },
        });
        break;
      } catch (error) {
        if (!(error instanceof TransitionConflictError) || attempt === 3) throw error;
      }
    }
  }
}

async function cancelStale(
  deps: SweepDeps,
  settings: SweepSettings,
  request: AccessRequest,
): Promise<string> {
  const followUps = new FollowUps()
    .comment(
      request.jiraIssueKey,
      'Nobody decided on this request in time, so it is cancelled and nothing was granted. File a new ticket if you still need the access.',
    )
    .moveTicket(request.jiraIssueKey, settings.jiraStatuses.cancelled)
    .note(request.incidentId, 'Cancelled: no decision in time. Nothing was granted.')
    .resolve(request.incidentId);
  await deps.store.transition({
    requestId: request.id,
    from: 'PENDING',
    to: 'CANCELLED',
    expectedVersion: request.version,
    audit: { actor: { kind: 'system', id: 'sweeper' }, reason: `no decision by ${minute(request.dueAt)}` },
    followUps: followUps.items,
  });
  await followUps.deliver(deps, request.id);
  return request.id;
}
