// The sweeper's look at grants that end with the requester's on-call shift.
// PagerDuty sends loopgate nothing when a shift changes, so every sweep asks
// again: a shift extended (or continued by an override) moves the expiry
// later, never past the grant's cap; a shift cut short moves it earlier; a
// shift handed over (the requester no longer on call) ends the grant now.
// A re-check that cannot ask PagerDuty changes nothing: the grant keeps the
// end it has, which is never past its cap, so an outage can only end access
// on time, never keep it longer. Every move is audited.

import { FollowUps } from '../follow-up';
import type { AccessRequest, ShiftBinding } from '../model';
import { requesterShift } from '../shift';
import { minute } from '../triage/text';
import { entitlementById } from '../catalog';
import { revokeRequest } from './provision';
import type { SweepDeps, SweepSettings } from './sweep';

/** Moves smaller than this are PagerDuty rounding, not a changed shift. */
const SAME_END_MS = 1000;

export type ShiftRecheck =
  { kind: 'unchanged' } | { kind: 'moved'; from: string; to: string } | { kind: 'ended'; why: string };

/** Re-checks one live shift-bound grant; throws (and changes nothing) when PagerDuty cannot be asked. */
export async function recheckShift(
  deps: SweepDeps,
  settings: SweepSettings,
  request: AccessRequest,
): Promise<ShiftRecheck> {
  const grant = request.grant;
  const binding = grant?.shift;
  if (!grant || !binding || request.state !== 'GRANTED') return { kind: 'unchanged' };
  const now = deps.clock.now();
  if (Date.parse(grant.expiresAt) <= now.getTime()) return { kind: 'unchanged' }; // the expiry's revoke has it
  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  // Without its catalog entry the grant keeps the end it has (the sweeper revokes it then).
  if (!entitlement || !deps.shifts) return { kind: 'unchanged' };
  const capAt = new Date(binding.capAt);
  const lookup = await requesterShift(deps.shifts, request, entitlement, now, capAt);
  if (!lookup.onCall) {
    const why = `the requester's on-call shift was handed over or ended early (${lookup.why})`;
    await revokeRequest(deps, settings, request.id, {
      finalAttempt: false,
      reason: `${why}; revoked by the sweeper`,
    });
    return { kind: 'ended', why };
  }
  const end = new Date(Math.min(lookup.end.getTime(), capAt.getTime()));
  if (Math.abs(end.getTime() - Date.parse(grant.expiresAt)) < SAME_END_MS) return { kind: 'unchanged' };
  const shift: ShiftBinding = {
    ...binding,
    shiftEnd: lookup.end.toISOString(),
    checkedAt: now.toISOString(),
  };
  const later = end.getTime() > Date.parse(grant.expiresAt);
  const until = minute(end.toISOString());
  const capped = end.getTime() < lookup.end.getTime();
  const followUps = new FollowUps()
    .note(
      request.incidentId,
      `The requester's on-call shift now ends at ${minute(lookup.end.toISOString())}: the grant ${later ? 'moves' : 'is brought forward'} to ${until}${capped ? ` (its cap)` : ''}.`,
    )
    .comment(
      request.jiraIssueKey,
      `Your on-call shift changed: your access to ${request.entitlementId} now lasts until your shift ends at ${until} (${end.toISOString()})${capped ? ', the most this grant allows' : ''}.`,
    );
  await deps.store.transition({
    requestId: request.id,
    from: 'GRANTED',
    to: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor: { kind: 'system', id: 'sweeper' },
      reason: `the requester's shift now ends at ${minute(lookup.end.toISOString())}: the grant ${later ? 'moves' : 'is brought forward'} from ${minute(grant.expiresAt)} to ${until}${capped ? ' (capped)' : ''}`,
      evidence: {
        shift: {
          from: grant.expiresAt,
          to: end.toISOString(),
          shiftEnd: shift.shiftEnd,
          capAt: binding.capAt,
        },
      },
    },
    changes: { grant: { ...grant, expiresAt: end.toISOString(), shift }, dueAt: end.toISOString() },
    followUps: followUps.items,
  });
  // The revoke's schedule moves now; provisioning rewrites an IAM inline policy's own expiry too.
  await deps.scheduler.schedule(request.id, end);
  await deps.queue.send('provision', { requestId: request.id });
  await followUps.deliver(deps, request.id);
  return { kind: 'moved', from: grant.expiresAt, to: end.toISOString() };
}
