// The answer to an Okta Verify push (step-up.ts), read from Okta by the decide
// function a little after the push went out and again until there is one. An
// accepted push carries out the command that waited for it, as if the note had
// just arrived; a rejected or unanswered one is recorded and the command does
// not count. Every outcome is audited; a rejection as a security event (a
// person refusing a push in their name may mean someone else wrote the note).

import { entitlementById } from '../catalog';
import type { AccessRequest, StepUpCheck } from '../model';
import { FollowUps } from '../follow-up';
import { applyCommand } from './apply';
import { approvalPlan } from './stages';
import { type DecideDeps, type DecideSettings, type EventOutcome, handledNote, isHandled } from './deps';
import { PUSH_POLL_SECONDS, pushAnswer } from '../push';

export async function answerStepUps(
  deps: DecideDeps,
  settings: DecideSettings,
  requestId: string,
): Promise<EventOutcome> {
  let request = await deps.store.get(requestId);
  if (!request) return { kind: 'ignored', reason: `request ${requestId} does not exist` };
  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  if (!entitlement) {
    return { kind: 'ignored', reason: `entitlement ${request.entitlementId} is no longer in the catalog` };
  }
  const results: string[] = [];
  let waiting = false;
  for (const check of request.stepUps ?? []) {
    let outcome = check.outcome;
    if (!outcome) {
      const answer = await pushAnswer(deps.stepUp, deps.clock, check.actor.personId, check);
      if (answer === 'waiting') {
        waiting = true;
        continue;
      }
      outcome = answer;
      request = await recordAnswer(deps, request, check, answer);
    }
    // Accepted but not yet carried out (a crash or a conflict in between): carry it out now.
    if (outcome === 'accepted' && !isHandled(request, check.sourceId, { ignoringStepUps: true })) {
      const done = await applyCommand(deps, settings, {
        request,
        entitlement,
        event: {
          kind: 'annotated',
          incidentId: check.incidentId,
          noteId: check.sourceId,
          content: '',
          trimmed: false,
          occurredAt: check.sentAt,
        },
        actor: check.actor,
        author: { id: '', email: check.actor.id, name: check.authorName },
        command: check.command,
        via: check.authorizedAs,
        reviewing: check.reviewing ?? false,
        proven: true,
        // Counted in the stage it was authorized in, against the stages as they are now.
        ...(check.stage
          ? { stage: check.stage, stages: (await approvalPlan(deps, request, entitlement)).stages }
          : {}),
      });
      if (done.kind === 'answered') results.push(done.result);
      request = (await deps.store.get(requestId)) ?? request;
    } else {
      results.push(`${check.command.verb} by ${check.actor.id}: push ${outcome}`);
    }
  }
  if (waiting) {
    await deps.queue.send('decide', { requestId }, { delaySeconds: PUSH_POLL_SECONDS });
    results.push('a push is still waiting');
  }
  return { kind: 'answered', requestId, result: results.join('; ') || 'no push was waiting' };
}

async function recordAnswer(
  deps: DecideDeps,
  request: AccessRequest,
  check: StepUpCheck,
  answer: 'accepted' | 'rejected' | 'timed-out',
): Promise<AccessRequest> {
  const now = deps.clock.now().toISOString();
  const stepUps = (request.stepUps ?? []).map((c) =>
    c.sourceId === check.sourceId ? { ...c, outcome: answer, answeredAt: now } : c,
  );
  const verb = check.command.verb;
  const said = {
    accepted: `${check.actor.id} accepted the Okta Verify push for their ${verb}`,
    rejected: `${check.actor.id} rejected the Okta Verify push for their ${verb}: it does not count`,
    'timed-out': `the Okta Verify push to ${check.actor.id} for their ${verb} was not answered in time: it does not count`,
  }[answer];
  const followUps = new FollowUps();
  if (answer !== 'accepted') {
    const why =
      answer === 'rejected'
        ? `${check.authorName} rejected the Okta Verify push`
        : `${check.authorName} did not answer the Okta Verify push within 5 minutes`;
    followUps.note(
      check.incidentId,
      `${why}, so their "${verb}" does not count. If it was theirs, they can write it again and accept the new push.`,
    );
  }
  const recorded = await deps.store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: {
      actor: check.actor,
      reason: said,
      evidence: {
        stepUp: answer,
        noteId: check.sourceId,
        transactionId: check.transactionId,
        ...(answer === 'rejected' ? { securityEvent: 'step-up-rejected' } : {}),
      },
    },
    // A refused push ends the note: it is handled, and a replay of it does not push again.
    changes: { stepUps, ...(answer === 'accepted' ? {} : handledNote(request, check.sourceId)) },
    followUps: followUps.items,
  });
  await followUps.deliver(deps, request.id);
  return recorded;
}
