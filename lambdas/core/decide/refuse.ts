// A refused attempt: audited as a security event, and the author is told why.

import { FollowUps } from '../follow-up';
import type { AccessRequest, Actor } from '../model';
import type { Command } from './command';
import { type AnnotatedEvent, type DecideDeps, handledNote } from './deps';

export async function refuse(
  deps: DecideDeps,
  request: AccessRequest,
  event: AnnotatedEvent,
  actor: Actor,
  command: Command,
  reason: string,
): Promise<void> {
  // Written with the refusal: the note is handled from then on, so a lost reply would stay lost.
  const followUps = new FollowUps().note(event.incidentId, `Not accepted: ${reason}`);
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `refused ${command.verb} by ${actor.id}: ${reason}`,
      evidence: { securityEvent: 'refused-command', verb: command.verb, noteId: event.noteId },
    },
    changes: handledNote(request, event.noteId),
    followUps: followUps.items,
  });
  await followUps.deliver(deps, request.id);
}
