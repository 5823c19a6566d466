// Intake: a verified Jira delivery becomes a stored access request, once.
// Valid requests are queued for triage; invalid ones are stored as REJECTED and
// the requester is told, in a Jira comment, exactly what to fix. Nothing slow
// happens here: the webhook must answer quickly. A comment on a request's
// ticket may be the requester's `revoke` (see comment.ts).

import type { Catalog } from '../catalog';
import type { AccessRequest, AuditEntry, NewAccessRequest } from '../model';
import { UpstreamError } from '../errors';
import type { DirectoryUser } from '../context';
import { type IdentitySettings, personOfJiraAccount } from '../people';
import type { Clock, Directory, RequestStore, Tracker, WorkQueue } from '../ports';
import {
  DEFAULT_TICKET_CLOSING,
  onTicketStatusChange,
  type TicketClosingSettings,
  type TicketLifecycleOutcome,
} from '../ticket/status-change';
import { type CommentOutcome, commentOnTicket } from './comment';
import { type IntakeProblem, rejectionComment, validateRequest } from './validate';
import { type RequestFieldIds, requestParts, type Ticket, type TicketEvent } from './ticket';

export interface IntakeDeps {
  store: RequestStore;
  tracker: Tracker;
  directory: Directory;
  queue: WorkQueue;
  catalog: Catalog;
  clock: Clock;
}

/** How long a request may wait for triage before the sweeper looks at it. */
export const TRIAGE_DEADLINE_MS = 15 * 60_000;

export interface IntakeSettings {
  /** Jira projects whose tickets are access requests. */
  projects: readonly string[];
  /** Issue types that are access requests (others in those projects are ignored). */
  issueTypes: readonly string[];
  fields: RequestFieldIds;
  /** A ticket with this label, or of this priority, asks for break-glass access. */
  breakGlass: { label?: string; priority?: string };
  /** How a Jira reporter is found in the directory. */
  identity: IdentitySettings;
  /** Which statuses end a request, and whose moves count besides the requester's (default: category `done`). */
  closing?: TicketClosingSettings;
}

export type IntakeOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'duplicate-delivery' }
  | { kind: 'delivery-in-progress' }
  | { kind: 'accepted'; request: AccessRequest; created: boolean }
  | { kind: 'rejected'; request: AccessRequest; problems: IntakeProblem[] }
  /** A comment on a request's ticket that loopgate acted on (the requester's `revoke`), or a closed ticket. */
  | Extract<CommentOutcome, { kind: 'answered' }>
  | Extract<TicketLifecycleOutcome, { kind: 'answered' }>;

/** Catalog ids are short; what someone typed instead is kept only this long. */
const MAX_STORED_ENTITLEMENT_LENGTH = 128;

const INTAKE_ACTOR = { kind: 'system', id: 'jira-webhook' } as const;

/**
 * Handles one delivery. The delivery id is claimed for this attempt: a delivery already
 * handled is acknowledged, not processed twice; one being handled right now is answered
 * "retry later"; if this attempt fails the claim is given back (and the error rethrown)
 * so the sender's retry is processed.
 */
export async function intakeTicket(
  deps: IntakeDeps,
  settings: IntakeSettings,
  event: TicketEvent,
  deliveryId: string | undefined,
): Promise<IntakeOutcome> {
  if (event.kind === 'other') return { kind: 'ignored', reason: `event ${event.name}` };
  if (event.kind === 'comment-created') {
    return once(deps.store, deliveryId, () => commentOnTicket(deps, event.comment));
  }
  if (event.kind === 'status-changed') {
    const { change } = event;
    if (!settings.projects.includes(change.projectKey) || !settings.issueTypes.includes(change.issueType)) {
      return { kind: 'ignored', reason: `${change.issueKey} is not an access request` };
    }
    return once(deps.store, deliveryId, () =>
      onTicketStatusChange(deps, settings.closing ?? DEFAULT_TICKET_CLOSING, change),
    );
  }
  const { ticket } = event;
  if (!settings.projects.includes(ticket.projectKey)) {
    return { kind: 'ignored', reason: `project ${ticket.projectKey} is not an access-request project` };
  }
  if (!settings.issueTypes.includes(ticket.issueType)) {
    return { kind: 'ignored', reason: `issue type "${ticket.issueType}" is not an access request` };
  }
  return once(deps.store, deliveryId, () => admit(deps, settings, ticket));
}

/** Runs `work` once per delivery id (when the sender gives one). */
async function once(
  store: RequestStore,
  deliveryId: string | undefined,
  work: () => Promise<IntakeOutcome>,
): Promise<IntakeOutcome> {
  if (!deliveryId) return work();
  const claim = await store.claimDelivery('jira', deliveryId);
  if (claim.status === 'done') return { kind: 'duplicate-delivery' };
  if (claim.status === 'in-progress') return { kind: 'delivery-in-progress' };
  try {
    const outcome = await work();
    await store.completeDelivery('jira', deliveryId, claim.token);
    return outcome;
  } catch (error) {
    await store.releaseDelivery('jira', deliveryId, claim.token);
    throw error;
  }
}

async function admit(deps: IntakeDeps, settings: IntakeSettings, ticket: Ticket): Promise<IntakeOutcome> {
  const parts = requestParts(ticket, settings.fields);
  const validation = validateRequest(parts, deps.catalog);
  const requester = await resolveRequester(deps, settings.identity, ticket);
  const problems: IntakeProblem[] = validation.ok ? [] : [...validation.problems];
  if (!requester.found) problems.push({ field: 'requester', message: requester.problem });

  const draft: NewAccessRequest = {
    jiraIssueKey: ticket.key,
    requester: {
      jiraAccountId: ticket.reporter?.accountId ?? 'unknown',
      ...(requester.found
        ? {
            directoryUserId: requester.user.id,
            login: requester.user.login,
            email: requester.user.email.toLowerCase(),
          }
        : {}),
      ...(ticket.reporter?.displayName ? { displayName: ticket.reporter.displayName } : {}),
    },
    // A rejected request keeps what was typed, cut short: it becomes part of an index key.
    entitlementId: validation.ok
      ? validation.value.entitlement.id
      : (parts.entitlementId ?? '').slice(0, MAX_STORED_ENTITLEMENT_LENGTH),
    durationSeconds: validation.ok ? validation.value.durationSeconds : 0,
    justification: validation.ok ? validation.value.justification : (parts.justification ?? ''),
    breakGlass: markedBreakGlass(ticket, settings.breakGlass),
    dueAt: new Date(deps.clock.now().getTime() + TRIAGE_DEADLINE_MS).toISOString(),
  };
  const filed: AuditEntry = {
    actor: INTAKE_ACTOR,
    reason: `filed as ${ticket.key}`,
    evidence: { summary: ticket.summary, parts: { ...parts } },
  };
  const { request, created } = await deps.store.create(draft, filed);
  // A redelivery of a ticket whose request has moved on: it was judged the first time.
  if (!created && request.state !== 'RECEIVED' && request.state !== 'REJECTED') {
    return { kind: 'accepted', request, created };
  }

  if (problems.length > 0) {
    const rejected =
      request.state === 'RECEIVED'
        ? await deps.store.transition({
            requestId: request.id,
            from: 'RECEIVED',
            to: 'REJECTED',
            expectedVersion: request.version,
            audit: { actor: INTAKE_ACTOR, reason: 'invalid request', evidence: { problems } },
          })
        : request;
    // Commenting last means a failed comment is retried with the delivery; the state is already final.
    if (rejected.state === 'REJECTED') await deps.tracker.comment(ticket.key, rejectionComment(problems));
    return { kind: 'rejected', request: rejected, problems };
  }
  // A request that exists but never left RECEIVED lost its queue message on an earlier attempt: queue it again.
  if (request.state === 'RECEIVED') await deps.queue.send('triage', { requestId: request.id });
  return { kind: 'accepted', request, created };
}

type Resolved = { found: true; user: DirectoryUser } | { found: false; problem: string };

/**
 * The reporter as the directory's person: through the configured Okta mapping of Atlassian
 * account ids, else by the email Jira holds for the account (the webhook often leaves it out: ask
 * Jira). Never from anything typed in the ticket. A lookup that answers nonsense will answer it
 * again on every retry: that is the requester's problem to raise with IT, not a reason for Jira to
 * retry for half an hour and then give up.
 */
async function resolveRequester(
  deps: IntakeDeps,
  identity: IdentitySettings,
  ticket: Ticket,
): Promise<Resolved> {
  const accountId = ticket.reporter?.accountId;
  if (!accountId)
    return { found: false, problem: 'the ticket has no reporter, so loopgate cannot tell who asked.' };
  try {
    const email = ticket.reporter?.email ?? (await deps.tracker.getUser(accountId))?.email;
    const lookup = await personOfJiraAccount(deps.directory, identity, {
      accountId,
      ...(email ? { email } : {}),
    });
    if (lookup.found) return lookup;
    if (!email && identity.jiraAccountAttribute === undefined) {
      return {
        found: false,
        problem:
          'your Jira profile hides your email address, and loopgate has no other way set up to find your ' +
          "directory (Okta) account. An admin must either store each person's Atlassian account id in an " +
          "Okta profile attribute and name it in loopgate's stage configuration (okta.identity.jiraAccountIdAttribute), " +
          'or let the loopgate app see email addresses. See "Identity" in loopgate\'s setup guide.',
      };
    }
    return {
      found: false,
      problem: `loopgate found no directory (Okta) account for you (${lookup.why}); ask IT to link your Jira and Okta accounts.`,
    };
  } catch (error) {
    if (error instanceof UpstreamError && error.failure === 'bad-response') {
      return {
        found: false,
        problem: `loopgate could not identify you: ${error.service} answered in a way loopgate cannot use; ask IT to check your account there.`,
      };
    }
    throw error;
  }
}

/** Whether the ticket carries the configured break-glass label or priority (the catalog still decides if it is allowed). */
export function markedBreakGlass(ticket: Ticket, marks: IntakeSettings['breakGlass']): boolean {
  const labels = Array.isArray(ticket.fields.labels) ? ticket.fields.labels : [];
  const priority = (ticket.fields.priority as { name?: unknown } | null | undefined)?.name;
  return (
    (marks.label !== undefined &&
      labels.some((l) => typeof l === 'string' && l.toLowerCase() === marks.label?.toLowerCase())) ||
    (marks.priority !== undefined &&
      typeof priority === 'string' &&
      priority.toLowerCase() === marks.priority.toLowerCase())
  );
}
