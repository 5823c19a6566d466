// What loopgate does with a verified PagerDuty event about one of its incidents:
// a note is read as a command from a person (approve, deny, info, …), checked
// against who may decide, and recorded; a resolved incident with no decision
// cancels the request. Every refused attempt is answered with a note and
// recorded in the audit trail as a security event. A source that cannot be
// asked right now throws, so the delivery is retried instead of answered wrong.

import { UpstreamError } from '../errors';
import { FollowUps } from '../follow-up';
import { TransitionConflictError } from '../lifecycle';
import type { Actor } from '../model';
import { resendAfterRecord } from './access-commands';
import { applyCommand } from './apply';
import { authorizeApprover } from './authorize';
import { parseCommand } from './command';
import {
  answered,
  type AnnotatedEvent,
  type DecideDeps,
  type DecideSettings,
  type EventOutcome,
  type IncidentEvent,
  isHandled,
  requestOf,
} from './deps';
import { sameAddress } from './identity';
import { refuse } from './refuse';
import { answerStepUps } from './step-up-answer';
import { approvalPlan, hasStages, openStage, personKey, type PlannedStage } from './stages';
import type { Authorization } from './authorize';
import type { Command } from './command';
import type { AccessRequest, Decision } from '../model';
import type { Entitlement } from '../catalog';
import type { PagerUser } from '../ports';
import { onResolved } from './resolved';
import { breakGlassReviewers, isBreakGlassReview } from './review';

export type { AnnotatedEvent, DecideDeps, DecideSettings, EventOutcome, IncidentEvent } from './deps';

/** A racing writer (the other approver, a retry) moved the request: read it again and decide again. */
const MAX_ATTEMPTS = 4;

export function handleIncidentEvent(
  deps: DecideDeps,
  settings: DecideSettings,
  event: IncidentEvent,
): Promise<EventOutcome> {
  return withConflictRetries(() =>
    event.kind === 'annotated' ? onNote(deps, settings, event) : onResolved(deps, settings, event),
  );
}

/** Looks again at a request whose commands wait for an Okta Verify push. */
export function handleStepUps(deps: DecideDeps, settings: DecideSettings, requestId: string) {
  return withConflictRetries(() => answerStepUps(deps, settings, requestId));
}

/** Delivers the follow-ups a webhook recorded with a step (the ticket closed, a revoke on Jira). */
export async function deliverQueuedFollowUps(deps: DecideDeps, requestId: string): Promise<EventOutcome> {
  const followUps = new FollowUps();
  await followUps.deliver(deps, requestId);
  return answered(requestId, 'follow-ups delivered', followUps);
}

async function withConflictRetries(work: () => Promise<EventOutcome>): Promise<EventOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof TransitionConflictError) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}

async function onNote(
  deps: DecideDeps,
  settings: DecideSettings,
  event: AnnotatedEvent,
): Promise<EventOutcome> {
  const found = await requestOf(deps, event.incidentId);
  if (found.kind === 'ignored') return found;
  const { request, entitlement } = found;
  if (isHandled(request, event.noteId)) {
    await resendAfterRecord(deps, request, event.noteId);
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
  let reviewing = isBreakGlassReview(request, command);
  const authorizeAgainst = (rules: typeof entitlement) =>
    authorizeApprover(
      { ...deps, identity: settings.identity },
      {
        verb: command.verb,
        author: { pagerDutyUserId: author.id, email: author.email },
        requester: request.requester,
        entitlement: rules,
        notedAt: new Date(event.occurredAt),
      },
    );
  if (
    !reviewing &&
    (command.verb === 'approve' || command.verb === 'deny') &&
    request.state === 'PENDING' &&
    hasStages(entitlement, request)
  ) {
    return onStagedVote(deps, settings, { request, entitlement, event, author, command, authorizeAgainst });
  }
  let authorization = await authorizeAgainst(reviewing ? breakGlassReviewers(entitlement) : entitlement);
  // Ending access and asking the requester are the owners' too: from an owner who is no reviewer, ordinary.
  if (
    reviewing &&
    (command.verb === 'revoke' || command.verb === 'info') &&
    !authorization.allowed &&
    !authorization.retryable
  ) {
    const asOwner = await authorizeAgainst(entitlement);
    if (asOwner.allowed || asOwner.retryable) {
      authorization = asOwner;
      reviewing = false;
    }
  }
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
  const actor: Actor & { personId: string } = {
    kind: 'person',
    id: author.email,
    personId: authorization.person.id,
  };
  return applyCommand(deps, settings, {
    request,
    entitlement,
    event,
    actor,
    author,
    command,
    via: authorization.via,
    reviewing,
    proven: false,
  });
}

/**
 * An approve or deny on a request decided in stages (stages.ts). An approval counts in the open
 * stage only: the author is checked against that stage's approvers first; one who approves in a
 * later stage is told to wait for it. A deny counts from anyone who approves in any stage.
 */
async function onStagedVote(
  deps: DecideDeps,
  settings: DecideSettings,
  input: {
    request: AccessRequest;
    entitlement: Entitlement;
    event: AnnotatedEvent;
    author: PagerUser;
    command: Extract<Command, { verb: 'approve' | 'deny' }>;
    authorizeAgainst: (rules: Entitlement) => Promise<Authorization>;
  },
): Promise<EventOutcome> {
  const { request, entitlement, event, author, command } = input;
  const plan = await approvalPlan(deps, request, entitlement).catch((cause: unknown) => {
    throw new UpstreamError('authorization', 'unavailable', 'could not read the approval stages', { cause });
  });
  const count = (approvals: readonly Decision[]) => new Set(approvals.map(personKey)).size;
  const open = openStage(plan.stages, request.decisions, count) ?? 0;
  // The open stage first; then the others, so a deny counts and an early approver hears when to write.
  const order = [open, ...plan.stages.map((_, i) => i).filter((i) => i !== open)];
  let first: Authorization | undefined;
  let chosen: PlannedStage | undefined;
  let authorization: Authorization | undefined;
  for (const i of order) {
    const stage = plan.stages[i];
    if (!stage) continue;
    const answer = await input.authorizeAgainst(stage.rules);
    first ??= answer;
    if (!answer.allowed && answer.retryable) {
      throw new UpstreamError('authorization', 'unavailable', answer.reason, { cause: answer.cause });
    }
    if (answer.allowed) {
      chosen = stage;
      authorization = answer;
      break;
    }
    // The requester is refused the same way in every stage: no need to ask the others.
    if (answer.reason.startsWith('You asked for this access yourself')) break;
  }
  if (!authorization?.allowed || !chosen) {
    const reason =
      first && !first.allowed
        ? first.reason
        : `${author.email} is not an approver for ${entitlement.id} in any stage.`;
    await refuse(deps, request, event, { kind: 'person', id: author.email }, command, reason);
    return { kind: 'answered', requestId: request.id, result: `refused ${command.verb}: ${reason}` };
  }
  const actor: Actor & { personId: string } = {
    kind: 'person',
    id: author.email,
    personId: authorization.person.id,
  };
  return applyCommand(deps, settings, {
    request,
    entitlement,
    event,
    actor,
    author,
    command,
    via: authorization.via,
    reviewing: false,
    proven: false,
    stage: chosen.key,
    stages: plan.stages,
  });
}
