// The Slack stand-in through the real @slack/web-api over HTTP: search with a
// user token (and its refusal for a bot token), channel history with cursors,
// authentication errors, scopes, and the client's retry of a 429.

import { ErrorCode, LogLevel, type WebAPIPlatformError, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../sandbox/scenario/load';
import { SlackStandIn } from '../../sandbox/slack/stand-in';

const BOT_TOKEN = 'xoxb-1111-2222-sandboxbot';
const USER_TOKEN = 'xoxp-1111-2222-3333-sandboxuser';
const NARROW_TOKEN = 'xoxp-1111-2222-3333-noscopes';
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
      botTokens: [BOT_TOKEN],
      userTokens: [USER_TOKEN, NARROW_TOKEN],
      scopes: { [NARROW_TOKEN]: ['channels:read'] },
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
