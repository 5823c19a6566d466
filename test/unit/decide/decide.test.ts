import { describe, expect, it } from 'vitest';
import { applyDecision, grantDuration, type Vote } from '../../../lambdas/core/decide/decide';
import type { Decision } from '../../../lambdas/core/model';
import { approval, entitlement, HOUR, NOW, pendingRequest } from './fakes';

const admin = entitlement('okta-prod-admin'); // 2 approvals, at most 4h
const readonly = entitlement('okta-prod-readonly'); // 1 approval, at most 7d

function vote(email: string, sourceId: string, extra: Partial<Vote> = {}): Vote {
  return { outcome: 'approve', actor: { kind: 'person', id: email }, sourceId, ...extra };
}

/** A vote from a person the directory identified: what deciding records for every authorized note. */
function voteBy(personId: string, email: string, sourceId: string): Vote {
  return { outcome: 'approve', actor: { kind: 'person', id: email, personId }, sourceId };
}

describe('applyDecision: quorum', () => {
  it('records one approval of two as still PENDING', () => {
    const step = applyDecision(
      pendingRequest(),
      admin,
      vote('lee@example.com', 'N1', { comment: 'looks fine' }),
      NOW,
    );

    expect(step).toEqual({
      kind: 'record',
      to: 'PENDING',
      decisions: [
        {
          outcome: 'approve',
          actor: { kind: 'person', id: 'lee@example.com' },
          decidedAt: NOW.toISOString(),
          sourceId: 'N1',
          comment: 'looks fine',
        },
      ],
      durationSeconds: 2 * HOUR,
      message: expect.stringContaining('1 of 2 approvals'),
    });
    if (step.kind === 'record') expect(step.message).toContain('one more approver is needed');
  });

  it.each(['lee@example.com', 'Lee@Example.com', 'lee+pd@example.com', 'l.other@example.com'])(
    'does not count a second approval by the same directory person, from whatever address (%s)',
    (email) => {
      const request = pendingRequest({
        decisions: [voteAsDecision(voteBy('00u1lee', 'lee@example.com', 'N1'))],
      });
      const step = applyDecision(request, admin, voteBy('00u1lee', email, 'N2'), NOW);
      expect(step).toMatchObject({ kind: 'duplicate' });
      if (step.kind === 'duplicate') {
        expect(step.message).toContain('You already approved ACCESS-101');
        expect(step.message).toContain('1 of 2 approvals');
      }
    },
  );

  it('counts two directory people as two approvers, however alike their addresses read', () => {
    const request = pendingRequest({
      decisions: [voteAsDecision(voteBy('00u1lee', 'lee@example.com', 'N1'))],
    });
    const step = applyDecision(request, admin, voteBy('00u1lee2', 'lee+pd@example.com', 'N2'), NOW);
    expect(step).toMatchObject({ kind: 'record', to: 'APPROVED' });
  });

  it('does not count an address twice among decisions recorded before directory ids were kept', () => {
    const request = pendingRequest({ decisions: [approval('lee@example.com', 'N1')] });
    expect(applyDecision(request, admin, vote('Lee@Example.com', 'N2'), NOW)).toMatchObject({
      kind: 'duplicate',
    });
  });

  it('approves when a second person approves', () => {
    const request = pendingRequest({ decisions: [approval('lee@example.com', 'N1')] });
    const step = applyDecision(request, admin, vote('kim@example.com', 'N2'), NOW);

    expect(step).toMatchObject({ kind: 'record', to: 'APPROVED', durationSeconds: 2 * HOUR });
    if (step.kind !== 'record') return;
    expect(step.decisions.map((d) => [d.actor.id, d.sourceId])).toEqual([
      ['lee@example.com', 'N1'],
      ['kim@example.com', 'N2'],
    ]);
    expect(step.message).toContain('Approved by lee@example.com and kim@example.com (2 of 2)');
  });

  it('approves at once when one approval is required', () => {
    const request = pendingRequest({ entitlementId: 'okta-prod-readonly' });
    expect(applyDecision(request, readonly, vote('lee@example.com', 'N1'), NOW)).toMatchObject({
      kind: 'record',
      to: 'APPROVED',
      message: expect.stringMatching(/^Approved by lee@example.com\. Access for 2h, as asked\./),
    });
  });
});

describe('applyDecision: deny', () => {
  it('denies at once, even after an approval', () => {
    const request = pendingRequest({ decisions: [approval('lee@example.com', 'N1')] });
    const step = applyDecision(
      request,
      admin,
      vote('kim@example.com', 'N2', { outcome: 'deny', comment: 'use the read-only group' }),
      NOW,
    );

    expect(step).toMatchObject({ kind: 'record', to: 'DENIED' });
    if (step.kind !== 'record') return;
    expect(step.durationSeconds).toBeUndefined();
    expect(step.decisions.map((d) => d.outcome)).toEqual(['approve', 'deny']);
    expect(step.message).toContain('Denied by kim@example.com: use the read-only group');
    expect(step.message).toContain('ACCESS-101');
  });

  it('lets an approver who approved change their mind and deny', () => {
    const request = pendingRequest({ decisions: [approval('lee@example.com', 'N1')] });
    const step = applyDecision(
      request,
      admin,
      vote('lee@example.com', 'N2', { outcome: 'deny', comment: 'wrong group' }),
      NOW,
    );
    expect(step).toMatchObject({ kind: 'record', to: 'DENIED' });
  });
});

describe('applyDecision: requests already decided', () => {
  const lee = approval('lee@example.com', 'N1');
  const kim = approval('kim@example.com', 'N2');
  const denial: Decision = {
    outcome: 'deny',
    actor: { kind: 'person', id: 'kim@example.com' },
    decidedAt: NOW.toISOString(),
    sourceId: 'N2',
    comment: 'no incident named',
  };

  it.each([
    ['APPROVED', [lee, kim], 'ACCESS-101 is already APPROVED by lee@example.com and kim@example.com'],
    ['GRANTED', [lee, kim], 'note "revoke"'],
    ['DENIED', [denial], 'already DENIED by kim@example.com: no incident named'],
    ['CANCELLED', [], 'was CANCELLED'],
    ['REVOKED', [lee, kim], 'has been REVOKED'],
    ['TRIAGING', [], 'still being prepared (TRIAGING)'],
  ] as const)('refuses a vote on a %s request', (state, decisions, says) => {
    const request = pendingRequest({ state, decisions: [...decisions] });
    const step = applyDecision(request, admin, vote('sam@example.com', 'N9'), NOW);
    expect(step).toMatchObject({ kind: 'refuse' });
    if (step.kind === 'refuse') expect(step.message).toContain(says);
  });

  it('names a catalog rule that approved', () => {
    const request = pendingRequest({
      state: 'APPROVED',
      decisions: [
        { outcome: 'approve', actor: { kind: 'rule', id: 'on-call-auto' }, decidedAt: NOW.toISOString() },
      ],
    });
    expect(applyDecision(request, admin, vote('sam@example.com', 'N9'), NOW)).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('APPROVED by catalog rule on-call-auto'),
    });
  });

  it('recognises a replayed note as a duplicate, also once the request is decided', () => {
    const pending = pendingRequest({ decisions: [lee] });
    expect(applyDecision(pending, admin, vote('lee@example.com', 'N1'), NOW)).toMatchObject({
      kind: 'duplicate',
    });

    const approved = pendingRequest({ state: 'APPROVED', decisions: [lee, kim] });
    expect(applyDecision(approved, admin, vote('kim@example.com', 'N2'), NOW)).toMatchObject({
      kind: 'duplicate',
    });

    const denied = pendingRequest({ state: 'DENIED', decisions: [denial] });
    expect(
      applyDecision(denied, admin, vote('kim@example.com', 'N2', { outcome: 'deny', comment: 'again' }), NOW),
    ).toMatchObject({ kind: 'duplicate' });
  });
});

describe('applyDecision: duration', () => {
  it('accepts a shorter duration and keeps it on the decision', () => {
    const step = applyDecision(
      pendingRequest(),
      admin,
      vote('lee@example.com', 'N1', { durationSeconds: HOUR }),
      NOW,
    );
    expect(step).toMatchObject({ kind: 'record', to: 'PENDING', durationSeconds: HOUR });
    if (step.kind !== 'record') return;
    expect(step.decisions[0]).toMatchObject({ durationSeconds: HOUR });
    expect(step.message).toContain('Access for 1h (asked: 2h)');
  });

  it('grants the shortest duration any approver gave', () => {
    const request = pendingRequest({
      decisions: [approval('lee@example.com', 'N1', { durationSeconds: 30 * 60 })],
    });
    const longer = applyDecision(
      request,
      admin,
      vote('kim@example.com', 'N2', { durationSeconds: HOUR }),
      NOW,
    );
    expect(longer).toMatchObject({ kind: 'record', to: 'APPROVED', durationSeconds: 30 * 60 });
    const without = applyDecision(request, admin, vote('kim@example.com', 'N2'), NOW);
    expect(without).toMatchObject({ kind: 'record', to: 'APPROVED', durationSeconds: 30 * 60 });
  });

  it('refuses a duration longer than was asked for', () => {
    const step = applyDecision(
      pendingRequest(),
      admin,
      vote('lee@example.com', 'N1', { durationSeconds: 3 * HOUR }),
      NOW,
    );
    expect(step).toMatchObject({ kind: 'refuse' });
    if (step.kind === 'refuse') {
      expect(step.message).toContain('asked for 2h');
      expect(step.message).toContain('Approve again with 2h or less');
    }
  });

  it('refuses a duration over the catalog maximum, naming it', () => {
    const step = applyDecision(
      pendingRequest(),
      admin,
      vote('lee@example.com', 'N1', { durationSeconds: 86_400 }),
      NOW,
    );
    expect(step).toMatchObject({ kind: 'refuse' });
    if (step.kind === 'refuse')
      expect(step.message).toContain('okta-prod-admin may be granted for at most 4h');
  });

  it('caps a request longer than the catalog now allows at the maximum', () => {
    const request = pendingRequest({ entitlementId: 'okta-prod-readonly', durationSeconds: 10 * 86_400 });
    const step = applyDecision(request, readonly, vote('lee@example.com', 'N1'), NOW);
    expect(step).toMatchObject({ kind: 'record', to: 'APPROVED', durationSeconds: 7 * 86_400 });
    if (step.kind === 'record') expect(step.message).toContain('the most the catalog allows (asked: 10d)');
  });
});

describe('grantDuration', () => {
  it('is what the approved request is granted for, as applyDecision reported it', () => {
    const request = pendingRequest({
      decisions: [approval('lee@example.com', 'N1', { durationSeconds: 90 * 60 })],
    });
    const step = applyDecision(
      request,
      admin,
      vote('kim@example.com', 'N2', { durationSeconds: 2 * HOUR }),
      NOW,
    );
    if (step.kind !== 'record') throw new Error(`expected a record, got ${step.kind}`);
    const approved = { ...request, state: 'APPROVED' as const, decisions: step.decisions };
    expect(grantDuration(approved, admin)).toBe(90 * 60);
    expect(step.durationSeconds).toBe(90 * 60);
  });

  it('is the time asked, capped at the catalog maximum, when nobody shortened it', () => {
    expect(grantDuration(pendingRequest({ durationSeconds: 3 * HOUR }), admin)).toBe(3 * HOUR);
    expect(grantDuration(pendingRequest({ durationSeconds: 6 * HOUR }), admin)).toBe(4 * HOUR);
  });
});

describe('applyDecision: misuse', () => {
  it('throws when given the entitlement of another request', () => {
    expect(() => applyDecision(pendingRequest(), readonly, vote('lee@example.com', 'N1'), NOW)).toThrow(
      'request req-1 is for okta-prod-admin, not okta-prod-readonly',
    );
  });
});

function voteAsDecision(v: Vote): Decision {
  return { outcome: v.outcome, actor: v.actor, decidedAt: NOW.toISOString(), sourceId: v.sourceId };
}
