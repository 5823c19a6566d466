// What an authorized vote does to a request, decided without I/O: record it
// (and say which state the request moves to), refuse it, or recognise it as a
// duplicate. A deny wins at once; approvals count once per person until the
// entitlement's quorum is met; the shortest duration any approver gave wins.
// The messages are the notes loopgate posts back on the incident.

import type { Entitlement } from '../catalog';
import { formatDuration } from '../duration';
import type { AccessRequest, Actor, Decision, DecisionOutcome } from '../model';
import { approvalsIn, OWNERS_STAGE, openStage, type PlannedStage } from './stages';

/** An authorized approver's answer, from one note. */
export interface Vote {
  outcome: DecisionOutcome;
  actor: Actor;
  /** The PagerDuty note id: a note delivered twice is counted once. */
  sourceId: string;
  comment?: string;
  /** Approve only: less time than was asked for. */
  durationSeconds?: number;
  /** The approval stage the author was authorized in (stages.ts); absent: the owners'. */
  stage?: string;
}

/** A stage as counting needs it (stages.ts PlannedStage). */
export type StageQuorum = Pick<PlannedStage, 'key' | 'label' | 'required' | 'who'>;

/**
 * A decision with the duration its approver agreed to, when shorter than asked. Kept on the decision
 * (not the request) so later approvals can still tell which was the shortest.
 */
/** Kept as a name for readers of this module: a decision may carry a shorter duration. */
export type RecordedDecision = Decision;

export type DecisionStep =
  | {
      kind: 'record';
      to: 'PENDING' | 'APPROVED' | 'DENIED';
      /** The request's decisions with this vote appended: the `decisions` change of the transition. */
      decisions: RecordedDecision[];
      /** The duration to grant (APPROVED), or the one agreed so far (PENDING). */
      durationSeconds?: number;
      message: string;
    }
  | { kind: 'refuse'; message: string }
  | { kind: 'duplicate'; message: string };

export function applyDecision(
  request: AccessRequest,
  entitlement: Entitlement,
  vote: Vote,
  now: Date,
  /** The request's stages, in order, when it has more than the owners' (stages.ts). */
  stages?: readonly StageQuorum[],
): DecisionStep {
  if (entitlement.id !== request.entitlementId) {
    throw new Error(`request ${request.id} is for ${request.entitlementId}, not ${entitlement.id}`);
  }
  const ticket = request.jiraIssueKey;
  // Before the state check: the replay of the note that decided the request must not be refused as late.
  if (request.decisions.some((d) => d.sourceId === vote.sourceId)) {
    return { kind: 'duplicate', message: `This note was already counted on ${ticket}.` };
  }
  if (request.state !== 'PENDING') return { kind: 'refuse', message: notOpen(request) };

  const decision: RecordedDecision = {
    outcome: vote.outcome,
    actor: vote.actor,
    decidedAt: now.toISOString(),
    sourceId: vote.sourceId,
    ...(vote.comment ? { comment: vote.comment } : {}),
    ...(vote.outcome === 'approve' && vote.durationSeconds !== undefined
      ? { durationSeconds: vote.durationSeconds }
      : {}),
    ...(stages && vote.stage ? { stage: vote.stage } : {}),
  };
  const who = vote.actor.id;

  if (vote.outcome === 'deny') {
    return {
      kind: 'record',
      to: 'DENIED',
      decisions: [...request.decisions, decision],
      message:
        `Denied by ${who}${vote.comment ? `: ${vote.comment}` : '.'}\n` +
        `Nothing is granted; the requester is told on ${ticket}.`,
    };
  }

  const approvals = request.decisions.filter((d) => d.outcome === 'approve');
  const required = entitlement.approvalsRequired;
  const earlier = approvals.find((d) => identity(d.actor) === identity(vote.actor));
  if (stages && earlier && (earlier.stage ?? OWNERS_STAGE) !== (vote.stage ?? OWNERS_STAGE)) {
    return {
      kind: 'refuse',
      message:
        `Not recorded: you already approved ${ticket} in the ${labelOf(stages, earlier.stage)} stage, and one person approves in one stage only. ` +
        `The ${labelOf(stages, vote.stage)} stage needs someone else.`,
    };
  }
  if (stages) {
    const open = openStage(stages, request.decisions, (a) => distinct(a).length);
    const current = open === undefined ? undefined : stages[open];
    if (current && current.key !== (vote.stage ?? OWNERS_STAGE)) {
      return {
        kind: 'refuse',
        message:
          `Not recorded: the ${current.label} stage is open (${current.who}), and your approval counts in the ${labelOf(stages, vote.stage)} stage, which comes after it. ` +
          'Approve again once loopgate notes here that your stage is open.',
      };
    }
  }
  if (earlier) {
    return {
      kind: 'duplicate',
      message:
        `You already approved ${ticket}; a second approval from the same person does not count. ` +
        `${progress(distinct(approvals), required)}`,
    };
  }

  const asked = request.durationSeconds;
  const max = entitlement.duration.max;
  const given = vote.durationSeconds;
  if (given !== undefined) {
    if (!Number.isInteger(given) || given <= 0) {
      return {
        kind: 'refuse',
        message: `Not recorded: the duration must be a whole, positive number of minutes, hours or days.`,
      };
    }
    if (given > max) {
      return {
        kind: 'refuse',
        message:
          `Not recorded: ${entitlement.id} may be granted for at most ${formatDuration(max)}, and you gave ${formatDuration(given)}. ` +
          `Approve again with ${formatDuration(Math.min(max, asked))} or less, or without a duration.`,
      };
    }
    if (given > asked) {
      return {
        kind: 'refuse',
        message:
          `Not recorded: the requester asked for ${formatDuration(asked)}; an approval may shorten that but not lengthen it. ` +
          `Approve again with ${formatDuration(asked)} or less, or without a duration.`,
      };
    }
  }

  const decisions = [...request.decisions, decision];
  const approvers = distinct([...approvals, decision]);
  const duration = agreedDuration(asked, max, [...approvals, decision]);
  const lasting = durationNote(duration, asked, max);
  if (stages) return stagedStep(stages, decisions, vote, duration, lasting);
  if (approvers.length >= required) {
    return {
      kind: 'record',
      to: 'APPROVED',
      decisions,
      durationSeconds: duration,
      message:
        `Approved by ${approvers.join(' and ')}${required > 1 ? ` (${approvers.length} of ${required})` : ''}. ` +
        `${lasting} loopgate grants it now and notes here when it is in place.`,
    };
  }
  return {
    kind: 'record',
    to: 'PENDING',
    decisions,
    durationSeconds: duration,
    message: `Approval recorded from ${who}. ${progress(approvers, required)} ${lasting}`,
  };
}

/** A recorded approval in a staged request: the stage's progress, the next stage, or APPROVED when every stage is complete. */
function stagedStep(
  stages: readonly StageQuorum[],
  decisions: RecordedDecision[],
  vote: Vote,
  duration: number,
  lasting: string,
): DecisionStep {
  const key = vote.stage ?? OWNERS_STAGE;
  const index = stages.findIndex((s) => s.key === key);
  const stage = stages[index];
  const inStage = distinct(approvalsIn(decisions, key));
  const open = openStage(stages, decisions, (a) => distinct(a).length);
  const of = (i: number) => `stage ${i + 1} of ${stages.length}`;
  if (open === undefined) {
    const byStage = stages.map((s) => `${s.label}: ${distinct(approvalsIn(decisions, s.key)).join(' and ')}`);
    return {
      kind: 'record',
      to: 'APPROVED',
      decisions,
      durationSeconds: duration,
      message: `Approved in every stage (${byStage.join('; ')}). ${lasting} loopgate grants it now and notes here when it is in place.`,
    };
  }
  const next = stages[open];
  const progressNote =
    open === index
      ? `${stage?.label ?? key} (${of(index)}): ${progress(inStage, stage?.required ?? 1)}`
      : `The ${stage?.label ?? key} stage (${of(index)}) is complete: approved by ${inStage.join(' and ')}. ` +
        `Now open, ${of(open)}, ${next?.label}: ${next?.required === 1 ? 'an approval' : `${next?.required} approvals`} from ${next?.who}, each a person who has not approved in another stage.`;
  return {
    kind: 'record',
    to: 'PENDING',
    decisions,
    durationSeconds: duration,
    message: `Approval recorded from ${vote.actor.id}. ${progressNote} ${lasting}`,
  };
}

function labelOf(stages: readonly StageQuorum[], key: string | undefined): string {
  return stages.find((s) => s.key === (key ?? OWNERS_STAGE))?.label ?? key ?? OWNERS_STAGE;
}

/** Why a request that is not PENDING takes no votes, and who decided it when the record says so. */
function notOpen(request: AccessRequest): string {
  const ticket = request.jiraIssueKey;
  const approvedBy = byWhom(request.decisions.filter((d) => d.outcome === 'approve'));
  const denial = request.decisions.find((d) => d.outcome === 'deny');
  switch (request.state) {
    case 'RECEIVED':
    case 'TRIAGING':
      return `${ticket} is still being prepared (${request.state}) and takes no decisions yet. Send your note again in a minute.`;
    case 'APPROVED':
      return `${ticket} is already APPROVED${approvedBy}; your note changes nothing.`;
    case 'GRANTED':
      return `${ticket} is already approved${approvedBy} and GRANTED; your note changes nothing. To end the access early, note "revoke".`;
    case 'DENIED':
      return `${ticket} is already DENIED${denial ? ` by ${denial.actor.id}${denial.comment ? `: ${denial.comment}` : ''}` : ''}; your note changes nothing.`;
    case 'CANCELLED':
      return `${ticket} was CANCELLED (timed out, ticket closed or withdrawn); nothing is left to decide.`;
    case 'REJECTED':
      return `${ticket} was REJECTED as invalid when it was filed; nothing is left to decide.`;
    case 'REVOKED':
      return `${ticket} is over: the access was granted${approvedBy} and has been REVOKED. A new need takes a new ticket.`;
    case 'FAILED':
      return `${ticket} was approved${approvedBy} but provisioning or revocation FAILED; the operators have been alerted. Your note changes nothing.`;
    case 'PENDING':
      // Only reached if a caller asks why an open request is not open: it is.
      return `${ticket} is open for decisions.`;
  }
}

function byWhom(decisions: readonly Decision[]): string {
  const names = [
    ...new Set(decisions.map((d) => (d.actor.kind === 'rule' ? `catalog rule ${d.actor.id}` : d.actor.id))),
  ];
  return names.length ? ` by ${names.join(' and ')}` : '';
}

/**
 * One person is one approver, whichever PagerDuty user or address they write from: people are told
 * apart by directory id. (Decisions recorded before ids were kept fall back to the address.)
 */
function identity(actor: Actor): string {
  if (actor.kind !== 'person') return `${actor.kind}:${actor.id}`;
  return actor.personId ? `person:${actor.personId}` : `address:${actor.id.toLowerCase()}`;
}

/** The approvers, once each, in the order they approved. */
function distinct(approvals: readonly Decision[]): string[] {
  const seen = new Map<string, string>();
  for (const d of approvals) if (!seen.has(identity(d.actor))) seen.set(identity(d.actor), d.actor.id);
  return [...seen.values()];
}

/** What to grant an approved request for: the time asked, cut to the catalog's max and to the shortest any approver gave. */
export function grantDuration(request: AccessRequest, entitlement: Entitlement): number {
  return agreedDuration(
    request.durationSeconds,
    entitlement.duration.max,
    request.decisions.filter((d) => d.outcome === 'approve'),
  );
}

function agreedDuration(asked: number, max: number, approvals: readonly Decision[]): number {
  const given = approvals
    .map((d) => d.durationSeconds)
    .filter((s): s is number => typeof s === 'number' && s > 0);
  return Math.min(asked, max, ...given);
}

function progress(approvers: readonly string[], required: number): string {
  const missing = required - approvers.length;
  if (missing <= 0) return `${approvers.length} of ${required} approvals.`;
  return (
    `${approvers.length} of ${required} approvals${approvers.length ? ` (${approvers.join(', ')})` : ''}: ` +
    `${missing === 1 ? 'one more approver is' : `${missing} more approvers are`} needed, each a different person.`
  );
}

function durationNote(duration: number, asked: number, max: number): string {
  if (duration < asked && duration === max) {
    return `Access for ${formatDuration(duration)}, the most the catalog allows (asked: ${formatDuration(asked)}).`;
  }
  if (duration < asked) return `Access for ${formatDuration(duration)} (asked: ${formatDuration(asked)}).`;
  return `Access for ${formatDuration(duration)}, as asked.`;
}
