import { describe, expect, it } from 'vitest';
import {
  type AuthorizeDeps,
  type AuthorizeInput,
  authorizeApprover,
} from '../../../lambdas/core/decide/authorize';
import { addressProblem } from '../../../lambdas/core/decide/identity';
import { TestClock } from '../../support/clock';
import { entitlement, FakeDirectory, FakeOnCall, NOW, outage, person, SECURITY_LEADS } from './fakes';

const HOUR_MS = 3_600_000;
const at = (hoursFromNow: number) => new Date(NOW.getTime() + hoursFromNow * HOUR_MS);

function world(identity: AuthorizeDeps['identity'] = {}) {
  const directory = new FakeDirectory();
  const onCall = new FakeOnCall();
  const deps = {
    directory,
    onCall,
    clock: new TestClock(NOW.toISOString()),
    identity,
  } satisfies AuthorizeDeps;
  return { deps, directory, onCall };
}

/** Lee (PagerDuty user PLEE) answers Dana's request unless told otherwise. */
function input(overrides: Partial<AuthorizeInput> = {}): AuthorizeInput {
  return {
    verb: 'approve',
    author: { pagerDutyUserId: 'PLEE', email: 'lee@example.com' },
    requester: { directoryUserId: '00u1dana', email: 'dana@example.com' },
    entitlement: entitlement('okta-prod-readonly'),
    ...overrides,
  };
}

const author = (email: string, pagerDutyUserId = 'PAUTHOR') => ({ pagerDutyUserId, email });

describe('authorizeApprover: the requester', () => {
  it.each([
    ['the same address', 'dana@example.com'],
    ['another ASCII case', 'Dana@Example.COM'],
  ])('cannot approve their own request under %s', async (_, email) => {
    const { deps, onCall } = world();
    onCall.onCall('PDANA', 'PSREPOL', at(-1), at(1));

    const result = await authorizeApprover(deps, input({ author: author(email, 'PDANA') }));

    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) expect(result.reason).toContain('You asked for this access yourself');
    // Refused before PagerDuty is asked.
    expect(onCall.asked).toEqual([]);
  });

  it('is recognised by directory id when their PagerDuty address differs (pnair@ for priya.nair@)', async () => {
    const { deps, directory, onCall } = world({ pagerDutyUserAttribute: 'pagerDutyUserId' });
    directory.users.set('priya.nair@example.com', person('00u1priya', 'priya.nair@example.com'));
    directory.attributes.set('pagerDutyUserId=PPNAIR', '00u1priya');
    onCall.onCall('PPNAIR', 'PSREPOL', at(-1), at(1));

    const result = await authorizeApprover(
      deps,
      input({
        author: author('pnair@example.com', 'PPNAIR'),
        requester: { directoryUserId: '00u1priya', email: 'priya.nair@example.com' },
      }),
    );

    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) expect(result.reason).toContain('You asked for this access yourself');
  });

  it('may revoke their own grant but not deny, extend or ask info on their own request', async () => {
    const { deps, directory } = world();
    const self = author('dana@example.com', 'PDANA');
    expect(await authorizeApprover(deps, input({ verb: 'revoke', author: self }))).toEqual({
      allowed: true,
      via: 'requester',
      person: directory.users.get('dana@example.com'),
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
    onCall.onCall('PLEE', 'PSREPOL', at(-1), at(1));
    const result = await authorizeApprover(deps, input({ requester: {} }));
    expect(result).toMatchObject({ allowed: false, retryable: false });
  });

  it('finds the directory id of a request recorded with an email only', async () => {
    const { deps, onCall } = world();
    onCall.onCall('PDANA', 'PSREPOL', at(-1), at(1));
    const result = await authorizeApprover(
      deps,
      input({ author: author('dana@example.com', 'PDANA'), requester: { email: 'DANA@example.com' } }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: false });
  });
});

describe('authorizeApprover: who the author is', () => {
  it('refuses a PagerDuty user with no directory account, whatever rule they would meet', async () => {
    const { deps, onCall } = world();
    // The requester's second PagerDuty user: on call, but nobody in the directory.
    onCall.onCall('PPD2', 'PSREPOL', at(-1), at(1));
    const result = await authorizeApprover(deps, input({ author: author('dana+pd@example.com', 'PPD2') }));
    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed)
      expect(result.reason).toContain('dana+pd@example.com has no directory (Okta) account');
    expect(onCall.asked).toEqual([]);
  });

  it.each(['SUSPENDED', 'DEPROVISIONED', 'LOCKED_OUT'])(
    'refuses an approver whose account is %s',
    async (status) => {
      const { deps, directory, onCall } = world();
      directory.users.set('lee@example.com', { ...person('00u1lee', 'lee@example.com'), status });
      onCall.onCall('PLEE', 'PSREPOL', at(-1), at(1));
      const result = await authorizeApprover(deps, input());
      expect(result).toMatchObject({ allowed: false, retryable: false });
      if (!result.allowed) expect(result.reason).toContain(`is ${status}, not ACTIVE`);
    },
  );

  it('uses the configured mapping before the email, so an address the directory lacks still resolves', async () => {
    const { deps, directory, onCall } = world({ pagerDutyUserAttribute: 'pagerDutyUserId' });
    directory.attributes.set('pagerDutyUserId=PLEE', '00u1lee');
    onCall.onCall('PLEE', 'PSREPOL', at(-1), at(1));
    const result = await authorizeApprover(
      deps,
      input({ author: author('l.old-address@example.com', 'PLEE') }),
    );
    expect(result).toMatchObject({ allowed: true, via: 'on-call', person: { id: '00u1lee' } });
    expect(directory.calls[0]).toBe('findUserByAttribute pagerDutyUserId PLEE');
  });
});

describe('authorizeApprover: look-alike addresses', () => {
  const lookAlikes = [
    ['full-width a', '\uFF41na.lima@example.com'],
    ['a zero-width space', 'ana.li\u200Bma@example.com'],
    ['a soft hyphen', 'ana.li\u00ADma@example.com'],
    ['a mathematical bold a', '\u{1D41A}na.lima@example.com'],
    ['a Cyrillic a', '\u0430na.lima@example.com'],
    ['a right-to-left mark', 'ana.lima\u200F@example.com'],
  ];

  it.each(lookAlikes)('refuses an address with %s, before asking anyone', async (_, email) => {
    const { deps, directory, onCall } = world();
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('aws-logs-read'), author: author(email) }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) expect(result.reason).toMatch(/invisible characters|outside plain ASCII/);
    expect(directory.calls).toEqual([]);
    expect(onCall.asked).toEqual([]);
  });

  it.each(lookAlikes)('addressProblem names the problem with %s', (_, email) => {
    expect(addressProblem(email)).toBeDefined();
  });

  it('accepts plain addresses', () => {
    for (const email of ['ana.lima@example.com', 'Dana.Reyes@Example.com', "o'brien+pd@mail.example.co.uk"]) {
      expect(addressProblem(email)).toBeUndefined();
    }
  });
});

describe('authorizeApprover: approver rules', () => {
  it('allows a listed person, by the directory id the listed address resolves to', async () => {
    const { deps, directory, onCall } = world();
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('aws-logs-read'), author: author('Ana.Lima@example.com') }),
    );
    expect(result).toMatchObject({ allowed: true, via: 'listed', person: { id: '00u1ana' } });
    expect(onCall.asked).toEqual([]);
    // The address the author was found by is not looked up a second time.
    expect(directory.calls).toEqual(['findUserByEmail Ana.Lima@example.com']);
  });

  it('does not let a sub-address pass as a listed approver', async () => {
    const { deps, directory } = world();
    // Even when the directory has such an account, it is another person.
    directory.users.set('ana.lima+x@example.com', person('00u1anax', 'ana.lima+x@example.com'));
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('aws-logs-read'), author: author('ana.lima+x@example.com') }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: false });
    if (!result.allowed) expect(result.reason).toContain('ana.lima@example.com, sam.okafor@example.com');
  });

  it('does not count a listed address that resolves to someone else', async () => {
    const { deps, directory } = world({ pagerDutyUserAttribute: 'pagerDutyUserId' });
    // Lee's PagerDuty user carries Ana's address, but the directory maps the user to Lee.
    directory.attributes.set('pagerDutyUserId=PLEE', '00u1lee');
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('aws-logs-read'), author: author('ana.lima@example.com', 'PLEE') }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: false });
  });

  it("allows whoever is on call for the owners' policy when the note was written, asking by PagerDuty id", async () => {
    const { deps, onCall } = world();
    // Lee's shift ended half an hour ago, after the note was written: the note counts.
    onCall.onCall('PLEE', 'PSREPOL', at(-8), at(-0.5));

    const result = await authorizeApprover(deps, input({ notedAt: at(-1) }));

    expect(result).toMatchObject({ allowed: true, via: 'on-call', person: { id: '00u1lee' } });
    expect(onCall.asked).toEqual([{ who: 'PLEE', at: at(-1).toISOString() }]);
  });

  it('refuses someone whose shift had ended when they wrote the note', async () => {
    const { deps, onCall } = world();
    onCall.onCall('PLEE', 'PSREPOL', at(-8), at(-2));
    const result = await authorizeApprover(deps, input({ notedAt: at(-1) }));
    expect(result).toMatchObject({ allowed: false, retryable: false });
  });

  it('judges a note stamped in the future at the present moment', async () => {
    const { deps, onCall } = world();
    onCall.onCall('PLEE', 'PSREPOL', at(0.5), at(8));
    expect(await authorizeApprover(deps, input({ notedAt: at(1) }))).toMatchObject({ allowed: false });
    expect(onCall.asked[0]?.at).toBe(NOW.toISOString());
  });

  it('does not count being on call for some other policy', async () => {
    const { deps, onCall } = world();
    onCall.onCall('PLEE', 'PDBAPOL', at(-1), at(1));
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
      input({ entitlement: entitlement('okta-prod-admin'), author: author('kim@example.com') }),
    );
    expect(result).toMatchObject({ allowed: true, via: 'okta-group' });
    expect(directory.calls).toEqual(['findUserByEmail kim@example.com', `groupMemberIds ${SECURITY_LEADS}`]);
  });

  it('refuses someone in the directory but outside the group, and someone not in the directory', async () => {
    const { deps } = world();
    for (const email of ['lee@example.com', 'stranger@example.com']) {
      const result = await authorizeApprover(
        deps,
        input({ entitlement: entitlement('okta-prod-admin'), author: author(email) }),
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
        author: author('sam.okafor@example.com'),
      }),
    );
    expect(result).toMatchObject({ allowed: true, via: 'listed' });
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

  it('is retryable when the directory cannot say who the author is', async () => {
    const { deps, directory } = world();
    directory.failure = outage('okta');
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('okta-prod-admin'), author: author('kim@example.com') }),
    );
    expect(result).toMatchObject({ allowed: false, retryable: true, cause: directory.failure });
  });

  it('still allows through another rule when one source fails', async () => {
    const { deps, onCall } = world();
    onCall.failure = outage('pagerduty');
    const result = await authorizeApprover(
      deps,
      input({ entitlement: entitlement('okta-prod-admin'), author: author('kim@example.com') }),
    );
    expect(result).toMatchObject({ allowed: true, via: 'okta-group' });
  });
});
