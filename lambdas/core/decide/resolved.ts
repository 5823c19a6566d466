// An incident resolved before anyone decided: the request is cancelled.

import { FollowUps } from '../follow-up';
import type { Actor } from '../model';
import {
  type DecideDeps,
  type DecideSettings,
  type EventOutcome,
  type IncidentEvent,
  requestOf,
} from './deps';

const SYSTEM: Actor = { kind: 'system', id: 'pagerduty-webhook' };

export async function onResolved(
  deps: DecideDeps,
  settings: DecideSettings,
  event: Extract<IncidentEvent, { kind: 'resolved' }>,
): Promise<EventOutcome> {
  const found = await requestOf(deps, event.incidentId);
  if (found.kind === 'ignored') return found;
  const { request } = found;
  if (request.state !== 'PENDING') return { kind: 'ignored', reason: `request is ${request.state}` };
  if (!settings.cancelOnResolve) return { kind: 'ignored', reason: 'resolving does not cancel (configured)' };
  const author = event.agentId ? await deps.pager.getUser(event.agentId) : undefined;
  const actor: Actor = author ? { kind: 'person', id: author.email } : SYSTEM;
  const cancelled = await deps.store.transition({
    requestId: request.id,
    from: 'PENDING',
    to: 'CANCELLED',
    expectedVersion: request.version,
    audit: {
      actor,
      reason: 'the incident was resolved without a decision',
      evidence: { incidentId: event.incidentId },
    },
  });
  const followUps = new FollowUps();
  const attempt = (what: string, work: () => Promise<unknown>) => followUps.attempt(what, work);
  const problems = followUps.problems;
  await attempt('Jira comment', () =>
    deps.tracker.comment(
      cancelled.jiraIssueKey,
      `The page was closed${author ? ` by ${author.name}` : ''} without a decision, so this request is cancelled and nothing was granted. File a new ticket if you still need the access.`,
    ),
  );
  await followUps.moveTicket(deps.tracker, cancelled.jiraIssueKey, settings.jiraStatuses.cancelled);
  return {
    kind: 'answered',
    requestId: request.id,
    result: 'CANCELLED',
    ...(problems.length ? { problems } : {}),
  };
}
