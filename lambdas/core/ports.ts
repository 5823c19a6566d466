// The ports the core depends on. Adapters in connectors/ implement them; tests
// of the core use in-memory fakes. Later stages add their ports here.

import type { PromptMessage } from './advice/prompt';
import type { EntitlementAction } from './catalog';
import type { IncidentEvent } from './decide/deps';
import type { ModelOutput } from './advice/schema';
import type {
  ChatMessage,
  DirectoryProfile,
  DirectoryUser,
  OnCallShift,
  PrincipalAccess,
  TrackerUser,
} from './context';
import type {
  AccessRequest,
  ActionKind,
  AuditEntry,
  AuditEvent,
  FollowUp,
  NewAccessRequest,
  PendingFollowUp,
  RequestChanges,
  RequestState,
} from './model';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface TransitionInput {
  requestId: string;
  from: RequestState;
  to: RequestState;
  /** The version the caller read; the write fails with a conflict if the request moved on since. */
  expectedVersion: number;
  audit: AuditEntry;
  /**
   * Other fields to change in the same write. `dueAt` belongs to the state it is
   * set for: a transition that does not give one clears it.
   */
  changes?: RequestChanges;
  /** Told to people once the step is recorded; written with it, delivered by `deliverFollowUps`. */
  followUps?: FollowUp[];
}

export interface RecordEventInput {
  requestId: string;
  /** The state the caller read; the request stays in it. */
  state: RequestState;
  expectedVersion: number;
  audit: AuditEntry;
  /** Fields recorded with the event; the state and due time stay as they are. */
  changes?: Pick<
    Partial<AccessRequest>,
    'review' | 'notesHandled' | 'stepUps' | 'incidentId' | 'extensionVotes' | 'reviewEscalatedAt'
  >;
  followUps?: FollowUp[];
}

/**
 * The follow-ups written with each step, waiting to be delivered. A deliverer claims one (moving
 * its due time past the claim, so nobody else takes it meanwhile), delivers it, then finishes it.
 */
export interface FollowUpOutbox {
  /** The request's pending follow-ups, oldest first. */
  followUpsOf(requestId: string): Promise<PendingFollowUp[]>;
  /** Any request's follow-ups due before `before`, oldest due first. */
  dueFollowUps(before: Date, limit: number): Promise<PendingFollowUp[]>;
  /** Takes it until `until` if nobody changed it since it was read; undefined when someone did. */
  claimFollowUp(item: PendingFollowUp, until: Date): Promise<PendingFollowUp | undefined>;
  /** Delivered (or given up on): gone from the outbox. */
  finishFollowUp(item: PendingFollowUp): Promise<void>;
  /** Failed for now: due again at `at`. */
  retryFollowUp(item: PendingFollowUp, at: Date, error: string): Promise<void>;
}

export type DeliveryClaim =
  { status: 'claimed'; token: string } | { status: 'done' } | { status: 'in-progress' };

export interface ListOptions {
  /** At most this many results (default 25). */
  limit?: number;
  /** Only requests in these states (filtered while reading, so newer requests in other states cannot crowd them out). */
  states?: readonly RequestState[];
}

export interface RequestStore {
  /**
   * Opens a request for a Jira issue, once: a second call for the same issue key
   * returns the request that exists (`created: false`) and writes nothing.
   */
  create(request: NewAccessRequest, audit: AuditEntry): Promise<{ request: AccessRequest; created: boolean }>;
  get(requestId: string): Promise<AccessRequest | undefined>;
  getByJiraIssueKey(issueKey: string): Promise<AccessRequest | undefined>;
  getByIncidentId(incidentId: string): Promise<AccessRequest | undefined>;
  /**
   * Moves a request from one state to another and appends the audit event, atomically.
   * Throws IllegalTransitionError, NotFoundError, or TransitionConflictError when another writer won.
   */
  transition(input: TransitionInput): Promise<AccessRequest>;
  /**
   * Appends an audit event without changing the request: a refused or late command, a question
   * asked. The version moves on (the trail stays ordered); a conflict throws as for a transition.
   */
  recordEvent(input: RecordEventInput): Promise<AccessRequest>;
  /** The audit trail, oldest first. */
  listAuditEvents(requestId: string): Promise<AuditEvent[]>;
  /** The requester's requests, newest first. */
  listByRequester(email: string, options?: ListOptions): Promise<AccessRequest[]>;
  /** Requests for an entitlement, newest first: the precedents an approver looks at. */
  listByEntitlement(entitlementId: string, options?: ListOptions): Promise<AccessRequest[]>;
  /** Requests in a state whose due time is before `before`, most overdue first: the sweeper's work list. */
  listDue(state: RequestState, before: Date, options?: ListOptions): Promise<AccessRequest[]>;
  /**
   * Claims a webhook delivery id for one attempt, under a short lease. `done` when an earlier
   * attempt completed it (a retry or duplicate: acknowledge it); `in-progress` while another
   * attempt holds the lease (ask the sender to retry later). Claims expire with a TTL.
   */
  claimDelivery(source: string, deliveryId: string): Promise<DeliveryClaim>;
  /** Marks the delivery handled: later deliveries of the id are duplicates. Only the claim's holder can. */
  completeDelivery(source: string, deliveryId: string, token: string): Promise<void>;
  /** Gives the claim back after a failed attempt, so the sender's retry is processed. Only the holder can. */
  releaseDelivery(source: string, deliveryId: string, token: string): Promise<void>;
}

/** Okta: who the requester is, what they hold, how they sign in. */
export interface Directory {
  /** The user whose login (else whose email) is the address, compared as Okta does: ASCII case does not matter. */
  findUserByEmail(email: string): Promise<DirectoryUser | undefined>;
  /** The user with this directory id; undefined when there is none. */
  userById(userId: string): Promise<DirectoryUser | undefined>;
  /** The one user whose profile attribute (a custom one, e.g. `atlassianAccountId`) is exactly the value. */
  findUserByAttribute(attribute: string, value: string): Promise<DirectoryUser | undefined>;
  /** Profile, manager, groups, factors, and sign-ins since `signInsSince`. */
  profile(userId: string, signInsSince: Date): Promise<DirectoryProfile>;
  /** People with the same manager or the same department (the user excluded). */
  peersOf(user: DirectoryUser): Promise<DirectoryUser[]>;
  groupMemberIds(groupId: string): Promise<Set<string>>;
}

/** An Okta Verify push sent to a person, to be polled for their answer. */
export interface PushChallenge {
  factorId: string;
  transactionId: string;
}

export type PushResult = 'waiting' | 'accepted' | 'rejected' | 'timed-out';

/** Okta Verify: a person proves it is really them (step-up) by answering a push on their enrolled device. */
export interface StepUp {
  /** Sends a push to the user's active Okta Verify push factor; undefined when they have none. */
  push(userId: string): Promise<PushChallenge | undefined>;
  /** The push's answer so far. */
  result(userId: string, challenge: PushChallenge): Promise<PushResult>;
}

/** AWS IAM: what a principal can already do. */
export interface CloudAccess {
  principalAccess(principal: { kind: 'user' | 'role'; name: string }): Promise<PrincipalAccess>;
}

/** Slack: recent messages about the request or by the requester. */
export interface ChatSearch {
  recentMessages(query: { terms: string[]; authorEmail?: string; since: Date }): Promise<ChatMessage[]>;
}

/** PagerDuty on-call: where a person is on call at a moment. */
export interface OnCall {
  /** The person by their PagerDuty user id when known (a note's author), else by email (a requester). */
  shiftsOf(who: { pagerDutyUserId: string } | { email: string }, at: Date): Promise<OnCallShift[]>;
}

/** Slack: where loopgate posts to people (the owners' digests). */
export interface ChatPoster {
  /** Posts `text` to the channel (an id or a name); throws UpstreamError when Slack refuses. */
  post(channel: string, text: string): Promise<void>;
}

/** PagerDuty on-call over a window: the shift boundaries a shift-bound grant follows (overrides applied). */
export interface ShiftCalendar {
  /** PagerDuty users whose login email is this one (ASCII case aside): candidates, to be confirmed by the directory. */
  usersByEmail(email: string): Promise<{ id: string; email: string }[]>;
  /** The user's on-call entries overlapping [since, until], each with its own start and end. */
  shiftsBetween(pagerDutyUserId: string, since: Date, until: Date): Promise<OnCallShift[]>;
}

/** Jira: the ticket's side of the conversation. */
export interface Tracker {
  getUser(accountId: string): Promise<TrackerUser | undefined>;
  comment(issueKey: string, text: string): Promise<void>;
  /** Moves the ticket to the named status, if its workflow has a transition there from where it is. */
  moveTo(issueKey: string, statusName: string): Promise<'moved' | 'no-such-transition'>;
  /** loopgate's own Jira account id, so its own moves of a ticket are told from people's. */
  ownAccountId?(): Promise<string>;
}

export type QueueName = 'triage' | 'provision' | 'revoke' | 'decide';

/**
 * What the decide queue carries: a verified PagerDuty event (the webhook only checks and queues it),
 * or a request to look at again later (an Okta Verify push waiting for its answer).
 */
export type DecideMessage =
  | { eventId: string; event: IncidentEvent }
  /** Okta Verify pushes waiting on the request: look again. */
  | { requestId: string }
  /** A webhook recorded a step: deliver its follow-ups (the webhook does not wait for the vendors). */
  | { followUpsOf: string };

/** Hands work to the next stage (SQS). At-least-once: consumers must be idempotent. */
export interface WorkQueue {
  send(
    queue: QueueName,
    message: { requestId: string } | DecideMessage,
    /** Delivered no earlier than this (SQS DelaySeconds, at most 900). */
    options?: { delaySeconds?: number },
  ): Promise<void>;
}

// --- paging -------------------------------------------------------------------

export type Urgency = 'high' | 'low';

export interface IncidentDraft {
  /** PagerDuty's de-duplication key: the request id, so a retried page finds the incident it opened. */
  incidentKey: string;
  serviceId: string;
  escalationPolicyId: string;
  /** One line; PagerDuty caps titles at 1024 characters. */
  title: string;
  urgency: Urgency;
  /** The page as the approver reads it: plain text (`body.details`). */
  details: string;
}

export interface IncidentRef {
  id: string;
  /** The incident's page in the PagerDuty web app. */
  url: string;
}

export interface PagerUser {
  id: string;
  email: string;
  name: string;
}

export interface IncidentNote {
  id: string;
  content: string;
  /** The PagerDuty user who wrote it. */
  authorId?: string;
  createdAt: string;
}

/** PagerDuty incidents: where the human in the loop reads the request and answers it. */
export interface Pager {
  /**
   * Opens the incident once per key: when one with the key exists already (a retry), returns it
   * with `created: false` instead of opening another.
   */
  openIncident(draft: IncidentDraft): Promise<IncidentRef & { created: boolean }>;
  addNote(incidentId: string, content: string): Promise<void>;
  /** Resolves the incident; resolving one already resolved is not an error. */
  resolve(incidentId: string): Promise<void>;
  /** A PagerDuty user (the author of a note); undefined when there is no such user. */
  getUser(userId: string): Promise<PagerUser | undefined>;
  /** One note of an incident in full (webhooks carry trimmed content); undefined when not found. */
  getNote(incidentId: string, noteId: string): Promise<IncidentNote | undefined>;
}

// --- advice -------------------------------------------------------------------

export interface TokenUsage {
  prompt: number;
  completion: number;
  total: number;
}

/** Why the model gave no usable answer. */
export type ModelFailure =
  | 'timeout'
  | 'rate-limited'
  | 'unavailable'
  | 'rejected'
  | 'refused'
  | 'invalid-output'
  | 'length'
  | 'content-filter';

export type ModelAnswer = { model: string; usage?: TokenUsage; latencyMs: number } & (
  { ok: true; output: ModelOutput } | { ok: false; failure: ModelFailure; detail: string }
);

/** The model (OpenAI or any OpenAI-compatible server): a schema-checked answer, or why there is none. Never throws. */
export interface Advisor {
  /** The model asked, as configured. */
  readonly model: string;
  advise(messages: readonly PromptMessage[]): Promise<ModelAnswer>;
}

// --- provisioning -----------------------------------------------------------------

/** What one grant is about: enough for a provisioner to find the principal and the access. */
export interface GrantSubject {
  requestId: string;
  /** The requester's directory (Okta) user id: who holds an Okta grant. Absent only on requests filed before it was recorded. */
  personId?: string;
  /** The requester's email in the directory: what maps to the IAM principal (and finds the Okta user when `personId` is absent). */
  email: string;
  action: EntitlementAction;
  /** When the access must stop working (IAM inline grants carry it as a condition). */
  expiresAt: Date;
}

/** One access of one person, by the vendor's ids. */
export interface HeldAccess {
  /** Who holds it: an Okta user id or an IAM principal ARN. */
  principal: string;
  /** What it is: an Okta group id, an IAM policy name or ARN. */
  target: string;
}

export interface GrantOutcome extends HeldAccess {
  /** The access was already in place, without loopgate, at the moment of granting: it must survive the revoke. */
  preExisting: boolean;
}

/** Grants and revokes one kind of access. Both are idempotent: a redelivered message changes nothing. */
export interface Provisioner {
  /** Who and what a grant of `subject` is about, read without changing anything. */
  locate(subject: GrantSubject): Promise<HeldAccess>;
  /**
   * Whether other grants can give the same access (an Okta membership, a managed policy attachment):
   * then the core counts its holders and removes it only when none is left. An IAM inline policy is
   * its own grant's.
   */
  isShared(access: HeldAccess): boolean;
  /** Adds the access unless it is there; `preExisting` says it was there right before this write. */
  grant(subject: GrantSubject): Promise<GrantOutcome>;
  /** Removes the access recorded at grant time; never access that pre-existed (`preExisting`). */
  revoke(grant: GrantOutcome): Promise<void>;
  /** Whether the access is in place now (read back from the vendor). */
  verify(subject: GrantSubject): Promise<boolean>;
  /** Whether the access is in place now, by the ids recorded at grant time. */
  holds(access: HeldAccess): Promise<boolean>;
  /**
   * Moves the expiry a grant carries itself (an IAM inline policy's condition) to `subject.expiresAt`,
   * after an extension. Absent for kinds whose grants carry no expiry: there is nothing to move, and
   * writing their access again could undo a revoke that ran meanwhile.
   */
  extend?(subject: GrantSubject): Promise<void>;
}

/** One-shot revokes at expiry (EventBridge Scheduler). */
export interface ExpiryScheduler {
  /** Schedules (or moves) the revoke of a request at `at`; safe to repeat. */
  schedule(requestId: string, at: Date): Promise<void>;
  /** Removes the request's schedule; none is fine. */
  cancel(requestId: string): Promise<void>;
}

/** One shared access (a kind, a principal, a target) that loopgate grants: who holds it through loopgate. */
export interface HoldingRef extends HeldAccess {
  kind: ActionKind;
}

export interface Holding extends HoldingRef {
  /** Requests whose grant holds the access: APPROVED ones being provisioned, and GRANTED ones. */
  holders: string[];
  /** The access was in place without loopgate when loopgate last granted it: it is kept. */
  outside: boolean;
  /** loopgate may have written the access and has not seen it removed since. */
  placed: boolean;
  /** The request that held it last: where the sweeper audits removing an orphan. */
  lastHolder?: string;
  /** When the sweeper looks at its holders next (ISO). */
  reviewAt?: string;
}

/**
 * The holdings of shared access (DynamoDB). Everything that changes a holding or its access at the
 * vendor does so under the holding's lease, so a grant, a revoke and the sweeper never interleave.
 */
export interface HoldingStore {
  /**
   * Takes the holding's lease (a holding that does not exist yet is empty); undefined while another
   * attempt holds it. A lease left by a crashed attempt expires.
   */
  lease(ref: HoldingRef): Promise<{ holding: Holding; token: string } | undefined>;
  /** Writes the holding while the lease is still `token`'s; throws ConflictError when it is not. */
  save(holding: Holding, token: string): Promise<void>;
  /** Gives the lease back; a holding with no holders and nothing placed is deleted. */
  release(ref: HoldingRef, token: string): Promise<void>;
  /** Holdings whose review time is before `before`: the sweeper's reconcile list. */
  listDue(before: Date, limit: number): Promise<Holding[]>;
}
