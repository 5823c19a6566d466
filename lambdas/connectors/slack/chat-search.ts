// ChatSearch on Slack: recent messages about a request (its ticket key, the
// resource) or by the requester, for the approver. Two modes, by the token
// the deployment has:
//   search  — a user token (xoxp) with search:read: search.messages, one query
//             per term (Slack's search has no OR), newest first;
//   history — a bot token (xoxb): conversations.history of configured channels
//             since the date, keeping messages that mention a term.
// The requester is known by email; Slack by user id. Their id is found once per
// query with users.lookupByEmail (scope users:read.email); `users_not_found`
// means they have no Slack account (or a deactivated one): no messages of
// theirs, not a failure. Messages are then the requester's when their author
// id is that id; emails are never compared. Their own messages are a
// `from:<@id>` search in search mode, and whatever they wrote in the
// configured channels in history mode. Other authors' names come from
// users.info (scope users:read), in search mode only when a requester is given.

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

/** Distinct authors looked up with users.info (for their names) per query, newest first: a bound on calls. */
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
    id: z.string().min(1),
    name: z.string().optional(),
    real_name: z.string().optional(),
    profile: z.object({ real_name: z.string().optional() }).optional(),
  }),
});

interface SlackUser {
  id: string;
  name?: string;
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
    const searches = Promise.all(terms.map((t) => this.searchQuery(`"${t}" ${after}`)));
    const authorEmail = query.authorEmail;
    if (authorEmail === undefined) return (await searches).flat().map((f) => f.message);

    const requesterSearch = this.requester(authorEmail).then(async (requester) => {
      if (requester === undefined) return { requester, messages: [] };
      const messages = await this.searchQuery(`from:<@${requester.id}> ${after}`);
      // Only what Slack says the requester wrote, by id.
      return { requester, messages: messages.filter((m) => m.userId === requester.id) };
    });
    const [byTerm, byRequester] = await Promise.all([searches, requesterSearch]);
    const found = byTerm.flat();
    const requester = byRequester.requester;

    const users = await this.lookUpUsers(
      found.map((f) => f.userId).filter((id) => requester === undefined || id !== requester.id),
    );
    if (requester !== undefined) users.set(requester.id, requester);
    return [...found, ...byRequester.messages].map(({ message, userId }) =>
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
    const [perChannel, requester] = await Promise.all([
      Promise.all(channelIds.map((c) => this.channelHistory(c, oldest))),
      query.authorEmail === undefined ? undefined : this.requester(query.authorEmail),
    ]);
    const all = perChannel.flat().sort((a, b) => Number(b.ts) - Number(a.ts));
    const lowered = terms.map((t) => t.toLowerCase());
    const mentions = (text: string) => lowered.some((t) => text.toLowerCase().includes(t));

    // The requester's messages are theirs by author id, whatever they mention.
    const kept = all.filter((m) => mentions(m.text) || (requester !== undefined && m.user === requester.id));
    // The other authors are looked up for their names.
    const users = await this.lookUpUsers(
      kept.map((m) => m.user).filter((id) => requester === undefined || id !== requester.id),
    );
    if (requester !== undefined) users.set(requester.id, requester);

    return kept.map((m) => {
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

  /**
   * The requester's Slack user, by users.lookupByEmail: undefined when Slack has no (active) member
   * with that address (`users_not_found`). Any other refusal, a missing users:read.email included,
   * is a failure.
   */
  private async requester(email: string): Promise<SlackUser | undefined> {
    let answer: unknown;
    try {
      answer = await this.call('users.lookupByEmail', () => this.client.users.lookupByEmail({ email }));
    } catch (error) {
      if (error instanceof UpstreamError && isPlatformError(error.cause, 'users_not_found')) return undefined;
      throw error;
    }
    const parsed = userAnswer.safeParse(answer);
    if (!parsed.success) throw badResponse('users.lookupByEmail', 'the answer has no user');
    return slackUser(parsed.data.user);
  }

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
          // A user deleted from the workspace since they wrote: no name.
          if (error instanceof UpstreamError && isPlatformError(error.cause, 'user_not_found'))
            return undefined;
          throw error;
        }
        const parsed = userAnswer.safeParse(answer);
        if (!parsed.success) throw badResponse('users.info', 'the answer has no user');
        return slackUser(parsed.data.user);
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

function slackUser(u: z.infer<typeof userAnswer>['user']): SlackUser {
  const name = u.real_name ?? u.profile?.real_name ?? u.name;
  return { id: u.id, ...(name ? { name } : {}) };
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
