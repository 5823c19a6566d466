// Shared access by holding, not by snapshot. An Okta membership or a managed
// IAM attachment is one thing at the vendor however many loopgate grants give
// it, so loopgate keeps, per person and access, the requests that hold it
// (a holding). A grant joins the holding and decides "pre-existing" at the
// write that adds the access; a revoke leaves it and removes the access only
// when no live request holds it and it was not there outside loopgate; the
// sweeper removes what loopgate placed and nobody holds any longer. All of it
// runs under the holding's lease, so a grant and a revoke of the same access
// never interleave their vendor calls.

import { ConflictError } from '../errors';
import type { AccessRequest, ActionKind, RequestState } from '../model';
import type {
  Clock,
  GrantOutcome,
  GrantSubject,
  HeldAccess,
  Holding,
  HoldingRef,
  HoldingStore,
  Provisioner,
  RequestStore,
} from '../ports';

export interface HoldingDeps {
  store: Pick<RequestStore, 'get'>;
  holdings: HoldingStore;
  clock: Clock;
}

/** Another attempt holds the lease: retry later (the queue's redelivery, the next sweep). */
export class HoldingBusyError extends ConflictError {}

/** How long after a change the sweeper looks at a holding: every attempt involved has ended by then. */
export const REVIEW_SOON_MS = 15 * 60_000;
/** Past a holder's expiry, how long its revoke may take before the sweeper reconciles without it. */
export const REVIEW_AFTER_EXPIRY_MS = 45 * 60_000;
const LEASE_ATTEMPTS = 30;
const LEASE_PAUSE_MS = 100;

/** Requests whose grant holds access: being provisioned, or granted. Anything else holds nothing. */
const LIVE: ReadonlySet<RequestState> = new Set(['APPROVED', 'GRANTED']);

export type Joined =
  | { kind: 'granted'; outcome: GrantOutcome; alongside: AccessRequest[] }
  | { kind: 'moved-on'; state: string };

/**
 * Grants `subject` for an APPROVED request. For shared access, joins its holding first; the access
 * counts as pre-existing only when it is there at the write and loopgate had nothing in place.
 */
export async function grantHeld(
  deps: HoldingDeps,
  provisioner: Provisioner,
  kind: ActionKind,
  subject: GrantSubject,
): Promise<Joined> {
  const access = await provisioner.locate(subject);
  if (!provisioner.isShared(access)) {
    return { kind: 'granted', outcome: await provisioner.grant(subject), alongside: [] };
  }
  const id = subject.requestId;
  return underLease(deps.holdings, { kind, ...access }, async (before, save) => {
    // Read again under the lease: a late attempt for a request that moved on claims nothing.
    const now = await deps.store.get(id);
    if (now?.state !== 'APPROVED') return { kind: 'moved-on', state: now?.state ?? 'gone' };
    // Holders whose requests ended are dropped; access they left in place becomes this grant's.
    const { live } = await liveHolders(deps, before.holders, id);
    const holders = [...live.map((r) => r.id), id];
    const reviewAt = sooner(before.reviewAt, deps);
    // Marked before the write: if the attempt dies right after it, the access still counts as loopgate's.
    await save({ ...before, holders, placed: true, lastHolder: id, reviewAt });
    const outcome = await provisioner.grant(subject);
    // Decided at the write: there already, with nothing of loopgate's in place, is access from outside.
    const outside = outcome.preExisting && !before.placed;
    await save({
      ...before,
      holders,
      outside,
      placed: outcome.preExisting ? before.placed : true,
      lastHolder: id,
      reviewAt,
    });
    return { kind: 'granted', outcome: { ...outcome, preExisting: outside }, alongside: live };
  });
}

export type Released =
  { kind: 'removed' } | { kind: 'kept-outside' } | { kind: 'kept-for'; holders: AccessRequest[] };

/**
 * Takes a request's grant away. Shared access is removed only when no other live request holds it and
 * it was not there outside loopgate; otherwise the request just leaves the holding.
 */
export async function revokeHeld(
  deps: HoldingDeps,
  provisioner: Provisioner,
  kind: ActionKind,
  requestId: string,
  grant: GrantOutcome,
): Promise<Released> {
  if (!provisioner.isShared(grant)) {
    // Its own policy: whatever `preExisting` says, leaving it would leave access nobody owns.
    await provisioner.revoke({ ...grant, preExisting: false });
    return { kind: 'removed' };
  }
  return underLease(
    deps.holdings,
    { kind, principal: grant.principal, target: grant.target },
    async (before, save) => {
      const { live } = await liveHolders(deps, before.holders, requestId);
      if (live.length) {
        await save({ ...before, holders: live.map((r) => r.id), lastHolder: requestId });
        return { kind: 'kept-for', holders: live };
      }
      const known = before.holders.length > 0 || before.placed || before.outside;
      // No holding (a grant from before holdings, or an earlier attempt finished it): the grant's own record.
      const keep = known ? before.outside && !before.placed : grant.preExisting;
      if (keep) {
        await save({ ...before, holders: [], outside: false, placed: false, lastHolder: requestId });
        return { kind: 'kept-outside' };
      }
      await removePlaced(deps, provisioner, before, save, requestId);
      return { kind: 'removed' };
    },
  );
}

export interface Reconciled {
  access: HoldingRef;
  /** Holders that were not live (their requests ended or failed). */
  dropped: string[];
  removed: boolean;
}

/**
 * The sweeper's part: drops holders whose requests are no longer live and removes access loopgate
 * placed that nobody holds now. Undefined when the holding is busy (the next sweep tries again).
 */
export async function reconcileHolding(
  deps: HoldingDeps,
  provisioner: Provisioner,
  ref: HoldingRef,
): Promise<Reconciled | undefined> {
  try {
    return await underLease(
      deps.holdings,
      ref,
      async (before, save) => {
        const { live, dead } = await liveHolders(deps, before.holders);
        const dropped = dead.map((d) => d.id);
        if (live.length) {
          // Looked at again once the last of them should have been revoked.
          const now = deps.clock.now().getTime();
          const last = Math.max(now, ...live.map((r) => Date.parse(r.grant?.expiresAt ?? '') || now));
          await save({
            ...before,
            holders: live.map((r) => r.id),
            reviewAt: new Date(last + REVIEW_AFTER_EXPIRY_MS).toISOString(),
          });
          return { access: ref, dropped, removed: false };
        }
        if (!before.placed) {
          // Nothing of loopgate's in place: the holding is forgotten, outside access untouched.
          await save({ ...before, holders: [], outside: false });
          return { access: ref, dropped, removed: false };
        }
        await removePlaced(deps, provisioner, before, save, before.lastHolder);
        return { access: ref, dropped, removed: true };
      },
      1,
    );
  } catch (error) {
    if (error instanceof HoldingBusyError) return undefined;
    throw error;
  }
}

/** Removes loopgate's access and reads back that it is gone; a crash in between leaves it marked placed. */
async function removePlaced(
  deps: HoldingDeps,
  provisioner: Provisioner,
  before: Holding,
  save: (holding: Holding) => Promise<void>,
  lastHolder: string | undefined,
): Promise<void> {
  const access: HeldAccess = { principal: before.principal, target: before.target };
  const last = lastHolder ? { lastHolder } : {};
  await save({ ...before, holders: [], placed: true, ...last, reviewAt: sooner(undefined, deps) });
  await provisioner.revoke({ ...access, preExisting: false });
  if (await provisioner.holds(access)) {
    throw new Error(`the ${before.kind} access ${before.target} is still in place after removing it`);
  }
  // Nothing held, nothing placed: the release forgets the holding.
  await save({ ...before, holders: [], placed: false, outside: false, ...last });
}

async function underLease<T>(
  holdings: HoldingStore,
  ref: HoldingRef,
  work: (holding: Holding, save: (holding: Holding) => Promise<void>) => Promise<T>,
  attempts = LEASE_ATTEMPTS,
): Promise<T> {
  let lease: Awaited<ReturnType<HoldingStore['lease']>>;
  for (let attempt = 1; ; attempt++) {
    lease = await holdings.lease(ref);
    if (lease || attempt >= attempts) break;
    await new Promise((resolve) => setTimeout(resolve, LEASE_PAUSE_MS * (0.5 + Math.random())));
  }
  if (!lease) {
    throw new HoldingBusyError(`another attempt is changing ${ref.kind} ${ref.target} of ${ref.principal}`);
  }
  const { holding, token } = lease;
  let result: T;
  try {
    result = await work(holding, (next) => holdings.save(next, token));
  } catch (error) {
    // The lease runs out by itself; the work's error is what the caller must see.
    await holdings.release(ref, token).catch(() => undefined);
    throw error;
  }
  await holdings.release(ref, token);
  return result;
}

/** The holders other than `except`, split by whether their request still holds access. */
async function liveHolders(
  deps: HoldingDeps,
  holders: readonly string[],
  except?: string,
): Promise<{ live: AccessRequest[]; dead: { id: string; request?: AccessRequest }[] }> {
  const live: AccessRequest[] = [];
  const dead: { id: string; request?: AccessRequest }[] = [];
  for (const id of new Set(holders)) {
    if (id === except) continue;
    const request = await deps.store.get(id);
    if (request && LIVE.has(request.state)) live.push(request);
    else dead.push({ id, ...(request ? { request } : {}) });
  }
  return { live, dead };
}

/** The earlier of a holding's review time and a review soon after this change. */
function sooner(current: string | undefined, deps: HoldingDeps): string {
  const soon = deps.clock.now().getTime() + REVIEW_SOON_MS;
  return new Date(current ? Math.min(Date.parse(current), soon) : soon).toISOString();
}
