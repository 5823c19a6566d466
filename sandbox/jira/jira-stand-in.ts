// The Jira Cloud stand-in: issues, comments, transitions and users over REST
// v2 (wiki-markup strings) and v3 (ADF), Basic auth with API tokens, Jira's
// error collections, and `jira:issue_created` / `jira:issue_updated` webhooks
// (the issue in the v2 shape, a changelog on updates) signed
// `X-Hub-Signature: sha256=…` and retried the way Jira Cloud retries.

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import { hmacHex, postWebhook, type DeliveryAttempt } from '../http/webhook';
import { HttpStandIn, json, jsonBody, type StandInRequest, type StandInResponse } from '../http/stand-in';
import type { Scenario } from '../scenario/load';
import { type AdfNode, adfToWiki, isAdfDocument, textToAdf } from './adf';

export interface JiraCredentials {
  email: string;
  apiToken: string;
}

export interface JiraWebhookConfig {
  url: string;
  secret: string;
  /** Events delivered; Jira admins pick them per webhook. */
  events?: JiraWebhookEvent[];
}

export type JiraWebhookEvent = 'jira:issue_created' | 'jira:issue_updated' | 'comment_created';

export interface JiraStandInOptions {
  scenario: Scenario;
  clock: SandboxClock;
  credentials: JiraCredentials[];
  webhook?: JiraWebhookConfig;
  /**
   * How REST renders a hidden email (the person's `jira.hideEmail`, or the scenario's `jira.hideEmails`).
   * `null` (the default) is what Atlassian documents for the User bean: "The email address of the user.
   * Depending on the user's privacy setting, this may be returned as null." (Jira Cloud platform OpenAPI,
   * swagger-v3.v3.json). `omit` leaves the key out, which clients also report seeing from Jira Cloud.
   */
  hiddenEmail?: 'null' | 'omit';
}

interface JiraUser {
  accountId: string;
  displayName: string;
  emailAddress: string;
  /** The profile (or the site) hides the email from everyone but the user: REST renders it per `hiddenEmail`. */
  hideEmail: boolean;
  active: boolean;
  timeZone: string;
}

/** How one user object renders its email: as stored, as `null`, or left out. */
type EmailRendering = 'show' | 'null' | 'omit';

type Body = string | AdfNode;

interface StoredComment {
  id: string;
  authorId: string;
  body: Body;
  created: string;
  updated: string;
}

interface StoredIssue {
  id: string;
  key: string;
  projectKey: string;
  issueType: string;
  summary: string;
  description?: Body;
  reporterId: string;
  statusId: string;
  created: string;
  updated: string;
  customFields: Record<string, unknown>;
  comments: StoredComment[];
}

const STATUS_CATEGORIES = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
} as const;

/** The access-request workflow: every status can be reached from every other. */
const STATUSES = [
  { id: '10000', name: 'Open', category: 'new' },
  { id: '10001', name: 'In Review', category: 'indeterminate' },
  { id: '10002', name: 'Approved', category: 'indeterminate' },
  { id: '10003', name: 'Granted', category: 'done' },
  { id: '10004', name: 'Declined', category: 'done' },
  { id: '10005', name: 'Cancelled', category: 'done' },
  { id: '10006', name: 'Done', category: 'done' },
] as const;
const transitionIdOf = (statusIndex: number) => String((statusIndex + 1) * 10 + 1);

/** Jira Cloud retries 408, 409, 425, 429, 5xx and timeouts; these delays (minutes) span about half an hour. */
const RETRY_DELAYS_MINUTES = [1, 2, 4, 8, 16];
const DELIVERY_TIMEOUT_MS = 20_000;
const RETRYABLE = new Set([408, 409, 425, 429]);

interface PendingDelivery {
  identifier: string;
  body: string;
  retries: number;
  dueAt: number;
}

export interface JiraDeliveryRecord extends DeliveryAttempt {
  identifier: string;
  event: string;
  retry: number;
  /** The signed body as sent, so a test can replay it. */
  body: string;
}

export const LOOPGATE_BOT_ACCOUNT_ID = '712020:loopgate-bot';

export class JiraStandIn extends HttpStandIn {
  private readonly clock: SandboxClock;
  private readonly credentials: JiraCredentials[];
  private webhook: JiraWebhookConfig | undefined;
  private readonly users = new Map<string, JiraUser>();
  /** Scenario person id → Jira account id, so the control API can name people by handle. */
  private readonly accountOfPerson = new Map<string, string>();
  private readonly issues = new Map<string, StoredIssue>();
  private readonly projects: Scenario['jira']['projects'];
  private readonly customFieldIds: Set<string>;
  private readonly fieldIds: Scenario['jira']['fields'];
  private readonly hiddenEmail: 'null' | 'omit';
  private nextIssueId = 10_001;
  private nextCommentId = 20_001;
  /** Jira numbers every change of every issue from one sequence: a changelog id names one change. */
  private nextChangelogId = 30_001;
  private readonly issueCounters = new Map<string, number>();
  private readonly pending: PendingDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  readonly deliveries: JiraDeliveryRecord[] = [];
  /** Stops running due retries; set while the stand-in is started. */
  private stopRetries: (() => void) | undefined;

  constructor(options: JiraStandInOptions) {
    super('jira', options.clock);
    this.clock = options.clock;
    this.credentials = options.credentials;
    this.webhook = options.webhook;
    this.projects = options.scenario.jira.projects;
    this.fieldIds = options.scenario.jira.fields;
    this.customFieldIds = new Set(Object.values(options.scenario.jira.fields));
    this.hiddenEmail = options.hiddenEmail ?? 'null';
    const siteHidesEmails = options.scenario.jira.hideEmails;
    for (const person of options.scenario.people) {
      this.users.set(person.jira.accountId, {
        accountId: person.jira.accountId,
        displayName: person.name,
        emailAddress: person.email,
        hideEmail: siteHidesEmails || personHidesEmail(person),
        active: person.okta.status !== 'DEPROVISIONED',
        timeZone: 'UTC',
      });
      this.accountOfPerson.set(person.id, person.jira.accountId);
    }
    for (const credential of options.credentials) {
      if ([...this.users.values()].some((u) => u.emailAddress === credential.email)) continue;
      this.users.set(LOOPGATE_BOT_ACCOUNT_ID, {
        accountId: LOOPGATE_BOT_ACCOUNT_ID,
        displayName: 'loopgate',
        emailAddress: credential.email,
        hideEmail: siteHidesEmails,
        active: true,
        timeZone: 'UTC',
      });
    }

    this.route('POST', '/rest/api/:version/issue', (r) => this.createIssueRoute(r));
    this.route('GET', '/rest/api/:version/issue/:key', (r) => this.getIssueRoute(r));
    this.route('GET', '/rest/api/:version/issue/:key/comment', (r) => this.listCommentsRoute(r));
    this.route('POST', '/rest/api/:version/issue/:key/comment', (r) => this.addCommentRoute(r));
    this.route('GET', '/rest/api/:version/issue/:key/comment/:id', (r) => this.getCommentRoute(r));
    this.route('GET', '/rest/api/:version/issue/:key/transitions', (r) => this.transitionsRoute(r));
    this.route('POST', '/rest/api/:version/issue/:key/transitions', (r) => this.doTransitionRoute(r));
    this.route('GET', '/rest/api/:version/user', (r) => this.getUserRoute(r));
    this.route('GET', '/rest/api/:version/user/email', (r) => this.userEmailRoute(r));
    this.route('GET', '/rest/api/:version/user/email/bulk', (r) => this.userEmailRoute(r));
    this.route('GET', '/rest/api/:version/myself', (r) => this.myselfRoute(r));
  }

  override async start(port = 0): Promise<string> {
    const url = await super.start(port);
    // Retries fall due as real time passes and whenever a test moves the clock.
    this.stopRetries = this.clock.whenTimePasses(() => this.runDueRetries(), 1000);
    return url;
  }

  override async stop(): Promise<void> {
    this.stopRetries?.();
    this.stopRetries = undefined;
    await this.settled();
    await super.stop();
  }

  configureWebhook(webhook: JiraWebhookConfig | undefined): void {
    this.webhook = webhook;
  }

  /** Resolves when no webhook delivery is in flight (retries that are not yet due are not waited for). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Deliveries still waiting for a retry. */
  pendingDeliveries(): { identifier: string; retries: number; dueAt: string }[] {
    return this.pending.map((p) => ({
      identifier: p.identifier,
      retries: p.retries,
      dueAt: new Date(p.dueAt).toISOString(),
    }));
  }

  state() {
    return {
      issues: [...this.issues.values()].map((i) => ({
        ...this.renderIssue(i, 'v3', { viewerId: undefined, showAll: true }),
        comments: i.comments,
      })),
      users: [...this.users.values()],
      webhook: this.webhook ? { url: this.webhook.url, events: this.webhookEvents() } : null,
      deliveries: this.deliveries,
      pendingDeliveries: this.pendingDeliveries(),
    };
  }

  /**
   * Files a ticket as a person (control API): the request's parts go in the custom fields, or in the
   * description as `Entitlement: …` / `Duration: …` / `Reason: …` lines, in wiki text or ADF.
   */
  fileTicket(input: {
    reporter: string;
    summary?: string;
    entitlement?: string;
    duration?: string;
    justification?: string;
    /** Free text for the description; replaces the generated lines. */
    description?: string;
    format?: 'fields' | 'wiki' | 'adf';
    projectKey?: string;
    issueType?: string;
    /** Jira labels, e.g. `break-glass`. */
    labels?: string[];
  }): { id: string; key: string } {
    const reporter = this.findUser(input.reporter);
    if (!reporter) throw new Error(`no Jira user for "${input.reporter}"`);
    const format = input.format ?? 'fields';
    const lines = [
      input.entitlement !== undefined ? `Entitlement: ${input.entitlement}` : undefined,
      input.duration !== undefined ? `Duration: ${input.duration}` : undefined,
      input.justification !== undefined ? `Reason: ${input.justification}` : undefined,
    ].filter((l): l is string => l !== undefined);
    const text = input.description ?? lines.join('\n');
    // Rendered among the issue's fields like any other (`fields.labels`).
    const customFields: Record<string, unknown> = input.labels ? { labels: [...input.labels] } : {};
    if (format === 'fields') {
      if (input.entitlement !== undefined) customFields[this.fieldIds.entitlement] = input.entitlement;
      if (input.duration !== undefined) customFields[this.fieldIds.duration] = input.duration;
      if (input.justification !== undefined) customFields[this.fieldIds.justification] = input.justification;
    }
    const issue = this.createIssue({
      projectKey: input.projectKey ?? this.projects[0]?.key ?? 'ACCESS',
      issueType: input.issueType ?? 'Access Request',
      summary: input.summary ?? `Access request: ${input.entitlement ?? 'unspecified'}`,
      description: format === 'adf' ? textToAdf(text) : text || undefined,
      reporterId: reporter.accountId,
      customFields,
    });
    this.emit('jira:issue_created', issue, reporter.accountId);
    return { id: issue.id, key: issue.key };
  }

  /** Moves an issue to a status by name as a person (control API), as a human would in the UI. */
  transitionIssue(key: string, statusName: string, actor: string): void {
    const issue = this.issues.get(key);
    const user = this.findUser(actor);
    const index = STATUSES.findIndex((s) => s.name.toLowerCase() === statusName.toLowerCase());
    if (!issue || !user || index < 0) throw new Error(`cannot move ${key} to "${statusName}" as ${actor}`);
    this.applyTransition(issue, index, user.accountId);
  }

  /** Adds a comment as a person (control API), as a human would in the UI: plain text, stored as ADF. */
  commentAs(key: string, person: string, text: string): { id: string } {
    const issue = this.issues.get(key);
    const user = this.findUser(person);
    if (!issue || !user) throw new Error(`cannot comment on ${key} as ${person}`);
    return { id: this.storeComment(issue, user.accountId, textToAdf(text)).id };
  }

  /** Adds a comment and tells the webhook, which carries it as API v2 renders it. */
  private storeComment(issue: StoredIssue, authorId: string, body: Body): StoredComment {
    const now = this.clock.now().toISOString();
    const comment: StoredComment = {
      id: String(this.nextCommentId++),
      authorId,
      body,
      created: now,
      updated: now,
    };
    issue.comments.push(comment);
    issue.updated = now;
    // The webhook's comment is rendered as REST v2 renders it for someone else: a hidden email stays hidden.
    this.emit('comment_created', issue, authorId, {
      comment: this.renderComment(issue, comment, 'v2', undefined),
    });
    return comment;
  }

  // --- routes -------------------------------------------------------------

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const header = request.headers.authorization ?? '';
    const match = /^Basic (.+)$/i.exec(header);
    if (match?.[1]) {
      const decoded = Buffer.from(match[1], 'base64').toString('utf8');
      const separator = decoded.indexOf(':');
      const email = decoded.slice(0, separator);
      const token = decoded.slice(separator + 1);
      if (this.credentials.some((c) => c.email === email && c.apiToken === token)) return undefined;
    }
    return {
      status: 401,
      headers: {
        'content-type': 'text/plain;charset=UTF-8',
        'www-authenticate': 'Basic realm="protected-area"',
      },
      body: 'Client must be authenticated to access this resource.',
    };
  }

  protected faultResponse(status: number): StandInResponse {
    if (status === 429) {
      const reset = new Date(this.clock.now().getTime() + 5000).toISOString();
      return json(
        429,
        { errorMessages: ['Rate limit exceeded.'], errors: {} },
        {
          'retry-after': '5',
          'x-ratelimit-limit': '100',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': reset,
          'ratelimit-reason': 'jira-quota-global-based',
        },
      );
    }
    if (status === 409) {
      // The OpenAPI gives the reason ("Returned if the issue could not be updated due to a conflicting
      // update.") but no body; this is Jira's usual error collection carrying it.
      return json(409, {
        errorMessages: ['The issue could not be updated due to a conflicting update.'],
        errors: {},
      });
    }
    return json(status, { errorMessages: ['Internal server error'], errors: {} });
  }

  protected routeNotFound(): StandInResponse {
    return json(404, { errorMessages: ['null for uri'], errors: {} });
  }

  protected malformedBody(message: string): StandInResponse {
    return json(400, { errorMessages: [`Unexpected character: ${message}`], errors: {} });
  }

  private apiVersion(request: StandInRequest): 'v2' | 'v3' | undefined {
    const v = request.params.version;
    return v === '2' ? 'v2' : v === '3' ? 'v3' : undefined;
  }

  private caller(request: StandInRequest): JiraUser {
    const decoded = Buffer.from((request.headers.authorization ?? '').slice(6), 'base64').toString('utf8');
    const email = decoded.slice(0, decoded.indexOf(':'));
    const user = [...this.users.values()].find((u) => u.emailAddress === email);
    if (!user) throw new Error(`authenticated caller ${email} has no user`);
    return user;
  }

  private createIssueRoute(request: StandInRequest): StandInResponse {
    const version = this.apiVersion(request);
    if (!version) return this.routeNotFound();
    const body = jsonBody<{ fields?: Record<string, unknown> }>(request);
    const fields = body?.fields;
    if (typeof fields !== 'object' || fields === null) {
      return errorCollection(400, [], { fields: 'Field "fields" is required.' });
    }
    const errors: Record<string, string> = {};
    const projectRef = fields.project as { key?: string; id?: string } | undefined;
    const project = this.projects.find((p) => p.key === projectRef?.key || p.key === projectRef?.id);
    if (!project) errors.project = 'Specify a valid project ID or key';
    const typeRef = fields.issuetype as { name?: string; id?: string } | undefined;
    const issueType = project?.issueTypes.find((t) => t === typeRef?.name || t === typeRef?.id);
    if (project && !issueType) errors.issuetype = 'Specify an issue type';
    if (typeof fields.summary !== 'string' || !fields.summary.trim()) {
      errors.summary = 'You must specify a summary of the issue.';
    }
    const description = fields.description;
    if (description !== undefined && description !== null) {
      if (version === 'v3' && !isAdfDocument(description)) {
        errors.description =
          'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
      }
      if (version === 'v2' && typeof description !== 'string')
        errors.description = 'Operation value must be a string';
    }
    const reporterRef = fields.reporter as { accountId?: string } | undefined;
    const reporterId = reporterRef?.accountId ?? this.caller(request).accountId;
    if (!this.users.has(reporterId)) errors.reporter = 'Specify a valid value for reporter';
    const customFields: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(fields)) {
      if (!name.startsWith('customfield_')) continue;
      if (!this.customFieldIds.has(name)) {
        errors[name] = `Field '${name}' cannot be set. It is not on the appropriate screen, or unknown.`;
      } else customFields[name] = value;
    }
    if (Object.keys(errors).length > 0 || !project || !issueType) return errorCollection(400, [], errors);

    const issue = this.createIssue({
      projectKey: project.key,
      issueType,
      summary: String(fields.summary),
      description: (description ?? undefined) as Body | undefined,
      reporterId,
      customFields,
    });
    this.emit('jira:issue_created', issue, this.caller(request).accountId);
    return json(201, {
      id: issue.id,
      key: issue.key,
      self: `${request.baseUrl}/rest/api/3/issue/${issue.id}`,
    });
  }

  private getIssueRoute(request: StandInRequest): StandInResponse {
    const version = this.apiVersion(request);
    const issue = this.issueOf(request);
    if (!version) return this.routeNotFound();
    if (!issue) return issueNotFound();
    return json(
      200,
      this.renderIssue(issue, version, {
        viewerId: this.caller(request).accountId,
        baseUrl: request.baseUrl,
      }),
    );
  }

  private listCommentsRoute(request: StandInRequest): StandInResponse {
    const version = this.apiVersion(request);
    const issue = this.issueOf(request);
    if (!version) return this.routeNotFound();
    if (!issue) return issueNotFound();
    const startAt = Math.max(0, Number(request.query.get('startAt') ?? 0) || 0);
    const maxResults = Math.min(5000, Math.max(1, Number(request.query.get('maxResults') ?? 5000) || 5000));
    const page = issue.comments.slice(startAt, startAt + maxResults);
    return json(200, {
      startAt,
      maxResults,
      total: issue.comments.length,
      comments: page.map((c) =>
        this.renderComment(issue, c, version, this.caller(request).accountId, request.baseUrl),
      ),
    });
  }

  /**
   * GET /rest/api/{2,3}/issue/{issueIdOrKey}/comment/{id} (platform OpenAPI, getComment): 404 when
   * the issue or the comment is not found. jira.js 6 reads a comment it wrote as a string back this way.
   */
  private getCommentRoute(request: StandInRequest): StandInResponse {
    const version = this.apiVersion(request);
    const issue = this.issueOf(request);
    if (!version) return this.routeNotFound();
    if (!issue) return issueNotFound();
    const comment = issue.comments.find((c) => c.id === request.params.id);
    if (!comment) return errorCollection(404, [`Can not find a comment for id: ${request.params.id}.`], {});
    return json(
      200,
      this.renderComment(issue, comment, version, this.caller(request).accountId, request.baseUrl),
    );
  }

  private addCommentRoute(request: StandInRequest): StandInResponse {
    const version = this.apiVersion(request);
    const issue = this.issueOf(request);
    if (!version) return this.routeNotFound();
    if (!issue) return issueNotFound();
    const { body } = jsonBody<{ body?: unknown }>(request) ?? {};
    const valid = version === 'v3' ? isAdfDocument(body) : typeof body === 'string' && body.trim() !== '';
    if (!valid) {
      return errorCollection(400, [], {
        comment: version === 'v3' ? 'Comment body is not valid!' : 'Comment body can not be empty!',
      });
    }
    const comment = this.storeComment(issue, this.caller(request).accountId, body as Body);
    return json(201, this.renderComment(issue, comment, version, comment.authorId, request.baseUrl));
  }

  private transitionsRoute(request: StandInRequest): StandInResponse {
    const issue = this.issueOf(request);
    if (!this.apiVersion(request)) return this.routeNotFound();
    if (!issue) return issueNotFound();
    const transitions = STATUSES.map((status, index) => ({ status, index }))
      .filter(({ status }) => status.id !== issue.statusId)
      .map(({ status, index }) => ({
        id: transitionIdOf(index),
        name: status.name,
        to: renderStatus(status, request.baseUrl),
        hasScreen: false,
        isGlobal: true,
        isInitial: false,
        isAvailable: true,
        isConditional: false,
      }));
    return json(200, { expand: 'transitions', transitions });
  }

  private doTransitionRoute(request: StandInRequest): StandInResponse {
    const issue = this.issueOf(request);
    if (!this.apiVersion(request)) return this.routeNotFound();
    if (!issue) return issueNotFound();
    const { transition } = jsonBody<{ transition?: { id?: string } }>(request) ?? {};
    const index = STATUSES.findIndex((_, i) => transitionIdOf(i) === transition?.id);
    const target = STATUSES[index];
    if (!target || target.id === issue.statusId) {
      return errorCollection(
        400,
        [`Transition id '${transition?.id ?? ''}' is not valid for this issue.`],
        {},
      );
    }
    this.applyTransition(issue, index, this.caller(request).accountId);
    return { status: 204 };
  }

  private getUserRoute(request: StandInRequest): StandInResponse {
    const accountId = request.query.get('accountId');
    if (!accountId) return errorCollection(400, ['The query parameter accountId is required.'], {});
    const user = this.users.get(accountId);
    if (!user)
      return errorCollection(404, ['Specified user does not exist or you do not have access to it.'], {});
    return json(
      200,
      renderUser(user, request.baseUrl, this.emailRendering(user, this.caller(request).accountId)),
    );
  }

  private myselfRoute(request: StandInRequest): StandInResponse {
    const caller = this.caller(request);
    return json(200, renderUser(caller, request.baseUrl, this.emailRendering(caller, caller.accountId)));
  }

  /**
   * `GET /rest/api/{2,3}/user/email` and `/user/email/bulk`: "For Connect apps, this API is only available
   * to apps approved by Atlassian … For Forge apps, this API only supports access via asApp() requests."
   * Every caller here is a user with an API token, which the OpenAPI's 401 names: "Returned if the
   * authentication credentials are incorrect or missing from the request (for example if a user is trying
   * to access this API)." Jira does not document the body; this is the body its other 401s carry.
   */
  private userEmailRoute(request: StandInRequest): StandInResponse {
    if (!this.apiVersion(request)) return this.routeNotFound();
    return {
      status: 401,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: 'Client must be authenticated to access this resource.',
    };
  }

  /** A user's email as a viewer sees it: hidden emails are visible to the user alone ("Only you"). */
  private emailRendering(user: JiraUser, viewerId: string | undefined): EmailRendering {
    return !user.hideEmail || user.accountId === viewerId ? 'show' : this.hiddenEmail;
  }

  // --- model --------------------------------------------------------------

  private createIssue(
    input: Omit<StoredIssue, 'id' | 'key' | 'statusId' | 'created' | 'updated' | 'comments'>,
  ) {
    const number = (this.issueCounters.get(input.projectKey) ?? 0) + 1;
    this.issueCounters.set(input.projectKey, number);
    const now = this.clock.now().toISOString();
    const issue: StoredIssue = {
      ...input,
      id: String(this.nextIssueId++),
      key: `${input.projectKey}-${number}`,
      statusId: STATUSES[0].id,
      created: now,
      updated: now,
      comments: [],
    };
    this.issues.set(issue.key, issue);
    return issue;
  }

  private applyTransition(issue: StoredIssue, index: number, actorId: string): void {
    const from = STATUSES.find((s) => s.id === issue.statusId) ?? STATUSES[0];
    const to = STATUSES[index] ?? STATUSES[0];
    issue.statusId = to.id;
    issue.updated = this.clock.now().toISOString();
    this.emit('jira:issue_updated', issue, actorId, {
      issue_event_type_name: 'issue_generic',
      changelog: {
        id: String(this.nextChangelogId++),
        items: [
          {
            field: 'status',
            fieldtype: 'jira',
            fieldId: 'status',
            from: from.id,
            fromString: from.name,
            to: to.id,
            toString: to.name,
          },
        ],
      },
    });
  }

  private issueOf(request: StandInRequest): StoredIssue | undefined {
    const ref = request.params.key ?? '';
    return this.issues.get(ref) ?? [...this.issues.values()].find((i) => i.id === ref);
  }

  /** A user by account id, scenario person id or email. */
  private findUser(ref: string): JiraUser | undefined {
    const accountId = this.accountOfPerson.get(ref) ?? ref;
    return this.users.get(accountId) ?? [...this.users.values()].find((u) => u.emailAddress === ref);
  }

  private renderIssue(
    issue: StoredIssue,
    version: 'v2' | 'v3',
    /** `showAll`: the control API's view; `webhook`: no user carries an email (as admin webhooks are sent). */
    options: { viewerId: string | undefined; showAll?: boolean; webhook?: boolean; baseUrl?: string },
  ): Record<string, unknown> {
    const base = options.baseUrl ?? this.url;
    const project = this.projects.find((p) => p.key === issue.projectKey);
    const status = STATUSES.find((s) => s.id === issue.statusId) ?? STATUSES[0];
    const reporter = this.users.get(issue.reporterId);
    const rendering: EmailRendering | undefined = options.showAll
      ? 'show'
      : options.webhook
        ? 'omit'
        : undefined;
    const emailOf = (user: JiraUser) => rendering ?? this.emailRendering(user, options.viewerId);
    return {
      id: issue.id,
      key: issue.key,
      self: `${base}/rest/api/${version === 'v2' ? 2 : 3}/issue/${issue.id}`,
      fields: {
        summary: issue.summary,
        description: issue.description === undefined ? null : convertBody(issue.description, version),
        reporter: reporter ? renderUser(reporter, base, emailOf(reporter)) : null,
        creator: reporter ? renderUser(reporter, base, emailOf(reporter)) : null,
        status: renderStatus(status, base),
        project: {
          id: String(10_000 + this.projects.findIndex((p) => p.key === issue.projectKey)),
          key: issue.projectKey,
          name: project?.name,
          self: `${base}/rest/api/3/project/${issue.projectKey}`,
        },
        issuetype: { name: issue.issueType, subtask: false },
        created: jiraTime(issue.created),
        updated: jiraTime(issue.updated),
        ...issue.customFields,
      },
    };
  }

  private renderComment(
    issue: StoredIssue,
    comment: StoredComment,
    version: 'v2' | 'v3',
    viewerId: string | undefined,
    baseUrl = this.url,
  ) {
    const author = this.users.get(comment.authorId);
    return {
      id: comment.id,
      self: `${baseUrl}/rest/api/${version === 'v2' ? 2 : 3}/issue/${issue.id}/comment/${comment.id}`,
      author: author ? renderUser(author, baseUrl, this.emailRendering(author, viewerId)) : null,
      body: convertBody(comment.body, version),
      created: jiraTime(comment.created),
      updated: jiraTime(comment.updated),
      jsdPublic: true,
    };
  }

  // --- webhooks -----------------------------------------------------------

  private webhookEvents(): JiraWebhookEvent[] {
    return this.webhook?.events ?? ['jira:issue_created', 'jira:issue_updated'];
  }

  private emit(
    event: JiraWebhookEvent,
    issue: StoredIssue,
    actorId: string,
    extra: Record<string, unknown> = {},
  ) {
    if (!this.webhook || !this.webhookEvents().includes(event)) return;
    const actor = this.users.get(actorId);
    // Webhooks carry the description as stored and hide email addresses, as privacy settings usually do.
    const payload = {
      timestamp: this.clock.now().getTime(),
      webhookEvent: event,
      ...(event === 'jira:issue_created' ? { issue_event_type_name: 'issue_created' } : {}),
      user: actor ? renderUser(actor, this.url, 'omit') : undefined,
      issue: this.renderIssueForWebhook(issue),
      ...extra,
    };
    const delivery: PendingDelivery = {
      identifier: randomUUID(),
      body: JSON.stringify(payload),
      retries: 0,
      dueAt: this.clock.now().getTime(),
    };
    this.attempt(delivery, event);
  }

  /** Admin webhooks carry the issue as REST v2 renders it: the description is wiki-markup text, never ADF. */
  private renderIssueForWebhook(issue: StoredIssue) {
    return this.renderIssue(issue, 'v2', { viewerId: undefined, webhook: true });
  }

  private attempt(delivery: PendingDelivery, event: string): void {
    const webhook = this.webhook;
    if (!webhook) return;
    const headers: Record<string, string> = {
      'x-hub-signature': `sha256=${hmacHex(webhook.secret, delivery.body)}`,
      'x-atlassian-webhook-identifier': delivery.identifier,
      'user-agent': 'Atlassian Webhook HTTP Client',
    };
    if (delivery.retries > 0) headers['x-atlassian-webhook-retry'] = String(delivery.retries);
    const run = postWebhook(webhook.url, delivery.body, headers, DELIVERY_TIMEOUT_MS, this.clock.now()).then(
      (result) => {
        this.deliveries.push({
          ...result,
          identifier: delivery.identifier,
          event,
          retry: delivery.retries,
          body: delivery.body,
        });
        const retryable = result.status === undefined || result.status >= 500 || RETRYABLE.has(result.status);
        const delay = RETRY_DELAYS_MINUTES[delivery.retries];
        if (retryable && delay !== undefined) {
          this.pending.push({
            ...delivery,
            retries: delivery.retries + 1,
            dueAt: this.clock.now().getTime() + delay * 60_000,
          });
        }
      },
    );
    const tracked = run.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private runDueRetries(): void {
    const now = this.clock.now().getTime();
    for (const delivery of [...this.pending]) {
      if (delivery.dueAt > now) continue;
      this.pending.splice(this.pending.indexOf(delivery), 1);
      const event = (JSON.parse(delivery.body) as { webhookEvent: string }).webhookEvent;
      this.attempt(delivery, event);
    }
  }
}

function errorCollection(
  status: number,
  errorMessages: string[],
  errors: Record<string, string>,
): StandInResponse {
  return json(status, { errorMessages, errors });
}

function issueNotFound(): StandInResponse {
  return errorCollection(404, ['Issue does not exist or you do not have permission to see it.'], {});
}

function renderUser(user: JiraUser, baseUrl: string, email: EmailRendering) {
  return {
    self: `${baseUrl}/rest/api/3/user?accountId=${encodeURIComponent(user.accountId)}`,
    accountId: user.accountId,
    accountType: 'atlassian',
    ...(email === 'show'
      ? { emailAddress: user.emailAddress }
      : email === 'null'
        ? { emailAddress: null }
        : {}),
    displayName: user.displayName,
    active: user.active,
    timeZone: user.timeZone,
  };
}

/** The person's `jira.hideEmail` (schema), read wherever the resolved scenario carries it. */
function personHidesEmail(person: Scenario['people'][number]): boolean {
  const jira: object = person.jira;
  return 'hideEmail' in jira && jira.hideEmail === true;
}

function renderStatus(status: (typeof STATUSES)[number], baseUrl: string) {
  return {
    self: `${baseUrl}/rest/api/3/status/${status.id}`,
    id: status.id,
    name: status.name,
    statusCategory: STATUS_CATEGORIES[status.category],
  };
}

function convertBody(body: Body, version: 'v2' | 'v3'): Body {
  if (version === 'v3') return typeof body === 'string' ? textToAdf(body) : body;
  return typeof body === 'string' ? body : adfToWiki(body);
}

/** Jira's timestamp format: `2026-11-21T09:00:00.000+0000`. */
function jiraTime(iso: string): string {
  return iso.replace('Z', '+0000');
}
