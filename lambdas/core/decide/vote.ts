// An owner's approve or deny: counted toward the quorum, recorded, and the
// ticket and incident told what it did.

import type { Entitlement } from '../catalog';
import { FollowUps } from '../follow-up';
import type { AccessRequest, Actor, Decision } from '../model';
import type { PagerUser } from '../ports';
import { duration } from '../triage/text';
import type { Command } from './command';
import { applyDecision, type StageQuorum } from './decide';
import { type AnnotatedEvent, type DecideDeps, type DecideSettings, type EventOutcome, later } from './deps';
import { refuse } from './refuse';

export interface VoteInput {
  request: AccessRequest;
  entitlement: Entitlement;
  event: AnnotatedEvent;
  actor: Actor;
  author: PagerUser;
  command: Extract<Command, { verb: 'approve' | 'deny' }>;
  via: string;
  /** The stage the author was authorized in, and the request's stages (stages.ts), when it has them. */
  stage?: string;
  stages?: readonly StageQuorum[];
}

function stepOf(input: VoteInput, now: Date) {
  const { request, entitlement, event, actor, command } = input;
  return applyDecision(
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
      ...(input.stage ? { stage: input.stage } : {}),
    },
    now,
    input.stages,
  );
}

/** Whether the vote would be recorded now (not refused as late, invalid or repeated). */
export function wouldCount(input: VoteInput, now: Date): boolean {
  return stepOf(input, now).kind === 'record';
}

export async function vote(
  deps: DecideDeps,
  settings: DecideSettings,
  input: VoteInput,
): Promise<EventOutcome> {
  const { request, event, actor, author, command } = input;
  const step = stepOf(input, deps.clock.now());
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
  // What people are told is written with the decision and delivered after it (follow-up.ts).
  const followUps = new FollowUps().note(event.incidentId, step.message);
  if (step.to === 'APPROVED') {
    const granted = step.durationSeconds ?? request.durationSeconds;
    followUps
      .comment(
        request.jiraIssueKey,
        `Approved by ${approverList(step.decisions)} for ${duration(granted)}. The access is being granted; this ticket will say when it is in place and when it ends.`,
      )
      .moveTicket(request.jiraIssueKey, settings.jiraStatuses.approved);
  } else if (step.to === 'PENDING' && input.stages && stageMoved(input, step.decisions)) {
    // The next stage's approvers are asked now, on the incident (step.message) and on the ticket.
    followUps.comment(request.jiraIssueKey, step.message);
  } else if (step.to === 'DENIED') {
    followUps
      .comment(
        request.jiraIssueKey,
        `Denied by ${who}: ${command.reason ?? 'no reason given'}. Nothing was granted.`,
      )
      .moveTicket(request.jiraIssueKey, settings.jiraStatuses.denied)
      .resolve(event.incidentId);
  }
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
      ...(step.to === 'APPROVED' ? { dueAt: later(deps, settings.provisionDueMs) } : {}),
      ...(step.to === 'PENDING' && request.dueAt ? { dueAt: request.dueAt } : {}),
    },
    followUps: followUps.items,
  });
  // The decision is recorded: nothing after it may undo it or make PagerDuty send it again, so a
  // failure is reported, not thrown. A lost provisioning message is re-sent by the sweeper (dueAt).
  if (step.to === 'APPROVED') {
    await followUps.attempt('provisioning message', () =>
      deps.queue.send('provision', { requestId: decided.id }),
    );
  }
  await followUps.deliver(deps, decided.id);
  return {
    ...answered(step.to === 'PENDING' ? 'approval recorded, quorum not met' : step.to),
    ...(followUps.problems.length ? { problems: followUps.problems } : {}),
  };
}

/** Whether this approval completed its stage (so the next one opens). */
function stageMoved(input: VoteInput, decisions: readonly Decision[]): boolean {
  const stages = input.stages ?? [];
  const count = (key: string) =>
    new Set(
      decisions
        .filter((d) => d.outcome === 'approve' && d.stage === key)
        .map((d) => d.actor.personId ?? d.actor.id),
    ).size;
  const stage = stages.find((s) => s.key === input.stage);
  return stage !== undefined && count(stage.key) >= stage.required;
}

function approverList(decisions: readonly Decision[]): string {
  return decisions
    .filter((d) => d.outcome === 'approve' && d.actor.kind === 'person')
    .map((d) => d.actor.id)
    .join(' and ');
}
