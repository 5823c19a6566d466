// `loopgate demo`: four access requests through the real handlers in the
// sandbox, shown as they happen. Every line printed about a ticket is read back
// from the world (the stand-ins' state and loopgate's table) after the demo
// acted as a person would: filing a ticket in Jira, writing a note on a
// PagerDuty incident, moving the sandbox clock. Nothing is shortcut: triage,
// decisions, grants and revokes are loopgate's own functions on the local
// Lambda host. A step that never happens stops the demo with what it saw, exit 1.

import { type Catalog, type Entitlement } from '../../lambdas/core/catalog';
import type { AccessRequest, AuditEvent, RequestState } from '../../lambdas/core/model';
import { loadCatalogFile } from '../../lambdas/platform/catalog-file';
import type { ScenarioPerson } from '../../sandbox/scenario/load';
import { Sandbox } from '../../sandbox/world';
import {
  boxed,
  clip,
  clockTime,
  fields,
  heading,
  indent,
  millis,
  span,
  type Style,
  style,
  table,
} from './format';
import {
  DemoInterruptedError,
  DemoTimeoutError,
  grantInWorld,
  jiraThread,
  oktaGroupLogins,
  onCallNow,
  pageOf,
  person,
  waitFor,
} from './observe';

export interface DemoIo {
  out(text: string): void;
  err(text: string): void;
  /** Resolves when the user asks the demo to stop (Ctrl-C, SIGTERM). */
  interrupted(): Promise<void>;
}

export interface DemoOptions {
  /** ANSI colour: on for a terminal (stdout a TTY, NO_COLOR unset), off otherwise. */
  color?: boolean;
  scenarioFile?: string;
  /** How long one step (a page, a grant, a revoke) may take before the demo gives up. */
  stepTimeoutMs?: number;
  /** Run in this sandbox and leave it running (a test looks at the world afterwards). */
  sandbox?: Sandbox;
}

/** One ticket's end, as the closing table shows it and a test checks it. */
export interface TicketOutcome {
  story: string;
  key?: string;
  requestId?: string;
  requester: string;
  entitlement: string;
  /** The request's state when the demo left it (read from the store). */
  finalState?: RequestState;
  decision?: string;
  approvers: string[];
  grantedAt?: string;
  revokedAt?: string;
  /** Wall clock, filing → the incident exists. */
  timeToPageMs?: number;
  /** Wall clock, the deciding note (or for break-glass the filing) → GRANTED. */
  timeToGrantMs?: number;
  grantFrom?: 'approving note' | 'filing';
  review?: string;
  /** What the stand-in held: the access in place after the grant, gone after the revoke. */
  heldAfterGrant?: boolean;
  heldAfterRevoke?: boolean;
}

export interface DemoResult {
  code: number;
  outcomes: TicketOutcome[];
  /** The request whose full audit trail was printed. */
  auditedRequestId?: string;
}

const LOG_LINES_KEPT = 200;

export async function demo(io: DemoIo, options: DemoOptions = {}): Promise<number> {
  return (await runDemo(io, options)).code;
}

export async function runDemo(io: DemoIo, options: DemoOptions = {}): Promise<DemoResult> {
  const s = style(options.color ?? false);
  const started = performance.now();
  const stop = new AbortController();
  void io.interrupted().then(() => stop.abort());
  // loopgate's own JSON log lines: kept, not shown, unless something goes wrong.
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(line);
    if (logs.length > LOG_LINES_KEPT) logs.shift();
  };
  const progress = (line: string) => io.out(`${s.dim(`  … ${line}`)}\n`);

  io.out(
    `${s.bold('loopgate demo')}: four access requests through the real handlers, against local stand-ins of Jira, PagerDuty, Okta, AWS IAM, Slack and a model.\n`,
  );
  const outcomes: TicketOutcome[] = [];
  let sandbox: Sandbox | undefined;
  let auditedRequestId: string | undefined;
  try {
    const starting = options.sandbox
      ? Promise.resolve(options.sandbox)
      : Sandbox.start({
          ...(options.scenarioFile ? { scenarioFile: options.scenarioFile } : {}),
          log,
          progress,
        });
    // A signal during startup must still stop what was started.
    sandbox = await Promise.race([
      starting,
      new Promise<never>((_, reject) =>
        stop.signal.addEventListener('abort', () => reject(new DemoInterruptedError()), { once: true }),
      ),
    ]).catch(async (error: unknown) => {
      if (error instanceof DemoInterruptedError) await starting.then((w) => w.stop()).catch(() => {});
      throw error;
    });
    progress(
      `sandbox up in ${millis(performance.now() - started)}; the sandbox clock reads ${clockTime(sandbox.clock.now())} UTC`,
    );

    // The catalog the functions themselves load, so the demo describes what they enforce.
    const catalogFile = sandbox.loopgateEnvironment().LOOPGATE_CATALOG_FILE ?? 'config/catalog.yaml';
    const world = new DemoWorld(sandbox, loadCatalogFile(catalogFile), io, s, {
      signal: stop.signal,
      timeoutMs: options.stepTimeoutMs ?? 20_000,
    });
    for (const story of STORIES) {
      const outcome: TicketOutcome = {
        story: story.title,
        requester: story.reporter,
        entitlement: story.entitlement,
        approvers: [],
      };
      outcomes.push(outcome);
      await story.run(world, outcome);
      if (story.audited) auditedRequestId = outcome.requestId;
    }

    io.out(heading(s, 'Summary'));
    io.out(`${summaryTable(s, outcomes)}\n`);
    io.out(
      `${s.dim(
        [
          '  time to page: wall clock, from filing the ticket to the incident existing in PagerDuty.',
          '  time to grant: wall clock, from the approving note to the request being GRANTED (* break-glass: from filing).',
          '  granted / revoked: the sandbox clock (UTC), which the demo moves to each expiry.',
        ].join('\n'),
      )}\n`,
    );
    if (auditedRequestId) await world.printAuditTrail(auditedRequestId);
    io.out(
      `\n${s.green('✔')} done in ${millis(performance.now() - started)} (wall clock, from starting the sandbox); the sandbox clock ends at ${clockTime(sandbox.clock.now())} UTC.\n`,
    );
    return { code: 0, outcomes, ...(auditedRequestId ? { auditedRequestId } : {}) };
  } catch (error) {
    if (error instanceof DemoInterruptedError) {
      io.err('\nloopgate demo: interrupted; stopping the sandbox …\n');
      return { code: 130, outcomes };
    }
    io.out(`\n${s.red(s.bold('✘ the demo stopped:'))} ${(error as Error).message}\n`);
    if (sandbox) await whatWasSeen(sandbox, outcomes, io, s);
    const problems = logs.filter((l) => /"level":"(warn|error)"/.test(l)).slice(-15);
    if (problems.length > 0) {
      io.out(`\n${s.bold("loopgate's last warnings and errors:")}\n${indent(problems.join('\n'), '  ')}\n`);
    }
    if (!(error instanceof DemoTimeoutError)) io.err(`${(error as Error).stack ?? String(error)}\n`);
    return { code: 1, outcomes };
  } finally {
    if (!options.sandbox) await sandbox?.stop();
  }
}

/** On failure: each ticket's request as stored now, so the reader sees where it stuck. */
async function whatWasSeen(sandbox: Sandbox, outcomes: TicketOutcome[], io: DemoIo, s: Style) {
  io.out(`\n${s.bold('What the demo saw:')}\n`);
  for (const o of outcomes) {
    const request = o.key ? await sandbox.store.getByJiraIssueKey(o.key).catch(() => undefined) : undefined;
    io.out(
      `  ${o.key ?? '(not filed)'} ${o.entitlement} for ${o.requester}: ${request?.state ?? 'no request stored'}\n`,
    );
    if (!request) continue;
    const trail = await sandbox.store.listAuditEvents(request.id).catch(() => []);
    for (const e of trail) io.out(`    v${e.version} ${e.from ?? ''} → ${e.to}  ${clip(e.reason, 110)}\n`);
  }
}

function summaryTable(s: Style, outcomes: TicketOutcome[]): string {
  const decisionCell = (o: TicketOutcome) => {
    const text = o.decision ?? '—';
    return o.finalState === 'DENIED' ? s.red(text) : o.decision ? s.green(text) : text;
  };
  return table(
    s,
    ['REQUEST', 'DECISION', 'APPROVERS', 'GRANTED', 'REVOKED', 'TIME TO PAGE', 'TIME TO GRANT'],
    outcomes.map((o) => [
      `${o.key ?? '?'} ${o.requester} → ${o.entitlement}`,
      decisionCell(o),
      o.approvers.join(', ') || '—',
      o.grantedAt ? clockTime(o.grantedAt).slice(11) : 'no',
      o.revokedAt ? clockTime(o.revokedAt).slice(11) : 'no',
      o.timeToPageMs === undefined ? '—' : millis(o.timeToPageMs),
      o.timeToGrantMs === undefined
        ? '—'
        : `${millis(o.timeToGrantMs)}${o.grantFrom === 'filing' ? ' *' : ''}`,
    ]),
  );
}

// --- the four tickets ---------------------------------------------------------

interface Story {
  title: string;
  reporter: string;
  entitlement: string;
  /** Its full audit trail is printed at the end. */
  audited?: boolean;
  run(world: DemoWorld, outcome: TicketOutcome): Promise<void>;
}

const STORIES: Story[] = [
  {
    title: 'A routine request, approved by the on-call owner (an IAM Identity Center permission set)',
    reporter: 'sam',
    entitlement: 'aws-prod-readonly-sso',
    async run(world, outcome) {
      const filed = await world.file(outcome, {
        duration: '4h',
        justification:
          'INC-4411: checking the auth errors behind the checkout latency on the production dashboards',
      });
      const approver = world.pagedPerson(filed.incidentId);
      await world.note(filed, approver, 'approve checked INC-4411 with Sam', { deciding: true });
      await world.expectState(filed, 'approved', ['APPROVED', 'GRANTED']);
      await world.grantAndExpire(filed, outcome);
    },
  },
  {
    title: 'A risky request (new country, no MFA), denied with a reason',
    reporter: 'noah',
    entitlement: 'aws-logs-read',
    async run(world, outcome) {
      const filed = await world.file(outcome, { duration: '3d', justification: 'need it for the audit' });
      // aws-logs-read is approved by listed people, not by whoever is on call.
      const approver = world.listedApprover(filed.entitlement, [filed.requester.email]);
      await world.note(
        filed,
        approver,
        'deny no MFA and a first sign-in from Romania during the phishing wave on finance; enrol MFA and ask again with a ticket number',
      );
      const denied = await world.expectState(filed, 'denied', ['DENIED']);
      await world.quiesce();
      world.printNotes(filed.incidentId, 'Notes on');
      world.printDecision(denied, outcome);
      world.say(world.s.dim('Nothing is granted, so nothing expires: no Okta or IAM change, no schedule.'));
      await world.finish(filed, outcome);
    },
  },
  {
    title: 'A 2-approval entitlement: one approval is not enough',
    reporter: 'tomas',
    entitlement: 'okta-prod-admin',
    audited: true,
    async run(world, outcome) {
      const filed = await world.file(outcome, {
        duration: '1h',
        justification: 'INC-4411: rotate the checkout app’s SCIM token in the production Okta org',
      });
      const first = world.pagedPerson(filed.incidentId);
      await world.note(filed, first, 'approve on call for identity; INC-4411 is real');
      const waiting = await world.expectState(filed, 'still waiting after one approval', ['PENDING']);
      world.say(
        `${world.s.yellow('still PENDING')}: ${waiting.decisions.length} of ${filed.entitlement.approvalsRequired} approvals recorded; a second person must agree`,
      );
      const second = world.groupApprover(filed.entitlement, [filed.requester.email, first.email]);
      await world.note(filed, second, 'approve security lead; second pair of eyes', { deciding: true });
      await world.expectState(filed, 'approved by quorum', ['APPROVED', 'GRANTED']);
      await world.grantAndExpire(filed, outcome);
    },
  },
  {
    title: 'Break-glass: granted at once, reviewed after by security',
    reporter: 'dana',
    entitlement: 'aws-prod-db-connect',
    async run(world, outcome) {
      const filed = await world.file(outcome, {
        duration: '1h',
        justification:
          'INC-4411: checkout is down, the prod connection pool is saturated; killing idle sessions',
        labels: ['break-glass'],
        breakGlass: true,
      });
      // The page went to the catalog's break-glass alert policy: its on-call is the reviewer.
      const reviewer = world.pagedPerson(filed.incidentId);
      await world.grantAndExpire(filed, outcome, async () => {
        await world.note(filed, reviewer, 'approve INC-4411 confirmed in #incidents; kept until it expires');
        const reviewed = await world.waitRequest(filed, 'the break-glass review to be recorded', (r) =>
          r.review ? r : undefined,
        );
        outcome.review = `${reviewed.review?.outcome} by ${reviewed.review?.by}`;
        outcome.decision = `${outcome.decision ?? 'granted'}; review: ${reviewed.review?.outcome}`;
        outcome.approvers.push(`${reviewer.name} (review)`);
        world.say(
          `${world.s.green('reviewed')}: ${reviewed.review?.outcome} by ${reviewed.review?.by} at ${clockTime(reviewed.review?.at ?? '')}${reviewed.review?.reason ? ` ("${reviewed.review.reason}")` : ''}`,
        );
        world.printNotes(filed.incidentId, 'New notes on');
      });
    },
  },
];

// --- acting in the world and showing it -----------------------------------------

interface Filed {
  key: string;
  requestId: string;
  incidentId: string;
  requester: ScenarioPerson;
  entitlement: Entitlement;
  /** performance.now() when the deciding note was written (or the ticket filed, for break-glass). */
  decidedAt: number;
  breakGlass: boolean;
}

class DemoWorld {
  private storyNumber = 0;
  /** Notes already shown, by incident, so later ones are shown once as they arrive. */
  private readonly notesShown = new Map<string, number>();

  constructor(
    readonly sandbox: Sandbox,
    readonly catalog: Catalog,
    private readonly io: DemoIo,
    readonly s: Style,
    private readonly wait: { signal: AbortSignal; timeoutMs: number },
  ) {}

  say(text: string, prefix = '  '): void {
    this.io.out(`${indent(text, prefix)}\n`);
  }

  private progress(text: string): void {
    this.io.out(`${this.s.dim(`  … ${text}`)}\n`);
  }

  entitlementOf(id: string): Entitlement {
    const e = this.catalog.entitlements.find((x) => x.id === id);
    if (!e) throw new Error(`the catalog has no entitlement "${id}"`);
    return e;
  }

  /** Files the ticket as the requester and waits for the page; prints the ticket and the page. */
  async file(
    outcome: TicketOutcome,
    ticket: { duration: string; justification: string; labels?: string[]; breakGlass?: boolean },
  ): Promise<Filed> {
    const { sandbox, s } = this;
    const requester = person(sandbox, outcome.requester);
    const entitlement = this.entitlementOf(outcome.entitlement);
    outcome.requester = requester.name;
    this.storyNumber += 1;
    this.io.out(heading(s, `${this.storyNumber}/4  ${outcome.story}`));

    const filedAt = performance.now();
    const { key } = sandbox.jira.fileTicket({
      reporter: requester.id,
      entitlement: entitlement.id,
      duration: ticket.duration,
      justification: ticket.justification,
      ...(ticket.labels ? { labels: ticket.labels } : {}),
    });
    outcome.key = key;
    this.say(`${s.bold(`Jira ${key}`)} filed by ${requester.name} <${requester.email}>, ${requester.title}`);
    this.say(
      fields(s, [
        ['entitlement', `${entitlement.id}: ${entitlement.description}`],
        [
          'catalog',
          `risk ${entitlement.riskTier}, mode ${entitlement.mode}, ${entitlement.approvalsRequired} approval${entitlement.approvalsRequired === 1 ? '' : 's'}, owners ${entitlement.owners.escalationPolicy}`,
        ],
        ['duration', ticket.duration],
        ['reason', `"${ticket.justification}"`],
        ...(ticket.labels ? ([['labels', ticket.labels.join(', ')]] as [string, string][]) : []),
      ]),
      '    ',
    );
    this.progress(
      'Jira sends the signed webhook; triage gathers Okta, IAM, Slack, PagerDuty and history, asks the model, pages',
    );

    await sandbox.jira.settled();
    let timeToPage: number | undefined;
    const paged = await this.waitFor(
      `${key} to be paged`,
      async () => {
        const r = await sandbox.store.getByJiraIssueKey(key);
        if (r?.incidentId && timeToPage === undefined) timeToPage = performance.now() - filedAt;
        return r?.incidentId && r.state !== 'RECEIVED' && r.state !== 'TRIAGING' ? r : undefined;
      },
      async () => this.describeRequest(await sandbox.store.getByJiraIssueKey(key)),
    );
    // loopgate's own "how to answer" note goes round PagerDuty's webhook too.
    await this.quiesce();
    outcome.requestId = paged.id;
    outcome.timeToPageMs = timeToPage;
    const incidentId = paged.incidentId ?? '';
    const page = pageOf(sandbox, incidentId);
    if (!page)
      throw new Error(`${key}: the store names incident ${incidentId}, which PagerDuty does not have`);

    this.say(
      `${s.bold('Paged')} in ${s.bold(millis(timeToPage ?? 0))} (wall clock, filing → incident): incident #${page.number} ${page.id} on ${page.service}, ` +
        `escalation policy ${page.policy}, urgency ${page.urgency === 'high' ? s.red(page.urgency) : page.urgency}; ` +
        `request ${paged.id} is ${paged.state}`,
    );
    this.say(`assigned to ${page.assignees.join(', ') || 'nobody'}`, '    ');
    this.io.out(
      `${boxed(
        s,
        s.bold(`The page as ${page.assignees[0] ?? 'the approver'} reads it in PagerDuty`),
        `${s.bold(page.title)}\n\n${page.details}`,
        '    ',
      )}\n`,
    );
    return {
      key,
      requestId: paged.id,
      incidentId,
      requester,
      entitlement,
      decidedAt: filedAt,
      breakGlass: ticket.breakGlass ?? false,
    };
  }

  /** The person PagerDuty assigned the incident to: the on-call the page reached. */
  pagedPerson(incidentId: string): ScenarioPerson {
    const incident = this.sandbox.pagerduty.incident(incidentId);
    const assigned = incident?.assignments[0]?.person;
    if (assigned) return assigned;
    const onCall = incident ? onCallNow(this.sandbox, incident.policy.id)[0] : undefined;
    if (!onCall) throw new Error(`incident ${incidentId} reached nobody`);
    return onCall;
  }

  /** The first person the catalog lists by email, other than those excluded. */
  listedApprover(entitlement: Entitlement, exclude: (string | undefined)[]): ScenarioPerson {
    const email = entitlement.approvers?.emails.find((e) => !exclude.includes(e));
    if (!email) throw new Error(`${entitlement.id} lists no approver by email`);
    return person(this.sandbox, email);
  }

  /** A member of the catalog's approver Okta group (as Okta holds it now), other than those excluded. */
  groupApprover(entitlement: Entitlement, exclude: (string | undefined)[]): ScenarioPerson {
    const groupId = entitlement.approvers?.oktaGroup;
    if (!groupId) throw new Error(`${entitlement.id} names no approver group`);
    const login = oktaGroupLogins(this.sandbox, groupId).logins.find((l) => !exclude.includes(l));
    if (!login) throw new Error(`nobody else is in ${groupId}`);
    return person(this.sandbox, login);
  }

  /** A person writes a note on the incident; resolves once the decide function has handled it. */
  async note(filed: Filed, who: ScenarioPerson, content: string, options: { deciding?: boolean } = {}) {
    this.say(
      `${this.s.magenta(`${who.name} writes a note`)} on the incident: ${this.s.bold(`"${content}"`)}`,
    );
    if (options.deciding) filed.decidedAt = performance.now();
    this.sandbox.pagerduty.addNote(filed.incidentId, who.id, content);
    await this.sandbox.settled();
  }

  async waitRequest<T>(filed: Filed, what: string, probe: (r: AccessRequest) => T | undefined): Promise<T> {
    return this.waitFor(
      `${filed.key}: ${what}`,
      async () => {
        const r = await this.sandbox.store.get(filed.requestId);
        return r ? probe(r) : undefined;
      },
      async () => this.describeRequest(await this.sandbox.store.get(filed.requestId)),
    );
  }

  expectState(filed: Filed, what: string, states: RequestState[]): Promise<AccessRequest> {
    return this.waitRequest(filed, `${what} (${states.join(' or ')})`, (r) =>
      states.includes(r.state) ? r : undefined,
    );
  }

  printDecision(request: AccessRequest, outcome: TicketOutcome): void {
    const { s } = this;
    outcome.approvers = [
      ...new Set(
        request.decisions.map((d) =>
          d.actor.kind === 'person' ? this.personName(d.actor.id) : `${d.actor.kind} ${d.actor.id}`,
        ),
      ),
    ];
    const verdict = request.state === 'DENIED' ? 'denied' : request.breakGlass ? 'break-glass' : 'approved';
    outcome.decision =
      request.state === 'DENIED'
        ? 'denied'
        : request.breakGlass && request.decisions.every((d) => d.actor.kind === 'rule')
          ? 'granted by break-glass rule'
          : `approved ${request.decisions.filter((d) => d.outcome === 'approve').length} of ${this.entitlementOf(request.entitlementId).approvalsRequired}`;
    const lines = request.decisions.map(
      (d) =>
        `${d.outcome === 'deny' ? s.red(d.outcome) : s.green(d.outcome)} by ${d.actor.kind} ${d.actor.id} at ${clockTime(d.decidedAt)}` +
        `${d.durationSeconds ? ` for ${span(d.durationSeconds)}` : ''}${d.comment ? `: "${d.comment}"` : ''}`,
    );
    this.say(`${s.bold('Decision')}: ${request.state} (${verdict})`);
    this.say(lines.join('\n') || '(no decisions recorded)', '    ');
  }

  /**
   * Waits for the grant, shows it as the stand-in holds it, runs `meanwhile` (the break-glass review),
   * moves the sandbox clock past the expiry, lets the Scheduler fire the revoke, shows the revoke, the
   * Jira thread and the notes.
   */
  async grantAndExpire(filed: Filed, outcome: TicketOutcome, meanwhile?: () => Promise<void>): Promise<void> {
    const { sandbox, s } = this;
    this.progress('provisioning: the provision function takes the approved request off its queue');
    const granted = await this.expectState(filed, 'the grant', ['GRANTED']);
    outcome.timeToGrantMs = performance.now() - filed.decidedAt;
    outcome.grantFrom = filed.breakGlass ? 'filing' : 'approving note';
    await this.quiesce();
    this.printNotes(filed.incidentId, 'Notes on');
    this.printDecision(granted, outcome);
    const grant = granted.grant;
    if (!grant) throw new Error(`${filed.key} is GRANTED without a grant`);
    outcome.grantedAt = grant.grantedAt;
    const held = grantInWorld(sandbox, granted, filed.entitlement);
    outcome.heldAfterGrant = held.inPlace;
    this.say(
      `${s.bold(s.green('Granted'))} ${millis(outcome.timeToGrantMs)} after ${outcome.grantFrom === 'filing' ? 'filing' : 'the approving note'} (wall clock): ` +
        `${grant.action} ${grant.target} for ${grant.principal}, ${clockTime(grant.grantedAt)} → ${clockTime(grant.expiresAt)} UTC` +
        `${grant.preExisting ? ' (held before: the revoke will leave it)' : ''}`,
    );
    this.say(held.lines.join('\n'), '    ');
    const schedule = sandbox.host.scheduler
      .state()
      .schedules.find((x) => String(x.Name).endsWith(granted.id));
    this.say(
      schedule
        ? `EventBridge Scheduler: ${String(schedule.Name)} fires at ${String(schedule.NextInvocation ?? '?')}`
        : s.yellow('EventBridge Scheduler: no revoke schedule for this grant (the sweeper would catch it)'),
      '    ',
    );

    if (meanwhile) await meanwhile();

    // To the expiry: the scheduler fires the revoke function at expiresAt.
    const by = Math.max(0, Date.parse(grant.expiresAt) - sandbox.clock.now().getTime()) + 60_000;
    const now = sandbox.clock.advance(by);
    this.say(
      `${s.bold(s.blue('Clock'))} moved ${span(by / 1000)} to ${clockTime(now)} UTC, past the expiry; the Scheduler runs what fell due`,
    );
    await sandbox.host.scheduler.runDue();
    const revoked = await this.expectState(filed, 'the revoke at expiry', ['REVOKED']);
    await this.quiesce();
    const lastEvent = (await sandbox.store.listAuditEvents(filed.requestId)).at(-1);
    outcome.revokedAt = lastEvent?.to === 'REVOKED' ? lastEvent.at : revoked.updatedAt;
    const after = grantInWorld(sandbox, revoked, filed.entitlement);
    outcome.heldAfterRevoke = after.inPlace;
    this.say(
      `${s.bold('Revoked')} at ${clockTime(outcome.revokedAt)} UTC by ${lastEvent?.actor.kind} ${lastEvent?.actor.id}: ${lastEvent?.reason ?? '?'}`,
    );
    this.say(after.lines.join('\n'), '    ');
    await this.finish(filed, outcome);
  }

  /** The end of a ticket: its final state, the Jira thread as the requester sees it. */
  async finish(filed: Filed, outcome: TicketOutcome): Promise<void> {
    await this.quiesce();
    const request = await this.sandbox.store.get(filed.requestId);
    outcome.finalState = request?.state;
    this.printNotes(filed.incidentId, 'New notes on');
    const thread = jiraThread(this.sandbox, filed.key);
    this.say(
      `${this.s.bold(`Jira ${filed.key}`)}: status ${thread?.status ?? '?'}, ${thread?.comments.length ?? 0} comments`,
    );
    for (const c of thread?.comments ?? []) {
      this.say(`${this.s.dim(clockTime(c.at))}  ${this.s.bold(c.author)}`, '    ');
      this.say(c.text, '      ');
    }
  }

  /** The incident's notes not shown yet, and its status. */
  printNotes(incidentId: string, title: string): void {
    const page = pageOf(this.sandbox, incidentId);
    const shown = this.notesShown.get(incidentId) ?? 0;
    const notes = page?.notes.slice(shown) ?? [];
    this.notesShown.set(incidentId, shown + notes.length);
    if (notes.length === 0 && shown > 0) {
      this.say(
        `${this.s.bold(`PagerDuty incident #${page?.number ?? '?'}`)}: no new notes; ${page?.status ?? '?'}`,
      );
      return;
    }
    this.say(
      `${this.s.bold(`${title} PagerDuty incident #${page?.number ?? '?'}`)}: ${notes.length} note${notes.length === 1 ? '' : 's'}; the incident is ${page?.status ?? 'not found'}`,
    );
    for (const n of notes) {
      const lines = n.content.split('\n');
      // loopgate's answer syntax repeats the page's last section; its first line says what it is.
      const text =
        lines.length > 3 && /^How to answer/.test(lines[0] ?? '')
          ? `${lines[0]} (${lines.length - 1} lines of syntax, as on the page)`
          : n.content;
      this.say(`${this.s.dim(clockTime(n.at))}  ${this.s.bold(n.author)}`, '    ');
      this.say(text, '      ');
    }
  }

  async printAuditTrail(requestId: string): Promise<void> {
    const { s } = this;
    const request = await this.sandbox.store.get(requestId);
    const trail = await this.sandbox.store.listAuditEvents(requestId);
    this.io.out(
      heading(
        s,
        `The audit trail of ${request?.jiraIssueKey ?? requestId} (${request?.entitlementId}): ${trail.length} events`,
      ),
    );
    this.say(
      s.dim(
        'Every transition, from loopgate’s table; evidence values over 80 characters are shown by their keys.',
      ),
    );
    for (const e of trail) this.say(auditLines(s, e));
  }

  private personName(email: string): string {
    return this.sandbox.scenario.people.find((p) => p.email === email)?.name ?? email;
  }

  private describeRequest(r: AccessRequest | undefined): string {
    if (!r) return 'no request stored for the ticket';
    return `request ${r.id} in ${r.state} (version ${r.version}), ${r.decisions.length} decision(s), incident ${r.incidentId ?? 'none'}${r.grant ? `, grant until ${r.grant.expiresAt}` : ''}`;
  }

  private waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    describe: () => Promise<string>,
  ): Promise<T> {
    return waitFor(what, probe, describe, this.wait);
  }

  /** Lets deliveries and queued work finish, so notes and comments that follow a step are in place. */
  async quiesce(): Promise<void> {
    await this.sandbox.jira.settled();
    await this.sandbox.settled();
    await this.sandbox.host.sqs.drain();
    await this.sandbox.settled();
    await this.sandbox.jira.settled();
  }
}

/** One audit event: when, the transition, who, why, and what evidence it carries (keys; long values cut). */
function auditLines(s: Style, e: AuditEvent): string {
  const head = `${s.dim(`v${String(e.version).padStart(2)}`)} ${clockTime(e.at)}  ${s.bold(`${e.from ?? '∅'} → ${e.to}`)}  ${e.actor.kind}:${e.actor.id}`;
  const evidence = Object.entries(e.evidence ?? {}).map(([k, v]) => `${k}=${evidenceValue(v)}`);
  return [
    head,
    `     ${e.reason}`,
    ...(evidence.length ? [`     ${s.dim(`evidence: ${evidence.join('; ')}`)}`] : []),
  ].join('\n');
}

function evidenceValue(v: unknown): string {
  if (v === null || typeof v !== 'object') return clip(String(v), 80);
  if (Array.isArray(v)) return `[${v.length} items]`;
  const keys = Object.keys(v);
  const json = JSON.stringify(v);
  return json.length <= 80 ? json : `{${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}}`;
}
