// The requester's on-call fact says whether it counts for the entitlement: a
// level-2 shift or a permanent target of the owners' policy is shown, with why it
// does not make them on call (okta-prod-readonly: owners PSREPOL, levels [1]).

import { describe, expect, it } from 'vitest';
import type { OnCallShift } from '../../../lambdas/core/context';
import { buildEvidence } from '../../../lambdas/core/triage';
import { NOW, routineContext } from './fakes';

const statementFor = (value: OnCallShift[]) =>
  buildEvidence(routineContext({ onCall: { status: 'ok', value } }), NOW, {}).find(
    (e) => e.source === 'pagerduty',
  )?.statement;

describe('the on-call fact', () => {
  it('says a level-2 shift of the owners does not count, and why', () => {
    expect(
      statementFor([
        {
          escalationPolicyId: 'PSREPOL',
          escalationPolicyName: 'SRE',
          level: 2,
          start: '2026-11-21T09:00:00Z',
          end: '2026-11-21T17:00:00Z',
        },
      ]),
    ).toBe(
      'On call now: level 2 of SRE (PSREPOL) until 2026-11-21 17:00 UTC; for PSREPOL, the owners of okta-prod-readonly, ' +
        'this does not count as on call: on call at level 2 of PSREPOL only; only a scheduled shift at level 1 counts ' +
        '(permanent escalation targets never do).',
    );
  });

  it('says a permanent level-1 target of the owners does not count', () => {
    expect(
      statementFor([{ escalationPolicyId: 'PSREPOL', escalationPolicyName: 'SRE', level: 1 }]),
    ).toContain(
      '(permanent); for PSREPOL, the owners of okta-prod-readonly, this does not count as on call: a permanent target at level 1',
    );
  });
});
