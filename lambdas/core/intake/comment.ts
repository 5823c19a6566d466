// A comment on a request's Jira ticket. The requester may end their own grant
// early with `revoke [reason]`, the same command as on the incident; any other
// comment is conversation and loopgate leaves it alone. Approvers revoke on the
// incident, where PagerDuty tells loopgate who they are.

import { parseCommand } from '../decide/command';
import { FollowUps, queueFollowUps } from '../follow-up';
import type { RequestStore, Tracker, WorkQueue } from '../ports';

export interface TicketComment {
  issueKey: string;
  id: string;
  authorAccountId: string;
  /** The comment as plain text (ADF flattened). */
  text: string;
}

export type CommentOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'answered'; requestId: string; result: string; problems?: string[] };

export async function commentOnTicket(
  deps: { store: RequestStore; tracker: Pick<Tracker, 'comment'>; queue: WorkQueue },
  comment: TicketComment,
): Promise<CommentOutcome> {
  const parsed = parseCommand(comment.text);
  if (parsed.kind !== 'command' || parsed.command.verb !== 'revoke') {
    return { kind: 'ignored', reason: 'conversation, not a revoke' };
  }
  const request = await deps.store.getByJiraIssueKey(comment.issueKey);
  if (!request) return { kind: 'ignored', reason: `no request for ${comment.issueKey}` };

  const followUps = new FollowUps();
  const reply = (text: string) =>
    followUps.attempt('Jira comment', () => deps.tracker.comment(request.jiraIssueKey, text));
  const answered = (result: string) => ({
    kind: 'answered' as const,
    requestId: request.id,
    result,
    ...(followUps.problems.length ? { problems: followUps.problems } : {}),
  });

  if (comment.authorAccountId !== request.requester.jiraAccountId) {
    followUps.comment(
      request.jiraIssueKey,
      'Only the person who asked for this access can end it from Jira. Approvers end it with a "revoke" note on the PagerDuty incident.',
    );
    await deps.store.recordEvent({
      requestId: request.id,
      state: request.state,
      expectedVersion: request.version,
      audit: {
        actor: { kind: 'person', id: `jira:${comment.authorAccountId}` },
        reason: 'refused revoke from Jira: only the requester may revoke on the ticket',
        evidence: { securityEvent: 'refused-command', verb: 'revoke', commentId: comment.id },
      },
      followUps: followUps.items,
    });
    await queueFollowUps(deps, request.id, followUps);
    return answered('refused revoke: not the requester');
  }
  if (request.state !== 'GRANTED') {
    await reply(`There is nothing to revoke: this request is ${request.state}, not granted.`);
    return answered(`nothing to revoke: ${request.state}`);
  }

  const reason = parsed.command.reason;
  followUps.comment(request.jiraIssueKey, 'Ending your access now; loopgate comments here once it is gone.');
  await deps.store.recordEvent({
    requestId: request.id,
    state: 'GRANTED',
    expectedVersion: request.version,
    audit: {
      actor: {
        kind: 'person',
        id: request.requester.email ?? `jira:${comment.authorAccountId}`,
        ...(request.requester.directoryUserId ? { personId: request.requester.directoryUserId } : {}),
      },
      reason: `early revoke asked by the requester on Jira${reason ? `: ${reason}` : ''}`,
      evidence: { commentId: comment.id },
    },
    followUps: followUps.items,
  });
  await deps.queue.send('revoke', { requestId: request.id });
  await queueFollowUps(deps, request.id, followUps);
  return answered('revoke queued');
}
