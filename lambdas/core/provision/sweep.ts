// The sweeper, every five minutes: the safety net under every timer and queue.
// It revokes anything still GRANTED past its expiry (a lost schedule must not
// leave access in place), cancels requests that waited too long for a
// decision, re-drives approved requests provisioning never picked up and
// tickets whose triage stopped, and counts FAILED requests so an alarm can page a person. One request's failure
// never stops the sweep.

import { FollowUps } from '../follow-up';
import type { AccessRequest, RequestState } from '../model';
import type { WorkQueue } from '../ports';
import { minute } from '../triage/text';
import { type ProvisionDeps, type ProvisionSettings, revokeRequest } from './provision';

export interface SweepDeps extends ProvisionDeps {
  queue: WorkQueue;
}

export interface SweepReport {
  revoked: string[];
  cancelled: string[];
  redriven: string[];
  /** Requests whose triage stopped (RECEIVED or TRIAGING past their deadline), queued again. */
  retriaged: string[];
  /** Requests in FAILED: each needs a person. */
  failed: string[];
  /** Requests the sweep could not handle this time, with why; the next sweep tries again. */
  errors: { requestId: string; error: string }[];
}

/** How long past its expiry a grant may still be retried before the request is FAILED. */
export const REVOKE_GRACE_MS = 30 * 60_000;
/** At most this many requests per state per run; the rest wait five minutes. */
const BATCH = 100;

export async function sweep(deps: SweepDeps, settings: ProvisionSettings): Promise<SweepReport> {
  const now = deps.clock.now();
  const report: SweepReport = {
    revoked: [],
    cancelled: [],
    redriven: [],
    retriaged: [],
    failed: [],
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
        reason: `expired at ${minute(request.grant?.expiresAt)}; revoked by the sweeper`,
      });
      return outcome.kind === 'done' ? request.id : undefined;
    },
    report.revoked,
  );
  await each(await due('PENDING'), (request) => cancelStale(deps, request), report.cancelled);
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
  return report;
}

async function cancelStale(deps: SweepDeps, request: AccessRequest): Promise<string> {
  const cancelled = await deps.store.transition({
    requestId: request.id,
    from: 'PENDING',
    to: 'CANCELLED',
    expectedVersion: request.version,
    audit: { actor: { kind: 'system', id: 'sweeper' }, reason: `no decision by ${minute(request.dueAt)}` },
  });
  const followUps = new FollowUps();
  await followUps.attempt('Jira comment', () =>
    deps.tracker.comment(
      cancelled.jiraIssueKey,
      'Nobody decided on this request in time, so it is cancelled and nothing was granted. File a new ticket if you still need the access.',
    ),
  );
  const incidentId = cancelled.incidentId;
  if (incidentId) {
    await followUps.attempt('note on the incident', () =>
      deps.pager.addNote(incidentId, 'Cancelled: no decision in time. Nothing was granted.'),
    );
    await followUps.attempt('resolving the incident', () => deps.pager.resolve(incidentId));
  }
  return cancelled.id;
}
