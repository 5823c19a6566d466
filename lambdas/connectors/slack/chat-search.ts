// ChatSearch on Slack: recent messages about a request (its ticket key, the
// resource) or by the requester, for the approver. Two modes, by the token
// the deployment has:
//   search  — a user token (xoxp) with search:read: search.messages, one query
//             per term (Slack's search has no OR), newest first;
//   history — a bot token (xoxb): conversations.history of configured channels
//             since the date, keeping messages that mention a term.
// The requester is known by email; Slack by user id. Their id is found by
// users.info on the authors of the messages read (the sandbox has no
// users.lookupByEmail), so in search mode the requester's own messages are
// found only when they wrote one of the term matches, or when configured
// channels are read in history mode.

import { WebAPIPlatformError, WebAPIRateLimitedError, type WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { ChatMessage } from '../../core/context';
import { UpstreamError } from '../../core/errors';
import type { ChatSearch } from '../../core/ports';
import { SLACK_SERVICE, slackError } from './client';

interface CommonOptions {
  client: WebClient;
  /** At most this many messages are returned, newest first (1–100). */
  maxMessages: number;
  /** A 429 asking for at most this long is waited out and retried once; a longer one is rate-limited. */
  maxRateLimitWaitMs?: number;
  /** Waits out a Retry-After (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
}

export type SlackChatSearchOptions = CommonOptions &
  ({ mode: 'search' } | { mode: 'history'; channelIds: string[] });

/** Distinct authors looked up with users.info per query, newest first: a bound on calls in busy channels. */
const MAX_AUTHOR_LOOKUPS = 25;
/** conversations.history pages read per channel (up to 200 messages each). */
const MAX_HISTORY_PAGES = 5;
const HISTORY_PAGE_SIZE = 200;
/** A message longer than this is cut: the approver needs the gist, the page has a budget. */
const MAX_TEXT_CHARS = 1_000;
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 2_000;
const DAY_MS = 86_400_000;

// What loopgate reads of Slack's answers; anything else is ignored.
const slackTs = z.string().regex(/^\d{1,12}(\.\d{1,6})?$/);
const searchMatch = z.object({
  ts: slackTs,
  text: z.string(),
  user: z.string().optional(),
  username: z.string().optional(),
  channel: z.object({ id: z.string().min(1), name: z.string().optional() }),
  permalink: z.string().optional(),
});
const searchAnswer = z.object({
  messages: z.object({ matches: z.array(z.unknown()).default([]) }),
});
const historyMessage = z.object({
  ts: slackTs,
  text: z.string(),
  user: z.string().optional(),
  username: z.string().optional(),
  subtype: z.string().optional(),
});
const historyAnswer = z.object({
  messages: z.array(z.unknown()).default([]),
  has_more: z.boolean().optional(),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});
const userAnswer = z.object({
  user: z.object({
    id: z.string(),
    name: z.string().optional(),
    real_name: z.string().optional(),
    profile: z.object({ email: z.string().optional(), real_name: z.string().optional() }).optional(),
  }),
});

interface SlackUser {
  id: string;
  name?: string;
  email?: string;
}

type Query = Parameters<ChatSearch['recentMessages']>[0];

export class SlackChatSearch implements ChatSearch {
  private readonly client: WebClient;
  private readonly options: SlackChatSearchOptions;
  private readonly maxMessages: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: SlackChatSearchOptions) {
    if (!(Number.isInteger(options.maxMessages) && options.maxMessages >= 1 && options.maxMessages <= 100)) {
      throw new RangeError('maxMessages must be a whole number from 1 to 100');
    }
    if (options.mode === 'history' && options.channelIds.length === 0) {
      throw new RangeError('history mode needs at least one channel id');
    }
    this.client = options.client;
    this.options = options;
    this.maxMessages = options.maxMessages;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async recentMessages(query: Query): Promise<ChatMessage[]> {
    const terms = [...new Set(query.terms.map((t) => t.replace(/"/g, '').trim()).filter((t) => t !== ''))];
    const found =
      this.options.mode === 'search'
        ? await this.search(terms, query)
        : await this.history(this.options.channelIds, terms, query);
    const since = query.since.getTime();
    const unique = new Map<string, ChatMessage>();
    for (const m of found) {
      if (Date.parse(m.at) >= since) unique.set(`${m.channelId} ${m.at} ${m.text}`, m);
    }
    return [...unique.values()].sort((a, b) => b.at.localeCompare(a.at)).slice(0, this.maxMessages);
  }

  // --- search mode ---------------------------------------------------------------

  private async search(terms: string[], query: Query): Promise<ChatMessage[]> {
    // Slack's `after:` is a whole day and may be read in the searcher's time zone: ask from
    // two days earlier and drop what is older than `since` afterwards.
    const after = `after:${new Date(query.since.getTime() - 2 * DAY_MS).toISOString().slice(0, 10)}`;
    // Every term is quoted: terms come from the ticket, and must not be read as `in:`, `from:` or `-word`.
    const byTerm = await Promise.all(terms.map((t) => this.searchQuery(`"${t}" ${after}`)));
    const found = byTerm.flat();
    if (query.authorEmail === undefined) return found.map((f) => f.message);

    const users = await this.lookUpUsers(found.map((f) => f.userId));
    const author = [...users.values()].find((u) => sameEmail(u.email, query.authorEmail));
    const byAuthor = author ? await this.searchQuery(`from:<@${author.id}> ${after}`) : [];
    return [...found, ...byAuthor].map(({ message, userId }) =>
      withAuthorName(message, users.get(userId ?? '')),
    );
  }

  private async searchQuery(text: string): Promise<{ message: ChatMessage; userId?: string }[]> {
    const answer = await this.call('search.messages', () =>
      this.client.search.messages({
        query: text,
        sort: 'timestamp',
        sort_dir: 'desc',
        count: this.maxMessages,
      }),
    );
    const parsed = searchAnswer.safeParse(answer);
    if (!parsed.success) throw badResponse('search.messages', 'the answer has no messages.matches');
    return parsed.data.messages.matches.flatMap((raw) => {
      const match = searchMatch.safeParse(raw);
      if (!match.success) return [];
      const m = match.data;
      const message: ChatMessage = {
        channelId: m.channel.id,
        ...(m.channel.name === undefined ? {} : { channelName: m.channel.name }),
        ...(m.user === undefined ? {} : { authorId: m.user }),
        ...(m.username === undefined ? {} : { authorName: m.username }),
        text: clip(m.text),
        at: tsToIso(m.ts),
        ...(m.permalink?.startsWith('https://') ? { permalink: m.permalink } : {}),
      };
      return [{ message, ...(m.user === undefined ? {} : { userId: m.user }) }];
    });
  }

  // --- history mode ---------------------------------------------------------------

  private async history(channelIds: string[], terms: string[], query: Query): Promise<ChatMessage[]> {
    const oldest = (query.since.getTime() / 1000).toFixed(6);
    const perChannel = await Promise.all(channelIds.map((c) => this.channelHistory(c, oldest)));
    const all = perChannel.flat().sort((a, b) => Number(b.ts) - Number(a.ts));
    const lowered = terms.map((t) => t.toLowerCase());
    const mentions = (text: string) => lowered.some((t) => text.toLowerCase().includes(t));

    // Authors are looked up for names, and to find the requester among them when asked to.
    const candidates = query.authorEmail === undefined ? all.filter((m) => mentions(m.text)) : all;
    const users = await this.lookUpUsers(candidates.map((m) => m.user));
    const requester = [...users.values()].find((u) => sameEmail(u.email, query.authorEmail));

    return candidates
      .filter((m) => mentions(m.text) || (requester !== undefined && m.user === requester.id))
      .map((m) => {
        const user = m.user === undefined ? undefined : users.get(m.user);
        const message: ChatMessage = {
          channelId: m.channel,
          ...(m.user === undefined ? {} : { authorId: m.user }),
          text: clip(m.text),
          at: tsToIso(m.ts),
        };
        const name = user?.name ?? m.username;
        return name === undefined ? message : { ...message, authorName: name };
      });
  }

  private async channelHistory(
    channel: string,
    oldest: string,
  ): Promise<(z.infer<typeof historyMessage> & { channel: string })[]> {
    const messages: (z.infer<typeof historyMessage> & { channel: string })[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      const answer = await this.call('conversations.history', () =>
        this.client.conversations.history({
          channel,
          oldest,
          inclusive: true,
          limit: HISTORY_PAGE_SIZE,
          ...(cursor === undefined ? {} : { cursor }),
        }),
      );
      const parsed = historyAnswer.safeParse(answer);
      if (!parsed.success) throw badResponse('conversations.history', 'the answer has no messages');
      for (const raw of parsed.data.messages) {
        const m = historyMessage.safeParse(raw);
        // Joins, topic changes and the like are not conversation.
        if (m.success && m.data.subtype !== 'channel_join' && m.data.subtype !== 'channel_leave') {
          messages.push({ ...m.data, channel });
        }
      }
      cursor = parsed.data.response_metadata?.next_cursor || undefined;
      if (!parsed.data.has_more || cursor === undefined) break;
    }
    return messages;
  }

  // --- shared ----------------------------------------------------------------------

  /** users.info for the distinct ids, in order, up to MAX_AUTHOR_LOOKUPS; unknown users are left out. */
  private async lookUpUsers(ids: (string | undefined)[]): Promise<Map<string, SlackUser>> {
    const distinct = [...new Set(ids.filter((id): id is string => id !== undefined))].slice(
      0,
      MAX_AUTHOR_LOOKUPS,
    );
    const users = await Promise.all(
      distinct.map(async (id) => {
        let answer: unknown;
        try {
          answer = await this.call('users.info', () => this.client.users.info({ user: id }));
        } catch (error) {
          // A user deleted from the workspace since they wrote: no name, not the requester.
          if (error instanceof UpstreamError && isPlatformError(error.cause, 'user_not_found'))
            return undefined;
          throw error;
        }
        const parsed = userAnswer.safeParse(answer);
        if (!parsed.success) throw badResponse('users.info', 'the answer has no user');
        const u = parsed.data.user;
        const name = u.real_name ?? u.profile?.real_name ?? u.name;
        const email = u.profile?.email;
        return { id: u.id, ...(name ? { name } : {}), ...(email ? { email } : {}) } satisfies SlackUser;
      }),
    );
    return new Map(users.flatMap((u) => (u === undefined ? [] : [[u.id, u] as const])));
  }

  /** One Slack call; a 429 that asks for a short enough wait is waited out and retried once. */
  private async call<T>(method: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const retryAfterMs = error instanceof WebAPIRateLimitedError ? error.retryAfter * 1000 : undefined;
        if (attempt > 1 || retryAfterMs === undefined || retryAfterMs > this.maxRateLimitWaitMs) {
          throw slackError(error, method);
        }
        await this.sleep(retryAfterMs);
      }
    }
  }
}

function isPlatformError(error: unknown, code: string): boolean {
  return error instanceof WebAPIPlatformError && error.data.error === code;
}

function withAuthorName(message: ChatMessage, user: SlackUser | undefined): ChatMessage {
  return user?.name === undefined ? message : { ...message, authorName: user.name };
}

function sameEmail(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** Slack's `ts` is seconds since the epoch with microseconds, e.g. `1763708400.000100`. */
function tsToIso(ts: string): string {
  return new Date(Math.floor(Number(ts) * 1000)).toISOString();
}

function clip(text: string): string {
  return text.length <= MAX_TEXT_CHARS ? text : `${text.slice(0, MAX_TEXT_CHARS - 1)}…`;
}

function badResponse(method: string, what: string): UpstreamError {
  return new UpstreamError(SLACK_SERVICE, 'bad-response', `${method}: ${what}`);
}
