// The domain of loopgate: an access request, the decisions on it, the grant it
// produced and the audit trail of everything that happened to it.

export const REQUEST_STATES = [
  'RECEIVED',
  'TRIAGING',
  'PENDING',
  'APPROVED',
  'DENIED',
  'CANCELLED',
  'GRANTED',
  'REVOKED',
  'REJECTED',
  'FAILED',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/**
 * The person asking, as the directory knows them. `directoryUserId` (the Okta user id) is who they
 * are: every comparison uses it. The email is the directory's, a key for systems that look people
 * up by address (PagerDuty on-call, Slack, IAM user names). Both are absent only on a request
 * rejected because the requester could not be identified.
 */
export interface Requester {
  jiraAccountId: string;
  directoryUserId?: string;
  /** The Okta login, as the directory spells it (case included). */
  login?: string;
  email?: string;
  displayName?: string;
}

/**
 * Who caused something: a person, a loopgate component, or a catalog rule. For a person `id` is the
 * address they acted under (for people reading the trail) and `personId` their directory (Okta) id,
 * which is what tells two people apart.
 */
export interface Actor {
  kind: 'person' | 'system' | 'rule';
  id: string;
  personId?: string;
}

export type DecisionOutcome = 'approve' | 'deny';

/** One approver's answer, or a rule's. A request may need several approvals (quorum). */
export interface Decision {
  outcome: DecisionOutcome;
  actor: Actor;
  decidedAt: string;
  /** Where the decision came from, e.g. the PagerDuty note id, so a replay is recognisable. */
  sourceId?: string;
  comment?: string;
  /** A shorter duration the approver asked for; the shortest of the approvals is granted. */
  durationSeconds?: number;
  /** The approval stage it counted in (decide/stages.ts); absent: the owners' stage. */
  stage?: string;
}

/** A catalog conflict (separation of duties) the request meets, as triage found it. */
export interface ConflictHold {
  /** The catalog conflict's id. */
  id: string;
  /** Why one person must not hold these together, as the catalog says. */
  reason: string;
  /** What the requester holds of the conflict's other members, one line each. */
  held: string[];
  /** Members that could not be checked (their source did not answer): the conflict is not ruled out. */
  unchecked: string[];
}

export type ActionKind = 'okta-group' | 'aws-iam-policy' | 'aws-identity-center';

/** Access that is in place. Every grant has an end. */
export interface Grant {
  action: ActionKind;
  /** Who holds it: an Okta user id or an IAM principal ARN. */
  principal: string;
  /** What was granted: an Okta group id, an IAM policy name or ARN. */
  target: string;
  grantedAt: string;
  expiresAt: string;
  /** The requester held this access before loopgate granted it: the revoke leaves it in place. */
  preExisting?: boolean;
  /** The grant ends with the requester's on-call shift (shift.ts); the sweeper re-checks it. */
  shift?: ShiftBinding;
}

/** The on-call shift a grant ends with, as PagerDuty last said it. `expiresAt` = min(shiftEnd, capAt). */
export interface ShiftBinding {
  escalationPolicyId: string;
  levels: number[];
  scheduleId?: string;
  /** The requester's PagerDuty users, each confirmed by the directory to be them. */
  pagerDutyUserIds: string[];
  shiftEnd: string;
  /** The latest the grant may ever end (asked, approvers' shortest, catalog maximum, from the grant). */
  capAt: string;
  checkedAt: string;
}

export interface AccessRequest {
  id: string;
  jiraIssueKey: string;
  requester: Requester;
  entitlementId: string;
  durationSeconds: number;
  justification: string;
  breakGlass: boolean;
  state: RequestState;
  /** Incremented by every transition; the optimistic-concurrency token. Starts at 1. */
  version: number;
  createdAt: string;
  updatedAt: string;
  /** When the sweeper must next look at the request (decision timeout, grant expiry); absent in final states. */
  dueAt?: string;
  incidentId?: string;
  /** The model's advice as the approver saw it, kept beside the human decisions for the feedback loop. */
  advice?: AdviceSummary;
  decisions: Decision[];
  grant?: Grant;
  /** The after-the-fact review a break-glass grant requires; absent until someone reviews it. */
  review?: BreakGlassReview;
  /** When the sweeper paged the reviewers again because the review was overdue (once). */
  reviewEscalatedAt?: string;
  /**
   * PagerDuty notes whose command was carried out or refused (revoke, extend, info, refusals; votes
   * and reviews carry their note id themselves): a note redelivered or replayed is acted on once.
   */
  notesHandled?: string[];
  /** Commands waiting for their author to accept an Okta Verify push (the catalog's `stepUp.approvers`). */
  stepUps?: StepUpCheck[];
  /**
   * The requester's own Okta Verify push (the catalog's `stepUp.requester`): nothing is paged or
   * granted until they accept it, so a ticket filed in their name without their device goes nowhere.
   */
  requesterProof?: PushCheck;
  /**
   * Approvers who asked to extend the grant, until enough distinct ones agree (the catalog's
   * `extensionApprovals`); cleared when the extension is applied.
   */
  extensionVotes?: Decision[];
  /** Conflicts triage found: no rule grants the request, and each conflict's approvers must approve too. */
  conflicts?: ConflictHold[];
}

/** An Okta Verify push sent to a person, and their answer once there is one. */
export interface PushCheck {
  factorId: string;
  transactionId: string;
  sentAt: string;
  /** Absent while the push waits for an answer. */
  outcome?: 'accepted' | 'rejected' | 'timed-out';
  answeredAt?: string;
}

/** A command that counts only once its author accepts an Okta Verify push on their own device. */
export interface StepUpCheck extends PushCheck {
  /** The note the command came from. */
  sourceId: string;
  incidentId: string;
  /** The author, with the Okta id the push went to. */
  actor: Actor & { personId: string };
  authorName: string;
  command:
    | { verb: 'approve'; durationSeconds?: number; reason?: string }
    | { verb: 'extend'; durationSeconds: number };
  /** The approver rule the author was authorized by when the note was read. */
  authorizedAs: string;
  /** The approval stage they were authorized in (decide/stages.ts), when the request has stages. */
  stage?: string;
  /** A break-glass reviewer keeping the grant, not an owner's vote. */
  reviewing?: boolean;
}

export interface BreakGlassReview {
  by: string;
  at: string;
  /** kept: the access stays until it expires; revoked: the reviewer ended it. */
  outcome: 'kept' | 'revoked';
  reason?: string;
  /** The note it came from, so a redelivered note is not counted again. */
  sourceId?: string;
}

export type Recommendation = 'approve' | 'deny' | 'needs-info';

/** What the model advised (or why it did not), in brief; the full record is in the audit trail. */
export type AdviceSummary =
  | {
      status: 'advised';
      recommendation: Recommendation;
      confidence: number;
      model: string;
      promptVersion: string;
    }
  | { status: 'unavailable'; reason: string; promptVersion: string };

/** What a caller supplies to open a request; the store assigns id, state, version and times. */
export type NewAccessRequest = Pick<
  AccessRequest,
  'jiraIssueKey' | 'requester' | 'entitlementId' | 'durationSeconds' | 'justification' | 'breakGlass'
> & { dueAt?: string };

/** Fields a transition may change besides state and version. */
export type RequestChanges = Partial<
  Pick<
    AccessRequest,
    | 'dueAt'
    | 'incidentId'
    | 'advice'
    | 'decisions'
    | 'grant'
    | 'review'
    | 'notesHandled'
    | 'stepUps'
    | 'requesterProof'
    | 'extensionVotes'
    | 'conflicts'
  >
>;

/**
 * What loopgate tells people after a recorded step: a note on the incident, a Jira comment or
 * status, resolving the incident. Stored in the same write as the step (an outbox) and delivered
 * until it is done, so a vendor outage delays it and never loses it.
 */
export type FollowUp =
  | { kind: 'note'; incidentId: string; content: string }
  | { kind: 'comment'; issueKey: string; body: string }
  | { kind: 'move-ticket'; issueKey: string; status: string }
  | { kind: 'resolve-incident'; incidentId: string };

/** A follow-up not yet delivered. */
export interface PendingFollowUp {
  /** `<request id>:<version of the step>:<position>`: in order within a request. */
  id: string;
  requestId: string;
  followUp: FollowUp;
  /** Deliveries started so far. */
  attempts: number;
  /** When it may be (re)tried: now for a new one, later while claimed or backing off. */
  dueAt: string;
  createdAt: string;
  lastError?: string;
}

/** What the caller says about a transition; the store stamps request, states, version and time. */
export interface AuditEntry {
  actor: Actor;
  reason: string;
  /** The evidence behind the step (context shown, model output, provisioning result), as plain JSON. */
  evidence?: Record<string, unknown>;
}

/** One line of the audit trail. `version` is the request version the event produced, so it orders the trail. */
export interface AuditEvent extends AuditEntry {
  requestId: string;
  version: number;
  at: string;
  /** Absent on the event that created the request. */
  from?: RequestState;
  to: RequestState;
}
