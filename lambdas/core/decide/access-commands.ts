// Commands on access already granted: end it early, or extend it.

import type { Entitlement } from '../catalog';
import { FollowUps } from '../follow-up';
import type { AccessRequest, Actor } from '../model';
import { duration, minute } from '../triage/text';
import { type AnnotatedEvent, answered, type DecideDeps, type EventOutcome, handledNote } from './deps';
import { refuse } from './refuse';

/** Revoking is the revoke function's work (it holds the permissions); this records who asked and queues it. */
export async function revokeEarly(
  deps: DecideDeps,
  input: { request: AccessRequest; event: AnnotatedEvent; actor: Actor; reason?: string },
): Promise<EventOutcome> {
  const { request, event, actor } = input;
  const followUps = new FollowUps().note(event.incidentId, 'Revoking now.');
  await deps.store.recordEvent({
    requestId: request.id,
    state: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `early revoke asked by ${actor.id}${input.reason ? `: ${input.reason}` : ''}`,
      evidence: { noteId: event.noteId, command: 'revoke' },
    },
    changes: handledNote(request, event.noteId),
    followUps: followUps.items,
  });
  await deps.queue.send('revoke', { requestId: request.id });
  await followUps.deliver(deps, request.id);
  return answered(request.id, 'revoke queued', followUps);
}

/**
 * Moves the expiry later, never beyond the catalog maximum counted from the original grant. The
 * record changes here; the provision function then moves the revoke schedule and, for an IAM
 * inline grant, the policy's own expiry condition (until it does, access ends at the earlier time).
 */
export async function extend(
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
  const until = minute(expiresAt.toISOString());
  const followUps = new FollowUps()
    .note(event.incidentId, `Extended until ${until}${capped ? `, the most ${entitlement.id} allows` : ''}.`)
    .comment(
      request.jiraIssueKey,
      `Your access to ${entitlement.id} was extended by ${actor.id}: it now ends ${until} (${expiresAt.toISOString()}).`,
    );
  await deps.store.transition({
    requestId: request.id,
    from: 'GRANTED',
    to: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `extended by ${actor.id} until ${minute(expiresAt.toISOString())}${capped ? ' (capped at the catalog maximum)' : ''}`,
      evidence: {
        noteId: event.noteId,
        command: 'extend',
        from: grant.expiresAt,
        to: expiresAt.toISOString(),
      },
    },
    changes: {
      grant: { ...grant, expiresAt: expiresAt.toISOString() },
      dueAt: expiresAt.toISOString(),
      ...handledNote(request, event.noteId),
    },
    followUps: followUps.items,
  });
  await deps.queue.send('provision', { requestId: request.id });
  await followUps.deliver(deps, request.id);
  return answered(request.id, 'extended', followUps);
}

/**
 * A delivery of a note already recorded: its follow-ups still due are delivered, and for a revoke
 * or extend the message to the next stage may have been lost (the queue failed after the record,
 * and this is the retry), so it is sent again. Both consumers are idempotent: a second revoke or
 * refresh changes nothing.
 */
export async function resendAfterRecord(
  deps: DecideDeps,
  request: AccessRequest,
  noteId: string,
): Promise<void> {
  await new FollowUps().deliver(deps, request.id);
  if (request.state !== 'GRANTED') return;
  const recorded = (await deps.store.listAuditEvents(request.id)).find((e) => e.evidence?.noteId === noteId);
  const command = recorded?.evidence?.command;
  // A reviewer's refusal of a break-glass grant revokes it too (review.ts).
  if (command === 'revoke' || recorded?.evidence?.review === 'revoked') {
    await deps.queue.send('revoke', { requestId: request.id });
  }
  if (command === 'extend') await deps.queue.send('provision', { requestId: request.id });
}
