import { describe, expect, it } from 'vitest';
import { feedbackExample, feedbackReport, humanDecision } from '../../../lambdas/core/advice/feedback';
import type { AccessRequest, Decision, Recommendation } from '../../../lambdas/core/model';
import { request } from '../triage/fakes';

const person = (id: string, outcome: Decision['outcome'], comment?: string): Decision => ({
  outcome,
  actor: { kind: 'person', id },
  decidedAt: '2026-11-20T10:00:00.000Z',
  ...(comment ? { comment } : {}),
});

function decided(
  state: AccessRequest['state'],
  decisions: Decision[],
  model?: Recommendation,
  overrides: Partial<AccessRequest> = {},
): AccessRequest {
  return request({
    state,
    decisions,
    ...(model
      ? {
          advice: {
            status: 'advised',
            recommendation: model,
            confidence: 0.8,
            model: 'gpt',
            promptVersion: 'p-1',
          },
        }
      : { advice: { status: 'unavailable', reason: 'timeout', promptVersion: 'p-1' } }),
    ...overrides,
  });
}

describe('what people decided', () => {
  it('is a deny when a person denied, even after approvals', () => {
    expect(
      humanDecision(
        decided('DENIED', [person('a@x.io', 'approve', 'ok'), person('b@x.io', 'deny', 'no ticket')]),
      ),
    ).toEqual({ outcome: 'deny', reason: 'no ticket' });
  });

  it('is an approval by people, their comments joined', () => {
    expect(
      humanDecision(
        decided('GRANTED', [person('a@x.io', 'approve', 'fine'), person('b@x.io', 'approve', 'ok')]),
      ),
    ).toEqual({ outcome: 'approve', reason: 'fine / ok' });
  });

  it('is nothing when only a catalog rule decided', () => {
    const rule: Decision = {
      outcome: 'approve',
      actor: { kind: 'rule', id: 'on-call' },
      decidedAt: '2026-11-20T10:00:00Z',
    };
    expect(humanDecision(decided('GRANTED', [rule]))).toBeUndefined();
  });
});

describe('the agreement report', () => {
  const requests = [
    decided('GRANTED', [person('a@x.io', 'approve')], 'approve'),
    decided('DENIED', [person('a@x.io', 'deny', 'No incident ticket: ACCESS-12')], 'approve'),
    decided('DENIED', [person('b@x.io', 'deny', 'no incident ticket (ACCESS-99).')], 'approve'),
    decided('GRANTED', [person('a@x.io', 'approve', 'known DBA')], 'deny', {
      entitlementId: 'aws-prod-db-connect',
    }),
    decided('REVOKED', [person('a@x.io', 'approve')], 'needs-info'),
    decided('GRANTED', [person('a@x.io', 'approve')], undefined),
    decided('APPROVED', [person('a@x.io', 'approve')], 'approve', {
      advice: {
        status: 'advised',
        recommendation: 'approve',
        confidence: 0.9,
        model: 'gpt',
        promptVersion: 'p-2',
      },
    }),
  ];

  it('counts agreement by entitlement and prompt version; needs-info and no advice are neither', () => {
    const report = feedbackReport(requests);
    expect(report.rows).toEqual([
      {
        entitlementId: 'aws-prod-db-connect',
        promptVersion: 'p-1',
        decided: 1,
        agreed: 0,
        disagreed: 1,
        needsInfo: 0,
        unavailable: 0,
      },
      {
        entitlementId: 'okta-prod-readonly',
        promptVersion: 'p-1',
        decided: 5,
        agreed: 1,
        disagreed: 2,
        needsInfo: 1,
        unavailable: 1,
      },
      {
        entitlementId: 'okta-prod-readonly',
        promptVersion: 'p-2',
        decided: 1,
        agreed: 1,
        disagreed: 0,
        needsInfo: 0,
        unavailable: 0,
      },
    ]);
    expect(report.totals).toEqual({ decided: 7, agreed: 2, disagreed: 3, needsInfo: 1, unavailable: 1 });
  });

  it('groups the reasons people gave against the model, most common first', () => {
    expect(feedbackReport(requests).disagreements).toEqual([
      { reason: 'no incident ticket #', count: 2, example: 'No incident ticket: ACCESS-12' },
      { reason: 'known dba', count: 1, example: 'known DBA' },
    ]);
  });
});

describe('a feedback example', () => {
  it('is the prompt, and the people’s decision as the answer in the model’s own shape', () => {
    const messages = [
      { role: 'system' as const, content: 'advise' },
      { role: 'user' as const, content: '<request>…</request>' },
    ];
    const example = feedbackExample(
      decided('DENIED', [person('a@x.io', 'deny', 'no ticket')], 'approve'),
      messages,
    );
    expect(example?.messages.slice(0, 2)).toEqual(messages);
    expect(example?.messages[2]?.role).toBe('assistant');
    expect(JSON.parse(example?.messages[2]?.content ?? '')).toEqual({
      recommendation: 'deny',
      confidence: 1,
      summary: 'no ticket',
      reasons: [],
      concerns: [],
      suggestedDuration: null,
      narrowerAlternative: null,
    });
    expect(feedbackExample(decided('GRANTED', [person('a@x.io', 'approve')]), [])).toBeUndefined();
  });
});
