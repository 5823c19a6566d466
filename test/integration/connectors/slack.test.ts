// SlackChatSearch against the Slack stand-in over real HTTP with the real
// @slack/web-api: search with a user token, channel history with a bot token,
// the requester's own messages (their Slack id from users.lookupByEmail, their
// messages by that id, never by a look-alike), and Slack's failures as
// loopgate reports them.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackChatSearch, type SlackChatSearchOptions } from '../../../lambdas/connectors/slack/chat-search';
import { createSlackClient } from '../../../lambdas/connectors/slack/client';
import { UpstreamError } from '../../../lambdas/core/errors';
import { SandboxClock } from '../../../sandbox/clock';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from '../../../sandbox/scenario/load';
import { SlackStandIn } from '../../../sandbox/slack/stand-in';

const BOT_TOKEN = 'xoxb-1111-2222-sandboxbot';
const USER_TOKEN = 'xoxp-1111-2222-3333-sandboxuser';
const NARROW_TOKEN = 'xoxp-1111-2222-3333-noscopes';
const START = new Date('2026-11-21T09:00:00.000Z');
const SINCE = new Date(START.getTime() - 7 * 86_400_000);
const INCIDENTS = 'C0INC00001';
const SRE = 'C0SRE00001';
const hoursAgo = (h: number) => new Date(START.getTime() - h * 3_600_000).toISOString();

let clock: SandboxClock;
let scenario: Scenario;
let standIn: SlackStandIn;
/** The waits the connector asked for on a 429; they do not really pass. */
let waits: number[];

beforeEach(async () => {
  clock = new SandboxClock({ start: START, frozen: true });
  scenario = loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now());
  standIn = new SlackStandIn({
    scenario,
    clock,
    botTokens: [BOT_TOKEN],
    userTokens: [USER_TOKEN, NARROW_TOKEN],
    scopes: { [NARROW_TOKEN]: ['channels:read'] },
    botChannels: [INCIDENTS, SRE],
    userTokenOwner: 'ana',
    faultRetryAfterSeconds: 1,
  });
  await standIn.start();
  waits = [];
});

afterEach(async () => {
  await standIn.stop();
});

function userId(person: string): string {
  const found = scenario.people.find((p) => p.id === person);
  if (!found) throw new Error(`no person ${person}`);
  return found.slack.userId;
}

function chat(
  token: string,
  mode: { mode: 'search' } | { mode: 'history'; channelIds: string[] },
  options: { timeoutMs?: number; retries?: number } = {},
): SlackChatSearch {
  const client = createSlackClient({
    token,
    slackApiUrl: `${standIn.url}/api/`,
    timeoutMs: options.timeoutMs ?? 5_000,
    retries: options.retries ?? 1,
  });
  const settings: SlackChatSearchOptions = {
    client,
    maxMessages: 10,
    maxRateLimitWaitMs: 2_000,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...mode,
  };
  return new SlackChatSearch(settings);
}

function callsTo(method: string) {
  return standIn.calls.filter((c) => c.routeKey === `POST /api/${method}`);
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(error)}`);
  return error;
}

/**
 * Someone the scenario does not have: another Dana Reyes, at a partner, whose Slack handle
 * (`dana.reyes`), name and address look like the requester's. Only users.lookupByEmail with the
 * requester's own address tells them apart.
 */
function addLookalike(id: string, email: string, slackUserId: string): void {
  const dana = scenario.people.find((p) => p.id === 'dana');
  if (!dana) throw new Error('no person dana');
  scenario.people.push({ ...structuredClone(dana), id, email, slack: { userId: slackUserId } });
}

function lookups(): string[] {
  return callsTo('users.lookupByEmail').map((c) => c.status.toString());
}

/** A message the scenario does not have, posted `hours` before the start. */
function post(channel: string, person: string, hours: number, text: string) {
  const at = new Date(START.getTime() - hours * 3_600_000);
  const ts = `${Math.floor(at.getTime() / 1000)}.000900`;
  standIn.messages.push({ channel, user: userId(person), text, ts, at });
}

describe('search mode (user token)', () => {
  it('finds dana’s and felix’s INC-4411 messages, newest first, with channel, author, link', async () => {
    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      since: SINCE,
    });

    expect(messages).toEqual([
      {
        channelId: INCIDENTS,
        channelName: 'incidents',
        authorId: userId('felix'),
        authorName: 'felix.wagner',
        text: 'INC-4411: pool is saturated, we may need to run a manual query against prod',
        at: hoursAgo(2),
        permalink: expect.stringMatching(/^https:\/\/example\.slack\.com\/archives\/C0INC00001\/p\d{16}$/),
      },
      {
        channelId: INCIDENTS,
        channelName: 'incidents',
        authorId: userId('dana'),
        authorName: 'dana.reyes',
        text: 'INC-4411: checkout latency up 4x, looking at the prod database connection pool',
        at: hoursAgo(3),
        permalink: expect.stringMatching(/^https:\/\/example\.slack\.com\/archives\/C0INC00001\/p\d{16}$/),
      },
    ]);
  });

  it('searches each term on its own, merges them and keeps only what is since the date', async () => {
    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411', 'prod-readonly', 'phishing'],
      since: new Date(START.getTime() - 4 * 3_600_000),
    });

    // maria's prod-readonly reminder is a day old: found by Slack, dropped as older than `since`.
    expect(messages.map((m) => [m.authorId, m.at])).toEqual([
      [userId('felix'), hoursAgo(2)],
      [userId('dana'), hoursAgo(3)],
    ]);
    expect(callsTo('search.messages')).toHaveLength(3);
  });

  it('quotes terms, so a term from the ticket cannot become a search modifier', async () => {
    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['from:@lena.novak'],
      since: SINCE,
    });

    expect(messages).toEqual([]);
  });

  it('adds the requester’s other messages once their Slack id is known from a match', async () => {
    post(SRE, 'dana', 1, 'heading to the data centre, back after lunch');

    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'Dana.Reyes@example.com',
      since: SINCE,
    });

    expect(messages.map((m) => [m.authorName, m.text.slice(0, 20)])).toEqual([
      ['Dana Reyes', 'heading to the data '],
      ['Felix Wagner', 'INC-4411: pool is sa'],
      ['Dana Reyes', 'INC-4411: checkout l'],
    ]);
  });

  it('finds the requester’s messages by the id users.lookupByEmail gives, even without a term match', async () => {
    // maria wrote nothing about INC-4411: before, search mode could not find her at all.
    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'maria.gonzalez@example.com',
      since: SINCE,
    });

    expect(messages.map((m) => [m.authorId, m.authorName, m.text.slice(0, 20)])).toEqual([
      [userId('felix'), 'Felix Wagner', 'INC-4411: pool is sa'],
      [userId('dana'), 'Dana Reyes', 'INC-4411: checkout l'],
      [userId('maria'), 'Maria Gonzalez', 'Reminder: prod-reado'],
    ]);
    // Once per query; the requester is then searched by id, and not looked up again with users.info.
    expect(lookups()).toEqual(['200']);
    expect(callsTo('users.info').map((c) => c.status)).toHaveLength(2);
    expect(callsTo('search.messages')).toHaveLength(2);
  });

  it('does not count a look-alike (same name and handle, another address) as the requester', async () => {
    addLookalike('dana-partner', 'dana.reyes@example-partner.com', 'U0DANAPARTNR');
    post(SRE, 'dana-partner', 1, 'can someone approve my prod access today?');
    post(INCIDENTS, 'dana-partner', 1.5, 'INC-4411: partner side sees the same latency');
    post(SRE, 'dana', 0.5, 'heading to the data centre, back after lunch');

    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'dana.reyes@example.com',
      since: SINCE,
    });

    expect(messages.map((m) => [m.authorId, m.text.slice(0, 20)])).toEqual([
      [userId('dana'), 'heading to the data '],
      // A term match is kept whoever wrote it, under its own author's id.
      ['U0DANAPARTNR', 'INC-4411: partner si'],
      [userId('felix'), 'INC-4411: pool is sa'],
      [userId('dana'), 'INC-4411: checkout l'],
    ]);
    expect(messages.some((m) => m.text.includes('approve my prod access'))).toBe(false);
  });

  it('a requester Slack does not know (users_not_found) has no messages of their own, and nothing fails', async () => {
    // The address looks like dana's; Slack compares it whole and knows no such member.
    addLookalike('dana-partner', 'dana.reyes@example-partner.com', 'U0DANAPARTNR');
    post(SRE, 'dana-partner', 1, 'can someone approve my prod access today?');

    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'dana.reyes@example.co',
      since: SINCE,
    });

    expect(messages.map((m) => m.authorId)).toEqual([userId('felix'), userId('dana')]);
    expect(messages.map((m) => m.authorName)).toEqual(['Felix Wagner', 'Dana Reyes']);
    expect(lookups()).toEqual(['200']);
    // No `from:` search for a requester who is not there.
    expect(callsTo('search.messages')).toHaveLength(1);
  });

  it('caps the number of messages', async () => {
    for (let i = 0; i < 15; i++) post(INCIDENTS, 'felix', 1 + i / 100, `INC-4411 update ${i}`);

    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      since: SINCE,
    });

    expect(messages).toHaveLength(10);
    expect(messages[0]?.text).toBe('INC-4411 update 0');
  });
});

describe('history mode (bot token)', () => {
  it('finds the same INC-4411 messages in the configured channels, with the authors’ names', async () => {
    const messages = await chat(BOT_TOKEN, { mode: 'history', channelIds: [INCIDENTS, SRE] }).recentMessages({
      terms: ['inc-4411'],
      since: SINCE,
    });

    expect(messages).toEqual([
      {
        channelId: INCIDENTS,
        authorId: userId('felix'),
        authorName: 'Felix Wagner',
        text: 'INC-4411: pool is saturated, we may need to run a manual query against prod',
        at: hoursAgo(2),
      },
      {
        channelId: INCIDENTS,
        authorId: userId('dana'),
        authorName: 'Dana Reyes',
        text: 'INC-4411: checkout latency up 4x, looking at the prod database connection pool',
        at: hoursAgo(3),
      },
    ]);
  });

  it('adds what the requester wrote in those channels, about anything', async () => {
    const messages = await chat(BOT_TOKEN, { mode: 'history', channelIds: [INCIDENTS, SRE] }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'maria.gonzalez@example.com',
      since: SINCE,
    });

    expect(messages.map((m) => [m.channelId, m.authorName])).toEqual([
      [INCIDENTS, 'Felix Wagner'],
      [INCIDENTS, 'Dana Reyes'],
      [SRE, 'Maria Gonzalez'],
    ]);
  });

  it('keeps the requester’s messages by id, not a look-alike’s, and looks them up once', async () => {
    addLookalike('maria-partner', 'maria.gonzalez@example-partner.com', 'U0MARIAPARTN');
    const lookalike = scenario.people.find((p) => p.id === 'maria-partner');
    if (lookalike) lookalike.name = 'Maria Gonzalez';
    post(SRE, 'maria-partner', 1, 'I need prod-readonly for the audit, can someone approve?');

    const messages = await chat(BOT_TOKEN, { mode: 'history', channelIds: [INCIDENTS, SRE] }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'maria.gonzalez@example.com',
      since: SINCE,
    });

    expect(messages.map((m) => [m.authorId, m.authorName])).toEqual([
      [userId('felix'), 'Felix Wagner'],
      [userId('dana'), 'Dana Reyes'],
      [userId('maria'), 'Maria Gonzalez'],
    ]);
    expect(lookups()).toEqual(['200']);
    // Names only for the authors kept; the requester's came with the lookup.
    expect(callsTo('users.info')).toHaveLength(2);
  });

  it('a deactivated requester has no messages of their own', async () => {
    const maria = scenario.people.find((p) => p.id === 'maria');
    if (maria) maria.okta.status = 'DEPROVISIONED';

    const messages = await chat(BOT_TOKEN, { mode: 'history', channelIds: [INCIDENTS, SRE] }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'maria.gonzalez@example.com',
      since: SINCE,
    });

    expect(messages.map((m) => m.authorId)).toEqual([userId('felix'), userId('dana')]);
  });

  it('reads only since the date', async () => {
    const messages = await chat(BOT_TOKEN, { mode: 'history', channelIds: [INCIDENTS] }).recentMessages({
      terms: ['INC-4411'],
      since: new Date(START.getTime() - 2.5 * 3_600_000),
    });

    expect(messages.map((m) => m.authorId)).toEqual([userId('felix')]);
  });

  it('a channel the bot is not in is forbidden', async () => {
    const error = await failure(
      chat(BOT_TOKEN, { mode: 'history', channelIds: ['C0DATA0001'] }).recentMessages({
        terms: ['DATA-812'],
        since: SINCE,
      }),
    );

    expect(error.failure).toBe('forbidden');
    expect(error.message).toBe('slack: conversations.history failed (not_in_channel)');
  });
});

describe('Slack failures', () => {
  it('a bot token in search mode is forbidden', async () => {
    const error = await failure(
      chat(BOT_TOKEN, { mode: 'search' }).recentMessages({ terms: ['INC-4411'], since: SINCE }),
    );

    expect(error.failure).toBe('forbidden');
    expect(error.message).toBe('slack: search.messages failed (not_allowed_token_type)');
  });

  it('a token without search:read is forbidden, naming the scope', async () => {
    const error = await failure(
      chat(NARROW_TOKEN, { mode: 'search' }).recentMessages({ terms: ['INC-4411'], since: SINCE }),
    );

    expect(error.failure).toBe('forbidden');
    expect(error.message).toContain('missing_scope, needs search:read');
  });

  it('a token without users:read.email is forbidden when a requester is given, naming the scope', async () => {
    const token = 'xoxp-1111-2222-3333-noemail';
    const narrow = new SlackStandIn({
      scenario,
      clock,
      botTokens: [],
      userTokens: [token],
      scopes: { [token]: ['search:read', 'users:read'] },
    });
    await narrow.start();
    try {
      const search = new SlackChatSearch({
        client: createSlackClient({ token, slackApiUrl: `${narrow.url}/api/`, timeoutMs: 5_000, retries: 1 }),
        mode: 'search',
        maxMessages: 10,
      });
      const error = await failure(
        search.recentMessages({ terms: ['INC-4411'], authorEmail: 'dana.reyes@example.com', since: SINCE }),
      );
      expect(error.failure).toBe('forbidden');
      expect(error.message).toBe('slack: users.lookupByEmail failed (missing_scope, needs users:read.email)');

      // Without a requester the lookup is not needed, and the search works.
      await expect(search.recentMessages({ terms: ['INC-4411'], since: SINCE })).resolves.toHaveLength(2);
    } finally {
      await narrow.stop();
    }
  });

  it('a 429 on users.lookupByEmail is waited out and retried once', async () => {
    standIn.faults.set('POST /api/users.lookupByEmail', { failNext: 1, status: 429 });

    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      authorEmail: 'maria.gonzalez@example.com',
      since: SINCE,
    });

    expect(messages.map((m) => m.authorId)).toContain(userId('maria'));
    expect(waits).toEqual([1_000]);
    expect(lookups()).toEqual(['429', '200']);
  });

  it('an invalid token is unauthorized, and the token is nowhere in the error', async () => {
    const token = 'xoxp-9999-not-a-real-token';
    const error = await failure(
      chat(token, { mode: 'search' }).recentMessages({ terms: ['INC-4411'], since: SINCE }),
    );

    expect(error.failure).toBe('unauthorized');
    expect(error.message).toBe('slack: search.messages failed (invalid_auth)');
    expect(JSON.stringify({ message: error.message, stack: error.stack })).not.toContain(token);
  });

  it('a 429 with Retry-After is waited out and retried once, then succeeds', async () => {
    standIn.faults.set('POST /api/search.messages', { failNext: 1, status: 429 });

    const messages = await chat(USER_TOKEN, { mode: 'search' }).recentMessages({
      terms: ['INC-4411'],
      since: SINCE,
    });

    expect(messages).toHaveLength(2);
    expect(waits).toEqual([1_000]);
    expect(callsTo('search.messages').map((c) => c.status)).toEqual([429, 200]);
  });

  it('a second 429 is rate-limited', async () => {
    standIn.faults.set('POST /api/search.messages', { failNext: 2, status: 429 });

    const error = await failure(
      chat(USER_TOKEN, { mode: 'search' }).recentMessages({ terms: ['INC-4411'], since: SINCE }),
    );

    expect(error.failure).toBe('rate-limited');
    expect(waits).toEqual([1_000]);
  });

  it('a Retry-After longer than the budget is rate-limited without waiting', async () => {
    const limited = new SlackStandIn({
      scenario,
      clock,
      botTokens: [],
      userTokens: [USER_TOKEN],
      rateLimits: { 'search.messages': 1 },
    });
    await limited.start();
    try {
      const search = new SlackChatSearch({
        client: createSlackClient({
          token: USER_TOKEN,
          slackApiUrl: `${limited.url}/api/`,
          timeoutMs: 5_000,
          retries: 1,
        }),
        mode: 'search',
        maxMessages: 10,
        maxRateLimitWaitMs: 2_000,
        sleep: async (ms) => {
          waits.push(ms);
        },
      });
      await search.recentMessages({ terms: ['INC-4411'], since: SINCE });

      // The sandbox minute has 60 s left: far past the budget.
      const error = await failure(search.recentMessages({ terms: ['INC-4411'], since: SINCE }));
      expect(error.failure).toBe('rate-limited');
      expect(error.message).toBe('slack: search.messages failed (429, retry after 60 s)');
      expect(waits).toEqual([]);
    } finally {
      await limited.stop();
    }
  });

  it('a 5xx that outlasts the retries is unavailable', async () => {
    standIn.faults.set('POST /api/search.messages', { failNext: 5, status: 503 });

    const error = await failure(
      chat(USER_TOKEN, { mode: 'search' }, { retries: 1 }).recentMessages({
        terms: ['INC-4411'],
        since: SINCE,
      }),
    );

    expect(error.failure).toBe('unavailable');
    expect(callsTo('search.messages').map((c) => c.status)).toEqual([503, 503]);
  });

  it('an answer slower than the timeout is a timeout', async () => {
    standIn.faults.set('POST /api/conversations.history', { delayMs: 400 });

    const error = await failure(
      chat(
        BOT_TOKEN,
        { mode: 'history', channelIds: [INCIDENTS] },
        { timeoutMs: 100, retries: 1 },
      ).recentMessages({
        terms: ['INC-4411'],
        since: SINCE,
      }),
    );

    expect(error.failure).toBe('timeout');
    expect(callsTo('conversations.history').length).toBeLessThanOrEqual(2);
  });
});
