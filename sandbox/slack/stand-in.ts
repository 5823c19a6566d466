// The Slack Web API stand-in: search.messages, conversations.history and .list,
// users.info, users.lookupByEmail and auth.test over a scenario's workspace,
// with Slack's conventions (form or JSON POST or GET to /api/<method>, HTTP 200
// with `ok:false` for errors, bot versus user tokens, scopes, cursor
// pagination, and HTTP 429 with Retry-After), so `@slack/web-api` runs against
// it unchanged. A token gets, unless a test says otherwise, exactly the scopes
// docs/setup.md ("8. Slack") tells the operator to add for its kind.

import { createHash, randomBytes } from 'node:crypto';
import type { SandboxClock } from '../clock';
import { HttpStandIn, json, jsonBody, type StandInRequest, type StandInResponse } from '../http/stand-in';
import type { Scenario, ScenarioPerson } from '../scenario/load';
import { occurrences, parseQuery } from './search';

export type SlackMethod =
  | 'auth.test'
  | 'search.messages'
  | 'conversations.history'
  | 'conversations.list'
  | 'users.info'
  | 'users.lookupByEmail'
  | 'chat.postMessage';

export interface SlackStandInOptions {
  scenario: Scenario;
  clock: SandboxClock;
  /** Bot tokens (xoxb-…): they read channels the bot is in; search is not allowed. */
  botTokens: string[];
  /** User tokens (xoxp-…): they act as `userTokenOwner` and may search. */
  userTokens: string[];
  /** Scopes granted to a token; tokens not listed get the defaults for their type. */
  scopes?: Record<string, string[]>;
  /** Channel ids the bot has been added to (default: every channel). */
  botChannels?: string[];
  /** The person (scenario id) user tokens belong to (default: the first person). */
  userTokenOwner?: string;
  /** Calls a minute per method and token (Slack's tiers by default). */
  rateLimits?: Partial<Record<SlackMethod, number>>;
  /** The Retry-After, in seconds, of an injected 429 (default 1). */
  faultRetryAfterSeconds?: number;
}

/** docs/setup.md, `slack.mode: "history"`: the bot token scopes (groups:history only for private channels). */
export const DEFAULT_BOT_SCOPES: readonly string[] = ['channels:history', 'users:read', 'users:read.email'];
/** docs/setup.md, `slack.mode: "search"`: the user token scopes. */
export const DEFAULT_USER_SCOPES: readonly string[] = ['search:read', 'users:read', 'users:read.email'];

/** Each method's scopes (any one suffices; the first is reported as `needed`) and its rate tier per minute. */
const METHODS: Record<SlackMethod, { scopes: string[]; perMinute: number }> = {
  'auth.test': { scopes: [], perMinute: 100 },
  'search.messages': { scopes: ['search:read'], perMinute: 20 },
  'conversations.history': {
    scopes: ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
    perMinute: 50,
  },
  'conversations.list': { scopes: ['channels:read', 'groups:read', 'im:read', 'mpim:read'], perMinute: 20 },
  'users.info': { scopes: ['users:read'], perMinute: 100 },
  // Slack: "Requires users:read.email" (bot and user tokens), "Tier 3: 50+ per minute".
  'users.lookupByEmail': { scopes: ['users:read.email'], perMinute: 50 },
  // Slack: scope chat:write (bot and user tokens); rate limit "Special": about one message a
  // second per channel (checked per channel in call()), a workspace-wide ceiling besides.
  'chat.postMessage': { scopes: ['chat:write'], perMinute: 600 },
};

/** Slack: "truncates messages containing more than 40,000 characters"; loopgate refuses them as msg_too_long. */
const MAX_MESSAGE_CHARACTERS = 40_000;

const BOT = { userId: 'U0LOOPGATE0', botId: 'B0LOOPGATE0', name: 'loopgate' };

type Params = Record<string, string>;
type Handler = (params: Params, caller: Caller) => Record<string, unknown>;
interface Caller {
  token: string;
  kind: 'bot' | 'user';
  scopes: string[];
}
interface SlackMessage {
  channel: string;
  user: string;
  text: string;
  ts: string;
  at: Date;
}

export class SlackStandIn extends HttpStandIn {
  private readonly scenario: Scenario;
  private readonly clock: SandboxClock;
  private readonly tokens = new Map<string, Caller>();
  private readonly botChannels: Set<string>;
  private readonly owner: ScenarioPerson;
  private readonly rateLimits: Record<SlackMethod, number>;
  private readonly faultRetryAfter: number;
  private readonly windows = new Map<string, { start: number; count: number }>();
  /** The second of the last message posted in each channel (chat.postMessage's one a second). */
  private readonly lastPost = new Map<string, number>();
  /** Messages posted through chat.postMessage, in order. */
  readonly posted: SlackMessage[] = [];
  private postSequence = 0;
  private readonly teamId: string;
  private readonly teamDomain: string;
  readonly messages: SlackMessage[];

  constructor(options: SlackStandInOptions) {
    super('slack', options.clock);
    this.scenario = options.scenario;
    this.clock = options.clock;
    for (const token of options.botTokens) {
      this.tokens.set(token, {
        token,
        kind: 'bot',
        scopes: options.scopes?.[token] ?? [...DEFAULT_BOT_SCOPES],
      });
    }
    for (const token of options.userTokens) {
      this.tokens.set(token, {
        token,
        kind: 'user',
        scopes: options.scopes?.[token] ?? [...DEFAULT_USER_SCOPES],
      });
    }
    this.botChannels = new Set(options.botChannels ?? options.scenario.slack.channels.map((c) => c.id));
    const owner = options.userTokenOwner
      ? options.scenario.people.find((p) => p.id === options.userTokenOwner)
      : options.scenario.people[0];
    if (!owner)
      throw new Error(`no person ${options.userTokenOwner ?? '(empty scenario)'} to own the user tokens`);
    this.owner = owner;
    this.rateLimits = {
      ...(Object.fromEntries(Object.entries(METHODS).map(([m, v]) => [m, v.perMinute])) as Record<
        SlackMethod,
        number
      >),
      ...options.rateLimits,
    };
    this.faultRetryAfter = options.faultRetryAfterSeconds ?? 1;
    const domain = options.scenario.company.domain.split('.')[0] ?? 'sandbox';
    this.teamDomain = domain.toLowerCase().replace(/[^a-z0-9-]/g, '');
    this.teamId = `T${createHash('sha256').update(options.scenario.company.domain).digest('hex').slice(0, 10).toUpperCase()}`;
    this.messages = options.scenario.slack.messages.map((m) => ({
      channel: m.channel,
      user: this.person(m.user)?.slack.userId ?? m.user,
      text: m.text,
      ts: m.ts,
      at: m.at,
    }));

    const handlers: Record<SlackMethod, Handler> = {
      'auth.test': (_p, c) => this.authTest(c),
      'search.messages': (p, c) => this.searchMessages(p, c),
      'conversations.history': (p, c) => this.history(p, c),
      'conversations.list': (p, c) => this.listChannels(p, c),
      'users.info': (p, c) => this.userInfo(p, c),
      'users.lookupByEmail': (p, c) => this.lookupByEmail(p, c),
      'chat.postMessage': (p, c) => this.postMessage(p, c),
    };
    for (const [method, handler] of Object.entries(handlers) as [SlackMethod, Handler][]) {
      for (const verb of ['GET', 'POST']) {
        this.route(verb, `/api/${method}`, (request) => this.call(method, request, handler));
      }
    }
  }

  state() {
    return {
      channels: this.scenario.slack.channels.map((c) => ({ ...c, botIsMember: this.botChannels.has(c.id) })),
      messages: this.messages.map((m) => ({ ...m, at: m.at.toISOString() })),
    };
  }

  // --- framework hooks --------------------------------------------------------

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const token = this.tokenOf(request);
    if (!token) return this.reply({ ok: false, error: 'not_authed' });
    if (!this.tokens.has(token)) return this.reply({ ok: false, error: 'invalid_auth' });
    return undefined;
  }

  protected faultResponse(status: number, _request: StandInRequest): StandInResponse {
    if (status === 429) {
      return this.reply({ ok: false, error: 'ratelimited' }, 429, {
        'retry-after': String(this.faultRetryAfter),
      });
    }
    return this.reply(
      { ok: false, error: status === 503 ? 'service_unavailable' : 'internal_error' },
      status,
    );
  }

  protected routeNotFound(request: StandInRequest): StandInResponse {
    return this.reply({
      ok: false,
      error: 'unknown_method',
      req_method: request.path.replace(/^\/api\//, ''),
    });
  }

  protected malformedBody(_message: string, _request: StandInRequest): StandInResponse {
    return this.reply({ ok: false, error: 'invalid_json' });
  }

  // --- plumbing -----------------------------------------------------------------

  private reply(
    body: Record<string, unknown>,
    status = 200,
    headers: Record<string, string> = {},
  ): StandInResponse {
    return json(status, body, {
      'content-type': 'application/json; charset=utf-8',
      'x-slack-req-id': randomBytes(16).toString('hex'),
      ...headers,
    });
  }

  /** A token from `Authorization: Bearer`, else a `token` form or query parameter (never from a JSON body). */
  private tokenOf(request: StandInRequest): string | undefined {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length).trim() || undefined;
    if (request.query.get('token')) return request.query.get('token') ?? undefined;
    if (this.isForm(request))
      return new URLSearchParams(request.rawBody.toString('utf8')).get('token') ?? undefined;
    return undefined;
  }

  private isForm(request: StandInRequest): boolean {
    return String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  }

  /** Query parameters merged with a form or JSON body; JSON values that are not strings are kept as JSON text. */
  private paramsOf(request: StandInRequest): Params {
    const params: Params = Object.fromEntries(request.query);
    if (request.method !== 'POST' || request.rawBody.length === 0) return params;
    if (this.isForm(request)) {
      for (const [k, v] of new URLSearchParams(request.rawBody.toString('utf8'))) params[k] = v;
    } else if (String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      const body = jsonBody<Record<string, unknown>>(request);
      for (const [k, v] of Object.entries(body ?? {})) {
        if (v !== undefined && v !== null) params[k] = typeof v === 'string' ? v : JSON.stringify(v);
      }
    }
    return params;
  }

  private call(method: SlackMethod, request: StandInRequest, handler: Handler): StandInResponse {
    const caller = this.tokens.get(this.tokenOf(request) ?? '');
    if (!caller) return this.reply({ ok: false, error: 'invalid_auth' });
    const scopeHeaders = {
      'x-oauth-scopes': caller.scopes.join(','),
      'x-accepted-oauth-scopes': METHODS[method].scopes.join(','),
    };
    const now = this.clock.now().getTime();
    const windowStart = now - (now % 60_000);
    const key = `${method} ${caller.token}`;
    const window = this.windows.get(key);
    const current = window && window.start === windowStart ? window : { start: windowStart, count: 0 };
    current.count += 1;
    this.windows.set(key, current);
    if (current.count > this.rateLimits[method]) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + 60_000 - now) / 1000));
      return this.reply({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': String(retryAfter) });
    }
    if (method === 'search.messages' && caller.kind === 'bot') {
      return this.reply({ ok: false, error: 'not_allowed_token_type' }, 200, scopeHeaders);
    }
    const needed = METHODS[method].scopes;
    if (needed.length > 0 && !needed.some((s) => caller.scopes.includes(s))) {
      return this.reply(
        { ok: false, error: 'missing_scope', needed: needed[0], provided: caller.scopes.join(',') },
        200,
        scopeHeaders,
      );
    }
    const params = this.paramsOf(request);
    if (method === 'chat.postMessage') {
      const channel = this.channelByRef(params.channel ?? '')?.id;
      const second = Math.floor(now / 1000);
      if (channel && this.lastPost.get(channel) === second) {
        return this.reply({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': '1' });
      }
    }
    return this.reply(handler(params, caller), 200, scopeHeaders);
  }

  private person(id: string): ScenarioPerson | undefined {
    return this.scenario.people.find((p) => p.id === id || p.slack.userId === id);
  }

  private handleOf(person: ScenarioPerson): string {
    return person.email.split('@')[0] ?? person.id;
  }

  private visible(): SlackMessage[] {
    const now = this.clock.now().getTime();
    return this.messages.filter((m) => m.at.getTime() <= now);
  }

  private channel(id: string) {
    return this.scenario.slack.channels.find((c) => c.id === id);
  }

  private permalink(channel: string, ts: string): string {
    return `https://${this.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
  }

  private int(value: string | undefined, fallback: number): number {
    const n = value === undefined ? NaN : Number.parseInt(value, 10);
    return Number.isNaN(n) ? fallback : n;
  }

  /** A channel by id, or by name with or without `#`. */
  private channelByRef(ref: string) {
    const name = ref.replace(/^#/, '').toLowerCase();
    return this.scenario.slack.channels.find((c) => c.id === ref || c.name.toLowerCase() === name);
  }

  // --- methods ------------------------------------------------------------------

  /**
   * chat.postMessage: `channel` (an id or a name) and `text` (or blocks / attachments). Errors as
   * Slack documents them: channel_not_found, not_in_channel (a bot not added to the channel),
   * no_text, msg_too_long.
   */
  private postMessage(params: Params, caller: Caller): Record<string, unknown> {
    const channel = this.channelByRef(params.channel ?? '');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (caller.kind === 'bot' && !this.botChannels.has(channel.id))
      return { ok: false, error: 'not_in_channel' };
    const text = params.text ?? '';
    if (!text.trim() && !params.blocks && !params.attachments) return { ok: false, error: 'no_text' };
    if (text.length > MAX_MESSAGE_CHARACTERS) return { ok: false, error: 'msg_too_long' };
    const at = this.clock.now();
    this.lastPost.set(channel.id, Math.floor(at.getTime() / 1000));
    const ts = `${Math.floor(at.getTime() / 1000)}.${String(900_000 + ++this.postSequence).padStart(6, '0')}`;
    const user = caller.kind === 'bot' ? BOT.userId : this.owner.slack.userId;
    const message: SlackMessage = { channel: channel.id, user, text, ts, at };
    this.messages.push(message);
    this.posted.push(message);
    return {
      ok: true,
      channel: channel.id,
      ts,
      message: {
        type: 'message',
        text,
        user,
        ts,
        ...(caller.kind === 'bot' ? { bot_id: BOT.botId, app_id: 'A0LOOPGATE0' } : {}),
      },
    };
  }

  private authTest(caller: Caller): Record<string, unknown> {
    const base = {
      ok: true,
      url: `https://${this.teamDomain}.slack.com/`,
      team: this.scenario.company.name,
      team_id: this.teamId,
      is_enterprise_install: false,
    };
    if (caller.kind === 'bot') return { ...base, user: BOT.name, user_id: BOT.userId, bot_id: BOT.botId };
    return { ...base, user: this.handleOf(this.owner), user_id: this.owner.slack.userId };
  }

  private searchMessages(params: Params, caller: Caller): Record<string, unknown> {
    const query = params.query ?? '';
    if (!query.trim()) {
      return {
        ok: false,
        error: 'invalid_arguments',
        response_metadata: { messages: ['[ERROR] missing required field: query'] },
      };
    }
    const parsed = parseQuery(query);
    const channelIds = parsed.channels.map(
      (c) =>
        this.scenario.slack.channels.find((ch) => ch.id === c || ch.name.toLowerCase() === c.toLowerCase())
          ?.id ?? '',
    );
    const userIds = parsed.users.map((u) => {
      if (u.toLowerCase() === 'me') return caller.kind === 'user' ? this.owner.slack.userId : BOT.userId;
      const person = this.scenario.people.find(
        (p) => p.slack.userId === u || this.handleOf(p).toLowerCase() === u.toLowerCase(),
      );
      return person?.slack.userId ?? '';
    });
    const scored = this.visible()
      .filter((m) => {
        const at = m.at.getTime();
        const text = m.text.toLowerCase();
        return (
          (channelIds.length === 0 || channelIds.includes(m.channel)) &&
          (userIds.length === 0 || userIds.includes(m.user)) &&
          (parsed.fromMs === undefined || at >= parsed.fromMs) &&
          (parsed.toMs === undefined || at < parsed.toMs) &&
          parsed.terms.every((t) => occurrences(text, t) > 0) &&
          !parsed.excluded.some((t) => occurrences(text, t) > 0)
        );
      })
      .map((m) => ({ m, score: parsed.terms.reduce((s, t) => s + occurrences(m.text.toLowerCase(), t), 0) }));

    const ascending = (params.sort_dir ?? 'desc').toLowerCase() === 'asc';
    const byTime = (a: SlackMessage, b: SlackMessage) =>
      a.at.getTime() - b.at.getTime() || a.ts.localeCompare(b.ts);
    scored.sort((a, b) => {
      const order =
        (params.sort ?? 'score') === 'timestamp' ? byTime(a.m, b.m) : a.score - b.score || byTime(a.m, b.m);
      return ascending ? order : -order;
    });

    const count = Math.min(Math.max(this.int(params.count, 20), 1), 100);
    const total = scored.length;
    const pages = Math.max(1, Math.ceil(total / count));
    const page = Math.min(Math.max(this.int(params.page, 1), 1), 100);
    const slice = scored.slice((page - 1) * count, page * count);
    const matches = slice.map(({ m }) => {
      const person = this.person(m.user);
      const channel = this.channel(m.channel);
      return {
        iid: this.iid(m),
        team: this.teamId,
        type: 'message',
        ts: m.ts,
        text: m.text,
        user: m.user,
        username: person ? this.handleOf(person) : m.user,
        channel: {
          id: m.channel,
          name: channel?.name ?? m.channel,
          is_channel: true,
          is_group: false,
          is_im: false,
          is_mpim: false,
          is_private: false,
          is_shared: false,
          is_org_shared: false,
          is_ext_shared: false,
          is_pending_ext_shared: false,
          pending_shared: [],
        },
        permalink: this.permalink(m.channel, m.ts),
        no_reactions: true,
      };
    });
    return {
      ok: true,
      query,
      messages: {
        total,
        pagination: {
          total_count: total,
          page,
          per_page: count,
          page_count: pages,
          first: total === 0 ? 0 : (page - 1) * count + 1,
          last: total === 0 ? 0 : Math.min(page * count, total),
        },
        paging: { count, total, page, pages },
        matches,
      },
    };
  }

  private history(params: Params, caller: Caller): Record<string, unknown> {
    const channel = this.channel(params.channel ?? '');
    if (!channel) return { ok: false, error: 'channel_not_found' };
    if (caller.kind === 'bot' && !this.botChannels.has(channel.id))
      return { ok: false, error: 'not_in_channel' };
    const inclusive = params.inclusive === 'true' || params.inclusive === '1';
    const oldest = Number(params.oldest ?? '0');
    const latest = params.latest === undefined || params.latest === '' ? Infinity : Number(params.latest);
    if (Number.isNaN(oldest) || Number.isNaN(latest)) {
      return { ok: false, error: 'invalid_ts_' + (Number.isNaN(oldest) ? 'oldest' : 'latest') };
    }
    let messages = this.visible()
      .filter((m) => m.channel === channel.id)
      .filter((m) => {
        const ts = Number(m.ts);
        return (inclusive ? ts >= oldest : ts > oldest) && (inclusive ? ts <= latest : ts < latest);
      })
      .sort((a, b) => Number(b.ts) - Number(a.ts) || b.ts.localeCompare(a.ts));
    if (params.cursor) {
      const decoded = decodeCursor(params.cursor, 'next_ts');
      if (decoded === undefined) return { ok: false, error: 'invalid_cursor' };
      const index = messages.findIndex((m) => m.ts.replace('.', '') === decoded);
      if (index < 0) return { ok: false, error: 'invalid_cursor' };
      messages = messages.slice(index);
    }
    const limit = Math.min(Math.max(this.int(params.limit, 100), 1), 999);
    const page = messages.slice(0, limit);
    const next = messages[limit];
    return {
      ok: true,
      messages: page.map((m) => ({
        type: 'message',
        user: m.user,
        text: m.text,
        ts: m.ts,
        team: this.teamId,
      })),
      has_more: next !== undefined,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      response_metadata: { next_cursor: next ? encodeCursor('next_ts', next.ts.replace('.', '')) : '' },
    };
  }

  private listChannels(params: Params, caller: Caller): Record<string, unknown> {
    const types = (params.types ?? 'public_channel').split(',').map((t) => t.trim());
    let channels = types.includes('public_channel') ? this.scenario.slack.channels : [];
    if (params.cursor) {
      const decoded = decodeCursor(params.cursor, 'team');
      const index = channels.findIndex((c) => c.id === decoded);
      if (decoded === undefined || index < 0) return { ok: false, error: 'invalid_cursor' };
      channels = channels.slice(index);
    }
    const limit = Math.min(Math.max(this.int(params.limit, 100), 1), 1000);
    const page = channels.slice(0, limit);
    const next = channels[limit];
    const created = Math.floor(this.scenario.start.getTime() / 1000) - 800 * 86_400;
    const creator = this.scenario.people[0]?.slack.userId ?? '';
    return {
      ok: true,
      channels: page.map((c) => ({
        id: c.id,
        name: c.name,
        name_normalized: c.name,
        is_channel: true,
        is_group: false,
        is_im: false,
        is_mpim: false,
        is_private: false,
        is_archived: false,
        is_general: false,
        is_shared: false,
        is_org_shared: false,
        is_ext_shared: false,
        is_pending_ext_shared: false,
        pending_shared: [],
        unlinked: 0,
        created,
        updated: created * 1000,
        creator,
        context_team_id: this.teamId,
        shared_team_ids: [this.teamId],
        parent_conversation: null,
        is_member: caller.kind === 'bot' ? this.botChannels.has(c.id) : true,
        topic: { value: '', creator: '', last_set: 0 },
        purpose: { value: '', creator: '', last_set: 0 },
        previous_names: [],
        num_members: this.scenario.people.length,
      })),
      response_metadata: { next_cursor: next ? encodeCursor('team', next.id) : '' },
    };
  }

  private userInfo(params: Params, caller: Caller): Record<string, unknown> {
    const person = this.scenario.people.find((p) => p.slack.userId === params.user);
    if (!person) return { ok: false, error: 'user_not_found' };
    return { ok: true, user: this.userObject(person, caller) };
  }

  /**
   * users.lookupByEmail: "Retrieve a single user by looking them up by their registered email
   * address." Slack answers `users_not_found` for an address no member has, and for a deactivated
   * member ("If the user has been deactivated, users_not_found will be returned instead of a user
   * object"). Addresses are compared whole, ignoring case only.
   */
  private lookupByEmail(params: Params, caller: Caller): Record<string, unknown> {
    const email = (params.email ?? '').trim();
    if (!email) {
      return {
        ok: false,
        error: 'invalid_arguments',
        response_metadata: { messages: ['[ERROR] missing required field: email'] },
      };
    }
    const person = this.scenario.people.find((p) => p.email.toLowerCase() === email.toLowerCase());
    if (!person || this.deactivated(person)) return { ok: false, error: 'users_not_found' };
    return { ok: true, user: this.userObject(person, caller) };
  }

  private deactivated(person: ScenarioPerson): boolean {
    return person.okta.status === 'DEPROVISIONED';
  }

  /** Slack's user object, as users.info and users.lookupByEmail return it. */
  private userObject(person: ScenarioPerson, caller: Caller): Record<string, unknown> {
    const [first = person.name, ...rest] = person.name.split(' ');
    const profile: Record<string, unknown> = {
      title: person.title,
      real_name: person.name,
      real_name_normalized: person.name.normalize('NFD').replace(/\p{M}/gu, ''),
      display_name: this.handleOf(person),
      display_name_normalized: this.handleOf(person),
      first_name: first,
      last_name: rest.join(' '),
      team: this.teamId,
    };
    // Slack: "The users:read.email OAuth scope is now required to access the email field in user
    // objects returned by the users.list and users.info web API methods. users:read is no longer a
    // sufficient scope for this data field."
    if (caller.scopes.includes('users:read.email')) profile.email = person.email;
    return {
      id: person.slack.userId,
      team_id: this.teamId,
      name: this.handleOf(person),
      deleted: this.deactivated(person),
      real_name: person.name,
      tz: 'Etc/UTC',
      tz_label: 'Coordinated Universal Time',
      tz_offset: 0,
      profile,
      is_admin: false,
      is_owner: false,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: false,
      is_app_user: false,
      updated: Math.floor(person.okta.created.getTime() / 1000),
      is_email_confirmed: true,
    };
  }

  private iid(m: SlackMessage): string {
    const hex = createHash('sha256').update(`${m.channel}:${m.ts}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }
}

/** Slack cursors are base64 of `<kind>:<position>`, e.g. `next_ts:1512085861000543`; clients treat them as opaque. */
function encodeCursor(kind: string, position: string): string {
  return Buffer.from(`${kind}:${position}`).toString('base64');
}

function decodeCursor(cursor: string, kind: string): string | undefined {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  return text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : undefined;
}
