// A ticket moved to a closing status (by status category, `done` unless
// configured otherwise) ends its request: one still waiting is CANCELLED, one
// granted is revoked early. Only the requester's or a configured admin's move
// counts, read from the webhook's changelog; loopgate's own moves (it moves
// tickets to "Granted", "Declined", … itself) and moves of finished requests
// change nothing, and each Jira change is applied at most once.

import { ConflictError } from '../errors';
import { FollowUps, queueFollowUps } from '../follow-up';
import { isFinal, TransitionConflictError } from '../lifecycle';
import type { AccessRequest, Actor } from '../model';
import type { RequestStore, Tracker, WorkQueue } from '../ports';

/** One status change as Jira's `jira:issue_updated` webhook reports it. */
export interface TicketStatusChange {
  issueKey: string;
  projectKey: string;
  issueType: string;
  /** The changelog's id: Jira gives every change its own, so a replay of the same change is recognisable. */
  changelogId: string;
  /** Who moved the ticket (the webhook's `user`); absent when Jira names nobody. */
  actorAccountId?: string;
  from: { id: string; name: string };
  /** `categoryKey` is known only when the issue in the payload still stands in this status. */
  to: { id: string; name: string; categoryKey?: string };
}

export interface TicketClosingSettings {
  /** Status category keys (Jira has `new`, `indeterminate`, `done`) whose statuses close a request. */
  statusCategories: readonly string[];
  /** Status names that close a request whatever their category (compared ignoring case). */
  statuses: readonly string[];
  /** Jira account ids, besides the requester's, whose moves count: the access admins. */
  adminAccountIds: readonly string[];
}

export const DEFAULT_TICKET_CLOSING: TicketClosingSettings = {
  statusCategories: ['done'],
  statuses: [],
  adminAccountIds: [],
};

export interface TicketLifecycleDeps {
  store: RequestStore;
  queue: WorkQueue;
  tracker: Pick<Tracker, 'ownAccountId'>;
}

export type TicketLifecycleOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'answered'; requestId: string; result: string; problems?: string[] };

/**
 * Provisioning is running: cancelling now could leave a grant that is made but not yet recorded.
 * Jira retries a 409, and by then the request is GRANTED (revoked at once) or FAILED (cleaned up).
 */
export class ProvisioningInFlightError extends ConflictError {}

/** Racing writers (a vote, triage, a retry): read again and decide again, a few times. */
const MAX_ATTEMPTS = 4;

export function isClosingStatus(change: TicketStatusChange, settings: TicketClosingSettings): boolean {
  const name = change.to.name.toLowerCase();
  return (
    settings.statuses.some((s) => s.toLowerCase() === name) ||
    (change.to.categoryKey !== undefined && settings.statusCategories.includes(change.to.categoryKey))
  );
}

export async function onTicketStatusChange(
  deps: TicketLifecycleDeps,
  settings: TicketClosingSettings,
  change: TicketStatusChange,
): Promise<TicketLifecycleOutcome> {
  if (change.from.id === change.to.id) return { kind: 'ignored', reason: 'the status did not change' };
  if (!isClosingStatus(change, settings)) {
    return { kind: 'ignored', reason: `"${change.to.name}" is not a closing status` };
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await closeRequest(deps, settings, change);
    } catch (error) {
      if (!(error instanceof TransitionConflictError) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}

async function closeRequest(
  deps: TicketLifecycleDeps,
  settings: TicketClosingSettings,
  change: TicketStatusChange,
): Promise<TicketLifecycleOutcome> {
  const request = await deps.store.getByJiraIssueKey(change.issueKey);
  if (!request) return { kind: 'ignored', reason: `no request for ${change.issueKey}` };
  // A finished request stays finished: reopening and closing again, or a replay, changes nothing.
  if (isFinal(request.state)) return { kind: 'ignored', reason: `request is ${request.state}` };
  // FAILED already has the sweeper removing whatever it holds.
  if (request.state === 'FAILED') return { kind: 'ignored', reason: 'request is FAILED' };
  const actorId = change.actorAccountId;
  if (!actorId) return { kind: 'ignored', reason: 'Jira names nobody who moved the ticket' };
  // loopgate moves tickets itself (to "Granted" after a grant): that must never end the grant.
  const own = await deps.tracker.ownAccountId?.();
  if (own !== undefined && actorId === own) return { kind: 'ignored', reason: "loopgate's own move" };

  const trail = await deps.store.listAuditEvents(request.id);
  const applied = trail.find((e) => e.evidence?.jiraChangelogId === change.changelogId);
  if (applied) {
    // An early revoke was recorded, but its message may have been lost with the attempt that failed:
    // send it again (revoking is idempotent). Anything else already happened once.
    if (request.state !== 'GRANTED' || applied.evidence?.securityEvent !== undefined) {
      return { kind: 'ignored', reason: `change ${change.changelogId} was already applied` };
    }
    await deps.queue.send('revoke', { requestId: request.id });
    return { kind: 'answered', requestId: request.id, result: 'revoke queued again' };
  }
  const evidence = {
    jiraChangelogId: change.changelogId,
    status: { from: change.from.name, to: change.to.name, category: change.to.categoryKey ?? null },
  };
  const isRequester = actorId === request.requester.jiraAccountId;
  if (!isRequester && !settings.adminAccountIds.includes(actorId)) {
    await deps.store.recordEvent({
      requestId: request.id,
      state: request.state,
      expectedVersion: request.version,
      audit: {
        actor: { kind: 'person', id: `jira:${actorId}` },
        reason: `ticket moved to "${change.to.name}" by someone other than the requester or an admin: the request goes on`,
        evidence: { ...evidence, securityEvent: 'ignored-ticket-close' },
      },
    });
    return {
      kind: 'answered',
      requestId: request.id,
      result: 'ignored: not the requester or an admin',
    };
  }
  const actor: Actor = isRequester
    ? {
        kind: 'person',
        id: request.requester.email ?? `jira:${actorId}`,
        ...(request.requester.directoryUserId ? { personId: request.requester.directoryUserId } : {}),
      }
    : { kind: 'person', id: `jira:${actorId}` };
  const who = isRequester ? 'the requester' : 'an admin';

  switch (request.state) {
    case 'RECEIVED':
    case 'TRIAGING':
    case 'PENDING':
      return cancel(deps, request, actor, who, change, evidence);
    case 'GRANTED':
      return revokeEarly(deps, request, actor, who, change, evidence);
    case 'APPROVED':
      throw new ProvisioningInFlightError(
        `request ${request.id} is being provisioned; the ticket's close is applied once that ends (retry later)`,
      );
    default:
      return { kind: 'ignored', reason: `request is ${request.state}` };
  }
}

async function cancel(
  deps: TicketLifecycleDeps,
  request: AccessRequest,
  actor: Actor,
  who: string,
  change: TicketStatusChange,
  evidence: Record<string, unknown>,
): Promise<TicketLifecycleOutcome> {
  const followUps = new FollowUps()
    .note(
      request.incidentId,
      `Cancelled: ${who} moved ${request.jiraIssueKey} to "${change.to.name}". Nothing will be granted; no decision is needed.`,
    )
    .resolve(request.incidentId)
    .comment(
      request.jiraIssueKey,
      `This request is cancelled: the ticket was moved to "${change.to.name}". Nothing was granted. Reopening the ticket does not revive it; file a new ticket if you need the access.`,
    );
  await deps.store.transition({
    requestId: request.id,
    from: request.state,
    to: 'CANCELLED',
    expectedVersion: request.version,
    audit: { actor, reason: `ticket moved to "${change.to.name}" by ${who}`, evidence },
    followUps: followUps.items,
  });
  await queueFollowUps(deps, request.id, followUps);
  return answered(request.id, 'CANCELLED', followUps);
}

/** The revoke function holds the permissions to remove access: this records who asked and queues it. */
async function revokeEarly(
  deps: TicketLifecycleDeps,
  request: AccessRequest,
  actor: Actor,
  who: string,
  change: TicketStatusChange,
  evidence: Record<string, unknown>,
): Promise<TicketLifecycleOutcome> {
  const followUps = new FollowUps().note(
    request.incidentId,
    `Revoking now: ${who} moved ${request.jiraIssueKey} to "${change.to.name}".`,
  );
  await deps.store.recordEvent({
    requestId: request.id,
    state: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `early revoke: ticket moved to "${change.to.name}" by ${who}`,
      evidence,
    },
    followUps: followUps.items,
  });
  await deps.queue.send('revoke', { requestId: request.id });
  await queueFollowUps(deps, request.id, followUps);
  return answered(request.id, 'revoke queued', followUps);
}

function answered(requestId: string, result: string, followUps: FollowUps): TicketLifecycleOutcome {
  return {
    kind: 'answered',
    requestId,
    result,
    ...(followUps.problems.length ? { problems: followUps.problems } : {}),
  };
}
