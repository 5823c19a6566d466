// Step-up: PagerDuty records a note written with any REST API key `From:` a
// person exactly as one the person wrote (the webhook's agent is the From
// user; neither the note nor the incident's log entries tell the two apart).
// Where the catalog asks for it, an approval or an extension therefore counts
// only once its author accepts an Okta Verify push on their own device: the
// command is recorded as waiting, and the decide function asks Okta for the
// answer a little later (step-up-answer.ts).

import type { Entitlement } from '../catalog';
import { FollowUps } from '../follow-up';
import { PUSH_POLL_SECONDS } from '../push';
import type { StepUpCheck } from '../model';
import type { Command } from './command';
import type { CommandInput } from './apply';
import { answered, type DecideDeps, type EventOutcome } from './deps';
import { refuse } from './refuse';

type Held = Extract<Command, { verb: 'approve' | 'extend' }>;

export function needsStepUp(entitlement: Entitlement, command: Command): command is Held {
  return entitlement.stepUp.approvers && (command.verb === 'approve' || command.verb === 'extend');
}

export async function holdForStepUp(
  deps: DecideDeps,
  input: CommandInput & { command: Held },
): Promise<EventOutcome> {
  const { request, entitlement, event, actor, author, command } = input;
  const waiting = (request.stepUps ?? []).find(
    (c) => !c.outcome && c.actor.personId === actor.personId && c.command.verb === command.verb,
  );
  if (waiting) {
    await deps.pager.addNote(
      event.incidentId,
      `An Okta Verify push for your earlier "${command.verb}" is still waiting on your device; answer that one.`,
    );
    return answered(request.id, 'step-up push already waiting');
  }
  const challenge = await deps.stepUp.push(actor.personId);
  if (!challenge) {
    const reason = `${entitlement.id} counts an ${command.verb} only after an Okta Verify push, and ${actor.id} has no active Okta Verify push factor. Enroll Okta Verify, then write the note again.`;
    await refuse(deps, request, event, actor, command, reason);
    return answered(request.id, `refused ${command.verb}: no Okta Verify push factor`);
  }
  const check: StepUpCheck = {
    sourceId: event.noteId,
    incidentId: event.incidentId,
    actor,
    authorName: author.name,
    command:
      command.verb === 'extend'
        ? { verb: 'extend', durationSeconds: command.durationSeconds }
        : {
            verb: 'approve',
            ...(command.durationSeconds !== undefined ? { durationSeconds: command.durationSeconds } : {}),
            ...(command.reason ? { reason: command.reason } : {}),
          },
    authorizedAs: input.via,
    ...(input.stage ? { stage: input.stage } : {}),
    ...(input.reviewing ? { reviewing: true } : {}),
    factorId: challenge.factorId,
    transactionId: challenge.transactionId,
    sentAt: deps.clock.now().toISOString(),
  };
  const followUps = new FollowUps().note(
    event.incidentId,
    `Okta Verify push sent to ${author.name} (${actor.id}). Their ${command.verb} counts once they accept it on their device; ` +
      `the push expires in 5 minutes. A note written in someone's name without their device does not count for ${entitlement.id}.`,
  );
  await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: {
      actor,
      reason: `Okta Verify push sent to ${actor.id}: their ${command.verb} counts once they accept it`,
      evidence: { stepUp: 'sent', noteId: event.noteId, transactionId: challenge.transactionId },
    },
    changes: { stepUps: [...(request.stepUps ?? []), check] },
    followUps: followUps.items,
  });
  await deps.queue.send('decide', { requestId: request.id }, { delaySeconds: PUSH_POLL_SECONDS });
  await followUps.deliver(deps, request.id);
  return answered(request.id, `${command.verb} waits for an Okta Verify push`, followUps);
}
