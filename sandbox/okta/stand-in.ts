// The Okta Management API stand-in: users, groups and their members, MFA
// factors and the System Log of a scenario's org, with Okta's authentication
// (SSWS API tokens, OAuth bearer tokens with scopes), error bodies, Link-header
// pagination and rate-limit headers, so `@okta/okta-sdk-nodejs` runs against
// it unchanged.

import type { SandboxClock } from '../clock';
import {
  HttpStandIn,
  json,
  jsonBody,
  JsonBodyError,
  type RouteHandler,
  type StandInRequest,
  type StandInResponse,
} from '../http/stand-in';
import type { Scenario } from '../scenario/load';
import { OKTA_STATUSES } from '../scenario/schema';
import {
  type LogEventRecord,
  type OktaActor,
  OktaDirectory,
  type OktaGroup,
  type OktaStatus,
  type OktaUser,
  type PushTransaction,
} from './directory';
import { errors, requestId } from './errors';
import { comparisons, evaluate, type FilterExpression, FilterSyntaxError, parseFilter } from './filter';

/** Collections whose page size a test may shrink to exercise pagination. */
export type OktaCollection = 'users' | 'groups' | 'groupMembers' | 'userGroups' | 'logs';

/** Okta counts requests per endpoint bucket per minute. */
export type RateLimitBucket = 'users' | 'groups' | 'logs';

export interface OktaStandInOptions {
  scenario: Scenario;
  clock: SandboxClock;
  /** API tokens, sent as `Authorization: SSWS <token>`; they may do everything. */
  apiTokens: string[];
  /** OAuth access tokens (`Authorization: Bearer <token>`) and the scopes each was granted. */
  accessTokens?: Record<string, string[]>;
  /** Whom System Log events made through the API name as their actor. */
  actor?: OktaActor;
  /** Default page sizes (a request's `limit` still wins, up to Okta's maximum). */
  pageSizes?: Partial<Record<OktaCollection, number>>;
  /** Requests a minute per bucket. */
  rateLimits?: Partial<Record<RateLimitBucket, number>>;
}

/** Okta's default and maximum `limit` per collection. */
const PAGE_SIZES: Record<OktaCollection, { default: number; max: number }> = {
  users: { default: 200, max: 200 },
  groups: { default: 10_000, max: 10_000 },
  groupMembers: { default: 1000, max: 1000 },
  userGroups: { default: 10_000, max: 10_000 },
  logs: { default: 100, max: 1000 },
};

/** Per-minute limits close to an Enterprise org's defaults for these endpoints. */
const RATE_LIMITS: Record<RateLimitBucket, number> = { users: 600, groups: 500, logs: 120 };

const READ_USERS = ['okta.users.read', 'okta.users.manage'];
const READ_GROUPS = ['okta.groups.read', 'okta.groups.manage'];

/**
 * GET /api/v1/users `filter` (management OpenAPI spec, listUsers): only these properties; `eq` only,
 * except `lastUpdated`, which also takes `gt`, `ge`, `lt` and `le`; `and` and `or`, never `not`.
 * Property names and values compare case-sensitively.
 */
const USER_FILTER_ATTRIBUTES = new Set([
  'status',
  'lastUpdated',
  'id',
  'profile.login',
  'profile.email',
  'profile.firstName',
  'profile.lastName',
]);
const LAST_UPDATED_OPERATORS = new Set(['eq', 'gt', 'ge', 'lt', 'le']);
/**
 * GET /api/v1/users `search` (same source): any profile attribute (custom ones included), these
 * top-level properties and `type.id`; values compare case-insensitively. `ne` is not supported, and
 * `co` only on these four profile attributes.
 */
const USER_SEARCH_TOP_LEVEL = new Set([
  'id',
  'status',
  'created',
  'activated',
  'statusChanged',
  'lastUpdated',
  'type.id',
]);
const USER_SEARCH_OPERATORS = new Set(['eq', 'sw', 'co', 'gt', 'ge', 'lt', 'le', 'pr']);
const USER_CONTAINS_ATTRIBUTES = new Set([
  'profile.firstName',
  'profile.lastName',
  'profile.email',
  'profile.login',
]);
/** `q` is not paginated and defaults to 10 results (listUsers, `limit`). */
const Q_DEFAULT_LIMIT = 10;
/**
 * How long a push stays answerable: verifyFactor's `tokenLifetimeSeconds` ("how long the token remains
 * valid"), 300 s by default, 1 to 86,400.
 */
const PUSH_LIFETIME_SECONDS = { default: 300, min: 1, max: 86_400 };
/** Factor types whose verify without a passCode sends a challenge instead of checking one. */
const CHALLENGE_FACTORS = new Set(['sms', 'call', 'email', 'webauthn', 'u2f']);
const GROUP_FILTER_ATTRIBUTES = new Set(['id', 'type', 'lastUpdated', 'lastMembershipUpdated']);

interface Window {
  start: number;
  count: number;
}

export class OktaStandIn extends HttpStandIn {
  readonly directory: OktaDirectory;
  private readonly clock: SandboxClock;
  private readonly apiTokens: Set<string>;
  private readonly accessTokens: Map<string, Set<string>>;
  private readonly pageSizes: Record<OktaCollection, number>;
  private readonly rateLimits: Record<RateLimitBucket, number>;
  private readonly windows = new Map<RateLimitBucket, Window>();
  private readonly patterns: { method: string; regex: RegExp }[] = [];
  /** Route key → its rate-limit bucket and the scopes a bearer token needs for it. */
  private readonly scopeTable = new Map<string, { bucket: RateLimitBucket; scopes: string[] }>();

  constructor(options: OktaStandInOptions) {
    super('okta', options.clock);
    this.clock = options.clock;
    this.apiTokens = new Set(options.apiTokens);
    this.accessTokens = new Map(Object.entries(options.accessTokens ?? {}).map(([t, s]) => [t, new Set(s)]));
    this.pageSizes = Object.fromEntries(
      Object.entries(PAGE_SIZES).map(([k, v]) => [k, options.pageSizes?.[k as OktaCollection] ?? v.default]),
    ) as Record<OktaCollection, number>;
    this.rateLimits = { ...RATE_LIMITS, ...options.rateLimits };
    const domain = options.scenario.company.domain;
    this.directory = new OktaDirectory(
      options.scenario,
      options.clock,
      options.actor ?? {
        id: '00uloopgateservice01',
        type: 'User',
        alternateId: `loopgate-service@${domain}`,
        displayName: 'loopgate service',
      },
    );

    this.on('GET', '/api/v1/users', 'users', READ_USERS, (r) => this.listUsers(r));
    this.on('GET', '/api/v1/users/:id', 'users', READ_USERS, (r) => this.getUser(r));
    this.on('GET', '/api/v1/users/:id/groups', 'users', READ_USERS, (r) => this.listUserGroups(r));
    this.on('GET', '/api/v1/users/:id/factors', 'users', READ_USERS, (r) => this.listFactors(r));
    this.on('POST', '/api/v1/users/:userId/factors/:factorId/verify', 'users', ['okta.users.manage'], (r) =>
      this.verifyFactor(r),
    );
    this.on(
      'GET',
      '/api/v1/users/:userId/factors/:factorId/transactions/:transactionId',
      'users',
      READ_USERS,
      (r) => this.pushTransaction(r),
    );
    this.on('GET', '/api/v1/groups', 'groups', READ_GROUPS, (r) => this.listGroups(r));
    this.on('GET', '/api/v1/groups/:id', 'groups', READ_GROUPS, (r) => this.getGroup(r));
    this.on('GET', '/api/v1/groups/:id/users', 'groups', READ_GROUPS, (r) => this.listGroupUsers(r));
    this.on('PUT', '/api/v1/groups/:groupId/users/:userId', 'groups', ['okta.groups.manage'], (r) =>
      this.changeMembership(r, 'add'),
    );
    this.on('DELETE', '/api/v1/groups/:groupId/users/:userId', 'groups', ['okta.groups.manage'], (r) =>
      this.changeMembership(r, 'remove'),
    );
    this.on('GET', '/api/v1/logs', 'logs', ['okta.logs.read'], (r) => this.listLogs(r));
  }

  /** Changes a user's status as an admin would (suspend, deactivate, lock), logging the lifecycle event. */
  setUserStatus(userIdOrLogin: string, status: OktaStatus): void {
    if (!OKTA_STATUSES.includes(status)) throw new Error(`unknown Okta status ${status}`);
    const user = this.directory.findUser(userIdOrLogin);
    if (!user) throw new Error(`no Okta user ${userIdOrLogin}`);
    this.directory.setStatus(user, status);
  }

  state() {
    const d = this.directory;
    return {
      users: d.users.map((u) => ({
        id: u.id,
        login: u.profile.login,
        status: u.status,
        groups: d.groupsOf(u.id).map((g) => g.id),
        factors: u.factors.map((f) => f.factorType),
      })),
      pushes: [...d.pushes.values()].map((p) => ({
        id: p.id,
        userId: p.userId,
        factorId: p.factorId,
        created: p.created.toISOString(),
        result: d.pushResult(p),
      })),
      groups: d.groups.map((g) => ({ id: g.id, name: g.name, members: [...(d.members.get(g.id) ?? [])] })),
      events: d.events.map((e) => e.event),
    };
  }

  // --- framework hooks --------------------------------------------------------

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const header = request.headers.authorization;
    if (!header) return this.withHeaders(errors.invalidSession());
    const [scheme = '', token = ''] = header.split(/\s+/, 2);
    if (scheme === 'SSWS' && this.apiTokens.has(token)) return undefined;
    if (scheme === 'Bearer' && this.accessTokens.has(token)) {
      const granted = this.accessTokens.get(token) ?? new Set<string>();
      const needed = this.scopesFor(request);
      if (needed.length === 0 || needed.some((s) => granted.has(s))) return undefined;
      return this.withHeaders(
        errors.forbidden({
          'www-authenticate': this.bearerChallenge(
            request,
            'insufficient_scope',
            'The access token provided does not contain the required scopes.',
            needed[0],
          ),
        }),
      );
    }
    if (scheme === 'Bearer') {
      return this.withHeaders(
        errors.invalidToken({
          'www-authenticate': this.bearerChallenge(request, 'invalid_token', 'The token is not valid.'),
        }),
      );
    }
    return this.withHeaders(errors.invalidToken());
  }

  protected faultResponse(status: number, request: StandInRequest): StandInResponse {
    if (status === 429) {
      const bucket = this.bucketFor(request);
      // An injected limit is momentary: reset at the current second, so the SDK's wait is about one second.
      const resetSeconds = Math.floor(this.clock.now().getTime() / 1000);
      return this.withHeaders(
        errors.rateLimited({
          'x-rate-limit-limit': String(bucket ? this.rateLimits[bucket] : RATE_LIMITS.users),
          'x-rate-limit-remaining': '0',
          'x-rate-limit-reset': String(resetSeconds),
        }),
      );
    }
    return this.withHeaders(errors.internal(status));
  }

  protected routeNotFound(request: StandInRequest): StandInResponse {
    const otherMethod = this.patterns.some((p) => p.method !== request.method && p.regex.test(request.path));
    return this.withHeaders(otherMethod ? errors.methodNotAllowed() : errors.endpointNotFound(request.path));
  }

  protected malformedBody(_message: string, _request: StandInRequest): StandInResponse {
    return this.withHeaders(errors.malformedBody());
  }

  // --- routing helpers ----------------------------------------------------------

  /** Registers a route that is rate-limited in `bucket` and needs one of `scopes` from a bearer token. */
  private on(
    method: string,
    pattern: string,
    bucket: RateLimitBucket,
    scopes: string[],
    handler: RouteHandler,
  ) {
    this.scopeTable.set(`${method} ${pattern}`, { bucket, scopes });
    this.patterns.push({
      method,
      regex: new RegExp(`^${pattern.replace(/:[^/]+/g, '[^/]+')}/?$`),
    });
    this.route(method, pattern, async (request) => {
      const limit = this.rateLimits[bucket];
      const window = this.countCall(bucket);
      const rateHeaders = {
        'x-rate-limit-limit': String(limit),
        'x-rate-limit-remaining': String(Math.max(0, limit - window.count)),
        'x-rate-limit-reset': String(Math.floor((window.start + 60_000) / 1000)),
      };
      if (window.count > limit) return this.withHeaders(errors.rateLimited(rateHeaders));
      let response: StandInResponse;
      try {
        response = await handler(request);
      } catch (error) {
        if (error instanceof JsonBodyError) response = errors.malformedBody();
        else throw error;
      }
      return this.withHeaders({ ...response, headers: { ...rateHeaders, ...response.headers } });
    });
  }

  private scopesFor(request: StandInRequest): string[] {
    return this.scopeTable.get(request.routeKey)?.scopes ?? [];
  }

  private bucketFor(request: StandInRequest): RateLimitBucket | undefined {
    return this.scopeTable.get(request.routeKey)?.bucket;
  }

  private countCall(bucket: RateLimitBucket): Window {
    const now = this.clock.now().getTime();
    const start = now - (now % 60_000);
    let window = this.windows.get(bucket);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(bucket, window);
    }
    window.count += 1;
    return window;
  }

  /** Every Okta response carries a request id and a `date` (from the sandbox clock: the SDK's 429 wait is `reset - date`). */
  private withHeaders(response: StandInResponse): StandInResponse {
    return {
      ...response,
      headers: {
        'x-okta-request-id': requestId(),
        date: this.clock.now().toUTCString(),
        ...response.headers,
      },
    };
  }

  private bearerChallenge(
    request: StandInRequest,
    error: string,
    description: string,
    scope?: string,
  ): string {
    const parts = [
      `authorization_uri="${request.baseUrl}/oauth2/v1/authorize"`,
      'realm="IdpIssuer"',
      ...(scope ? [`scope="${scope}"`] : []),
      `error="${error}"`,
      `error_description="${description}"`,
      `resource="${request.path}"`,
    ];
    return `Bearer ${parts.join(', ')}`;
  }

  // --- pagination ---------------------------------------------------------------

  private limitOf(request: StandInRequest, collection: OktaCollection): number {
    const raw = request.query.get('limit');
    const requested = raw === null ? NaN : Number.parseInt(raw, 10);
    const limit = Number.isNaN(requested) || requested < 1 ? this.pageSizes[collection] : requested;
    return Math.min(limit, PAGE_SIZES[collection].max);
  }

  /** A page after the item whose id is `after`, with Okta's `self` and `next` links. */
  private idPage<T>(
    request: StandInRequest,
    items: T[],
    idOf: (item: T) => string,
    collection: OktaCollection,
    render: (item: T) => unknown,
    paginated = true,
  ): StandInResponse {
    const limit = this.limitOf(request, collection);
    const after = request.query.get('after');
    const start = after ? items.findIndex((i) => idOf(i) === after) + 1 : 0;
    const page = after && start === 0 ? [] : items.slice(start, start + limit);
    const last = page[page.length - 1];
    const more = paginated && last !== undefined && start + page.length < items.length;
    return json(200, page.map(render), { link: this.links(request, more && last ? idOf(last) : undefined) });
  }

  /** Okta's `Link` header: the request itself as `self`, and `next` with the cursor when there is more. */
  private links(request: StandInRequest, nextCursor: string | undefined): string {
    const encode = (params: URLSearchParams) => {
      const query = params.toString().replace(/\+/g, '%20');
      return `${request.baseUrl}${request.path}${query ? `?${query}` : ''}`;
    };
    const self = `<${encode(request.query)}>; rel="self"`;
    if (nextCursor === undefined) return self;
    const next = new URLSearchParams(request.query);
    next.delete('after');
    next.set('after', nextCursor);
    return `${self}, <${encode(next)}>; rel="next"`;
  }

  // --- users --------------------------------------------------------------------

  private getUser(request: StandInRequest): StandInResponse {
    const user = this.directory.findUser(request.params.id ?? '');
    if (!user) return errors.notFound(request.params.id ?? '', 'User');
    return json(200, this.directory.renderUser(user, request.baseUrl));
  }

  private listUsers(request: StandInRequest): StandInResponse {
    const d = this.directory;
    const render = (u: OktaUser) => d.renderUser(u, request.baseUrl);
    const q = request.query.get('q');
    const filter = request.query.get('filter');
    const search = request.query.get('search');
    let users = d.users;

    if (search) {
      const parsed = this.parse(
        search,
        (c) => {
          if (!c.attribute.startsWith('profile.') && !USER_SEARCH_TOP_LEVEL.has(c.attribute)) {
            return `Searching on ${c.attribute} is not supported`;
          }
          if (!USER_SEARCH_OPERATORS.has(c.operator)) {
            return `The "${c.operator}" operator is not supported in search`;
          }
          if (c.operator === 'co' && !USER_CONTAINS_ATTRIBUTES.has(c.attribute)) {
            return `The "co" operator is not supported for ${c.attribute}`;
          }
          return undefined;
        },
        true,
      );
      if ('error' in parsed) return parsed.error;
      users = users.filter((u) => evaluate(parsed.expression, render(u), false));
      const sortBy = request.query.get('sortBy');
      if (sortBy) {
        const descending = request.query.get('sortOrder')?.toLowerCase() === 'desc';
        const key = (u: OktaUser) => String(this.valueAt(render(u), sortBy) ?? '');
        // Users with the same value are ordered by id.
        users = [...users].sort(
          (a, b) =>
            key(a).localeCompare(key(b)) * (descending ? -1 : 1) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
        );
      }
    } else if (filter) {
      const parsed = this.parse(
        filter,
        (c) => {
          if (!USER_FILTER_ATTRIBUTES.has(c.attribute)) return `Filtering on ${c.attribute} is not supported`;
          if (c.attribute === 'lastUpdated' ? !LAST_UPDATED_OPERATORS.has(c.operator) : c.operator !== 'eq') {
            return `The "${c.operator}" operator is not supported for ${c.attribute}`;
          }
          return undefined;
        },
        false,
      );
      if ('error' in parsed) return parsed.error;
      users = users.filter((u) => evaluate(parsed.expression, render(u), true));
    } else if (q) {
      const prefix = q.toLowerCase();
      users = users.filter(
        (u) =>
          u.status !== 'DEPROVISIONED' &&
          [u.profile.firstName, u.profile.lastName, u.profile.email].some((v) =>
            v?.toLowerCase().startsWith(prefix),
          ),
      );
      // `q` is not paginated: one page of up to `limit` (10 unless given) results.
      const limit = request.query.has('limit') ? this.limitOf(request, 'users') : Q_DEFAULT_LIMIT;
      return json(200, users.slice(0, limit).map(render), { link: this.links(request, undefined) });
    } else {
      users = users.filter((u) => u.status !== 'DEPROVISIONED');
    }
    return this.idPage(request, users, (u) => u.id, 'users', render);
  }

  private listUserGroups(request: StandInRequest): StandInResponse {
    const user = this.directory.findUser(request.params.id ?? '');
    if (!user) return errors.notFound(request.params.id ?? '', 'User');
    return this.idPage(
      request,
      this.directory.groupsOf(user.id),
      (g) => g.id,
      'userGroups',
      (g) => this.directory.renderGroup(g, request.baseUrl),
    );
  }

  private listFactors(request: StandInRequest): StandInResponse {
    // The factor paths take the user's id (pathUserId), not a login.
    const user = this.directory.findUserById(request.params.id ?? '');
    if (!user) return errors.notFound(request.params.id ?? '', 'User');
    return json(
      200,
      user.factors.map((f) => this.directory.renderFactor(user, f, request.baseUrl)),
    );
  }

  /**
   * POST /api/v1/users/{userId}/factors/{factorId}/verify (verifyFactor). On a push factor, without a
   * body, it sends the push and answers 201 with factorResult WAITING, `expiresAt` and the transaction's
   * `poll` (GET) and `cancel` (DELETE) links.
   */
  private verifyFactor(request: StandInRequest): StandInResponse {
    const { userId = '', factorId = '' } = request.params;
    const user = this.directory.findUserById(userId);
    if (!user) return errors.notFound(userId, 'User');
    const factor = user.factors.find((f) => f.id === factorId);
    if (!factor) return errors.notFound(factorId, 'UserFactor');
    if (user.status !== 'ACTIVE') return errors.userStatus();

    const lifetimeRaw = request.query.get('tokenLifetimeSeconds');
    const lifetime = lifetimeRaw === null ? PUSH_LIFETIME_SECONDS.default : Number(lifetimeRaw);
    if (
      !Number.isInteger(lifetime) ||
      lifetime < PUSH_LIFETIME_SECONDS.min ||
      lifetime > PUSH_LIFETIME_SECONDS.max
    ) {
      return errors.validation(
        'tokenLifetimeSeconds',
        `tokenLifetimeSeconds should be in the range of ${PUSH_LIFETIME_SECONDS.min} to ${PUSH_LIFETIME_SECONDS.max} inclusive.`,
      );
    }
    const body = request.rawBody.length > 0 ? jsonBody<Record<string, unknown> | null>(request) : null;
    const passCode = body && typeof body === 'object' ? body.passCode : undefined;
    const factorUrl = `${request.baseUrl}/api/v1/users/${user.id}/factors/${factor.id}`;

    if (factor.factorType === 'push') {
      const push = this.directory.startPush(user, factor, lifetime * 1000);
      return json(201, {
        expiresAt: push.expiresAt.toISOString(),
        factorResult: 'WAITING',
        _links: this.pollLinks(request, push),
      });
    }
    // The sandbox keeps no one-time codes: a passcode never matches.
    if (passCode !== undefined || !CHALLENGE_FACTORS.has(factor.factorType)) return errors.invalidPasscode();
    return json(200, {
      factorResult: 'CHALLENGE',
      expiresAt: new Date(this.clock.now().getTime() + lifetime * 1000).toISOString(),
      _links: {
        verify: { href: `${factorUrl}/verify`, hints: { allow: ['POST'] } },
        factor: { href: factorUrl, hints: { allow: ['GET', 'DELETE'] } },
      },
    });
  }

  /**
   * GET /api/v1/users/{userId}/factors/{factorId}/transactions/{transactionId}
   * (getFactorTransactionStatus): WAITING with the poll and cancel links, then SUCCESS, REJECTED (the
   * person said no) or TIMEOUT (no answer before `expiresAt`), each in the spec's example shape.
   */
  private pushTransaction(request: StandInRequest): StandInResponse {
    const { userId = '', factorId = '', transactionId = '' } = request.params;
    const user = this.directory.findUserById(userId);
    if (!user) return errors.notFound(userId, 'User');
    const factor = user.factors.find((f) => f.id === factorId);
    if (!factor) return errors.notFound(factorId, 'UserFactor');
    const push = this.directory.pushes.get(transactionId);
    // Only push factors have transactions, and a transaction belongs to one user's one factor.
    if (!push || push.userId !== user.id || push.factorId !== factor.id) {
      return errors.transactionNotFound(transactionId);
    }
    const result = this.directory.pushResult(push);
    const profile = { credentialId: user.profile.login ?? user.profile.email };
    if (result === 'SUCCESS') return json(200, { factorResult: result });
    if (result === 'WAITING') {
      return json(200, {
        expiresAt: push.expiresAt.toISOString(),
        factorResult: result,
        profile,
        _links: this.pollLinks(request, push),
      });
    }
    const factorUrl = `${request.baseUrl}/api/v1/users/${user.id}/factors/${factor.id}`;
    return json(200, {
      factorResult: result,
      profile,
      _links: {
        verify: { href: `${factorUrl}/verify`, hints: { allow: ['POST'] } },
        factor: { href: factorUrl, hints: { allow: ['GET', 'DELETE'] } },
      },
    });
  }

  private pollLinks(request: StandInRequest, push: PushTransaction): Record<string, unknown> {
    const href = `${request.baseUrl}/api/v1/users/${push.userId}/factors/${push.factorId}/transactions/${push.id}`;
    return {
      poll: { href, hints: { allow: ['GET'] } },
      cancel: { href, hints: { allow: ['DELETE'] } },
    };
  }

  // --- groups -------------------------------------------------------------------

  private getGroup(request: StandInRequest): StandInResponse {
    const group = this.directory.findGroup(request.params.id ?? '');
    if (!group) return errors.notFound(request.params.id ?? '', 'UserGroup');
    return json(200, this.directory.renderGroup(group, request.baseUrl));
  }

  private listGroups(request: StandInRequest): StandInResponse {
    const render = (g: OktaGroup) => this.directory.renderGroup(g, request.baseUrl);
    let groups = this.directory.groups;
    const q = request.query.get('q');
    const filter = request.query.get('filter');
    const search = request.query.get('search');
    if (search) {
      const parsed = this.parse(search, () => undefined);
      if ('error' in parsed) return parsed.error;
      groups = groups.filter((g) => evaluate(parsed.expression, render(g), false));
    } else if (filter) {
      const parsed = this.parse(filter, (c) =>
        GROUP_FILTER_ATTRIBUTES.has(c.attribute) ? undefined : `Filtering on ${c.attribute} is not supported`,
      );
      if ('error' in parsed) return parsed.error;
      groups = groups.filter((g) => evaluate(parsed.expression, render(g), true));
    } else if (q) {
      const prefix = q.toLowerCase();
      groups = groups
        .filter((g) => g.name.toLowerCase().startsWith(prefix))
        .sort((a, b) => a.name.localeCompare(b.name));
    }
    return this.idPage(request, groups, (g) => g.id, 'groups', render);
  }

  private listGroupUsers(request: StandInRequest): StandInResponse {
    const group = this.directory.findGroup(request.params.id ?? '');
    if (!group) return errors.notFound(request.params.id ?? '', 'UserGroup');
    const members = (this.directory.members.get(group.id) ?? []).flatMap((id) => {
      const user = this.directory.users.find((u) => u.id === id);
      return user ? [user] : [];
    });
    return this.idPage(
      request,
      members,
      (u) => u.id,
      'groupMembers',
      (u) => this.directory.renderUser(u, request.baseUrl),
    );
  }

  private changeMembership(request: StandInRequest, change: 'add' | 'remove'): StandInResponse {
    const group = this.directory.findGroup(request.params.groupId ?? '');
    if (!group) return errors.notFound(request.params.groupId ?? '', 'UserGroup');
    // Membership calls take the user's id, not a login.
    const user = this.directory.users.find((u) => u.id === request.params.userId);
    if (!user) return errors.notFound(request.params.userId ?? '', 'User');
    // Everyone's membership is managed by Okta itself.
    if (group.type === 'BUILT_IN') return errors.forbidden();
    const origin = { userAgent: String(request.headers['user-agent'] ?? 'unknown'), ip: '127.0.0.1' };
    if (change === 'add') this.directory.addMember(group, user, origin);
    else this.directory.removeMember(group, user, origin);
    return { status: 204 };
  }

  // --- System Log ---------------------------------------------------------------

  private listLogs(request: StandInRequest): StandInResponse {
    const now = this.clock.now().getTime();
    const sinceRaw = request.query.get('since');
    const untilRaw = request.query.get('until');
    const until = untilRaw ? Date.parse(untilRaw) : now;
    if (Number.isNaN(until)) return errors.validation('until', DATE_FORMAT_CAUSE);
    const since = sinceRaw ? Date.parse(sinceRaw) : until - 7 * 24 * 3_600_000;
    if (Number.isNaN(since)) return errors.validation('since', DATE_FORMAT_CAUSE);
    if (since > until) return errors.validation('since', 'since must be earlier than until');
    const sortOrder = (request.query.get('sortOrder') ?? 'ASCENDING').toUpperCase();
    if (sortOrder !== 'ASCENDING' && sortOrder !== 'DESCENDING') {
      return errors.validation('sortOrder', 'sortOrder must be ASCENDING or DESCENDING');
    }
    const descending = sortOrder === 'DESCENDING';

    // `until` is exclusive; without it the read covers everything published up to now.
    const end = untilRaw ? until : now + 1;
    let events = this.directory
      .publishedEvents()
      .filter((e) => e.publishedMs >= since && e.publishedMs < end);
    const filter = request.query.get('filter');
    if (filter) {
      const parsed = this.parse(filter, () => undefined);
      if ('error' in parsed) return parsed.error;
      events = events.filter((e) => evaluate(parsed.expression, e.event, true));
    }
    const q = request.query.get('q');
    if (q) {
      const keywords = q.toLowerCase().split(/\s+/).filter(Boolean);
      events = events.filter((e) => {
        const text = JSON.stringify(e.event).toLowerCase();
        return keywords.every((k) => text.includes(k));
      });
    }
    if (descending) events = [...events].reverse();

    const afterRaw = request.query.get('after');
    let after: LogCursor | undefined;
    if (afterRaw) {
      after = decodeCursor(afterRaw);
      if (!after) return errors.validation('after', 'The after cursor is not valid');
      const cursor = after;
      events = events.filter((e) =>
        descending ? compareToCursor(e, cursor) < 0 : compareToCursor(e, cursor) > 0,
      );
    }
    const limit = this.limitOf(request, 'logs');
    const page = events.slice(0, limit);
    const last = page[page.length - 1];
    // Without `until`, ascending reads are polling reads: Okta always offers a next page to poll.
    const polling = !untilRaw && !descending;
    let next: string | undefined;
    if (last && (polling || events.length > page.length)) next = encodeCursor(last);
    else if (polling) next = afterRaw ?? encodeCursor({ publishedMs: now, event: { uuid: '' } });
    return json(
      200,
      page.map((e) => e.event),
      { link: this.links(request, next) },
    );
  }

  // --- shared -------------------------------------------------------------------

  private parse(
    source: string,
    check: (comparison: ReturnType<typeof comparisons>[number]) => string | undefined,
    allowNot = true,
  ): { expression: FilterExpression } | { error: StandInResponse } {
    try {
      const expression = parseFilter(source);
      if (!allowNot && hasNot(expression)) {
        return { error: errors.invalidSearch('The "not" operator is not supported') };
      }
      for (const c of comparisons(expression)) {
        const problem = check(c);
        if (problem) return { error: errors.invalidSearch(problem) };
      }
      return { expression };
    } catch (error) {
      if (error instanceof FilterSyntaxError) return { error: errors.invalidSearch(error.message) };
      throw error;
    }
  }

  private valueAt(subject: unknown, path: string): unknown {
    return path
      .split('.')
      .reduce<unknown>(
        (v, part) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined),
        subject,
      );
  }
}

function hasNot(expression: FilterExpression): boolean {
  if (expression.kind === 'not') return true;
  if (expression.kind === 'compare') return false;
  return hasNot(expression.left) || hasNot(expression.right);
}

const DATE_FORMAT_CAUSE =
  'The date format in your query is not recognized. Please enter dates using ISO8601 string format.';

interface LogCursor {
  publishedMs: number;
  uuid: string;
}

function encodeCursor(record: Pick<LogEventRecord, 'publishedMs'> & { event: { uuid: string } }): string {
  return Buffer.from(`${record.publishedMs}:${record.event.uuid}`).toString('base64url');
}

function decodeCursor(raw: string): LogCursor | undefined {
  const [ms, uuid] = Buffer.from(raw, 'base64url').toString('utf8').split(':', 2);
  const publishedMs = Number(ms);
  if (!ms || Number.isNaN(publishedMs) || uuid === undefined) return undefined;
  return { publishedMs, uuid };
}

function compareToCursor(record: LogEventRecord, cursor: LogCursor): number {
  return record.publishedMs - cursor.publishedMs || record.event.uuid.localeCompare(cursor.uuid);
}
