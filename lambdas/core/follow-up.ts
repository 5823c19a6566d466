// What follows a recorded step (a note on the incident, a Jira comment, the
// ticket's status, resolving the incident) must neither undo the step nor be
// lost when Jira or PagerDuty is down. So it is an outbox: the step's writer
// lists the follow-ups (FollowUps) and the store writes them in the same
// transaction as the step; then whoever holds the vendors' keys delivers them
// (`deliverFollowUps`: the writer itself right away, the decide function when a
// webhook only queued them, the sweeper for anything still waiting). Each is
// claimed before it is sent and removed after, so it is sent once unless a
// deliverer crashes in between; a failure is retried later with backoff,
// keeping the order of one request's notes and of its Jira updates.

import { NotFoundError, ValidationError } from './errors';
import type { FollowUp, PendingFollowUp } from './model';
import type { Clock, FollowUpOutbox, Pager, Tracker, WorkQueue } from './ports';

export class FollowUps {
  readonly items: FollowUp[] = [];
  /** Work that is not a follow-up (a queue message the sweeper re-drives anyway) and failed. */
  readonly problems: string[] = [];

  note(incidentId: string | undefined, content: string): this {
    if (incidentId) this.items.push({ kind: 'note', incidentId, content });
    return this;
  }

  comment(issueKey: string, body: string): this {
    this.items.push({ kind: 'comment', issueKey, body });
    return this;
  }

  /** Moves the ticket to the configured status, if one is configured. */
  moveTicket(issueKey: string, status: string | undefined): this {
    if (status) this.items.push({ kind: 'move-ticket', issueKey, status });
    return this;
  }

  resolve(incidentId: string | undefined): this {
    if (incidentId) this.items.push({ kind: 'resolve-incident', incidentId });
    return this;
  }

  /** Delivers the request's outbox (these follow-ups, once written with the step, and any left before). */
  async deliver(deps: FollowUpDeps, requestId: string): Promise<void> {
    const failed = await deliverFollowUps(deps, await deps.outbox.followUpsOf(requestId));
    this.problems.push(...failed.map((f) => f.problem));
  }

  /** Work whose failure must not undo the recorded step: reported, not thrown. */
  async attempt(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.problems.push(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * For a webhook, which answers without waiting for Jira or PagerDuty: the decide function delivers
 * the follow-ups written with the step (the sweeper does, if this message is lost).
 */
export async function queueFollowUps(
  deps: { queue: WorkQueue },
  requestId: string,
  followUps: FollowUps,
): Promise<void> {
  await followUps.attempt('queueing the follow-ups', () =>
    deps.queue.send('decide', { followUpsOf: requestId }),
  );
}

export interface FollowUpDeps {
  outbox: FollowUpOutbox;
  pager: Pick<Pager, 'addNote' | 'resolve'>;
  tracker: Pick<Tracker, 'comment' | 'moveTo'>;
  clock: Clock;
}

/** Longer than any one delivery takes; a deliverer that crashed frees its claim after this. */
const CLAIM_MS = 2 * 60_000;
const FIRST_RETRY_MS = 60_000;
const MAX_RETRY_MS = 60 * 60_000;
/** About a day of retries at the longest backoff: past that a person must look (the log says what). */
export const MAX_FOLLOW_UP_ATTEMPTS = 30;

/** A delivery that failed, for the log. */
export interface FollowUpProblem {
  requestId: string;
  problem: string;
}

/**
 * Delivers what is due of `pending` (a request's outbox, or the sweeper's due list), in order.
 * Returns what failed; nothing is thrown, since the step it follows is recorded.
 */
export async function deliverFollowUps(
  deps: FollowUpDeps,
  pending: PendingFollowUp[],
): Promise<FollowUpProblem[]> {
  const problems: FollowUpProblem[] = [];
  // Once a request's note (or Jira update) waits, its later ones wait too: people read them in order.
  const held = new Set<string>();
  for (const item of [...pending].sort(byPosition)) {
    const lane = `${item.requestId}:${laneOf(item.followUp)}`;
    const now = deps.clock.now();
    if (held.has(lane) || Date.parse(item.dueAt) > now.getTime()) {
      held.add(lane);
      continue;
    }
    const claimed = await deps.outbox.claimFollowUp(item, new Date(now.getTime() + CLAIM_MS));
    if (!claimed) {
      held.add(lane);
      continue;
    }
    try {
      await deliver(deps, claimed.followUp);
      await deps.outbox.finishFollowUp(claimed);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const what = `${describe(claimed.followUp)} (attempt ${claimed.attempts})`;
      if (isPermanent(error) || claimed.attempts >= MAX_FOLLOW_UP_ATTEMPTS) {
        await deps.outbox.finishFollowUp(claimed);
        problems.push({ requestId: claimed.requestId, problem: `${what} failed for good: ${message}` });
      } else {
        const wait = Math.min(FIRST_RETRY_MS * 2 ** (claimed.attempts - 1), MAX_RETRY_MS);
        await deps.outbox.retryFollowUp(claimed, new Date(deps.clock.now().getTime() + wait), message);
        problems.push({
          requestId: claimed.requestId,
          problem: `${what} failed, retried in ${Math.round(wait / 60_000)} min: ${message}`,
        });
        held.add(lane);
      }
    }
  }
  return problems;
}

async function deliver(deps: FollowUpDeps, followUp: FollowUp): Promise<void> {
  switch (followUp.kind) {
    case 'note':
      return deps.pager.addNote(followUp.incidentId, followUp.content);
    case 'resolve-incident':
      return deps.pager.resolve(followUp.incidentId);
    case 'comment':
      return deps.tracker.comment(followUp.issueKey, followUp.body);
    case 'move-ticket':
      if ((await deps.tracker.moveTo(followUp.issueKey, followUp.status)) === 'no-such-transition') {
        throw new ValidationError(
          `the workflow has no transition to "${followUp.status}" from where ${followUp.issueKey} is`,
        );
      }
  }
}

/** A missing incident or ticket, or a workflow without the status, stays so: retrying cannot help. */
function isPermanent(error: unknown): boolean {
  return error instanceof NotFoundError || error instanceof ValidationError;
}

function laneOf(followUp: FollowUp): 'pagerduty' | 'jira' {
  return followUp.kind === 'note' || followUp.kind === 'resolve-incident' ? 'pagerduty' : 'jira';
}

function describe(followUp: FollowUp): string {
  switch (followUp.kind) {
    case 'note':
      return `note on incident ${followUp.incidentId}`;
    case 'resolve-incident':
      return `resolving incident ${followUp.incidentId}`;
    case 'comment':
      return `Jira comment on ${followUp.issueKey}`;
    case 'move-ticket':
      return `moving ${followUp.issueKey} to ${followUp.status}`;
  }
}

/** Ids are `<request>:<version>:<position>`: compare the numbers, not the text. */
function byPosition(a: PendingFollowUp, b: PendingFollowUp): number {
  const parts = (item: PendingFollowUp) =>
    item.id
      .slice(item.requestId.length + 1)
      .split(':')
      .map(Number);
  const [av = 0, ap = 0] = parts(a);
  const [bv = 0, bp = 0] = parts(b);
  return a.requestId.localeCompare(b.requestId) || av - bv || ap - bp;
}
