// Granting and revoking, exactly once in effect, whatever is redelivered or
// crashes in between. A grant first records its expiry, then grants (shared
// access through its holding, which decides at the write whether the access
// was there outside loopgate), reads the grant back, schedules the revoke and
// records GRANTED. A revoke leaves the holding, removes the access when no
// other live grant holds it, reads back that it is gone and records REVOKED.
// Each step is idempotent, so a redelivered message converges; the last
// attempt that still fails records FAILED, loudly.

import { type Catalog, type Entitlement, entitlementById } from '../catalog';
import { grantDuration } from '../decide/decide';
import { ConfigurationError, NotFoundError, ValidationError } from '../errors';
import { FollowUps } from '../follow-up';
import { sessionCaveat } from '../identity-center';
import { TransitionConflictError } from '../lifecycle';
import type { AccessRequest, ActionKind, Actor, Grant, ShiftBinding } from '../model';
import { bindingOf, isShiftBound, requesterShift, type ShiftDeps, shiftBoundEnd } from '../shift';
import type {
  Clock,
  ExpiryScheduler,
  GrantSubject,
  HeldAccess,
  HoldingRef,
  HoldingStore,
  Pager,
  FollowUpOutbox,
  Provisioner,
  RequestStore,
  Tracker,
} from '../ports';
import { duration, minute } from '../triage/text';
import { grantHeld, type Released, revokeHeld } from './holding';

export interface ProvisionDeps {
  store: RequestStore;
  /** The follow-ups written with each step (the same table as `store`). */
  outbox: FollowUpOutbox;
  /** Who holds each shared access (an Okta membership, a managed IAM attachment) through loopgate. */
  holdings: HoldingStore;
  provisioners: Record<ActionKind, Provisioner>;
  scheduler: ExpiryScheduler;
  pager: Pick<Pager, 'addNote' | 'resolve'>;
  tracker: Pick<Tracker, 'comment' | 'moveTo'>;
  catalog: Catalog;
  clock: Clock;
  /** PagerDuty shifts and the directory: what a grant that ends with the requester's shift needs. */
  shifts?: ShiftDeps;
}

export interface ProvisionSettings {
  /** Jira statuses to move the ticket to, by name, when configured. */
  /** `cancelled` is the sweeper's, for a ticket nobody decided in time. */
  jiraStatuses: { granted?: string; revoked?: string; failed?: string; cancelled?: string };
}

export type ProvisionOutcome =
  { kind: 'skipped'; reason: string } | { kind: 'done'; request: AccessRequest; problems: string[] };

/**
 * The provisioning step recorded before anything is granted, so a redelivery keeps the same expiry.
 * Whether the access pre-existed is not part of it: that is decided at the write (see holding.ts).
 */
interface Preparation {
  grantedAt: string;
  expiresAt: string;
  shift?: ShiftBinding;
}

const PROVISIONER: Actor = { kind: 'system', id: 'provision' };
const REVOKER: Actor = { kind: 'system', id: 'revoke' };

/**
 * Grants an APPROVED request. Throws on a failure worth retrying; `finalAttempt`, or a failure no
 * retry can fix (no such user or role, an invalid grant), records FAILED instead.
 */
export async function grantRequest(
  deps: ProvisionDeps,
  settings: ProvisionSettings,
  requestId: string,
  options: { finalAttempt: boolean },
): Promise<ProvisionOutcome> {
  const found = await load(deps, requestId);
  if (found.kind === 'skipped') return found;
  if (found.kind === 'uncataloged') return notInCatalog(deps, settings, found.request);
  let { request } = found;
  const { entitlement } = found;
  if (request.state === 'GRANTED' && request.grant) {
    // A redelivery after the grant landed refused (its revoke below failed): try that again.
    if (refusedInReview(request)) return revokeRefused(deps, settings, requestId);
    return refresh(deps, request, entitlement);
  }
  if (request.state !== 'APPROVED') return { kind: 'skipped', reason: `request is ${request.state}` };
  const grantee = granteeOf(request);
  const provisioner = deps.provisioners[entitlement.action.kind];
  /** What this attempt granted before it failed: recorded on FAILED so the sweeper removes it. */
  let leftInPlace: Grant | undefined;

  try {
    let prepared = await preparation(deps, request);
    if (!prepared) {
      const now = deps.clock.now();
      let expiresAt = new Date(now.getTime() + grantDuration(request, entitlement) * 1000);
      let shift: ShiftBinding | undefined;
      if (isShiftBound(request, entitlement)) {
        // Read at the grant, not at the approval: a shift that ended meanwhile grants nothing.
        if (!deps.shifts) throw new ConfigurationError('a shift-bound grant needs PagerDuty shifts');
        const lookup = await requesterShift(deps.shifts, request, entitlement, now, expiresAt);
        if (!lookup.onCall) return cancelOffShift(deps, settings, request, entitlement, lookup.why);
        shift = bindingOf(lookup, entitlement, expiresAt, now);
        expiresAt = shiftBoundEnd(lookup.end, expiresAt);
      }
      prepared = {
        grantedAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
        ...(shift ? { shift } : {}),
      };
      request = await deps.store.recordEvent({
        requestId,
        state: 'APPROVED',
        expectedVersion: request.version,
        audit: {
          actor: PROVISIONER,
          reason: 'provisioning started',
          evidence: { provisioning: { ...prepared } },
        },
      });
    }
    const subject: GrantSubject = {
      requestId,
      ...grantee,
      action: entitlement.action,
      expiresAt: new Date(prepared.expiresAt),
    };
    const joined = await grantHeld(deps, provisioner, entitlement.action.kind, subject);
    // A late attempt: another one granted and the request moved on; what it holds is not this one's.
    if (joined.kind === 'moved-on') return { kind: 'skipped', reason: `request is ${joined.state}` };
    const { outcome, alongside } = joined;
    const grant: Grant = {
      action: entitlement.action.kind,
      principal: outcome.principal,
      target: outcome.target,
      grantedAt: prepared.grantedAt,
      expiresAt: prepared.expiresAt,
      // Decided at the write; access another loopgate grant holds never counts.
      preExisting: outcome.preExisting,
      ...(prepared.shift ? { shift: prepared.shift } : {}),
    };
    leftInPlace = grant;
    if (!(await provisioner.verify(subject))) {
      throw new Error(`the ${entitlement.action.kind} grant is not in place after granting it`);
    }
    await deps.scheduler.schedule(requestId, subject.expiresAt);
    const told = tell(request, settings.jiraStatuses.granted, {
      note: grant.shift
        ? `Granted: ${entitlement.id} until the requester's on-call shift ends at ${minute(grant.expiresAt)} (${duration(grantSeconds(grant))}; never past ${minute(grant.shift.capAt)}). It is revoked then, earlier if the shift is handed over.${sessionsOutlast(entitlement)}`
        : `Granted: ${entitlement.id} for ${duration(grantSeconds(grant))}, until ${minute(grant.expiresAt)}. It will be revoked then.${sessionsOutlast(entitlement)}`,
      comment: grant.shift
        ? `Your access to ${entitlement.id} is in place until your shift ends at ${minute(grant.expiresAt)} (${grant.expiresAt}). It is removed automatically then, or earlier if your shift is handed over; a longer shift keeps it until ${minute(grant.shift.capAt)} at most.${sessionsOutlast(entitlement)}`
        : `Your access to ${entitlement.id} is in place until ${minute(grant.expiresAt)} (${grant.expiresAt}). It is removed automatically then.${sessionsOutlast(entitlement)}`,
      // A break-glass page stays open until someone reviews it.
      resolveIncident: !request.breakGlass,
    });
    const granted = await deps.store.transition({
      requestId,
      from: 'APPROVED',
      to: 'GRANTED',
      expectedVersion: request.version,
      audit: {
        actor: PROVISIONER,
        reason: `granted ${entitlement.id} until ${minute(prepared.expiresAt)}${
          grant.preExisting
            ? '; the requester already held this access outside loopgate: it will be kept at revoke'
            : ''
        }${alongside.length ? `; also granted by ${heldBy(alongside)}` : ''}`,
        evidence: {
          grant: { ...grant },
          verified: true,
          ...(alongside.length ? { alsoHeldBy: alongside.map((r) => r.id) } : {}),
        },
      },
      // Refused in review meanwhile: due now, so the sweeper removes it if the revoke below fails.
      changes: {
        grant,
        dueAt: refusedInReview(request) ? deps.clock.now().toISOString() : prepared.expiresAt,
      },
      followUps: told.items,
    });
    await told.deliver(deps, requestId);
    if (refusedInReview(granted)) return revokeRefused(deps, settings, requestId);
    return { kind: 'done', request: granted, problems: told.problems };
  } catch (error) {
    if (error instanceof TransitionConflictError) throw error;
    if (!options.finalAttempt && !isPermanent(error)) throw error;
    return fail(deps, settings, request, 'provisioning', error, { leftInPlace });
  }
}

/** A shift-bound grant whose requester is no longer on call when it would be made: nothing is granted. */
async function cancelOffShift(
  deps: ProvisionDeps,
  settings: ProvisionSettings,
  request: AccessRequest,
  entitlement: Entitlement,
  why: string,
): Promise<ProvisionOutcome> {
  const followUps = new FollowUps()
    .note(
      request.incidentId,
      `Not granted: ${entitlement.id} ends with the requester's on-call shift, and they are no longer on call (${why}).`,
    )
    .comment(
      request.jiraIssueKey,
      `Your access to ${entitlement.id} was not granted: it lasts only while you are on call, and your shift ended before it could be granted. File a new ticket during your next shift if you still need it.`,
    )
    .moveTicket(request.jiraIssueKey, settings.jiraStatuses.cancelled)
    .resolve(request.incidentId);
  const cancelled = await deps.store.transition({
    requestId: request.id,
    from: 'APPROVED',
    to: 'CANCELLED',
    expectedVersion: request.version,
    audit: {
      actor: PROVISIONER,
      reason: `not granted: the requester's shift ended before the grant (${why})`,
    },
    followUps: followUps.items,
  });
  await followUps.deliver(deps, request.id);
  return { kind: 'done', request: cancelled, problems: followUps.problems };
}

/**
 * A break-glass reviewer refused the grant while it was being made (review.ts): it is removed the
 * moment it is in place. The review is read with the request, so a review recorded during this
 * attempt makes the GRANTED write conflict and the retry reads it.
 */
function refusedInReview(request: AccessRequest): boolean {
  return request.breakGlass && request.review?.outcome === 'revoked';
}

function revokeRefused(deps: ProvisionDeps, settings: ProvisionSettings, requestId: string) {
  return revokeRequest(deps, settings, requestId, {
    finalAttempt: false,
    reason: 'the break-glass reviewer refused it while it was being granted',
  });
}

/**
 * Brings a grant in line with its record after an extension: the revoke schedule moves, and a grant
 * that carries its own expiry (an IAM inline policy) is written again with the new one. Access is
 * never added again here: this message may be a late redelivery, and a revoke may have run since it
 * was read, so whatever was rewritten is removed again when the request is no longer GRANTED.
 */
async function refresh(
  deps: ProvisionDeps,
  request: AccessRequest,
  entitlement: Entitlement,
): Promise<ProvisionOutcome> {
  const grant = request.grant as Grant;
  const subject: GrantSubject = {
    requestId: request.id,
    ...granteeOf(request),
    action: entitlement.action,
    expiresAt: new Date(grant.expiresAt),
  };
  const provisioner = deps.provisioners[grant.action];
  // Shared access is never written here: its holding belongs to the grant and revoke paths.
  if (!provisioner.isShared(grant) && provisioner.extend) {
    await provisioner.extend(subject);
    const now = await deps.store.get(request.id);
    if (now?.state !== 'GRANTED') {
      await provisioner.revoke({ principal: grant.principal, target: grant.target, preExisting: false });
      return { kind: 'skipped', reason: `request is ${now?.state ?? 'gone'}` };
    }
  }
  await deps.scheduler.schedule(request.id, subject.expiresAt);
  return { kind: 'done', request, problems: [] };
}

/** Revokes a GRANTED request: at expiry, by the sweeper, or early by someone allowed to. */
export async function revokeRequest(
  deps: ProvisionDeps,
  settings: ProvisionSettings,
  requestId: string,
  options: { finalAttempt: boolean; actor?: Actor; reason?: string },
): Promise<ProvisionOutcome> {
  const request = await deps.store.get(requestId);
  if (!request) return { kind: 'skipped', reason: `no request ${requestId}` };
  if (request.state !== 'GRANTED' && request.state !== 'FAILED') {
    return { kind: 'skipped', reason: `request is ${request.state}` };
  }
  const { grant } = request;
  if (!grant) return { kind: 'skipped', reason: 'nothing was granted' };
  // The catalog is only a fallback for a record that lacks the access: a deploy may have removed,
  // renamed or changed the entitlement since the grant, and what was granted must go all the same.
  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  const recorded = recordedAccess(deps, grant);
  if (!recorded && !entitlement) {
    const problem = new ValidationError(
      `the grant record does not say what was granted (action, principal and target), and ${request.entitlementId} is no longer in the catalog to look it up`,
    );
    // Already FAILED: the sweeper counts it on every run until a person settles it.
    if (request.state === 'FAILED') throw problem;
    return fail(deps, settings, request, 'revocation', problem, {
      then: `A person must remove the access by hand, or put ${request.entitlementId} back in the catalog and deploy: the sweeper then removes it.`,
    });
  }
  try {
    const access = recorded ?? (await locateAccess(deps, request, grant, entitlement as Entitlement));
    const provisioner = deps.provisioners[access.kind];
    const released = await revokeHeld(deps, provisioner, access.kind, requestId, {
      principal: access.principal,
      target: access.target,
      preExisting: grant.preExisting ?? false,
    });
    // Read back by the recorded ids, not through the catalog's current action.
    if (released.kind === 'removed' && (await provisioner.holds(access))) {
      throw new Error(`the ${access.kind} grant is still in place after revoking it`);
    }
    await deps.scheduler.cancel(requestId);
    const expired = deps.clock.now().getTime() >= Date.parse(grant.expiresAt);
    const reason =
      options.reason ?? (expired ? `expired at ${minute(grant.expiresAt)}` : 'revoked before its expiry');
    const kept = keptBecause(released);
    const uncataloged = entitlement
      ? ''
      : `; ${request.entitlementId} is no longer in the catalog: revoked ${access.kind} ${access.target} of ${access.principal} as recorded when it was granted`;
    const at = minute(deps.clock.now().toISOString());
    const told = tell(request, settings.jiraStatuses.revoked, {
      note: `Revoked at ${at}: ${reason}.${kept.note}${entitlement ? sessionsOutlast(entitlement) : ` ${request.entitlementId} is no longer in the catalog.`}`,
      comment: `Your access to ${request.entitlementId} was removed at ${at} (${reason}).${kept.comment}${entitlement ? sessionsOutlast(entitlement) : ''}`,
      resolveIncident: true,
    });
    const revoked = await deps.store.transition({
      requestId,
      from: request.state,
      to: 'REVOKED',
      expectedVersion: request.version,
      audit: {
        actor: options.actor ?? REVOKER,
        reason: `${reason}${uncataloged}${kept.audit}`,
        evidence: {
          revoked: { ...grant, ...(recorded ? {} : { action: access.kind, ...pickAccess(access) }) },
          verifiedGone: released.kind === 'removed',
          ...(released.kind === 'kept-for' ? { stillHeldBy: released.holders.map((r) => r.id) } : {}),
          ...(entitlement ? {} : { entitlementInCatalog: false }),
        },
      },
      followUps: told.items,
    });
    await told.deliver(deps, requestId);
    return { kind: 'done', request: revoked, problems: told.problems };
  } catch (error) {
    if (error instanceof TransitionConflictError || !options.finalAttempt || request.state === 'FAILED')
      throw error;
    return fail(deps, settings, request, 'revocation', error);
  }
}

/**
 * What a revoke removes, as the grant recorded it: the kind, who holds it (an Okta user id, an IAM
 * principal ARN) and what it is (an Okta group id, an IAM policy name or ARN). That is all the
 * provisioners' revoke needs; undefined when the record lacks any of it.
 */
function recordedAccess(deps: ProvisionDeps, grant: Partial<Grant>): HoldingRef | undefined {
  const { action, principal, target } = grant;
  if (!action || !Object.hasOwn(deps.provisioners, action) || !principal || !target) return undefined;
  return { kind: action, principal, target };
}

/** A record without its access: found again the way the grant found it, through the catalog entry. */
async function locateAccess(
  deps: ProvisionDeps,
  request: AccessRequest,
  grant: Grant,
  entitlement: Entitlement,
): Promise<HoldingRef> {
  const kind = entitlement.action.kind;
  const held = await deps.provisioners[kind].locate({
    requestId: request.id,
    ...granteeOf(request),
    action: entitlement.action,
    expiresAt: new Date(grant.expiresAt),
  });
  return { kind, ...pickAccess(held) };
}

const pickAccess = ({ principal, target }: HeldAccess): HeldAccess => ({ principal, target });

/** The last attempt failed: FAILED, said on the incident and the ticket; the sweeper raises the alarm. */
async function fail(
  deps: ProvisionDeps,
  settings: ProvisionSettings,
  request: AccessRequest,
  what: 'provisioning' | 'revocation',
  error: unknown,
  options: {
    /** A grant the failed provisioning made: recorded, so the sweeper keeps trying to remove it. */
    leftInPlace?: Grant;
    /** What a person must do, when it is not the usual. */
    then?: string;
  } = {},
): Promise<ProvisionOutcome> {
  const { leftInPlace } = options;
  const message = error instanceof Error ? error.message : String(error);
  const why = isPermanent(error) ? 'failed, and no retry can fix it' : 'failed after retries';
  const told = tell(request, settings.jiraStatuses.failed, {
    note: `FAILED: ${what} of ${request.entitlementId} ${why} (${message}). ${
      options.then ??
      ((leftInPlace ?? request.grant)
        ? 'The sweeper keeps trying to remove the access every 5 minutes; a person must check that it is gone.'
        : 'A person must check that nothing was granted.')
    }`,
    comment: `${what === 'provisioning' ? 'Granting' : 'Removing'} your access to ${request.entitlementId} failed; the security team has been alerted.`,
    resolveIncident: false,
  });
  const failed = await deps.store.transition({
    requestId: request.id,
    from: request.state,
    to: 'FAILED',
    expectedVersion: request.version,
    audit: {
      actor: what === 'provisioning' ? PROVISIONER : REVOKER,
      reason: `${what} ${why}: ${message}`,
      evidence: { error: message },
    },
    // The sweeper looks at FAILED requests on every run, and removes any grant they hold.
    changes: { dueAt: deps.clock.now().toISOString(), ...(leftInPlace ? { grant: leftInPlace } : {}) },
    followUps: told.items,
  });
  await told.deliver(deps, request.id);
  return { kind: 'done', request: failed, problems: told.problems };
}

/** The request and its catalog entry, which granting and extending need (revoking does not). */
async function load(
  deps: ProvisionDeps,
  requestId: string,
): Promise<
  | { kind: 'found'; request: AccessRequest; entitlement: Entitlement }
  | { kind: 'uncataloged'; request: AccessRequest }
  | { kind: 'skipped'; reason: string }
> {
  const request = await deps.store.get(requestId);
  if (!request) return { kind: 'skipped', reason: `no request ${requestId}` };
  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  if (!entitlement) return { kind: 'uncataloged', request };
  return { kind: 'found', request, entitlement };
}

/**
 * Provisioning for a request whose entitlement a deploy removed (or renamed): nothing is granted or
 * extended without a catalog entry. An APPROVED request ends FAILED, so a person tells the
 * requester and checks that an attempt before the deploy left nothing behind; never skipped, or the
 * sweeper would send it here every five minutes. A GRANTED one (an extension recorded just before
 * the deploy) keeps the revoke it had: the access ends no later than it was going to.
 */
async function notInCatalog(
  deps: ProvisionDeps,
  settings: ProvisionSettings,
  request: AccessRequest,
): Promise<ProvisionOutcome> {
  const gone = `${request.entitlementId} is no longer in the catalog`;
  if (request.state === 'APPROVED') {
    return fail(
      deps,
      settings,
      request,
      'provisioning',
      new ValidationError(`${gone}: nothing is granted for it`),
    );
  }
  if (request.state === 'GRANTED') {
    return { kind: 'skipped', reason: `${gone}: the grant is not refreshed and is revoked as scheduled` };
  }
  return { kind: 'skipped', reason: `request is ${request.state}` };
}

async function preparation(deps: ProvisionDeps, request: AccessRequest): Promise<Preparation | undefined> {
  const trail = await deps.store.listAuditEvents(request.id);
  const event = trail.findLast(
    (e) => e.to === 'APPROVED' && e.from === 'APPROVED' && e.evidence?.provisioning,
  );
  return event?.evidence?.provisioning as Preparation | undefined;
}

/** Who receives the access: the requester's directory id (and their email, which IAM maps from). */
function granteeOf(request: AccessRequest): Pick<GrantSubject, 'personId' | 'email'> {
  const { email, directoryUserId } = request.requester;
  if (!email) throw new ValidationError(`request ${request.id} has no requester email`);
  return { email, ...(directoryUserId ? { personId: directoryUserId } : {}) };
}

/** What a revoke says about access it left in place. */
function keptBecause(released: Released): { audit: string; note: string; comment: string } {
  if (released.kind === 'kept-outside') {
    return {
      audit: '; the access the requester held before was kept',
      note: ' The access the requester held outside loopgate is unchanged.',
      comment: ' The access you held before this request is unchanged.',
    };
  }
  if (released.kind === 'kept-for') {
    const others = heldBy(released.holders);
    return {
      audit: `; the access stays while ${others} grants it`,
      note: ` The access stays: ${others} still grants it.`,
      comment: ` The same access stays in place while ${others} grants it.`,
    };
  }
  return { audit: '', note: '', comment: '' };
}

/** Other requests holding the same access, as people read them: the ticket and until when. */
function heldBy(requests: readonly AccessRequest[]): string {
  return requests
    .map((r) => `${r.jiraIssueKey}${r.grant ? ` (until ${minute(r.grant.expiresAt)})` : ' (being granted)'}`)
    .join(', ');
}

/** Identity Center: removing the assignment ends no session already issued; say for how long one lasts. */
function sessionsOutlast(entitlement: Entitlement): string {
  const { action } = entitlement;
  return action.kind === 'aws-identity-center' ? ` Note: ${sessionCaveat(action.sessionDuration)}.` : '';
}

function grantSeconds(grant: Grant): number {
  return Math.round((Date.parse(grant.expiresAt) - Date.parse(grant.grantedAt)) / 1000);
}

/** Notes, comments and the ticket's status after a step: written with it, delivered after it. */
function tell(
  request: AccessRequest,
  status: string | undefined,
  message: { note: string; comment: string; resolveIncident: boolean },
): FollowUps {
  return new FollowUps()
    .note(request.incidentId, message.note)
    .comment(request.jiraIssueKey, message.comment)
    .moveTicket(request.jiraIssueKey, status)
    .resolve(message.resolveIncident ? request.incidentId : undefined);
}

/** A principal that does not exist, or a grant that is invalid, stays so on the next delivery. */
const isPermanent = (error: unknown) => error instanceof NotFoundError || error instanceof ValidationError;
