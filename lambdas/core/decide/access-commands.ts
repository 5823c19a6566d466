// Commands on access already granted: end it early, or extend it.

import type { Entitlement } from '../catalog';
import { FollowUps } from '../follow-up';
import type { AccessRequest, Actor, Decision } from '../model';
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
 * An approver's `extend`: it counts as a vote until as many distinct approvers agree as the catalog
 * asks (`extensionApprovals`, by default the grant's own quorum), so one approver cannot stretch
 * what two agreed to. Then the shortest extension asked is applied.
 */
interface ExtendInput {
  request: AccessRequest;
  entitlement: Entitlement;
  event: AnnotatedEvent;
  actor: Actor;
  seconds: number;
}

export async function extend(deps: DecideDeps, input: ExtendInput): Promise<EventOutcome> {
  const { request, entitlement, event, actor } = input;
  const grant = request.grant as NonNullable<AccessRequest['grant']>;
  if (Date.parse(grant.grantedAt) + entitlement.duration.max * 1000 <= Date.parse(grant.expiresAt)) {
    const reason = `${entitlement.id} may be held for at most ${duration(entitlement.duration.max)} from the grant, which ends ${minute(grant.expiresAt)} already`;
    await refuse(deps, request, event, actor, { verb: 'extend', durationSeconds: input.seconds }, reason);
    return { kind: 'answered', requestId: request.id, result: `refused extend: ${reason}` };
  }
  const needed = entitlement.extensionApprovals ?? entitlement.approvalsRequired;
  const vote: Decision = {
    outcome: 'approve',
    actor,
    decidedAt: deps.clock.now().toISOString(),
    sourceId: event.noteId,
    durationSeconds: input.seconds,
  };
  // One person, one vote: a second `extend` from them replaces their first.
  const votes = [...(request.extensionVotes ?? []).filter((v) => !samePerson(v.actor, actor)), vote];
  if (votes.length < needed) return recordExtensionVote(deps, { request, event, actor, votes, needed });
  return applyExtension(deps, {
    request,
    entitlement,
    event,
    actor,
    seconds: Math.min(...votes.map((v) => v.durationSeconds ?? input.seconds)),
    agreed: votes,
  });
}

function samePerson(a: Actor, b: Actor): boolean {
  return a.personId !== undefined ? a.personId === b.personId : a.id === b.id;
}

async function recordExtensionVote(
  deps: DecideDeps,
  input: { request: AccessRequest; event: AnnotatedEvent; actor: Actor; votes: Decision[]; needed: number },
): Promise<EventOutcome> {
  const { request, event, actor, votes, needed } = input;
  const more = needed - votes.length;
  const asked = votes.map((v) => `${v.actor.id} (${duration(v.durationSeconds ?? 0)})`).join(', ');
  const followUps = new FollowUps().note(
    event.incidentId,
    `Extension asked by ${asked}. ${request.entitlementId} needs ${needed} approvers to extend: ` +
      `${more} more must write "extend <duration>" here; the shortest asked is applied.`,
  );
  await deps.store.recordEvent({
    requestId: request.id,
    state: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `extension by ${duration(input.votes.at(-1)?.durationSeconds ?? 0)} asked by ${actor.id}; ${more} more approver${more === 1 ? '' : 's'} must agree`,
      evidence: { noteId: event.noteId, command: 'extend-vote', votes: votes.length, needed },
    },
    changes: { extensionVotes: votes, ...handledNote(request, event.noteId) },
    followUps: followUps.items,
  });
  await followUps.deliver(deps, request.id);
  return answered(request.id, `extension vote recorded (${votes.length} of ${needed})`, followUps);
}

/**
 * Moves the expiry later, never beyond the catalog maximum counted from the original grant. The
 * record changes here; the provision function then moves the revoke schedule and, for an IAM
 * inline grant, the policy's own expiry condition (until it does, access ends at the earlier time).
 */
async function applyExtension(
  deps: DecideDeps,
  input: ExtendInput & { agreed: Decision[] },
): Promise<EventOutcome> {
  const { request, entitlement, event, actor } = input;
  const grant = request.grant as NonNullable<AccessRequest['grant']>;
  const latest = Date.parse(grant.grantedAt) + entitlement.duration.max * 1000;
  const wanted = Date.parse(grant.expiresAt) + input.seconds * 1000;
  // Later than now (extend refused a grant already at its maximum), never past the maximum.
  const expiresAt = new Date(Math.min(wanted, latest));
  const capped = expiresAt.getTime() < wanted;
  const until = minute(expiresAt.toISOString());
  const by = input.agreed.map((v) => v.actor.id).join(' and ');
  // The approvers chose an end: a grant that ended with the requester's shift no longer follows it
  // (the sweeper's shift re-check would otherwise bring it back to the shift's end).
  const { shift, ...unbound } = grant;
  const shiftNote = shift ? ' It no longer ends with the on-call shift.' : '';
  const followUps = new FollowUps()
    .note(
      event.incidentId,
      `Extended until ${until}${capped ? `, the most ${entitlement.id} allows` : ''}.${shiftNote}`,
    )
    .comment(
      request.jiraIssueKey,
      `Your access to ${entitlement.id} was extended by ${by}: it now ends ${until} (${expiresAt.toISOString()}).${shiftNote}`,
    );
  await deps.store.transition({
    requestId: request.id,
    from: 'GRANTED',
    to: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `extended by ${by} until ${until}${capped ? ' (capped at the catalog maximum)' : ''}`,
      evidence: {
        noteId: event.noteId,
        command: 'extend',
        from: grant.expiresAt,
        to: expiresAt.toISOString(),
        agreedBy: input.agreed.map((v) => ({ id: v.actor.id, noteId: v.sourceId, at: v.decidedAt })),
      },
    },
    changes: {
      grant: { ...unbound, expiresAt: expiresAt.toISOString() },
      dueAt: expiresAt.toISOString(),
      ...handledNote(request, event.noteId),
      extensionVotes: [],
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
