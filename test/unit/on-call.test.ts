// The on-call rule in words and in effect: which shift counts, and what the page
// and the audit say about it.

import { describe, expect, it } from 'vitest';
import type { OnCallShift } from '../../lambdas/core/context';
import { describeOnCallRule, onCallVerdict } from '../../lambdas/core/on-call';

const scheduled = (level: number, policy = 'PDBAPOL'): OnCallShift => ({
  escalationPolicyId: policy,
  scheduleId: 'PDBASCH',
  level,
  start: '2026-11-21T09:00:00.000Z',
  end: '2026-11-28T09:00:00.000Z',
});

describe('onCallVerdict', () => {
  it('names the rule that applied: level, policy, schedule and end', () => {
    expect(onCallVerdict([scheduled(2), scheduled(1)], 'PDBAPOL', [1, 2])).toEqual({
      counts: true,
      shift: scheduled(1),
      rule: 'on call at level 1 of PDBAPOL (schedule PDBASCH, until 2026-11-28 09:00 UTC)',
    });
  });

  it('says why a level-2 shift does not count', () => {
    expect(onCallVerdict([scheduled(2)], 'PDBAPOL', [1])).toEqual({
      counts: false,
      why: 'on call at level 2 of PDBAPOL only; only a scheduled shift at level 1 counts (permanent escalation targets never do)',
    });
  });

  it('says why a permanent target does not count, even at a listed level', () => {
    const verdict = onCallVerdict([{ escalationPolicyId: 'PDBAPOL', level: 1 }], 'PDBAPOL', [1]);
    expect(verdict).toEqual({
      counts: false,
      why: 'a permanent target at level 1 of PDBAPOL only; only a scheduled shift at level 1 counts (permanent escalation targets never do)',
    });
  });

  it('says when someone is not on call for the policy at all', () => {
    expect(onCallVerdict([scheduled(1, 'PSREPOL')], 'PDBAPOL', [1])).toEqual({
      counts: false,
      why: 'not on call for PDBAPOL',
    });
    expect(onCallVerdict([], 'PDBAPOL', [1])).toMatchObject({ counts: false });
  });

  it('treats a shift with a start but no end (never goes off call) as scheduled', () => {
    const open: OnCallShift = {
      escalationPolicyId: 'PDBAPOL',
      scheduleId: 'PDBASCH',
      level: 1,
      start: '2026-11-21T09:00:00.000Z',
    };
    expect(onCallVerdict([open], 'PDBAPOL', [1])).toMatchObject({
      counts: true,
      rule: 'on call at level 1 of PDBAPOL (schedule PDBASCH)',
    });
  });
});

describe('describeOnCallRule', () => {
  it('lists the levels in order', () => {
    expect(describeOnCallRule('PSREPOL', [2, 1])).toBe(
      'whoever is on call for PagerDuty escalation policy PSREPOL at levels 1, 2 (a scheduled shift or an override; permanent escalation targets do not count)',
    );
  });
});
