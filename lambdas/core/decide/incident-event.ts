// What loopgate does with a verified PagerDuty event about one of its incidents:
// a note is read as a command from a person (approve, deny, info, …), checked
// against who may decide, and recorded; a resolved incident with no decision
// cancels the request. Every refused attempt is answered with a note and
// recorded in the audit trail as a security event. A source that cannot be
// asked right now throws, so the delivery is retried instead of answered wrong.

import { UpstreamError } from '../errors';
import { TransitionConflictError } from '../lifecycle';
import type { Actor } from '../model';
import { extend, revokeEarly } from './access-commands';
import { askRequester } from './ask';
import { authorizeApprover } from './authorize';
import { parseCommand } from './command';
import {
  type AnnotatedEvent,
  type DecideDeps,
  type DecideSettings,
  type EventOutcome,
  type IncidentEvent,
  requestOf,
} from './deps';
import { sameAddress } from './identity';
import { refuse } from './refuse';
import { onResolved } from './resolved';
import { breakGlassReviewers, isBreakGlassReview, reviewBreakGlass } from './review';
import { vote } from './vote';

export type { AnnotatedEvent, DecideDeps, DecideSettings, EventOutcome, IncidentEvent } from './deps';

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
  event: AnnotatedEvent,
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
