import { describe, expect, it } from 'vitest';
import {
  type AuthorizeDeps,
  type AuthorizeInput,
  authorizeApprover,
} from '../../../lambdas/core/decide/authorize';
import { TestClock } from '../../support/clock';
import { entitlement, FakeDirectory, FakeOnCall, NOW, outage, person, SECURITY_LEADS } from './fakes';

const HOUR_MS = 3_600_000;
const at = (hoursFromNow: number) => new Date(NOW.getTime() + hoursFromNow * HOUR_MS);

function world() {
  const directory = new FakeDirectory();
  const onCall = new FakeOnCall();
  const deps = { directory, onCall, clock: new TestClock(NOW.toISOString()) } satisfies AuthorizeDeps;
  return { deps, directory, onCall };
}

function input(overrides: Partial<AuthorizeInput> = {}): AuthorizeInput {
  return {
    verb: 'approve',
    author: { email: 'lee@example.com' },
    requester: { email: 'dana@example.com' },
    entitlement: entitlement('okta-prod-readonly'),
    ...overrides,
  };
}

describe('authorizeApprover: the requester', () => {
  it.each([
    ['the same address', 'dana@example.com'],
    ['another case and spacing', '  Dana@Example.COM '],
    ['a sub-address', 'dana+pagerduty@example.com'],
    ['full-width letters', '\uFF44\uFF41\uFF4E\uFF41@example.com'],
  ])('cannot approve their own request under %s', async (_, email) => {
    const { deps, onCall } = world();
    onCall.onCall(email.trim().toLowerCase(), 'PSREPOL', at(-1), at(1));

    const result = await authorizeApprover(deps, input({ author: { email } }));

    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) expect(result.reason).toContain('You asked for this access yourself');
    // Refused before any outside call.
    expect(onCall.asked).toEqual([]);
  });

  it('is recognised by directory id when both ids are given, whatever the addresses', async () => {
    const { deps, onCall } = world();
    const result = await authorizeApprover(
      deps,
      input({
        author: { email: 'd.reyes@example.com', directoryUserId: '00u1dana' },
        requester: { email: 'dana@example.com', directoryUserId: '00u1dana' },
      }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: false });
    expect(onCall.asked).toEqual([]);
  });

  it('is recognised by directory id when their PagerDuty address differs and the directory resolves it', async () => {
    const { deps, directory, onCall } = world();
    directory.users.set('d.reyes@example.com', person('00u1dana', 'd.reyes@example.com'));
    onCall.onCall('d.reyes@example.com', 'PSREPOL', at(-1), at(1));

    const result = await authorizeApprover(
      deps,
      input({
        author: { email: 'd.reyes@example.com' },
        requester: { email: 'dana@example.com', directoryUserId: '00u1dana' },
      }),
    );

    expect(result).toMatchObject({ allowed: false, retryable: false });
    expect(directory.calls).toEqual(['findUserByEmail d.reyes@example.com']);
  });

  it('may revoke their own grant but not deny, extend or ask info on their own request', async () => {
    const { deps } = world();
    const self = { email: 'dana+pd@example.com' };
    expect(await authorizeApprover(deps, input({ verb: 'revoke', author: self }))).toEqual({
      allowed: true,
      via: 'requester',
    });
    for (const verb of ['deny', 'extend', 'info'] as const) {
      expect(await authorizeApprover(deps, input({ verb, author: self }))).toMatchObject({
        allowed: false,
        retryable: false,
      });
    }
  });

  it('refuses everyone when the requester is unknown, since a self-approval cannot be ruled out', async () => {
    const { deps, onCall } = world();
    onCall.onCall('lee@example.com', 'PSREPOL', at(-1), at(1));
    const result = await authorizeApprover(deps, input({ requester: {} }));
    expect(result).toMatchObject({ allowed: false, retryable: false });
  });
});

describe('authorizeApprover: approver rules', () => {
  it('allows a listed email without asking anyone outside', async () => {
    const { deps, directory, onCall } = world();
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('aws-logs-read'), author: { email: 'Ana.Lima@example.com' } }),
    );
    expect(result).toEqual({ allowed: true, via: 'listed' });
    expect(onCall.asked).toEqual([]);
    expect(directory.calls).toEqual([]);
  });

  it('does not let a sub-address pass as a listed approver', async () => {
    const { deps } = world();
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('aws-logs-read'), author: { email: 'ana.lima+x@example.com' } }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) expect(result.reason).toContain('ana.lima@example.com, sam.okafor@example.com');
  });

  it("allows whoever is on call for the owners' policy when the note was written", async () => {
    const { deps, onCall } = world();
    // Lee's shift ended half an hour ago, after the note was written: the note counts.
    onCall.onCall('lee@example.com', 'PSREPOL', at(-8), at(-0.5));

    const result = await authorizeApprover(deps, input({ notedAt: at(-1) }));

    expect(result).toEqual({ allowed: true, via: 'on-call' });
    expect(onCall.asked).toEqual([{ email: 'lee@example.com', at: at(-1).toISOString() }]);
  });

  it('refuses someone whose shift had ended when they wrote the note', async () => {
    const { deps, onCall } = world();
    onCall.onCall('lee@example.com', 'PSREPOL', at(-8), at(-2));
    const result = await authorizeApprover(deps, input({ notedAt: at(-1) }));
    expect(result).toMatchObject({ allowed: false, retryable: false });
  });

  it('judges a note stamped in the future at the present moment', async () => {
    const { deps, onCall } = world();
    onCall.onCall('lee@example.com', 'PSREPOL', at(0.5), at(8));
    expect(await authorizeApprover(deps, input({ notedAt: at(1) }))).toMatchObject({ allowed: false });
    expect(onCall.asked[0]?.at).toBe(NOW.toISOString());
  });

  it('does not count being on call for some other policy', async () => {
    const { deps, onCall } = world();
    onCall.onCall('lee@example.com', 'PDBAPOL', at(-1), at(1));
    const result = await authorizeApprover(deps, input());
    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) {
      expect(result.reason).toContain('lee@example.com is not an approver for okta-prod-readonly');
      expect(result.reason).toContain('on call for PagerDuty escalation policy PSREPOL');
    }
  });

  it("allows a member of the approvers' Okta group", async () => {
    const { deps, directory } = world();
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('okta-prod-admin'), author: { email: 'kim@example.com' } }),
    );
    expect(result).toEqual({ allowed: true, via: 'okta-group' });
    expect(directory.calls).toEqual(['findUserByEmail kim@example.com', `groupMemberIds ${SECURITY_LEADS}`]);
  });

  it('refuses someone in the directory but outside the group, and someone not in the directory', async () => {
    const { deps } = world();
    for (const email of ['lee@example.com', 'stranger@example.com']) {
      const result = await authorizeApprover(
        deps,
        input({ entitlement: entitlement('okta-prod-admin'), author: { email } }),
      );
      expect(result).toMatchObject({ allowed: false, retryable: false });
    }
  });

  it('refuses a note on an entitlement without approvers', async () => {
    const { deps } = world();
    const result = await authorizeApprover(deps, input({ entitlement: entitlement('aws-billing-read') }));
    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) expect(result.reason).toContain('aws-billing-read has no approvers');
  });

  it('lets an approver revoke a grant', async () => {
    const { deps } = world();
    const result = await authorizeApprover(
      deps,
      input({
        verb: 'revoke',
        entitlement: entitlement('aws-logs-read'),
        author: { email: 'sam.okafor@example.com' },
      }),
    );
    expect(result).toEqual({ allowed: true, via: 'listed' });
  });
});

describe('authorizeApprover: outside calls that fail', () => {
  it('is retryable, not a refusal, when PagerDuty cannot say who is on call', async () => {
    const { deps, onCall } = world();
    onCall.failure = outage('pagerduty');
    const result = await authorizeApprover(deps, input());
    expect(result).toMatchObject({ allowed: false, retryable: true, cause: onCall.failure });
    if (!result.allowed) expect(result.reason).toContain('PagerDuty on-call did not answer');
  });

  it('is retryable when the directory fails and on-call said no', async () => {
    const { deps, directory } = world();
    directory.failure = outage('okta');
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('okta-prod-admin'), author: { email: 'kim@example.com' } }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: true, cause: directory.failure });
  });

  it('still allows through another rule when one source fails', async () => {
    const { deps, onCall } = world();
    onCall.failure = outage('pagerduty');
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('okta-prod-admin'), author: { email: 'kim@example.com' } }),
    );
    expect(result).toEqual({ allowed: true, via: 'okta-group' });
  });

  it('is retryable when the directory cannot confirm an approver is not the requester', async () => {
    const { deps, directory, onCall } = world();
    onCall.onCall('lee@example.com', 'PSREPOL', at(-1), at(1));
    directory.failure = outage('okta');
    const result = await authorizeApprover(
      deps,
      input({ requester: { email: 'dana@example.com', directoryUserId: '00u1dana' } }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: true });
  });
});
