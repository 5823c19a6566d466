// On-call approvers count only at the catalog's escalation levels (level 1 unless
// the entitlement says otherwise), and only on a scheduled shift: a permanent
// escalation target (no start, no end) is a fallback, not someone on call.

import { describe, expect, it } from 'vitest';
import type { Entitlement } from '../../../lambdas/core/catalog';
import type { OnCallShift } from '../../../lambdas/core/context';
import { authorizeApprover } from '../../../lambdas/core/decide/authorize';
import type { OnCall } from '../../../lambdas/core/ports';
import { TestClock } from '../../support/clock';
import { entitlement, FakeDirectory, NOW } from './fakes';

const HOUR_MS = 3_600_000;
const iso = (hours: number) => new Date(NOW.getTime() + hours * HOUR_MS).toISOString();
const shift = (level: number, policy = 'PSREPOL'): OnCallShift => ({
  escalationPolicyId: policy,
  scheduleId: 'PSRESCH',
  level,
  start: iso(-1),
  end: iso(1),
});
const permanent = (level: number, policy = 'PSREPOL'): OnCallShift => ({ escalationPolicyId: policy, level });

/** Lee (PLEE) approves Dana's request for okta-prod-readonly (owners PSREPOL, on-call approvers) holding `shifts`. */
async function leeApproves(shifts: OnCallShift[], levels?: number[]) {
  const onCall: OnCall = { shiftsOf: async () => shifts };
  const base = entitlement('okta-prod-readonly');
  const target: Entitlement = levels ? { ...base, onCall: { levels } } : base;
  return authorizeApprover(
    { directory: new FakeDirectory(), onCall, clock: new TestClock(NOW.toISOString()), identity: {} },
    {
      verb: 'approve',
      author: { pagerDutyUserId: 'PLEE', email: 'lee@example.com' },
      requester: { directoryUserId: '00u1dana', email: 'dana@example.com' },
      entitlement: target,
    },
  );
}

describe('on-call approvers by escalation level', () => {
  it('allows a level-1 shift of the owners’ policy', async () => {
    expect(await leeApproves([shift(1)])).toMatchObject({ allowed: true, via: 'on-call' });
  });

  it('refuses someone on call at level 2 only, saying who may approve', async () => {
    const result = await leeApproves([shift(2)]);
    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) {
      expect(result.reason).toContain('on call for PagerDuty escalation policy PSREPOL at level 1');
      expect(result.reason).toContain('permanent escalation targets do not count');
    }
  });

  it('refuses a permanent level-1 target (no start, no end): a fallback is not on call', async () => {
    expect(await leeApproves([permanent(1)])).toMatchObject({ allowed: false, retryable: false });
  });

  it('refuses level 1 of another policy together with level 2 of the owners’', async () => {
    expect(await leeApproves([shift(1, 'PDBAPOL'), shift(2)])).toMatchObject({ allowed: false });
  });

  it('allows level 2 when the catalog counts levels 1 and 2, but still not a permanent target there', async () => {
    expect(await leeApproves([shift(2)], [1, 2])).toMatchObject({ allowed: true, via: 'on-call' });
    expect(await leeApproves([permanent(2)], [1, 2])).toMatchObject({ allowed: false });
  });

  it('counts only the levels listed: [2] leaves out level 1', async () => {
    expect(await leeApproves([shift(1)], [2])).toMatchObject({ allowed: false });
  });
});
