// The PagerDuty stand-in: the REST API v2 endpoints loopgate uses (incidents,
// notes, log entries, users, on-calls, services, escalation policies, schedules) with
// PagerDuty's auth, `From` rule, errors, pagination and rate limits, seeded
// from the scenario and timed by the sandbox clock; plus the control methods a
// human's actions come through (add a note, acknowledge, resolve) in the web or
// mobile app as one of their PagerDuty users, each of which sends the signed v3
// webhook PagerDuty would. A note's origin (app or REST API, which token) is
// kept for tests but, as with PagerDuty, shows neither in the webhook nor in
// the note or its log entry (see log-entries.ts).

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import {
  HttpStandIn,
  json,
  JsonBodyError,
  jsonBody,
  type RouteHandler,
  type StandInRequest,
  type StandInResponse,
} from '../http/stand-in';
import type { Scenario } from '../scenario/load';
import { Directory, type PagerDutyUser, pdTime, stableId } from './directory';
import {
  authenticationFailed,
  fromHeaderRequired,
  internalError,
  invalidInput,
  notFound,
  pdError,
  rateLimitExceeded,
  rateLimitHeaders,
  requesterNotFound,
  requestTimeout,
} from './errors';
import {
  type ActionOrigin,
  INCIDENT_STATUSES,
  incidentId,
  type IncidentRecord,
  type IncidentStatus,
  isOpen,
  logEntryId,
  MAX_NOTE_LENGTH,
  MAX_NOTES_PER_INCIDENT,
  type NoteRecord,
  noteId,
  renderIncident,
  renderNote,
  type Urgency,
  webhookIncident,
  webhookNote,
} from './incidents';
import { findLogEntry, LOG_ENTRY_INCLUDES, listLogEntries } from './log-entries';
import { firstResponders, type OnCallEntry, onCalls } from './oncall';
import { PAGERDUTY_RATE_LIMITS, RateLimiter, type RateLimits } from './rate-limit';
import {
  type DeliveryRecord,
  type SubscriptionState,
  type WebhookEvent,
  WebhookSubscription,
  type WebhookSubscriptionOptions,
} from './webhooks';

export interface PagerDutyStandInOptions {
  scenario: Scenario;
  clock: SandboxClock;
  /** Accepted as `Token token=<key>` (API keys) or `Bearer <token>` (OAuth). */
  apiTokens: string[];
  webhook?: WebhookSubscriptionOptions;
  /** Enforce PagerDuty's rate limits (true: 960/min, POST /incidents 300/min); off unless set. */
  rateLimit?: boolean | Partial<RateLimits>;
  /**
   * Note content longer than this is cut in incident.annotated webhooks, with `trimmed: true`.
   * PagerDuty documents the flag but not the length; 1000 is this stand-in's choice.
   */
  noteTrimLength?: number;
}

export const DEFAULT_NOTE_TRIM_LENGTH = 1000;

const DEFAULT_PAGE = 25;
const MAX_PAGE = 100;
const MAX_PAGINATION_WINDOW = 10_000;
const MAX_ONCALL_RANGE_MS = 90 * 86_400_000;
const DEFAULT_INCIDENT_LOOKBACK_MS = 30 * 86_400_000;
const MAX_INCIDENT_RANGE_MS = 180 * 86_400_000;

/** A rule PagerDuty enforces, raised by the control methods and turned into its 4xx over HTTP. */
/** How the control API acts: in which app, as which of the person's PagerDuty users. */
export interface AppAction {
  /** PagerDuty's web app (default) or its mobile app. */
  app?: 'web' | 'mobile';
  /** The id or login email of one of the person's PagerDuty users; their main user if absent. */
  pagerdutyUser?: string;
}

export class PagerDutyRuleError extends Error {
  constructor(readonly response: StandInResponse) {
    const body = response.body as { error?: { message?: string; errors?: string[] } };
    super([body.error?.message, ...(body.error?.errors ?? [])].filter(Boolean).join(': '));
  }
}

export class PagerDutyStandIn extends HttpStandIn {
  readonly directory: Directory;
  private readonly clock: SandboxClock;
  private readonly tokens: Set<string>;
  private readonly limiter: RateLimiter;
  private readonly enforceLimits: boolean;
  private readonly trimLength: number;
  private readonly subscriptionChannel: WebhookSubscription | undefined;
  private readonly incidents: IncidentRecord[] = [];
  private noteSequence = 0;
  private overrideSequence = 0;
  private readonly seed = randomUUID();

  constructor(options: PagerDutyStandInOptions) {
    super('pagerduty', options.clock);
    this.clock = options.clock;
    this.tokens = new Set(options.apiTokens);
    this.directory = new Directory(options.scenario, () => this.url);
    const limits = typeof options.rateLimit === 'object' ? options.rateLimit : {};
    this.limiter = new RateLimiter(options.clock, { ...PAGERDUTY_RATE_LIMITS, ...limits });
    this.enforceLimits = options.rateLimit !== undefined && options.rateLimit !== false;
    this.trimLength = options.noteTrimLength ?? DEFAULT_NOTE_TRIM_LENGTH;
    this.subscriptionChannel = options.webhook
      ? new WebhookSubscription(
          options.webhook,
          options.clock,
          stableId(`subscription:${options.webhook.url}`),
        )
      : undefined;

    this.api('POST', '/incidents', (r) => this.createIncident(r));
    this.api('GET', '/incidents', (r) => this.listIncidents(r));
    this.api('GET', '/incidents/:id', (r) => this.getIncident(r));
    this.api('PUT', '/incidents/:id', (r) => this.updateIncident(r));
    this.api('POST', '/incidents/:id/notes', (r) => this.createNote(r));
    this.api('GET', '/incidents/:id/notes', (r) => this.listNotes(r));
    this.api('GET', '/incidents/:id/log_entries', (r) => this.listLogEntries(r));
    this.api('GET', '/log_entries/:id', (r) => this.getLogEntry(r));
    this.api('GET', '/users', (r) => this.listUsers(r));
    this.api('GET', '/users/:id', (r) => this.getUser(r));
    this.api('GET', '/oncalls', (r) => this.listOnCalls(r));
    this.api('GET', '/services/:id', (r) => this.getOne(r, 'service'));
    this.api('GET', '/escalation_policies/:id', (r) => this.getOne(r, 'escalation_policy'));
    this.api('GET', '/schedules/:id', (r) => this.getOne(r, 'schedule'));
    this.api('POST', '/schedules/:id/overrides', (r) => this.createOverrides(r));
    this.api('DELETE', '/schedules/:id/overrides/:overrideId', (r) => this.deleteOverride(r));
  }

  // --- control: what people do in PagerDuty's app ---------------------------

  /** An incident as stored (title, urgency, details, notes), for tests and the demo; undefined if none. */
  incident(idOrNumber: string): Readonly<IncidentRecord> | undefined {
    return this.findIncident(idOrNumber);
  }

  /**
   * A person adds a note in PagerDuty's web (or mobile) app, as their main
   * PagerDuty user or the one `action.pagerdutyUser` names; sends incident.annotated.
   * `person` is a scenario id, an email, or a PagerDuty user id.
   */
  addNote(
    incidentIdOrNumber: string,
    person: string,
    content: string,
    action: AppAction = {},
  ): Record<string, unknown> {
    const incident = this.requireIncident(incidentIdOrNumber);
    const note = this.annotate(incident, this.actingUser(person, action), content, appOrigin(action));
    return renderNote(this.directory, note);
  }

  /** A person acknowledges an incident in the app; sends incident.acknowledged. */
  acknowledge(incidentIdOrNumber: string, person: string, action: AppAction = {}): Record<string, unknown> {
    const incident = this.requireIncident(incidentIdOrNumber);
    this.changeStatus(incident, 'acknowledged', this.actingUser(person, action), appOrigin(action));
    return renderIncident(this.directory, incident);
  }

  /** A person resolves an incident in the app; sends incident.resolved. */
  resolve(incidentIdOrNumber: string, person: string, action: AppAction = {}): Record<string, unknown> {
    const incident = this.requireIncident(incidentIdOrNumber);
    this.changeStatus(incident, 'resolved', this.actingUser(person, action), appOrigin(action));
    return renderIncident(this.directory, incident);
  }

  /** The webhook subscription: enabled or not, consecutive drops, disabled until when, what is queued. */
  subscription(): SubscriptionState | undefined {
    return this.subscriptionChannel?.state();
  }

  /** Re-enables a subscription disabled after three drops. */
  enableSubscription(): void {
    this.subscriptionChannel?.enable();
  }

  /** Every delivery attempt, in order, with its status or error and what became of the event. */
  deliveries(): DeliveryRecord[] {
    return this.subscriptionChannel?.deliveries() ?? [];
  }

  /** Resolves once no webhook is in flight and none is due; retries wait for the clock to move. */
  async settled(): Promise<void> {
    await this.subscriptionChannel?.settled();
  }

  state(): unknown {
    return {
      incidents: this.incidents.map((i) => ({
        ...renderIncident(this.directory, i),
        // `origin` is the stand-in's knowledge only: PagerDuty shows it nowhere.
        notes: i.notes.map((n) => ({ ...renderNote(this.directory, n), origin: n.origin })),
      })),
      subscription: this.subscription() ?? null,
      deliveries: this.deliveries(),
      faults: this.faults.list(),
    };
  }

  override async stop(): Promise<void> {
    this.subscriptionChannel?.close();
    await super.stop();
  }

  // --- the HTTP surface ------------------------------------------------------

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    return this.token(request) === undefined ? authenticationFailed() : undefined;
  }

  protected faultResponse(status: number, _request: StandInRequest): StandInResponse {
    if (status === 429) return rateLimitExceeded(this.limiter.exhausted());
    if (status === 401) return authenticationFailed();
    if (status === 404) return notFound();
    if (status === 408) return requestTimeout();
    if (status >= 500) return internalError(status);
    return pdError(status, 'Invalid Input Provided', 2001);
  }

  protected routeNotFound(_request: StandInRequest): StandInResponse {
    return notFound();
  }

  protected malformedBody(_message: string, _request: StandInRequest): StandInResponse {
    // What PagerDuty answers when the body does not parse into a JSON object.
    return invalidInput('params must be a Hash');
  }

  private token(request: StandInRequest): string | undefined {
    const header = request.headers.authorization ?? '';
    const match = /^(?:Token token=|Bearer )(\S+)$/.exec(header.trim());
    const token = match?.[1];
    return token !== undefined && this.tokens.has(token) ? token : undefined;
  }

  /** Registers a route whose calls count against the rate limits and carry the `ratelimit-*` headers. */
  private api(method: string, pattern: string, handler: RouteHandler): void {
    const createsIncident = method === 'POST' && pattern === '/incidents';
    this.route(method, pattern, async (request) => {
      if (!this.enforceLimits) return this.run(handler, request);
      const decision = this.limiter.take(this.token(request) ?? '', createsIncident);
      if (!decision.allowed) return rateLimitExceeded(decision);
      const response = await this.run(handler, request);
      return { ...response, headers: { ...response.headers, ...rateLimitHeaders(decision) } };
    });
  }

  private async run(handler: RouteHandler, request: StandInRequest): Promise<StandInResponse> {
    try {
      return await handler(request);
    } catch (error) {
      if (error instanceof JsonBodyError) return this.malformedBody(error.message, request);
      if (error instanceof PagerDutyRuleError) return error.response;
      throw error;
    }
  }

  /**
   * The acting user named by the `From` header, which PagerDuty requires on
   * writes: a PagerDuty user's login email (a person's other address is not one).
   */
  private requester(request: StandInRequest): PagerDutyUser | StandInResponse {
    const from = request.headers.from;
    if (typeof from !== 'string' || from.trim() === '') return fromHeaderRequired();
    return this.directory.userByEmail(from) ?? requesterNotFound();
  }

  /** A REST call's origin: the token's kind and last four characters, and the From header. */
  private restOrigin(request: StandInRequest, requester: PagerDutyUser): ActionOrigin {
    const header = (request.headers.authorization ?? '').trim();
    const token = this.token(request) ?? '';
    return {
      via: 'rest_api',
      auth: header.startsWith('Bearer ') ? 'bearer' : 'token',
      truncatedToken: token.slice(-4),
      from: requester.email,
    };
  }

  private createIncident(request: StandInRequest): StandInResponse {
    const requester = this.requester(request);
    if (!isPerson(requester)) return requester;
    const body = objectBody(request);
    const input = body.incident;
    if (!isObject(input)) return invalidInput('incident must be a Hash');
    const errors: string[] = [];
    if (input.type !== undefined && input.type !== 'incident') errors.push("Type must be 'incident'");
    const title = typeof input.title === 'string' ? input.title.trim() : '';
    if (!title) errors.push('Title cannot be empty.');
    const urgency = input.urgency ?? 'high';
    if (urgency !== 'high' && urgency !== 'low') errors.push('Urgency must be one of: high, low');
    let details: string | undefined;
    if (input.body !== undefined) {
      if (!isObject(input.body)) errors.push('Body must be a Hash');
      else if (input.body.details !== undefined && typeof input.body.details !== 'string') {
        errors.push('Body details must be a string');
      } else details = input.body.details as string | undefined;
    }
    const key = input.incident_key;
    if (key !== undefined && (typeof key !== 'string' || key === '')) {
      errors.push('Incident key must be a non-empty string');
    }
    const serviceId = isObject(input.service) ? input.service.id : undefined;
    const service = typeof serviceId === 'string' ? this.directory.service(serviceId) : undefined;
    if (serviceId === undefined) errors.push('Service cannot be empty.');
    else if (!service) errors.push('Service Not Found');
    let policy = service ? this.directory.policy(service.escalationPolicy) : undefined;
    if (input.escalation_policy !== undefined) {
      const policyId = isObject(input.escalation_policy) ? input.escalation_policy.id : undefined;
      policy = typeof policyId === 'string' ? this.directory.policy(policyId) : undefined;
      if (!policy) errors.push('Escalation Policy Not Found');
    }
    let assignees: PagerDutyUser[] | undefined;
    if (input.assignments !== undefined) {
      if (input.escalation_policy !== undefined) {
        errors.push('Assignments cannot be specified together with an escalation policy');
      }
      assignees = this.assignees(input.assignments, errors);
    }
    if (errors.length || !service || !policy) return invalidInput(...errors);
    const incidentKey = typeof key === 'string' ? key : randomUUID().replace(/-/g, '');
    const clash = this.incidents.find(
      (i) => i.service.id === service.id && i.incidentKey === incidentKey && isOpen(i),
    );
    if (clash) {
      return invalidInput(`Open incident with key '${incidentKey}' already exists for this service`);
    }

    const now = this.clock.now();
    const number = this.incidents.length + 1;
    const firstAssignees =
      assignees ?? firstResponders(this.directory, policy, now).map((p) => this.directory.mainUser(p));
    const incident: IncidentRecord = {
      id: incidentId(this.seed, number),
      number,
      title,
      status: 'triggered',
      urgency: urgency as Urgency,
      incidentKey,
      service,
      policy,
      assignments: firstAssignees.map((user) => ({ at: now, user, person: user.person })),
      initialAssignees: firstAssignees,
      acknowledgements: [],
      details,
      createdAt: now,
      updatedAt: now,
      lastStatusChangeAt: now,
      lastStatusChangeBy: this.directory.serviceRef(service),
      resolvedAt: undefined,
      notes: [],
      statusChanges: [],
    };
    this.incidents.push(incident);
    this.emit('incident.triggered', incident, requester, webhookIncident(this.directory, incident));
    return json(201, { incident: renderIncident(this.directory, incident) });
  }

  private assignees(value: unknown, errors: string[]): PagerDutyUser[] {
    if (!Array.isArray(value) || value.length === 0) {
      errors.push('Assignments must be a non-empty array');
      return [];
    }
    const users: PagerDutyUser[] = [];
    for (const a of value) {
      const id = isObject(a) && isObject(a.assignee) ? a.assignee.id : undefined;
      const user = typeof id === 'string' ? this.directory.userById(id) : undefined;
      if (user) users.push(user);
      else errors.push('Assigned To User Not Found');
    }
    return users;
  }

  private listIncidents(request: StandInRequest): StandInResponse {
    const { query } = request;
    const page = pagination(query);
    if ('status' in page) return page;
    const statuses = list(query, 'statuses');
    const unknown = statuses.filter((s) => !INCIDENT_STATUSES.includes(s as IncidentStatus));
    if (unknown.length) return invalidInput(`Statuses must be one of: ${INCIDENT_STATUSES.join(', ')}`);
    const serviceIds = list(query, 'service_ids');
    const userIds = list(query, 'user_ids');
    const urgencies = list(query, 'urgencies');
    const key = query.get('incident_key');
    const now = this.clock.now();
    let since: Date | undefined;
    let until: Date | undefined;
    if (query.get('date_range') !== 'all') {
      const range = timeRange(query, new Date(now.getTime() - DEFAULT_INCIDENT_LOOKBACK_MS), now);
      if ('status' in range) return range;
      if (range.until.getTime() - range.since.getTime() > MAX_INCIDENT_RANGE_MS) {
        return pdError(400, 'Invalid Query Date Range', 2005, ['The date range cannot exceed 6 months']);
      }
      ({ since, until } = range);
    }
    const matches = this.incidents.filter(
      (i) =>
        (!statuses.length || statuses.includes(i.status)) &&
        (!serviceIds.length || serviceIds.includes(i.service.id)) &&
        (!userIds.length || i.assignments.some((a) => userIds.includes(a.user.id))) &&
        (!urgencies.length || urgencies.includes(i.urgency)) &&
        (key === null || i.incidentKey === key) &&
        (!since || i.createdAt >= since) &&
        (!until || i.createdAt <= until),
    );
    const sorted = sortIncidents(matches, query.get('sort_by'));
    if ('status' in sorted) return sorted;
    return paginated(
      'incidents',
      sorted.map((i) => renderIncident(this.directory, i)),
      page,
    );
  }

  private getIncident(request: StandInRequest): StandInResponse {
    const incident = this.findIncident(request.params.id ?? '');
    return incident ? json(200, { incident: renderIncident(this.directory, incident) }) : notFound();
  }

  private updateIncident(request: StandInRequest): StandInResponse {
    const requester = this.requester(request);
    if (!isPerson(requester)) return requester;
    const incident = this.findIncident(request.params.id ?? '');
    if (!incident) return notFound();
    const input = objectBody(request).incident;
    if (!isObject(input)) return invalidInput('incident must be a Hash');
    if (input.type !== undefined && input.type !== 'incident_reference' && input.type !== 'incident') {
      return invalidInput("Type must be 'incident_reference'");
    }
    const errors: string[] = [];
    if (input.status !== undefined && input.status !== 'acknowledged' && input.status !== 'resolved') {
      errors.push('Status must be one of: acknowledged, resolved');
    }
    if (input.title !== undefined && (typeof input.title !== 'string' || !input.title.trim())) {
      errors.push('Title cannot be empty.');
    }
    if (input.urgency !== undefined && input.urgency !== 'high' && input.urgency !== 'low') {
      errors.push('Urgency must be one of: high, low');
    }
    if (errors.length) return invalidInput(...errors);
    if (incident.status === 'resolved' && input.status !== undefined) {
      return pdError(400, 'Incident Already Resolved', 1001);
    }
    if (typeof input.title === 'string') incident.title = input.title.trim();
    if (input.urgency === 'high' || input.urgency === 'low') incident.urgency = input.urgency;
    incident.updatedAt = this.clock.now();
    if (input.status === 'acknowledged' || input.status === 'resolved') {
      this.changeStatus(incident, input.status, requester, this.restOrigin(request, requester));
    }
    return json(200, { incident: renderIncident(this.directory, incident) });
  }

  private createNote(request: StandInRequest): StandInResponse {
    const requester = this.requester(request);
    if (!isPerson(requester)) return requester;
    const incident = this.findIncident(request.params.id ?? '');
    if (!incident) return notFound();
    const input = objectBody(request).note;
    if (!isObject(input)) return invalidInput('note must be a Hash');
    if (typeof input.content !== 'string') return invalidInput('Content cannot be empty.');
    const note = this.annotate(incident, requester, input.content, this.restOrigin(request, requester));
    // The OpenAPI's createIncidentNote documents 200 ("The new note."), not the 201 of POST /incidents.
    return json(200, { note: renderNote(this.directory, note) });
  }

  /** GET /incidents/{id}/log_entries: offset pagination, since/until, is_overview, include[]. */
  private listLogEntries(request: StandInRequest): StandInResponse {
    const { query } = request;
    const incident = this.findIncident(request.params.id ?? '');
    if (!incident) return notFound();
    const page = pagination(query);
    if ('status' in page) return page;
    const includes = list(query, 'include');
    const unknown = includes.filter((i) => !(LOG_ENTRY_INCLUDES as readonly string[]).includes(i));
    if (unknown.length) return invalidInput(`Include must be one of: ${LOG_ENTRY_INCLUDES.join(', ')}`);
    let since: Date | undefined;
    let until: Date | undefined;
    if (query.get('since') !== null || query.get('until') !== null) {
      const range = timeRange(query, new Date(0), this.clock.now());
      if ('status' in range) return range;
      ({ since, until } = range);
    }
    const entries = listLogEntries(this.directory, incident, {
      includes,
      isOverview: query.get('is_overview') === 'true',
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
    });
    return paginated('log_entries', entries, page);
  }

  /** GET /log_entries/{id}. */
  private getLogEntry(request: StandInRequest): StandInResponse {
    const includes = list(request.query, 'include');
    const entry = findLogEntry(this.directory, this.incidents, request.params.id ?? '', includes);
    return entry ? json(200, { log_entry: entry }) : notFound();
  }

  private listNotes(request: StandInRequest): StandInResponse {
    const incident = this.findIncident(request.params.id ?? '');
    if (!incident) return notFound();
    // PagerDuty lists every note of an incident in one response, unpaginated.
    return json(200, { notes: incident.notes.map((n) => renderNote(this.directory, n)) });
  }

  private listUsers(request: StandInRequest): StandInResponse {
    const page = pagination(request.query);
    if ('status' in page) return page;
    // `query` matches a user's name or login email; a person's other users are users like any.
    const q = (request.query.get('query') ?? '').trim().toLowerCase();
    const users = this.directory.users.filter(
      (u) => !q || u.person.name.toLowerCase().includes(q) || u.email.toLowerCase().includes(q),
    );
    return paginated(
      'users',
      users.map((u) => this.directory.user(u)),
      page,
    );
  }

  private getUser(request: StandInRequest): StandInResponse {
    const user = this.directory.userById(request.params.id ?? '');
    return user ? json(200, { user: this.directory.user(user) }) : notFound();
  }

  private getOne(
    request: StandInRequest,
    kind: 'service' | 'escalation_policy' | 'schedule',
  ): StandInResponse {
    const id = request.params.id ?? '';
    const d = this.directory;
    const service = kind === 'service' ? d.service(id) : undefined;
    const policy = kind === 'escalation_policy' ? d.policy(id) : undefined;
    const schedule = kind === 'schedule' ? d.schedule(id) : undefined;
    if (service) return json(200, { service: d.serviceObject(service) });
    if (policy) return json(200, { escalation_policy: d.policyObject(policy) });
    if (schedule) return json(200, { schedule: d.scheduleObject(schedule) });
    return notFound();
  }

  /**
   * POST /schedules/{id}/overrides (OpenAPI createScheduleOverride): each override is created or
   * refused on its own, and the answer is 201 with one `{status, override, errors?}` per item.
   * The last created wins where overrides overlap, so a new one goes to the end of the list.
   */
  private createOverrides(request: StandInRequest): StandInResponse {
    const schedule = this.directory.schedule(request.params.id ?? '');
    if (!schedule) return notFound();
    const items = objectBody(request).overrides;
    if (!Array.isArray(items) || items.length === 0)
      return invalidInput('overrides must be a non-empty Array');
    const results = items.map((item: unknown) => {
      const input = isObject(item) ? item : {};
      const userRef = isObject(input.user) ? input.user : {};
      const user = typeof userRef.id === 'string' ? this.directory.userById(userRef.id) : undefined;
      const start = new Date(typeof input.start === 'string' ? input.start : Number.NaN);
      const end = new Date(typeof input.end === 'string' ? input.end : Number.NaN);
      const echo = {
        start: Number.isNaN(start.getTime()) ? input.start : pdTime(start),
        end: Number.isNaN(end.getTime()) ? input.end : pdTime(end),
        user: user ? this.directory.userRef(user) : userRef,
      };
      const errors = [
        ...(user ? [] : ['User not found']),
        ...(Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())
          ? ['Start and end must be times']
          : []),
        ...(start.getTime() >= end.getTime() ? ['Override must end after its start'] : []),
      ];
      if (errors.length || !user) return { status: 400, errors, override: echo };
      const id = stableId(`override:${this.seed}:${++this.overrideSequence}`, 14, 'Q');
      schedule.overrides.push({ id, person: user.person.id, start, end });
      return { status: 201, override: { id, ...echo } };
    });
    return json(201, results);
  }

  /**
   * DELETE /schedules/{id}/overrides/{override_id} (OpenAPI deleteScheduleOverride): 204 when it had
   * not started, 200 when it was running (truncated to now), 400 for one already over ("You cannot
   * remove a past override"), 404 for an unknown id.
   */
  private deleteOverride(request: StandInRequest): StandInResponse {
    const schedule = this.directory.schedule(request.params.id ?? '');
    const index = schedule?.overrides.findIndex((o) => o.id === request.params.overrideId) ?? -1;
    const override = schedule?.overrides[index];
    if (!schedule || !override) return notFound();
    const now = this.clock.now();
    if (override.end <= now) return invalidInput('You cannot remove a past override');
    if (override.start < now) {
      override.end = now;
      return { status: 200 };
    }
    schedule.overrides.splice(index, 1);
    return { status: 204 };
  }

  private listOnCalls(request: StandInRequest): StandInResponse {
    const { query } = request;
    const page = pagination(query);
    if ('status' in page) return page;
    const now = this.clock.now();
    const range = timeRange(query, now, now);
    if ('status' in range) return range;
    if (range.until.getTime() - range.since.getTime() > MAX_ONCALL_RANGE_MS) {
      return pdError(400, 'Invalid Query Date Range', 2005, ['The date range cannot exceed 90 days']);
    }
    const policyIds = list(query, 'escalation_policy_ids');
    const scheduleIds = list(query, 'schedule_ids');
    const userIds = list(query, 'user_ids');
    let entries = onCalls(this.directory, range.since, range.until).filter(
      (e) =>
        (!policyIds.length || policyIds.includes(e.policy.id)) &&
        // OpenAPI schedule_ids[]: "If `null` is provided in the array, it includes permanent on-calls".
        (!scheduleIds.length || scheduleIds.includes(e.schedule?.id ?? 'null')) &&
        (!userIds.length || userIds.includes(this.directory.mainUser(e.person).id)),
    );
    if (query.get('earliest') === 'true') entries = earliest(entries);
    return paginated(
      'oncalls',
      entries.map((e) => this.renderOnCall(e)),
      page,
    );
  }

  private renderOnCall(entry: OnCallEntry): Record<string, unknown> {
    const d = this.directory;
    return {
      escalation_policy: d.policyRef(entry.policy),
      escalation_level: entry.level,
      schedule: entry.schedule ? d.scheduleRef(entry.schedule) : null,
      user: d.userRef(entry.person),
      start: entry.start ? pdTime(entry.start) : null,
      end: entry.end ? pdTime(entry.end) : null,
    };
  }

  // --- shared by HTTP and control --------------------------------------------

  private annotate(
    incident: IncidentRecord,
    user: PagerDutyUser,
    content: string,
    origin: ActionOrigin,
  ): NoteRecord {
    if (!content.trim()) throw new PagerDutyRuleError(invalidInput('Content cannot be empty.'));
    if (content.length > MAX_NOTE_LENGTH) {
      throw new PagerDutyRuleError(
        invalidInput(`Content is too long (maximum is ${MAX_NOTE_LENGTH} characters)`),
      );
    }
    if (incident.notes.length >= MAX_NOTES_PER_INCIDENT) {
      throw new PagerDutyRuleError(
        invalidInput(`An incident cannot have more than ${MAX_NOTES_PER_INCIDENT} notes`),
      );
    }
    this.noteSequence += 1;
    const id = noteId(this.seed, this.noteSequence);
    const note: NoteRecord = {
      id,
      user,
      person: user.person,
      content,
      createdAt: this.clock.now(),
      origin,
      logEntryId: logEntryId(`annotate:${incident.id}:${id}`),
    };
    incident.notes.push(note);
    // The same event whether the note came from the web app, the mobile app or
    // the REST API: agent = the user (the From header's), client = null.
    this.emit(
      'incident.annotated',
      incident,
      user,
      webhookNote(this.directory, incident, note, this.trimLength),
    );
    return note;
  }

  private changeStatus(
    incident: IncidentRecord,
    status: 'acknowledged' | 'resolved',
    user: PagerDutyUser,
    origin: ActionOrigin,
  ): void {
    if (incident.status === 'resolved') {
      throw new PagerDutyRuleError(pdError(400, 'Incident Already Resolved', 1001));
    }
    const now = this.clock.now();
    incident.statusChanges.push({
      status,
      at: now,
      user,
      origin,
      logEntryId: logEntryId(`${status}:${incident.id}:${incident.statusChanges.length}`),
    });
    if (status === 'acknowledged') {
      incident.acknowledgements.push({ at: now, user, person: user.person });
    } else {
      incident.resolvedAt = now;
      incident.assignments = [];
      incident.acknowledgements = [];
    }
    incident.status = status;
    incident.updatedAt = now;
    incident.lastStatusChangeAt = now;
    incident.lastStatusChangeBy = this.directory.userRef(user);
    this.emit(`incident.${status}`, incident, user, webhookIncident(this.directory, incident));
  }

  private emit(
    eventType: string,
    incident: IncidentRecord,
    agent: PagerDutyUser,
    data: Record<string, unknown>,
  ): void {
    if (!this.subscriptionChannel) return;
    const event: WebhookEvent = {
      id: randomUUID(),
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: this.clock.now().toISOString(),
      agent: this.directory.userRef(agent),
      client: null,
      data,
    };
    this.subscriptionChannel.publish(event, incident.id);
  }

  /** By id or by incident number, as GET /incidents/{id} accepts either. */
  private findIncident(idOrNumber: string): IncidentRecord | undefined {
    return this.incidents.find((i) => i.id === idOrNumber || String(i.number) === idOrNumber);
  }

  private requireIncident(idOrNumber: string): IncidentRecord {
    const incident = this.findIncident(idOrNumber);
    if (!incident) throw new PagerDutyRuleError(notFound());
    return incident;
  }

  /** The PagerDuty user a control action is taken as: the person's main user or the one named. */
  private actingUser(person: string, action: AppAction): PagerDutyUser {
    const user = this.directory.resolveUser(person);
    if (!user) throw new PagerDutyRuleError(pdError(404, 'User not found', 2013));
    if (action.pagerdutyUser === undefined) return user;
    const chosen =
      this.directory.userById(action.pagerdutyUser) ?? this.directory.userByEmail(action.pagerdutyUser);
    if (!chosen || chosen.person !== user.person) {
      throw new PagerDutyRuleError(
        pdError(404, 'User not found', 2013, [
          `${action.pagerdutyUser} is not a PagerDuty user of ${user.person.id}`,
        ]),
      );
    }
    return chosen;
  }
}

// --- request helpers ---------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPerson(value: PagerDutyUser | StandInResponse): value is PagerDutyUser {
  return 'person' in value;
}

function appOrigin(action: AppAction): ActionOrigin {
  return { via: action.app === 'mobile' ? 'mobile_app' : 'web_app' };
}

/** The JSON body, which must be an object (PagerDuty: "params must be a Hash"). */
function objectBody(request: StandInRequest): Record<string, unknown> {
  const body = jsonBody(request);
  if (!isObject(body)) throw new JsonBodyError('the body is not a JSON object');
  return body;
}

/** An array query parameter, sent as `name[]=a&name[]=b` (or `name=a`). */
function list(query: URLSearchParams, name: string): string[] {
  return [...query.getAll(`${name}[]`), ...query.getAll(name)].filter((v) => v !== '');
}

interface Page {
  limit: number;
  offset: number;
  total: boolean;
}

function pagination(query: URLSearchParams): Page | StandInResponse {
  const rawLimit = query.get('limit');
  const rawOffset = query.get('offset');
  const limit = rawLimit === null ? DEFAULT_PAGE : Number(rawLimit);
  const offset = rawOffset === null ? 0 : Number(rawOffset);
  if (!Number.isInteger(limit) || limit < 1) return invalidInput('Limit must be a positive integer');
  if (!Number.isInteger(offset) || offset < 0) return invalidInput('Offset must be a non-negative integer');
  const capped = Math.min(limit, MAX_PAGE);
  if (offset + capped > MAX_PAGINATION_WINDOW) {
    return invalidInput(`Offset plus limit cannot exceed ${MAX_PAGINATION_WINDOW}`);
  }
  return { limit: capped, offset, total: query.get('total') === 'true' };
}

/** Classic pagination: `total` is null unless the caller asked with `total=true`. */
function paginated(key: string, items: unknown[], page: Page): StandInResponse {
  return json(200, {
    [key]: items.slice(page.offset, page.offset + page.limit),
    limit: page.limit,
    offset: page.offset,
    more: page.offset + page.limit < items.length,
    total: page.total ? items.length : null,
  });
}

function timeRange(
  query: URLSearchParams,
  defaultSince: Date,
  defaultUntil: Date,
): { since: Date; until: Date } | StandInResponse {
  const parse = (name: string, fallback: Date) => {
    const raw = query.get(name);
    return raw === null ? fallback : new Date(raw);
  };
  const since = parse('since', defaultSince);
  const until = parse('until', defaultUntil);
  if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) {
    return pdError(400, "Invalid time values in 'since' and/or 'until' parameters", 2004);
  }
  if (until < since)
    return pdError(400, 'Invalid Query Date Range', 2005, ['until must not be before since']);
  return { since, until };
}

function sortIncidents(
  incidents: IncidentRecord[],
  sortBy: string | null,
): IncidentRecord[] | StandInResponse {
  const [field = 'created_at', direction = 'asc'] = (sortBy ?? 'created_at:asc').split(':');
  const keys: Record<string, (i: IncidentRecord) => number> = {
    created_at: (i) => i.createdAt.getTime(),
    incident_number: (i) => i.number,
    resolved_at: (i) => i.resolvedAt?.getTime() ?? Number.MAX_SAFE_INTEGER,
    urgency: (i) => (i.urgency === 'high' ? 1 : 0),
  };
  const key = keys[field];
  if (!key || (direction !== 'asc' && direction !== 'desc')) {
    return invalidInput(`sort_by must be one of: ${Object.keys(keys).join(', ')} with :asc or :desc`);
  }
  const sign = direction === 'asc' ? 1 : -1;
  return [...incidents].sort((a, b) => sign * (key(a) - key(b)) || a.number - b.number);
}

/** `earliest=true`: only the first on-call of each policy, level and user. */
function earliest(entries: OnCallEntry[]): OnCallEntry[] {
  const seen = new Set<string>();
  return [...entries]
    .sort((a, b) => (a.start?.getTime() ?? -Infinity) - (b.start?.getTime() ?? -Infinity))
    .filter((e) => {
      const key = `${e.policy.id}|${e.level}|${e.person.id}`;
      return !seen.has(key) && seen.add(key);
    })
    .sort((a, b) => entries.indexOf(a) - entries.indexOf(b));
}
