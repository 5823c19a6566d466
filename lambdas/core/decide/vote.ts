// An owner's approve or deny: counted toward the quorum, recorded, and the
// ticket and incident told what it did.

import type { Entitlement } from '../catalog';
import { FollowUps } from '../follow-up';
import type { AccessRequest, Actor } from '../model';
import type { PagerUser } from '../ports';
import { duration } from '../triage/text';
import type { Command } from './command';
import { applyDecision } from './decide';
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
    },
    now,
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

function approverList(request: AccessRequest): string {
  return request.decisions
    .filter((d) => d.outcome === 'approve' && d.actor.kind === 'person')
    .map((d) => d.actor.id)
    .join(' and ');
}
