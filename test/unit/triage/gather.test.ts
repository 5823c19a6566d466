import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage, DirectoryProfile } from '../../../lambdas/core/context';
import { UpstreamError } from '../../../lambdas/core/errors';
import {
  EMAIL_UNKNOWN,
  type GatherDeps,
  type GatherOptions,
  gatherContext,
  NOT_IN_DIRECTORY,
} from '../../../lambdas/core/triage';
import { TestClock } from '../../support/clock';
import {
  entitlement,
  FakeChat,
  FakeCloud,
  FakeDirectory,
  FakeOnCall,
  FakeStore,
  NOW,
  precedent,
  request,
  user,
} from './fakes';

const never = <T>() => new Promise<T>(() => {});

function world() {
  const deps = {
    directory: new FakeDirectory(),
    cloud: new FakeCloud(),
    chat: new FakeChat(),
    onCall: new FakeOnCall(),
    store: new FakeStore(),
    clock: new TestClock(NOW.toISOString()),
  } satisfies GatherDeps;
  const options: GatherOptions = {
    budgetMs: 10_000,
    iamPrincipalFor: (email) => ({ kind: 'user', name: email.split('@')[0] ?? email }),
    chatTerms: ['prod-readonly'],
  };
  return { deps, options };
}

const readonly = entitlement('okta-prod-readonly');

describe('gatherContext', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the requester by the Okta id intake recorded, never by their email', async () => {
    const { deps, options } = world();
    // Another account with Dana's address must not become the profile the approver reads.
    deps.directory.users.set('dana@example.com', user({ id: '00u1other' }));
    deps.directory.users.set('dana.reyes@example.com', user());
    const req = request({
      requester: { jiraAccountId: 'acct-dana', directoryUserId: '00u1dana', email: 'dana@example.com' },
    });

    const context = await gatherContext(deps, req, readonly, options);

    expect(context.directory).toMatchObject({ status: 'ok', value: { user: { id: '00u1dana' } } });
    expect(deps.directory.calls).toContain('userById 00u1dana');
    expect(deps.directory.calls.filter((c) => c.startsWith('findUserByEmail'))).toEqual([]);
    expect(deps.directory.calls).toContain('peersOf 00u1dana');
  });

  it('reads every source in parallel and combines history with the peer count', async () => {
    const { deps, options } = world();
    const req = request();
    deps.store.requests.push(req, precedent('okta-prod-readonly', 8, 'deny', 3, 'dana@example.com'));

    const context = await gatherContext(deps, req, readonly, options);

    expect(context.directory).toMatchObject({ status: 'ok', value: { user: { id: '00u1dana' } } });
    expect(context.cloud).toMatchObject({ status: 'ok', value: { principal: { name: 'dana' } } });
    expect(context.chat).toMatchObject({ status: 'ok', value: [{ channelName: 'sre' }] });
    expect(context.onCall).toEqual({ status: 'ok', value: [] });
    expect(context.history.status).toBe('ok');
    if (context.history.status !== 'ok') return;
    // The request being triaged is not its own precedent or history.
    expect(context.history.value.requesterRequests.map((r) => r.id)).not.toContain(req.id);
    expect(context.history.value.requesterRequests).toHaveLength(1);
    expect(context.history.value.entitlementDecisions).toHaveLength(6);
    expect(context.history.value.peers).toEqual({ total: 5, holding: 3 });
    expect(context.gatheredAt).toBe(NOW.toISOString());

    // Windows, terms and who was asked.
    expect(deps.directory.calls).toContain(
      `profile 00u1dana ${new Date(NOW.getTime() - 30 * 86_400_000).toISOString()}`,
    );
    expect(deps.directory.calls).toContain('groupMemberIds 00g1prodreadonly0001');
    expect(deps.directory.calls.filter((c) => c.startsWith('findUserByEmail'))).toHaveLength(1);
    expect(deps.chat.queries[0]).toEqual({
      terms: [req.jiraIssueKey, 'okta-prod-readonly', '00g1prodreadonly0001', 'prod-readonly'],
      authorEmail: 'dana@example.com',
      since: new Date(NOW.getTime() - 14 * 86_400_000),
    });
    expect(deps.onCall.asked).toEqual(['dana@example.com']);
    expect(deps.cloud.asked).toEqual([{ kind: 'user', name: 'dana' }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('turns an UpstreamError into an unavailable source with a short reason and no vendor message', async () => {
    const { deps, options } = world();
    deps.directory.profile = () =>
      Promise.reject(new UpstreamError('okta', 'unauthorized', 'token SSWS 00abcSECRET rejected'));
    deps.onCall.shiftsOf = () => Promise.reject(new Error('Authorization: Token token=pd-secret'));

    const context = await gatherContext(deps, request(), readonly, options);

    expect(context.directory).toEqual({ status: 'unavailable', reason: 'unauthorized' });
    expect(context.onCall).toEqual({ status: 'unavailable', reason: 'unexpected error' });
    expect(JSON.stringify(context)).not.toMatch(/SECRET|pd-secret/);
    // The other sources are intact, the peer count too (it needs only the user lookup).
    expect(context.chat.status).toBe('ok');
    expect(context.cloud.status).toBe('ok');
    expect(context.history).toMatchObject({ status: 'ok', value: { peers: { total: 5, holding: 3 } } });
  });

  it('says Slack was not asked when the stage switched it off, and gathers the rest', async () => {
    const { deps, options } = world();
    const { chat: _chat, ...withoutSlack } = deps;
    const context = await gatherContext(withoutSlack, request(), readonly, options);
    expect(context.chat).toEqual({
      status: 'unavailable',
      reason: 'Slack is switched off for this stage (slack.mode off)',
    });
    expect(context.directory.status).toBe('ok');
    expect(context.onCall.status).toBe('ok');
  });

  it('gives up on a source that never answers after perSourceTimeoutMs and keeps the rest', async () => {
    const { deps, options } = world();
    deps.chat.recentMessages = () => never<ChatMessage[]>();
    let settled = false;
    const pending = gatherContext(deps, request(), readonly, { ...options, perSourceTimeoutMs: 3000 }).then(
      (c) => {
        settled = true;
        return c;
      },
    );

    await vi.advanceTimersByTimeAsync(2999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const context = await pending;

    expect(context.chat).toEqual({ status: 'unavailable', reason: 'timeout after 3 s' });
    expect(context.directory.status).toBe('ok');
    expect(context.cloud.status).toBe('ok');
    expect(context.onCall.status).toBe('ok');
    expect(context.history.status).toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps the precedents when only the peer count is too slow', async () => {
    const { deps, options } = world();
    deps.directory.groupMemberIds = () => never<Set<string>>();
    const pending = gatherContext(deps, request(), readonly, { ...options, perSourceTimeoutMs: 2000 });
    await vi.advanceTimersByTimeAsync(2000);
    const context = await pending;

    expect(context.history).toMatchObject({
      status: 'ok',
      value: { peers: { total: 0, holding: 0, notCounted: 'timeout after 2 s' } },
    });
    if (context.history.status === 'ok') expect(context.history.value.entitlementDecisions).toHaveLength(5);
  });

  it('ends every source when the overall budget is spent, even before their own timeouts', async () => {
    const { deps, options } = world();
    deps.directory.profile = () => never<DirectoryProfile>();
    deps.store.listByEntitlement = () => never();
    const pending = gatherContext(deps, request(), readonly, {
      ...options,
      perSourceTimeoutMs: 3000,
      budgetMs: 1500,
    });

    await vi.advanceTimersByTimeAsync(1500);
    const context = await pending;

    expect(context.directory).toEqual({ status: 'unavailable', reason: 'triage time budget of 1.5 s spent' });
    expect(context.history).toEqual({ status: 'unavailable', reason: 'triage time budget of 1.5 s spent' });
    expect(context.chat.status).toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('says why when the requester has no email, no directory account or no IAM principal', async () => {
    const { deps, options } = world();
    const noEmail = await gatherContext(
      deps,
      request({ requester: { jiraAccountId: 'acct-x' } }),
      readonly,
      options,
    );
    expect(noEmail.directory).toEqual({ status: 'unavailable', reason: EMAIL_UNKNOWN });
    expect(noEmail.onCall).toEqual({ status: 'unavailable', reason: EMAIL_UNKNOWN });
    expect(noEmail.history).toMatchObject({
      status: 'ok',
      value: { requesterRequests: [], peers: { notCounted: EMAIL_UNKNOWN } },
    });

    deps.directory.users.clear();
    const unknown = await gatherContext(deps, request(), readonly, {
      ...options,
      iamPrincipalFor: () => undefined,
    });
    expect(unknown.directory).toEqual({ status: 'unavailable', reason: NOT_IN_DIRECTORY });
    expect(unknown.cloud).toEqual({
      status: 'unavailable',
      reason: 'no IAM principal is mapped for the requester',
    });
  });

  it('counts peers only for Okta groups and says so for IAM policies', async () => {
    const { deps, options } = world();
    const context = await gatherContext(
      deps,
      request({ entitlementId: 'aws-billing-read' }),
      entitlement('aws-billing-read'),
      options,
    );
    expect(context.history).toMatchObject({
      status: 'ok',
      value: {
        peers: {
          total: 5,
          holding: 0,
          notCounted: 'peers holding it are counted for Okta-group entitlements only',
        },
      },
    });
    expect(deps.directory.calls.some((c) => c.startsWith('groupMemberIds'))).toBe(false);
    expect(deps.chat.queries[0]?.terms).toContain('AWSBillingReadOnlyAccess');
  });

  it('reports a source whose answer has the wrong shape as a bad response', async () => {
    const { deps, options } = world();
    deps.chat.recentMessages = async () => ({ messages: [] }) as unknown as ChatMessage[];
    const context = await gatherContext(deps, request(), readonly, options);
    expect(context.chat).toEqual({ status: 'unavailable', reason: 'bad response' });
  });
});
