// The justification study of `loopgate report`: granted requests only (a rule's
// approval or people's), grouped per entitlement by the ticket prefixes they
// cite and the phrases that recur across requests.

import { describe, expect, it } from 'vitest';
import { studyJustifications } from '../../lambdas/core/justifications';
import type { AccessRequest, Decision } from '../../lambdas/core/model';

let sequence = 0;
function request(entitlementId: string, justification: string, outcome?: Decision['outcome']): AccessRequest {
  sequence += 1;
  return {
    id: `r${sequence}`,
    jiraIssueKey: `ACCESS-${sequence}`,
    requester: { jiraAccountId: 'a' },
    entitlementId,
    durationSeconds: 3600,
    justification,
    breakGlass: false,
    state: outcome === 'deny' ? 'DENIED' : 'GRANTED',
    version: 3,
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:00:00.000Z',
    decisions: outcome
      ? [{ outcome, actor: { kind: 'rule', id: 'audit-only' }, decidedAt: '2026-12-01T10:00:00.000Z' }]
      : [],
  };
}

describe('studyJustifications', () => {
  it('counts ticket prefixes and repeated phrases per entitlement, from granted requests only', () => {
    const [logs, billing, ...rest] = studyJustifications([
      request('aws-logs-read', 'INC-4411 checkout latency in production', 'approve'),
      request('aws-logs-read', 'inc-9 INC-4420: checkout latency again, need the logs', 'approve'),
      request('aws-logs-read', 'CHG-12 rotate the archive keys', 'approve'),
      request('aws-logs-read', 'reading the checkout latency logs for fun', 'deny'),
      request('aws-logs-read', 'checkout latency', undefined),
      request('aws-billing-read', 'monthly cost review', 'approve'),
    ]);
    expect(rest).toEqual([]);
    expect(logs).toEqual({
      entitlementId: 'aws-logs-read',
      requests: 3,
      ticketPrefixes: [
        { prefix: 'INC', requests: 2 },
        { prefix: 'CHG', requests: 1 },
      ],
      withoutTicket: 0,
      // "checkout latency" twice; its parts alone and the denied and undecided requests do not count.
      phrases: [{ phrase: 'checkout latency', requests: 2 }],
    });
    expect(billing).toEqual({
      entitlementId: 'aws-billing-read',
      requests: 1,
      ticketPrefixes: [],
      withoutTicket: 1,
      phrases: [],
    });
  });

  it('keeps the longest phrase that recurs as often as its parts', () => {
    const [study] = studyJustifications([
      request('okta-prod-readonly', 'weekly dashboard review for the board', 'approve'),
      request('okta-prod-readonly', 'the weekly dashboard review again', 'approve'),
    ]);
    expect(study?.phrases).toEqual([{ phrase: 'weekly dashboard review', requests: 2 }]);
  });
});
