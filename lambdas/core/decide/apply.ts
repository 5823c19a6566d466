// Carries out an authorized person's command on a request: a vote, a
// break-glass review, a question, a revoke or an extension. A command the
// catalog wants proven by an Okta Verify push waits for it (step-up.ts) and is
// carried out here once the push is accepted (`proven`).

import type { Entitlement } from '../catalog';
import type { AccessRequest, Actor } from '../model';
import type { PagerUser } from '../ports';
import { extend, revokeEarly } from './access-commands';
import { askRequester } from './ask';
import type { Command } from './command';
import type { AnnotatedEvent, DecideDeps, DecideSettings, EventOutcome } from './deps';
import { refuse } from './refuse';
import { reviewBreakGlass } from './review';
import { holdForStepUp, needsStepUp } from './step-up';
import { vote, wouldCount } from './vote';
import type { StageQuorum } from './decide';

export interface CommandInput {
  request: AccessRequest;
  entitlement: Entitlement;
  event: AnnotatedEvent;
  actor: Actor & { personId: string };
  author: PagerUser;
  command: Command;
  /** The approver rule the author was authorized by. */
  via: string;
  /** A break-glass review (its reviewers were authorized, not the owners). */
  reviewing: boolean;
  /** The author accepted an Okta Verify push for this note. */
  proven: boolean;
  /** The approval stage the author was authorized in, and the request's stages (stages.ts), when it has them. */
  stage?: string;
  stages?: readonly StageQuorum[];
}

export async function applyCommand(
  deps: DecideDeps,
  settings: DecideSettings,
  input: CommandInput,
): Promise<EventOutcome> {
  const { request, entitlement, event, actor, author, command } = input;
  // Only a command that would change something is worth a push: a late or repeated vote is answered at once.
  const holding = !input.proven && needsStepUp(entitlement, command);
  if (input.reviewing && command.verb !== 'info' && command.verb !== 'extend') {
    // Keeping a break-glass grant settles its review: a note in a reviewer's name must be theirs.
    if (holding && command.verb === 'approve' && !request.review)
      return holdForStepUp(deps, { ...input, command });
    // A reviewer who kept the grant may still end it early, like an owner.
    if (command.verb === 'revoke' && request.review?.outcome === 'kept' && request.state === 'GRANTED') {
      return revokeEarly(deps, { request, event, actor, reason: command.reason });
    }
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
    case 'deny': {
      const voting = {
        request,
        entitlement,
        event,
        actor,
        author,
        command,
        via: input.via,
        ...(input.stage ? { stage: input.stage } : {}),
        ...(input.stages ? { stages: input.stages } : {}),
      };
      if (holding && command.verb === 'approve' && wouldCount(voting, deps.clock.now())) {
        return holdForStepUp(deps, { ...input, command });
      }
      return vote(deps, settings, voting);
    }
    case 'info':
      return askRequester(deps, { request, event, actor, author, question: command.question });
    case 'revoke':
    case 'extend': {
      if (request.state !== 'GRANTED' || !request.grant) {
        const reason = `there is nothing to ${command.verb}: request ${request.jiraIssueKey} is ${request.state}, not GRANTED`;
        await refuse(deps, request, event, actor, command, reason);
        return { kind: 'answered', requestId: request.id, result: `refused ${command.verb}: ${reason}` };
      }
      if (command.verb === 'revoke') {
        return revokeEarly(deps, { request, event, actor, reason: command.reason });
      }
      if (holding) return holdForStepUp(deps, { ...input, command });
      return extend(deps, { request, entitlement, event, actor, seconds: command.durationSeconds });
    }
  }
}
