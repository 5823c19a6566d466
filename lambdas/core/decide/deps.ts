// The decide path's shared shapes: the event loopgate reacts to, the ports and
// settings it uses, and what it answers. Each use case lives in its own file;
// incident-event.ts routes a note or a resolve to one of them.

import { type Catalog, type Entitlement, entitlementById } from '../catalog';
import type { FollowUps } from '../follow-up';
import type { AccessRequest } from '../model';
import type { IdentitySettings } from '../people';
import type {
  Clock,
  Directory,
  FollowUpOutbox,
  OnCall,
  Pager,
  RequestStore,
  StepUp,
  Tracker,
  WorkQueue,
} from '../ports';

export type IncidentEvent =
  | {
      kind: 'annotated';
      incidentId: string;
      noteId: string;
      /** As the webhook carries it: cut when `trimmed`. */
      content: string;
      trimmed: boolean;
      /** The PagerDuty user who wrote the note. */
      agentId?: string;
      occurredAt: string;
    }
  | { kind: 'resolved'; incidentId: string; agentId?: string; occurredAt: string };

export type AnnotatedEvent = Extract<IncidentEvent, { kind: 'annotated' }>;

export interface DecideDeps {
  store: RequestStore;
  /** The follow-ups written with each step (the same table as `store`). */
  outbox: FollowUpOutbox;
  pager: Pager;
  tracker: Pick<Tracker, 'comment' | 'moveTo'>;
  directory: Directory;
  onCall: OnCall;
  queue: WorkQueue;
  catalog: Catalog;
  clock: Clock;
  /** Okta Verify pushes, for entitlements whose approvals must be proven (catalog `stepUp`). */
  stepUp: StepUp;
}

export interface DecideSettings {
  /** loopgate's own PagerDuty user (the From address): its notes are never commands. */
  loopgateEmail: string;
  /** How a PagerDuty user is found in the directory. */
  identity: IdentitySettings;
  /** Cancel a PENDING request when its incident is resolved without a decision (default true). */
  cancelOnResolve: boolean;
  /** When the sweeper should look again at an APPROVED request that provisioning has not picked up. */
  provisionDueMs: number;
  /** Jira statuses to move the ticket to, by name, when configured. */
  jiraStatuses: { approved?: string; denied?: string; cancelled?: string };
}

export type EventOutcome =
  | { kind: 'ignored'; reason: string }
  | {
      kind: 'answered';
      requestId: string;
      result: string;
      /** Steps after the recorded decision that failed (a note, a comment): for the log. */
      problems?: string[];
    };

/** The request and the result, for the log. */
export function answered(requestId: string, result: string, followUps?: FollowUps): EventOutcome {
  return {
    kind: 'answered',
    requestId,
    result,
    ...(followUps?.problems.length ? { problems: followUps.problems } : {}),
  };
}

/** A moment `ms` from now on the deps' clock, as stored. */
export function later(deps: Pick<DecideDeps, 'clock'>, ms: number): string {
  return new Date(deps.clock.now().getTime() + ms).toISOString();
}

/** The request an incident pages for, and its entitlement; ignored when either is gone. */
export async function requestOf(
  deps: DecideDeps,
  incidentId: string,
): Promise<
  { kind: 'found'; request: AccessRequest; entitlement: Entitlement } | { kind: 'ignored'; reason: string }
> {
  const request = await deps.store.getByIncidentId(incidentId);
  if (!request) return { kind: 'ignored', reason: `incident ${incidentId} is not a loopgate page` };
  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  if (!entitlement) {
    return { kind: 'ignored', reason: `entitlement ${request.entitlementId} is no longer in the catalog` };
  }
  return { kind: 'found', request, entitlement };
}

/**
 * Whether a note was acted on already: a vote, a review, any other command, or (unless
 * `ignoringStepUps`, for carrying out an accepted push) a command waiting for a push.
 */
export function isHandled(
  request: AccessRequest,
  noteId: string,
  options: { ignoringStepUps?: boolean } = {},
): boolean {
  return (
    request.decisions.some((d) => d.sourceId === noteId) ||
    request.review?.sourceId === noteId ||
    (request.notesHandled ?? []).includes(noteId) ||
    (!options.ignoringStepUps && (request.stepUps ?? []).some((c) => c.sourceId === noteId))
  );
}

/** The change that marks a note handled, for the write that acts on it. */
export function handledNote(request: AccessRequest, noteId: string): { notesHandled: string[] } {
  return { notesHandled: [...(request.notesHandled ?? []), noteId] };
}
