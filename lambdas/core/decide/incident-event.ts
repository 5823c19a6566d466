// What loopgate does with a verified PagerDuty event about one of its incidents:
// a note is read as a command from a person (approve, deny, info, …), checked
// against who may decide, and recorded; a resolved incident with no decision
// cancels the request. Every refused attempt is answered with a note and
// recorded in the audit trail as a security event. A source that cannot be
// asked right now throws, so the delivery is retried instead of answered wrong.

import { type Catalog, type Entitlement, entitlementById } from '../catalog';
import { UpstreamError } from '../errors';
import { FollowUps } from '../follow-up';
import type { IdentitySettings } from '../people';
import { TransitionConflictError } from '../lifecycle';
import type { AccessRequest, Actor } from '../model';
import type { Clock, Directory, OnCall, Pager, PagerUser, RequestStore, Tracker, WorkQueue } from '../ports';
import { duration, minute } from '../triage/text';
import { authorizeApprover } from './authorize';
import { type Command, parseCommand } from './command';
import { applyDecision } from './decide';
import { sameAddress } from './identity';

export type IncidentEvent =
  | {
      kind: 'annotated';
      incidentId: string;
      noteId: string;
      /** As the webhook carries it: cut when `trimmed`. */
      content: string;
      trimmed: boolean;
      /** The PagerDuty user who wrote the note. */
      agentId?: string;
      occurredAt: string;
    }
  | { kind: 'resolved'; incidentId: string; agentId?: string; occurredAt: string };

type AnnotatedEvent = Extract<IncidentEvent, { kind: 'annotated' }>;

export interface DecideDeps {
  store: RequestStore;
  pager: Pager;
  tracker: Pick<Tracker, 'comment' | 'moveTo'>;
  directory: Directory;
  onCall: OnCall;
  queue: WorkQueue;
  catalog: Catalog;
  clock: Clock;
}

export interface DecideSettings {
  /** loopgate's own PagerDuty user (the From address): its notes are never commands. */
  loopgateEmail: string;
  /** How a PagerDuty user is found in the directory. */
  identity: IdentitySettings;
  /** Cancel a PENDING request when its incident is resolved without a decision (default true). */
  cancelOnResolve: boolean;
  /** When the sweeper should look again at an APPROVED request that provisioning has not picked up. */
  provisionDueMs: number;
  /** Jira statuses to move the ticket to, by name, when configured. */
  jiraStatuses: { approved?: string; denied?: string; cancelled?: string };
}

export type EventOutcome =
  | { kind: 'ignored'; reason: string }
  | {
      kind: 'answered';
      requestId: string;
      result: string;
      /** Steps after the recorded decision that failed (a note, a comment): for the log. */
      problems?: string[];
    };

const SYSTEM: Actor = { kind: 'system', id: 'pagerduty-webhook' };
/** A racing writer (the other approver, a retry) moved the request: read it again and decide again. */
const MAX_ATTEMPTS = 4;

export async function handleIncidentEvent(
  deps: DecideDeps,
  settings: DecideSettings,
  event: IncidentEvent,
): Promise<EventOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return event.kind === 'annotated'
        ? await onNote(deps, settings, event)
        : await onResolved(deps, settings, event);
    } catch (error) {
      if (!(error instanceof TransitionConflictError) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}

async function onNote(
  deps: DecideDeps,
  settings: DecideSettings,
  event: Extract<IncidentEvent, { kind: 'annotated' }>,
): Promise<EventOutcome> {
  const found = await requestOf(deps, event.incidentId);
  if (found.kind === 'ignored') return found;
  const { request, entitlement } = found;
  if (
    request.decisions.some((d) => d.sourceId === event.noteId) ||
    request.review?.sourceId === event.noteId
  ) {
    return { kind: 'ignored', reason: `note ${event.noteId} was already counted` };
  }
  if (!event.agentId) return { kind: 'ignored', reason: 'the note has no author' };
  const author = await deps.pager.getUser(event.agentId);
  if (!author) return { kind: 'ignored', reason: `no PagerDuty user ${event.agentId}` };
  if (sameAddress(author.email, settings.loopgateEmail)) {
    return { kind: 'ignored', reason: "loopgate's own note" };
  }

  const content = event.trimmed
    ? ((await deps.pager.getNote(event.incidentId, event.noteId))?.content ?? event.content)
    : event.content;
  const parsed = parseCommand(content);
  if (parsed.kind === 'discussion') return { kind: 'ignored', reason: 'discussion, not a command' };
  const answer = (result: string): EventOutcome => ({ kind: 'answered', requestId: request.id, result });
  if (parsed.kind === 'mistake') {
    await deps.pager.addNote(event.incidentId, parsed.message);
    return answer(`syntax help for "${parsed.verb}"`);
  }

  const { command } = parsed;
  const reviewing = isBreakGlassReview(request, command);
  const authorization = await authorizeApprover(
    { ...deps, identity: settings.identity },
    {
      verb: command.verb,
      author: { pagerDutyUserId: author.id, email: author.email },
      requester: request.requester,
      entitlement: reviewing ? breakGlassReviewers(entitlement) : entitlement,
      notedAt: new Date(event.occurredAt),
    },
  );
  if (!authorization.allowed) {
    if (authorization.retryable) {
      throw new UpstreamError('authorization', 'unavailable', authorization.reason, {
        cause: authorization.cause,
      });
    }
    await refuse(deps, request, event, { kind: 'person', id: author.email }, command, authorization.reason);
    return answer(`refused ${command.verb}: ${authorization.reason}`);
  }
  // From here on the author is the directory's person: decisions and quorum count them by that id.
  const actor: Actor = { kind: 'person', id: author.email, personId: authorization.person.id };

  if (reviewing && (command.verb === 'approve' || command.verb === 'deny')) {
    return reviewBreakGlass(deps, {
      request,
      event,
      actor,
      approved: command.verb === 'approve',
      ...(command.reason ? { reason: command.reason } : {}),
    });
  }
  switch (command.verb) {
    case 'approve':
    case 'deny':
      return vote(deps, settings, {
        request,
        entitlement,
        event,
        actor,
        author,
        command,
        via: authorization.via,
      });
    case 'info':
      return askRequester(deps, { request, event, actor, author, question: command.question });
    case 'revoke':
    case 'extend': {
      if (request.state !== 'GRANTED' || !request.grant) {
        const reason = `there is nothing to ${command.verb}: request ${request.jiraIssueKey} is ${request.state}, not GRANTED`;
        await refuse(deps, request, event, actor, command, reason);
        return answer(`refused ${command.verb}: ${reason}`);
      }
      return command.verb === 'revoke'
        ? revokeEarly(deps, { request, event, actor, reason: command.reason })
        : extend(deps, { request, entitlement, event, actor, seconds: command.durationSeconds });
    }
  }
}

/** approve/deny on a break-glass request once it was granted: the review after the fact, not a vote. */
function isBreakGlassReview(request: AccessRequest, command: Command): boolean {
  return (
    request.breakGlass &&
    (command.verb === 'approve' || command.verb === 'deny') &&
    (request.state === 'GRANTED' || request.state === 'REVOKED' || request.state === 'FAILED')
  );
}

/**
 * Who reviews a break-glass grant: whoever the catalog alerts (on call for its escalation policy,
 * or listed), not the owners, who could have approved it the ordinary way.
 */
function breakGlassReviewers(entitlement: Entitlement): Entitlement {
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
async function reviewBreakGlass(
  deps: DecideDeps,
  input: { request: AccessRequest; event: AnnotatedEvent; actor: Actor; approved: boolean; reason?: string },
): Promise<EventOutcome> {
  const { request, event, actor } = input;
  const followUps = new FollowUps();
  if (request.review) {
    await followUps.attempt('note on the incident', () =>
      deps.pager.addNote(
        event.incidentId,
        `This break-glass grant was reviewed already: ${request.review?.outcome} by ${request.review?.by} at ${minute(request.review?.at ?? '')}.`,
      ),
    );
    return { kind: 'answered', requestId: request.id, result: 'already reviewed', ...problemsOf(followUps) };
  }
  const revoking = !input.approved && request.state === 'GRANTED';
  const outcome = input.approved ? 'kept' : 'revoked';
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
  });
  if (revoking) await deps.queue.send('revoke', { requestId: request.id });
  const message = input.approved
    ? request.state === 'GRANTED'
      ? 'Break-glass review recorded; the access stays until it expires.'
      : 'Break-glass review recorded.'
    : revoking
      ? 'Break-glass review recorded: refused. Revoking now.'
      : `Break-glass review recorded: refused. The access is no longer granted (${request.state}).`;
  await followUps.attempt('note on the incident', () => deps.pager.addNote(event.incidentId, message));
  return {
    kind: 'answered',
    requestId: request.id,
    result: `break-glass review: ${outcome}`,
    ...problemsOf(followUps),
  };
}

/** Revoking is the revoke function's work (it holds the permissions); this records who asked and queues it. */
async function revokeEarly(
  deps: DecideDeps,
  input: { request: AccessRequest; event: AnnotatedEvent; actor: Actor; reason?: string },
): Promise<EventOutcome> {
  const { request, event, actor } = input;
  await deps.store.recordEvent({
    requestId: request.id,
    state: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `early revoke asked by ${actor.id}${input.reason ? `: ${input.reason}` : ''}`,
      evidence: { noteId: event.noteId },
    },
  });
  await deps.queue.send('revoke', { requestId: request.id });
  const followUps = new FollowUps();
  await followUps.attempt('note on the incident', () =>
    deps.pager.addNote(event.incidentId, 'Revoking now.'),
  );
  return { kind: 'answered', requestId: request.id, result: 'revoke queued', ...problemsOf(followUps) };
}

/**
 * Moves the expiry later, never beyond the catalog maximum counted from the original grant. The
 * record changes here; the provision function then moves the revoke schedule and, for an IAM
 * inline grant, the policy's own expiry condition (until it does, access ends at the earlier time).
 */
async function extend(
  deps: DecideDeps,
  input: {
    request: AccessRequest;
    entitlement: Entitlement;
    event: AnnotatedEvent;
    actor: Actor;
    seconds: number;
  },
): Promise<EventOutcome> {
  const { request, entitlement, event, actor } = input;
  const grant = request.grant as NonNullable<AccessRequest['grant']>;
  const latest = Date.parse(grant.grantedAt) + entitlement.duration.max * 1000;
  const wanted = Date.parse(grant.expiresAt) + input.seconds * 1000;
  const expiresAt = new Date(Math.min(wanted, latest));
  if (expiresAt.getTime() <= Date.parse(grant.expiresAt)) {
    const reason = `${entitlement.id} may be held for at most ${duration(entitlement.duration.max)} from the grant, which ends ${minute(grant.expiresAt)} already`;
    await refuse(deps, request, event, actor, { verb: 'extend', durationSeconds: input.seconds }, reason);
    return { kind: 'answered', requestId: request.id, result: `refused extend: ${reason}` };
  }
  const capped = expiresAt.getTime() < wanted;
  const extended = await deps.store.transition({
    requestId: request.id,
    from: 'GRANTED',
    to: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `extended by ${actor.id} until ${minute(expiresAt.toISOString())}${capped ? ' (capped at the catalog maximum)' : ''}`,
      evidence: { noteId: event.noteId, from: grant.expiresAt, to: expiresAt.toISOString() },
    },
    changes: { grant: { ...grant, expiresAt: expiresAt.toISOString() }, dueAt: expiresAt.toISOString() },
  });
  await deps.queue.send('provision', { requestId: request.id });
  const followUps = new FollowUps();
  const message = `Extended until ${minute(expiresAt.toISOString())}${capped ? `, the most ${entitlement.id} allows` : ''}.`;
  await followUps.attempt('note on the incident', () => deps.pager.addNote(event.incidentId, message));
  await followUps.attempt('Jira comment', () =>
    deps.tracker.comment(
      extended.jiraIssueKey,
      `Your access to ${entitlement.id} was extended by ${actor.id}: it now ends ${minute(expiresAt.toISOString())} (${expiresAt.toISOString()}).`,
    ),
  );
  return { kind: 'answered', requestId: request.id, result: 'extended', ...problemsOf(followUps) };
}

function problemsOf(followUps: FollowUps): { problems?: string[] } {
  return followUps.problems.length ? { problems: followUps.problems } : {};
}

async function vote(
  deps: DecideDeps,
  settings: DecideSettings,
  input: {
    request: AccessRequest;
    entitlement: Entitlement;
    event: Extract<IncidentEvent, { kind: 'annotated' }>;
    actor: Actor;
    author: PagerUser;
    command: Extract<Command, { verb: 'approve' | 'deny' }>;
    via: string;
  },
): Promise<EventOutcome> {
  const { request, entitlement, event, actor, author, command } = input;
  const step = applyDecision(
    request,
    entitlement,
    {
      outcome: command.verb,
      actor,
      sourceId: event.noteId,
      ...(command.reason ? { comment: command.reason } : {}),
      ...(command.verb === 'approve' && command.durationSeconds !== undefined
        ? { durationSeconds: command.durationSeconds }
        : {}),
    },
    deps.clock.now(),
  );
  const answered = (result: string): EventOutcome => ({ kind: 'answered', requestId: request.id, result });
  if (step.kind === 'refuse') {
    await refuse(deps, request, event, actor, command, step.message);
    return answered(`refused ${command.verb}: ${step.message}`);
  }
  if (step.kind === 'duplicate') {
    await deps.pager.addNote(event.incidentId, step.message);
    return answered(`duplicate ${command.verb}`);
  }

  const who = `${author.name} <${author.email}>`;
  const decided = await deps.store.transition({
    requestId: request.id,
    from: request.state,
    to: step.to,
    expectedVersion: request.version,
    audit: {
      actor,
      reason:
        step.to === 'DENIED'
          ? `denied by ${author.email}: ${command.reason ?? ''}`.trim()
          : step.to === 'APPROVED'
            ? `approved by ${author.email}; quorum reached`
            : `approval by ${author.email} recorded; quorum not yet reached`,
      evidence: { noteId: event.noteId, incidentId: event.incidentId, authorizedAs: input.via },
    },
    changes: {
      decisions: step.decisions,
      // APPROVED waits for provisioning; the sweeper re-drives it if that message is lost.
      ...(step.to === 'APPROVED' ? { dueAt: at(deps, settings.provisionDueMs) } : {}),
      ...(step.to === 'PENDING' && request.dueAt ? { dueAt: request.dueAt } : {}),
    },
  });
  // The decision is recorded: what follows must not undo it or make PagerDuty send it again, so a
  // failure is reported, not thrown. A lost provisioning message is re-sent by the sweeper (dueAt).
  const followUps = new FollowUps();
  const attempt = (what: string, work: () => Promise<unknown>) => followUps.attempt(what, work);
  const problems = followUps.problems;
  await attempt('note on the incident', () => deps.pager.addNote(event.incidentId, step.message));
  if (step.to === 'APPROVED') {
    await attempt('provisioning message', () => deps.queue.send('provision', { requestId: decided.id }));
    const granted = step.durationSeconds ?? decided.durationSeconds;
    await attempt('Jira comment', () =>
      deps.tracker.comment(
        decided.jiraIssueKey,
        `Approved by ${approverList(decided)} for ${duration(granted)}. The access is being granted; this ticket will say when it is in place and when it ends.`,
      ),
    );
    await followUps.moveTicket(deps.tracker, decided.jiraIssueKey, settings.jiraStatuses.approved);
  } else if (step.to === 'DENIED') {
    await attempt('Jira comment', () =>
      deps.tracker.comment(
        decided.jiraIssueKey,
        `Denied by ${who}: ${command.reason ?? 'no reason given'}. Nothing was granted.`,
      ),
    );
    await followUps.moveTicket(deps.tracker, decided.jiraIssueKey, settings.jiraStatuses.denied);
    await attempt('resolving the incident', () => deps.pager.resolve(event.incidentId));
  }
  return {
    ...answered(step.to === 'PENDING' ? 'approval recorded, quorum not met' : step.to),
    ...(problems.length ? { problems } : {}),
  };
}

async function askRequester(
  deps: DecideDeps,
  input: {
    request: AccessRequest;
    event: Extract<IncidentEvent, { kind: 'annotated' }>;
    actor: Actor;
    author: PagerUser;
    question: string;
  },
): Promise<EventOutcome> {
  const { request, event, actor, author, question } = input;
  await deps.tracker.comment(
    request.jiraIssueKey,
    `${author.name} (${author.email}), who is reviewing this request, asks: ${question}\nPlease answer here; the reviewers see this ticket.`,
  );
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: { actor, reason: `asked the requester: ${question}`, evidence: { noteId: event.noteId } },
  });
  await deps.pager.addNote(
    event.incidentId,
    `Asked ${request.requester.displayName ?? 'the requester'} on ${request.jiraIssueKey}.`,
  );
  return { kind: 'answered', requestId: request.id, result: 'question posted on Jira' };
}

/** A refused attempt: audited as a security event, and the author is told why. */
async function refuse(
  deps: DecideDeps,
  request: AccessRequest,
  event: Extract<IncidentEvent, { kind: 'annotated' }>,
  actor: Actor,
  command: Command,
  reason: string,
): Promise<void> {
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `refused ${command.verb} by ${actor.id}: ${reason}`,
      evidence: { securityEvent: 'refused-command', verb: command.verb, noteId: event.noteId },
    },
  });
  await deps.pager.addNote(event.incidentId, `Not accepted: ${reason}`);
}

async function onResolved(
  deps: DecideDeps,
  settings: DecideSettings,
  event: Extract<IncidentEvent, { kind: 'resolved' }>,
): Promise<EventOutcome> {
  const found = await requestOf(deps, event.incidentId);
  if (found.kind === 'ignored') return found;
  const { request } = found;
  if (request.state !== 'PENDING') return { kind: 'ignored', reason: `request is ${request.state}` };
  if (!settings.cancelOnResolve) return { kind: 'ignored', reason: 'resolving does not cancel (configured)' };
  const author = event.agentId ? await deps.pager.getUser(event.agentId) : undefined;
  const actor: Actor = author ? { kind: 'person', id: author.email } : SYSTEM;
  const cancelled = await deps.store.transition({
    requestId: request.id,
    from: 'PENDING',
    to: 'CANCELLED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: 'the incident was resolved without a decision',
      evidence: { incidentId: event.incidentId },
    },
  });
  const followUps = new FollowUps();
  const attempt = (what: string, work: () => Promise<unknown>) => followUps.attempt(what, work);
  const problems = followUps.problems;
  await attempt('Jira comment', () =>
    deps.tracker.comment(
      cancelled.jiraIssueKey,
      `The page was closed${author ? ` by ${author.name}` : ''} without a decision, so this request is cancelled and nothing was granted. File a new ticket if you still need the access.`,
    ),
  );
  await followUps.moveTicket(deps.tracker, cancelled.jiraIssueKey, settings.jiraStatuses.cancelled);
  return {
    kind: 'answered',
    requestId: request.id,
    result: 'CANCELLED',
    ...(problems.length ? { problems } : {}),
  };
}

async function requestOf(
  deps: DecideDeps,
  incidentId: string,
): Promise<
  { kind: 'found'; request: AccessRequest; entitlement: Entitlement } | { kind: 'ignored'; reason: string }
> {
  const request = await deps.store.getByIncidentId(incidentId);
  if (!request) return { kind: 'ignored', reason: `incident ${incidentId} is not a loopgate page` };
  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  if (!entitlement) {
    return { kind: 'ignored', reason: `entitlement ${request.entitlementId} is no longer in the catalog` };
  }
  return { kind: 'found', request, entitlement };
}

function at(deps: DecideDeps, ms: number): string {
  return new Date(deps.clock.now().getTime() + ms).toISOString();
}

function approverList(request: AccessRequest): string {
  return request.decisions
    .filter((d) => d.outcome === 'approve' && d.actor.kind === 'person')
    .map((d) => d.actor.id)
    .join(' and ');
}
