// The Slack stand-in through the real @slack/web-api over HTTP: search with a
// user token (and its refusal for a bot token), channel history with cursors,
// users.info and users.lookupByEmail with and without users:read.email,
// authentication errors, scopes (the defaults are what docs/setup.md asks
// for), and the client's retry of a 429.

import { readFileSync } from 'node:fs';
import { ErrorCode, LogLevel, type WebAPIPlatformError, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../sandbox/scenario/load';
import { DEFAULT_BOT_SCOPES, DEFAULT_USER_SCOPES, SlackStandIn } from '../../sandbox/slack/stand-in';

const BOT_TOKEN = 'xoxb-1111-2222-sandboxbot';
const USER_TOKEN = 'xoxp-1111-2222-3333-sandboxuser';
const NARROW_TOKEN = 'xoxp-1111-2222-3333-noscopes';
/** A bot with the scopes docs/setup.md asks for, and nothing else. */
const GUIDE_BOT_TOKEN = 'xoxb-1111-2222-guidebot';
/** users:read without users:read.email. */
const NO_EMAIL_TOKEN = 'xoxb-1111-2222-noemail';
const START = new Date('2026-11-21T09:00:00.000Z');

/** Retries promptly; a 429 still waits its Retry-After inside the client. */
const retryConfig = { retries: 2, minTimeout: 0, maxTimeout: 10 };

describe('Slack stand-in through @slack/web-api', () => {
  let clock: SandboxClock;
  let scenario: Scenario;
  let standIn: SlackStandIn;
  const client = (token: string) =>
    new WebClient(token, {
      slackApiUrl: `${standIn.url}/api/`,
      retryConfig,
      timeout: 10_000,
      logLevel: LogLevel.ERROR,
    });
  const person = (id: string) => {
    const p = scenario.people.find((x) => x.id === id);
    if (!p) throw new Error(`no person ${id}`);
    return p;
  };

  beforeAll(async () => {
    clock = new SandboxClock({ start: START, frozen: true });
    scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now());
    standIn = new SlackStandIn({
      scenario,
      clock,
      botTokens: [BOT_TOKEN, GUIDE_BOT_TOKEN, NO_EMAIL_TOKEN],
      userTokens: [USER_TOKEN, NARROW_TOKEN],
      scopes: {
        [NARROW_TOKEN]: ['channels:read'],
        // conversations.list is not something loopgate calls; this bot may, to test it.
        [BOT_TOKEN]: [...DEFAULT_BOT_SCOPES, 'channels:read'],
        [NO_EMAIL_TOKEN]: ['channels:history', 'users:read'],
      },
      botChannels: ['C0INC00001', 'C0SRE00001'],
      userTokenOwner: 'ana',
    });
    await standIn.start();
  });

  afterAll(async () => {
    await standIn.stop();
  });

  it('finds the INC-4411 messages with a user token, newest first by timestamp', async () => {
    const result = await client(USER_TOKEN).search.messages({ query: 'INC-4411', sort: 'timestamp' });
    expect(result.ok).toBe(true);
    const matches = result.messages?.matches ?? [];
    expect(matches.map((m) => m.text)).toEqual([
      'INC-4411: pool is saturated, we may need to run a manual query against prod',
      'INC-4411: checkout latency up 4x, looking at the prod database connection pool',
    ]);
    expect(matches[0]).toMatchObject({
      user: person('felix').slack.userId,
      username: 'felix.wagner',
      channel: { id: 'C0INC00001', name: 'incidents' },
    });
    expect(matches[0]?.permalink).toMatch(/^https:\/\/example\.slack\.com\/archives\/C0INC00001\/p\d{16}$/);
    expect(result.messages?.paging).toEqual({ count: 20, total: 2, page: 1, pages: 1 });
  });

  it('understands in:, from:, after: and excluded words', async () => {
    const search = (query: string) => client(USER_TOKEN).search.messages({ query });
    const fromDana = await search('INC-4411 from:@dana.reyes in:#incidents');
    expect(fromDana.messages?.matches?.map((m) => m.user)).toEqual([person('dana').slack.userId]);

    const sinceYesterday = await search('prod after:2026-11-20');
    expect(sinceYesterday.messages?.total).toBe(2);
    const beforeThat = await search('prod before:2026-11-21');
    expect(beforeThat.messages?.matches?.map((m) => m.text)).toEqual([
      'Reminder: prod-readonly requests go through loopgate, not DMs',
    ]);

    const withoutPool = await search('INC-4411 -saturated');
    expect(withoutPool.messages?.total).toBe(1);

    const paged = await client(USER_TOKEN).search.messages({ query: 'INC-4411', count: 1, page: 2 });
    expect(paged.messages?.paging).toEqual({ count: 1, total: 2, page: 2, pages: 2 });
    expect(paged.messages?.matches).toHaveLength(1);
  });

  it('refuses search with a bot token as Slack does', async () => {
    await expect(client(BOT_TOKEN).search.messages({ query: 'INC-4411' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'not_allowed_token_type' },
    });
  });

  it('reports a missing scope with what was needed and provided', async () => {
    const error = (await client(NARROW_TOKEN)
      .search.messages({ query: 'prod' })
      .catch((e: unknown) => e)) as WebAPIPlatformError;
    expect(error.data).toMatchObject({
      ok: false,
      error: 'missing_scope',
      needed: 'search:read',
      provided: 'channels:read',
    });
  });

  it('pages channel history newest first with cursors', async () => {
    const bot = client(BOT_TOKEN);
    const first = await bot.conversations.history({ channel: 'C0INC00001', limit: 1 });
    expect(first.messages?.map((m) => m.user)).toEqual([person('felix').slack.userId]);
    expect(first.has_more).toBe(true);
    const cursor = first.response_metadata?.next_cursor ?? '';
    expect(cursor).not.toBe('');

    const second = await bot.conversations.history({ channel: 'C0INC00001', limit: 1, cursor });
    expect(second.messages?.map((m) => m.user)).toEqual([person('dana').slack.userId]);
    expect(second.has_more).toBe(false);
    expect(second.response_metadata?.next_cursor).toBe('');

    const texts: string[] = [];
    for await (const page of bot.paginate('conversations.history', { channel: 'C0INC00001', limit: 1 })) {
      const { messages = [] } = page as { messages?: { text?: string }[] };
      for (const m of messages) texts.push(m.text ?? '');
    }
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('pool is saturated');

    const oldestOnly = await bot.conversations.history({
      channel: 'C0INC00001',
      oldest: String(START.getTime() / 1000 - 2.5 * 3600),
    });
    expect(oldestOnly.messages).toHaveLength(1);
  });

  it('answers channel errors in the body with HTTP 200', async () => {
    await expect(client(BOT_TOKEN).conversations.history({ channel: 'C0DATA0001' })).rejects.toMatchObject({
      data: { ok: false, error: 'not_in_channel' },
    });
    await expect(client(BOT_TOKEN).conversations.history({ channel: 'C0NOPE' })).rejects.toMatchObject({
      data: { ok: false, error: 'channel_not_found' },
    });
    await expect(
      client(BOT_TOKEN).conversations.history({ channel: 'C0INC00001', cursor: 'bm90LWEtY3Vyc29y' }),
    ).rejects.toMatchObject({ data: { ok: false, error: 'invalid_cursor' } });
  });

  it('lists channels, looks up users and tells who a token is', async () => {
    const bot = client(BOT_TOKEN);
    const channels = await bot.conversations.list({ limit: 3 });
    expect(channels.channels?.map((c) => c.name)).toEqual(['sre', 'security', 'data-eng']);
    const rest = await bot.conversations.list({
      limit: 3,
      cursor: channels.response_metadata?.next_cursor ?? '',
    });
    expect(rest.channels?.map((c) => [c.name, c.is_member])).toEqual([['incidents', true]]);
    expect(rest.response_metadata?.next_cursor).toBe('');

    const user = await bot.users.info({ user: person('chloe').slack.userId });
    expect(user.user?.profile).toMatchObject({
      real_name: 'Chloé Martin',
      email: 'chloe.martin@example.com',
    });

    const me = await client(USER_TOKEN).auth.test();
    expect(me).toMatchObject({ ok: true, user_id: person('ana').slack.userId, user: 'ana.lima' });
    const bots = await bot.auth.test();
    expect(bots.bot_id).toBeTruthy();
  });

  // docs.slack.dev/reference/methods/users.lookupByEmail: "Find a user with an email address."
  // "Retrieve a single user by looking them up by their registered email address. Requires
  // users:read.email." Arguments: `token`, `email` ("An email address belonging to a user in the
  // workspace"), both required. Rate limit: "Tier 3: 50+ per minute". Response: "Returns a user
  // object." Content types: application/x-www-form-urlencoded, application/json.
  describe('users.lookupByEmail', () => {
    it('finds a member by their address and returns the same user object as users.info', async () => {
      const found = await client(GUIDE_BOT_TOKEN).users.lookupByEmail({ email: 'dana.reyes@example.com' });
      expect(found.ok).toBe(true);
      expect(found.user).toMatchObject({
        id: person('dana').slack.userId,
        name: 'dana.reyes',
        deleted: false,
        real_name: 'Dana Reyes',
        profile: { real_name: 'Dana Reyes', display_name: 'dana.reyes', email: 'dana.reyes@example.com' },
      });
      const info = await client(GUIDE_BOT_TOKEN).users.info({ user: person('dana').slack.userId });
      expect(found.user).toEqual(info.user);

      // With the user token search mode uses, too: Slack lists users:read.email for bot and user tokens.
      const asUser = await client(USER_TOKEN).users.lookupByEmail({ email: 'felix.wagner@example.com' });
      expect(asUser.user?.id).toBe(person('felix').slack.userId);
    });

    it('answers users_not_found for an address no member has, with HTTP 200', async () => {
      // Slack's example error: { "ok": false, "error": "users_not_found" }.
      for (const email of ['nobody@example.com', 'dana.reyes@example.co', 'dana.reyes@example.com.evil']) {
        const response = await fetch(
          `${standIn.url}/api/users.lookupByEmail?email=${encodeURIComponent(email)}`,
          {
            headers: { authorization: `Bearer ${GUIDE_BOT_TOKEN}` },
          },
        );
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ ok: false, error: 'users_not_found' });
      }
      await expect(
        client(GUIDE_BOT_TOKEN).users.lookupByEmail({ email: 'nobody@example.com' }),
      ).rejects.toMatchObject({
        code: ErrorCode.PlatformError,
        data: { ok: false, error: 'users_not_found' },
      });
    });

    it('answers users_not_found for a deactivated member', async () => {
      // "If the user has been deactivated, users_not_found will be returned instead of a user object."
      const chloe = person('chloe');
      const status = chloe.okta.status;
      chloe.okta.status = 'DEPROVISIONED';
      try {
        await expect(
          client(GUIDE_BOT_TOKEN).users.lookupByEmail({ email: chloe.email }),
        ).rejects.toMatchObject({ data: { ok: false, error: 'users_not_found' } });
        // users.info still returns the user, marked deleted.
        const info = await client(GUIDE_BOT_TOKEN).users.info({ user: chloe.slack.userId });
        expect(info.user?.deleted).toBe(true);
      } finally {
        chloe.okta.status = status;
      }
    });

    it('needs users:read.email; users:read alone is a missing_scope', async () => {
      const error = (await client(NO_EMAIL_TOKEN)
        .users.lookupByEmail({ email: 'dana.reyes@example.com' })
        .catch((e: unknown) => e)) as WebAPIPlatformError;
      expect(error.code).toBe(ErrorCode.PlatformError);
      expect(error.data).toMatchObject({
        ok: false,
        error: 'missing_scope',
        needed: 'users:read.email',
        provided: 'channels:history,users:read',
      });
    });

    it('takes the email from a form body with a token parameter, a query string or a JSON body', async () => {
      const form = await fetch(`${standIn.url}/api/users.lookupByEmail`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: GUIDE_BOT_TOKEN, email: 'maria.gonzalez@example.com' }),
      });
      expect(await form.json()).toMatchObject({ ok: true, user: { id: person('maria').slack.userId } });

      const json = await fetch(`${standIn.url}/api/users.lookupByEmail`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${GUIDE_BOT_TOKEN}`,
          'content-type': 'application/json; charset=utf-8',
        },
        body: JSON.stringify({ email: 'maria.gonzalez@example.com' }),
      });
      expect(await json.json()).toMatchObject({ ok: true, user: { id: person('maria').slack.userId } });

      const missing = await fetch(`${standIn.url}/api/users.lookupByEmail`, {
        method: 'POST',
        headers: { authorization: `Bearer ${GUIDE_BOT_TOKEN}` },
      });
      expect(await missing.json()).toMatchObject({ ok: false, error: 'invalid_arguments' });
    });

    it('is Tier 3: 50 calls a minute per token, then HTTP 429 with Retry-After', async () => {
      // Slack: "Tier 3: 50+ per minute"; over it, "HTTP 429 Too Many Requests" with a Retry-After header.
      const tier = new SlackStandIn({ scenario, clock, botTokens: [GUIDE_BOT_TOKEN], userTokens: [] });
      await tier.start();
      try {
        const call = () =>
          fetch(`${tier.url}/api/users.lookupByEmail`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${GUIDE_BOT_TOKEN}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({ email: 'dana.reyes@example.com' }),
          });
        for (let i = 0; i < 50; i++) expect((await call()).status).toBe(200);
        const refused = await call();
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await refused.json()).toEqual({ ok: false, error: 'ratelimited' });
        // The client hands the 429 back when asked to, with the wait Slack asked for.
        const rejecting = new WebClient(GUIDE_BOT_TOKEN, {
          slackApiUrl: `${tier.url}/api/`,
          rejectRateLimitedCalls: true,
          logLevel: LogLevel.ERROR,
        });
        await expect(
          rejecting.users.lookupByEmail({ email: 'dana.reyes@example.com' }),
        ).rejects.toMatchObject({
          code: ErrorCode.RateLimitedError,
        });
        clock.advance(60_000);
        expect((await call()).status).toBe(200);
      } finally {
        await tier.stop();
      }
    });
  });

  it('leaves profile.email out of users.info without users:read.email', async () => {
    // "The users:read.email OAuth scope is now required to access the email field in user objects
    // returned by the users.list and users.info web API methods. users:read is no longer a
    // sufficient scope for this data field."
    const user = await client(NO_EMAIL_TOKEN).users.info({ user: person('dana').slack.userId });
    expect(user.user?.profile?.real_name).toBe('Dana Reyes');
    expect(user.user?.profile).not.toHaveProperty('email');
  });

  it('grants by default exactly the scopes docs/setup.md tells the operator to add', async () => {
    const guide = readFileSync('docs/setup.md', 'utf8');
    const section = guide.slice(guide.indexOf('## 8. Slack'), guide.indexOf('## 9. '));
    const scopesOf = (mode: string) => {
      const bullet = section.split('\n- ').find((b) => b.startsWith(`\`slack.mode: "${mode}"\``)) ?? '';
      return [...(bullet.split('\n\n')[0] ?? '').matchAll(/`([a-z]+:[a-z.]+)`/g)].map((m) => m[1]).sort();
    };
    expect(scopesOf('search')).toEqual([...DEFAULT_USER_SCOPES].sort());
    // groups:history is for private channels only; the stand-in's channels are public.
    expect(scopesOf('history').filter((s) => s !== 'groups:history')).toEqual([...DEFAULT_BOT_SCOPES].sort());

    // And a token with those defaults does what loopgate asks of it, and nothing it does not.
    const guided = client(GUIDE_BOT_TOKEN);
    await expect(guided.users.lookupByEmail({ email: 'ana.lima@example.com' })).resolves.toMatchObject({
      ok: true,
    });
    await expect(guided.conversations.history({ channel: 'C0INC00001' })).resolves.toMatchObject({
      ok: true,
    });
    await expect(guided.conversations.list()).rejects.toMatchObject({
      data: { error: 'missing_scope', needed: 'channels:read' },
    });
  });

  it('rejects an unknown token with invalid_auth and none with not_authed', async () => {
    await expect(client('xoxb-not-a-token').auth.test()).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'invalid_auth' },
    });
    const anonymous = await fetch(`${standIn.url}/api/auth.test`, { method: 'POST' });
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('accepts a token parameter and a JSON body, as Slack does', async () => {
    const form = await fetch(`${standIn.url}/api/conversations.history`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: BOT_TOKEN, channel: 'C0SRE00001' }),
    });
    expect(((await form.json()) as { messages: unknown[] }).messages).toHaveLength(1);

    const body = await fetch(`${standIn.url}/api/conversations.history`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0SRE00001', limit: 1 }),
    });
    expect(((await body.json()) as { ok: boolean }).ok).toBe(true);

    const broken = await fetch(`${standIn.url}/api/conversations.history`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' },
      body: '{"channel":',
    });
    expect(await broken.json()).toMatchObject({ ok: false, error: 'invalid_json' });
  });

  it('has the client wait out a 429 with Retry-After and retry', async () => {
    standIn.faults.set('POST /api/search.messages', { failNext: 1, status: 429 });
    const before = standIn.calls.filter((c) => c.routeKey === 'POST /api/search.messages').length;
    const result = await client(USER_TOKEN).search.messages({ query: 'phishing' });
    expect(result.messages?.total).toBe(1);
    const calls = standIn.calls.filter((c) => c.routeKey === 'POST /api/search.messages').slice(before);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
  });

  it('rate-limits per method and token within the minute of the sandbox clock', async () => {
    const limited = new SlackStandIn({
      scenario,
      clock,
      botTokens: [BOT_TOKEN],
      userTokens: [],
      rateLimits: { 'auth.test': 1 },
    });
    await limited.start();
    try {
      const call = () =>
        fetch(`${limited.url}/api/auth.test`, {
          method: 'POST',
          headers: { authorization: `Bearer ${BOT_TOKEN}` },
        });
      expect((await call()).status).toBe(200);
      const refused = await call();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      clock.advance(60_000);
      expect((await call()).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

// chat.postMessage as Slack's API reference (docs.slack.dev/reference/methods/chat.postMessage)
// describes it: scope chat:write (bot or user token); errors channel_not_found ("Value passed for
// channel was invalid"), not_in_channel ("Cannot post user messages to a channel they are not in"),
// no_text, invalid_auth; rate limit "Special", about one message a second per channel, over which
// HTTP 429 with Retry-After and `ratelimited`. The response carries the channel id and the ts.
describe('chat.postMessage', () => {
  const POSTER = 'xoxb-1111-2222-poster';
  const READER = 'xoxb-1111-2222-reader';
  let clock: SandboxClock;
  let standIn: SlackStandIn;
  const client = (token: string, options: { rejectRateLimitedCalls?: boolean } = {}) =>
    new WebClient(token, {
      slackApiUrl: `${standIn.url}/api/`,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
      ...options,
    });

  beforeAll(async () => {
    clock = new SandboxClock({ start: START, frozen: true });
    standIn = new SlackStandIn({
      scenario: loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now()),
      clock,
      botTokens: [POSTER, READER],
      userTokens: [],
      scopes: { [POSTER]: [...DEFAULT_BOT_SCOPES, 'chat:write'] },
      botChannels: ['C0SRE00001'],
    });
    await standIn.start();
  });

  afterAll(async () => {
    await standIn.stop();
  });

  it('posts to a channel the bot is in, by id or by name, and answers with the channel and ts', async () => {
    const byId = await client(POSTER).chat.postMessage({ channel: 'C0SRE00001', text: 'weekly digest' });
    expect(byId).toMatchObject({
      ok: true,
      channel: 'C0SRE00001',
      ts: expect.stringMatching(/^\d{10}\.\d{6}$/),
      message: { type: 'message', text: 'weekly digest', bot_id: expect.any(String) },
    });
    clock.advance(1000);
    const byName = await client(POSTER).chat.postMessage({ channel: '#sre', text: 'again' });
    expect(byName.channel).toBe('C0SRE00001');
    expect(byName.ts).not.toBe(byId.ts);
    expect(standIn.posted.map((m) => m.text)).toEqual(['weekly digest', 'again']);
  });

  it('needs chat:write', async () => {
    await expect(client(READER).chat.postMessage({ channel: 'C0SRE00001', text: 'x' })).rejects.toMatchObject(
      {
        code: ErrorCode.PlatformError,
        data: { ok: false, error: 'missing_scope', needed: 'chat:write' },
      },
    );
  });

  it.each([
    ['a channel the bot was not added to', { channel: 'C0SEC00001', text: 'x' }, 'not_in_channel'],
    ['no such channel', { channel: 'C0NOSUCH01', text: 'x' }, 'channel_not_found'],
    ['no text', { channel: 'C0SRE00001', text: '' }, 'no_text'],
  ])('refuses %s with %s', async (_what, args, error) => {
    clock.advance(1000);
    await expect(client(POSTER).chat.postMessage(args)).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error },
    });
  });

  it('refuses an unknown token with invalid_auth', async () => {
    await expect(
      client('xoxb-0000-0000-unknown').chat.postMessage({ channel: 'C0SRE00001', text: 'x' }),
    ).rejects.toMatchObject({ code: ErrorCode.PlatformError, data: { ok: false, error: 'invalid_auth' } });
  });

  it('allows about one message a second per channel: the next is HTTP 429 ratelimited with Retry-After', async () => {
    clock.advance(1000);
    await client(POSTER).chat.postMessage({ channel: 'C0SRE00001', text: 'first' });
    const raw = await fetch(`${standIn.url}/api/chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${POSTER}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0SRE00001', text: 'second' }),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(await raw.json()).toEqual({ ok: false, error: 'ratelimited' });
    await expect(
      client(POSTER, { rejectRateLimitedCalls: true }).chat.postMessage({
        channel: 'C0SRE00001',
        text: 'third',
      }),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    clock.advance(1000);
    expect((await client(POSTER).chat.postMessage({ channel: 'C0SRE00001', text: 'later' })).ok).toBe(true);
  });
});
