// The sandbox's control API: what a person or a script does to the local
// world that is not a vendor API call loopgate makes. File a ticket as someone,
// answer an incident as someone, move the clock, inject faults, script the
// model, and read every stand-in's state. Loopback only, so no auth.

import { parseDuration } from '../lambdas/core/duration';
import type { FaultRule } from './http/faults';
import { HttpStandIn, json, jsonBody, type StandInRequest, type StandInResponse } from './http/stand-in';
import type { ScriptedReply } from './openai/script';
import { type AppAction, PagerDutyRuleError } from './pagerduty/stand-in';
import { OKTA_STATUSES } from './scenario/schema';
import type { Sandbox, SandboxServices } from './world';

/** A request the control API refuses, with the reason the caller sees. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ROUTES = [
  'GET  /                                  this list',
  'GET  /state                             every stand-in, the Lambda host and the clock',
  'GET  /state/:service                    one of jira, pagerduty, okta, slack, iam, identityCenter, openai, lambda',
  "GET  /requests/:jiraKey                 loopgate's request for a ticket, with its audit trail (evidence, signals)",
  'GET  /clock                             the sandbox time',
  'POST /clock/advance                     {"by":"2h"} or {"ms":90000}: move time forward',
  'POST /jira/tickets                      {"reporter":"dana","entitlement":"…","duration":"4h","justification":"…","format":"fields|wiki|adf"}',
  'POST /jira/issues/:key/transition       {"status":"Cancelled","actor":"dana"}',
  'POST /pagerduty/incidents/:id/notes     {"user":"sam","content":"approve","app":"web|mobile","pagerdutyUser":"<id or email>"}: a note in the app',
  'POST /pagerduty/incidents/:id/acknowledge  {"user":"sam","app":"web|mobile","pagerdutyUser":"<id or email>"}',
  'POST /pagerduty/incidents/:id/resolve   {"user":"sam","app":"web|mobile","pagerdutyUser":"<id or email>"}',
  'POST /pagerduty/subscription/enable     re-enable a webhook subscription PagerDuty disabled',
  'POST /okta/users/:id/status             {"status":"SUSPENDED"}',
  'POST /openai/script                     {"replies":[…]}: the next model answers (see sandbox/openai/script.ts)',
  'DELETE /openai/script                   back to the sandbox-rules responder',
  'POST /faults/:service                   {"route":"GET /api/v1/users/:id","failNext":1,"status":500}',
  'DELETE /faults/:service                 clear that service’s faults',
];

export class ControlApi extends HttpStandIn {
  constructor(private readonly sandbox: Sandbox) {
    super('control');
    const route = (method: string, pattern: string, handler: (r: StandInRequest) => unknown) =>
      this.route(method, pattern, async (request) => {
        try {
          const result = await handler(request);
          return json(method === 'POST' && result !== undefined ? 201 : 200, result ?? { ok: true });
        } catch (error) {
          if (error instanceof ControlError) return json(error.status, { error: error.message });
          if (error instanceof PagerDutyRuleError) return error.response;
          throw error;
        }
      });

    route('GET', '/', () => ({ routes: ROUTES }));
    route('GET', '/state', () => this.fullState());
    route('GET', '/state/:service', (r) => this.serviceState(r.params.service ?? ''));
    route('GET', '/requests/:key', async (r) => {
      const request = await sandbox.store.getByJiraIssueKey(r.params.key ?? '');
      if (!request) throw new ControlError(404, `loopgate has no request for ${r.params.key}`);
      return { request, audit: await sandbox.store.listAuditEvents(request.id) };
    });
    route('GET', '/clock', () => ({ now: sandbox.clock.now().toISOString() }));
    route('POST', '/clock/advance', (r) => {
      const { by, ms } = body<{ by?: string; ms?: number }>(r);
      const amount =
        typeof ms === 'number' ? ms : by === undefined ? undefined : (parseDuration(by) ?? NaN) * 1000;
      if (amount === undefined || !Number.isFinite(amount) || amount < 0) {
        throw new ControlError(
          400,
          'give "by" as a duration such as "30m", "2h" or "1d", or "ms" as a positive number',
        );
      }
      return { now: sandbox.clock.advance(amount).toISOString() };
    });
    route('POST', '/jira/tickets', (r) => {
      const { reporter, ...rest } = body<Parameters<Sandbox['jira']['fileTicket']>[0]>(r);
      if (typeof reporter !== 'string') {
        throw new ControlError(400, '"reporter" (a person id or email) is required');
      }
      return attempt(() => sandbox.jira.fileTicket({ ...rest, reporter }));
    });
    route('POST', '/jira/issues/:key/transition', (r) => {
      const { status, actor } = body<{ status?: string; actor?: string }>(r);
      if (!status || !actor) throw new ControlError(400, '"status" and "actor" are required');
      attempt(() => sandbox.jira.transitionIssue(r.params.key ?? '', status, actor));
      return undefined;
    });
    // A person acting in PagerDuty's web (default) or mobile app, as their main
    // PagerDuty user or the one `pagerdutyUser` names (id or login email).
    route('POST', '/pagerduty/incidents/:id/notes', (r) => {
      const { user, content, ...rest } = body<{ user?: string; content?: string } & AppAction>(r);
      if (!user || typeof content !== 'string')
        throw new ControlError(400, '"user" and "content" are required');
      return sandbox.pagerduty.addNote(r.params.id ?? '', user, content, appAction(rest));
    });
    for (const action of ['acknowledge', 'resolve'] as const) {
      route('POST', `/pagerduty/incidents/:id/${action}`, (r) => {
        const { user, ...rest } = body<{ user?: string } & AppAction>(r);
        if (!user) throw new ControlError(400, '"user" is required');
        return sandbox.pagerduty[action](r.params.id ?? '', user, appAction(rest));
      });
    }
    route('POST', '/pagerduty/subscription/enable', () => {
      sandbox.pagerduty.enableSubscription();
      return undefined;
    });
    route('POST', '/okta/users/:id/status', (r) => {
      const { status } = body<{ status?: string }>(r);
      const known = OKTA_STATUSES.find((s) => s === status);
      if (!known) throw new ControlError(400, `"status" must be one of ${OKTA_STATUSES.join(', ')}`);
      attempt(() => sandbox.okta.setUserStatus(r.params.id ?? '', known));
      return undefined;
    });
    route('POST', '/openai/script', (r) => {
      const { replies } = body<{ replies?: ScriptedReply[] }>(r);
      if (!Array.isArray(replies))
        throw new ControlError(400, '"replies" must be an array of scripted replies');
      sandbox.openai.script(...replies);
      return undefined;
    });
    route('DELETE', '/openai/script', () => sandbox.openai.clearScript());
    route('POST', '/faults/:service', (r) => {
      const { route: routeKey, ...rule } = body<FaultRule & { route?: string }>(r);
      if (!routeKey)
        throw new ControlError(
          400,
          '"route" is required: "METHOD /pattern" as the stand-in names it, or "*"',
        );
      attempt(() => this.service(r.params.service ?? '').faults.set(routeKey, rule));
      return undefined;
    });
    route('DELETE', '/faults/:service', (r) => this.service(r.params.service ?? '').faults.clear());
  }

  state() {
    return { routes: ROUTES };
  }

  private fullState() {
    const s = this.sandbox;
    return {
      now: s.clock.now().toISOString(),
      jira: s.jira.state(),
      pagerduty: s.pagerduty.state(),
      okta: s.okta.state(),
      slack: s.slack.state(),
      iam: s.iam.state(),
      identityCenter: s.identityCenter.state(),
      openai: s.openai.state(),
      lambda: s.host.state(),
    };
  }

  private serviceState(name: string) {
    if (name === 'lambda') return this.sandbox.host.state();
    return this.service(name).state();
  }

  private service(name: string): SandboxServices[keyof SandboxServices] {
    const services: SandboxServices = this.sandbox.services;
    if (!(name in services)) {
      throw new ControlError(
        404,
        `unknown service "${name}": use one of ${Object.keys(services).join(', ')}`,
      );
    }
    return services[name as keyof SandboxServices];
  }

  protected authenticate(): StandInResponse | undefined {
    return undefined;
  }

  protected faultResponse(status: number): StandInResponse {
    return json(status, { error: `injected fault ${status}` });
  }

  protected routeNotFound(request: StandInRequest): StandInResponse {
    return json(404, { error: `no control route ${request.method} ${request.path}; GET / lists them` });
  }

  protected malformedBody(message: string): StandInResponse {
    return json(400, { error: message });
  }
}

function body<T>(request: StandInRequest): Partial<T> {
  if (request.rawBody.length === 0) return {};
  const parsed = jsonBody<unknown>(request);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ControlError(400, 'the body must be a JSON object');
  }
  return parsed as Partial<T>;
}

/** The app and PagerDuty user of a person's action in PagerDuty, checked. */
function appAction(input: Partial<AppAction>): AppAction {
  const { app, pagerdutyUser } = input;
  if (app !== undefined && app !== 'web' && app !== 'mobile') {
    throw new ControlError(400, '"app" must be "web" or "mobile"');
  }
  if (pagerdutyUser !== undefined && (typeof pagerdutyUser !== 'string' || pagerdutyUser === '')) {
    throw new ControlError(
      400,
      '"pagerdutyUser" must be the id or email of one of the person’s PagerDuty users',
    );
  }
  return { ...(app ? { app } : {}), ...(pagerdutyUser ? { pagerdutyUser } : {}) };
}

/** Runs a control method whose plain errors (unknown person, issue, user) are the caller's mistake. */
function attempt<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof PagerDutyRuleError || error instanceof ControlError) throw error;
    throw new ControlError(400, (error as Error).message);
  }
}
