// "info <question>": the approver's question goes to the requester on the ticket.

import type { AccessRequest, Actor } from '../model';
import type { PagerUser } from '../ports';
import { FollowUps } from '../follow-up';
import { type AnnotatedEvent, answered, type DecideDeps, type EventOutcome, handledNote } from './deps';

export async function askRequester(
  deps: DecideDeps,
  input: {
    request: AccessRequest;
    event: AnnotatedEvent;
    actor: Actor;
    author: PagerUser;
    question: string;
  },
): Promise<EventOutcome> {
  const { request, event, actor, author, question } = input;
  const followUps = new FollowUps()
    .comment(
      request.jiraIssueKey,
      `${author.name} (${author.email}), who is reviewing this request, asks: ${question}\nPlease answer here; the reviewers see this ticket.`,
    )
    .note(
      event.incidentId,
      `Asked ${request.requester.displayName ?? 'the requester'} on ${request.jiraIssueKey}.`,
    );
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: { actor, reason: `asked the requester: ${question}`, evidence: { noteId: event.noteId } },
    changes: handledNote(request, event.noteId),
    followUps: followUps.items,
  });
  await followUps.deliver(deps, request.id);
  return answered(request.id, 'question posted on Jira', followUps);
}
