// Driving the whole sandbox through time for the resilience suite: every
// stand-in loopgate calls (by name), the routes it called, faults of three
// kinds, and a "tick" that moves the sandbox clock and waits until everything
// that fell due (queue redeliveries, webhook retries, schedules, the sweeper)
// has run. The checks of what must hold after any fault are here too.

import { FINAL_STATES } from '../../../lambdas/core/lifecycle';
import type { AccessRequest, AuditEvent } from '../../../lambdas/core/model';
import type { HttpStandIn } from '../../../sandbox/http/stand-in';
import { PROVISION_FUNCTIONS, type Sandbox } from '../../../sandbox/world';

export const SERVICES = ['jira', 'pagerduty', 'okta', 'slack', 'iam', 'openai', 'sqs', 'scheduler'] as const;
export type Service = (typeof SERVICES)[number];

export function standIn(sandbox: Sandbox, service: Service): HttpStandIn {
  if (service === 'sqs') return sandbox.host.sqs;
  if (service === 'scheduler') return sandbox.host.scheduler;
  return sandbox[service];
}

export interface Route {
  service: Service;
  routeKey: string;
}

/** How many calls each stand-in has recorded so far: a mark to diff against. */
export function callMarks(sandbox: Sandbox): Record<Service, number> {
  return Object.fromEntries(SERVICES.map((s) => [s, standIn(sandbox, s).calls.length])) as Record<
    Service,
    number
  >;
}

/** Every distinct route called since `marks`, in the order first called. */
export function routesCalledSince(sandbox: Sandbox, marks: Record<Service, number>): Route[] {
  const routes: Route[] = [];
  for (const service of SERVICES) {
    const seen = new Set<string>();
    for (const call of standIn(sandbox, service).calls.slice(marks[service])) {
      if (call.routeKey === undefined || seen.has(call.routeKey)) continue;
      seen.add(call.routeKey);
      routes.push({ service, routeKey: call.routeKey });
    }
  }
  return routes;
}

export type FaultKind = '500' | '429' | 'timeout';

/**
 * Injects one fault on one route and returns the function that clears it.
 * - 500: persistent (`errorRate: 1`) until cleared: an outage of that call.
 * - 429: the next `failNext` calls are refused with the vendor's rate-limit answer, then it recovers.
 * - timeout: the route answers after `delayMs` (longer than every client timeout) until it has
 *   answered `hits` delayed calls, then it recovers. The stand-in still does the work of a delayed
 *   call, as a real service does after the client gave up (a grant, a message sent twice).
 */
export function injectFault(
  sandbox: Sandbox,
  route: Route,
  kind: FaultKind,
  options: { failNext: number; delayMs: number; hits: number },
): Fault {
  const target = standIn(sandbox, route.service);
  const clear = () => target.faults.clear(route.routeKey);
  if (kind === '500' || kind === '429') {
    target.faults.set(
      route.routeKey,
      kind === '500' ? { errorRate: 1, status: 500 } : { failNext: options.failNext, status: 429 },
    );
    return { clear, landed: () => Promise.resolve() };
  }
  // A delay cannot be limited to N calls by the fault rule itself: watch the calls and lift it.
  const delayed = () => target.calls.filter((c) => c.routeKey === route.routeKey).length;
  const before = delayed();
  let lifted: number | undefined;
  target.faults.set(route.routeKey, { delayMs: options.delayMs });
  const watch = setInterval(() => {
    if (delayed() - before >= options.hits) lift();
  }, 10);
  watch.unref();
  const lift = () => {
    clearInterval(watch);
    clear();
    lifted ??= Date.now();
  };
  return {
    clear: lift,
    // Calls that arrived while the delay was on are answered within delayMs of lifting it.
    // A call held back now is answered (and lifts the delay) within delayMs; none lifting it means none was held.
    landed: async () => {
      const deadline = Date.now() + options.delayMs + 50;
      while (lifted === undefined && Date.now() < deadline) await sleep(20);
      if (lifted !== undefined) await sleep(lifted + options.delayMs + 50 - Date.now());
    },
  };
}

export interface Fault {
  clear(): void;
  /**
   * Resolves once every call the fault held back has been answered. The sandbox clock moves minutes
   * in milliseconds of real time; without this wait a call the client gave up on could land after
   * the whole flow has moved on (a grant re-added after its revoke), which no real outage does.
   */
  landed(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Waits until nothing that is due is still running: webhooks, queues, schedules. */
export async function settle(sandbox: Sandbox): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    await sandbox.jira.settled();
    await sandbox.settled();
    await sandbox.host.scheduler.runDue();
    await sandbox.host.sqs.drain();
  }
}

export const sweep = (sandbox: Sandbox) =>
  sandbox.host.invoker.invoke(PROVISION_FUNCTIONS.sweeper, {}, 'scheduler');

/** Time passes: the clock moves, everything that fell due runs, and the sweeper runs as its schedule would. */
export async function tick(sandbox: Sandbox, ms: number): Promise<void> {
  sandbox.clock.advance(ms);
  await settle(sandbox);
  await sweep(sandbox);
  await settle(sandbox);
}

/** Whether an Okta user is a member of a group, read from the stand-in's state (no HTTP call). */
export function oktaMember(sandbox: Sandbox, groupId: string, login: string): boolean {
  const state = sandbox.okta.state();
  const user = state.users.find((u) => u.login === login);
  const group = state.groups.find((g) => g.id === groupId);
  return Boolean(user && group?.members.includes(user.id));
}

/** loopgate's inline policies on an IAM user (`loopgate-<requestId>`). */
export function iamInlinePolicies(sandbox: Sandbox, userName: string): string[] {
  const inline = sandbox.iam.principalPolicies('user', userName)?.inline as
    Record<string, unknown> | undefined;
  return Object.keys(inline ?? {}).filter((name) => name.startsWith('loopgate-'));
}

/** How many PagerDuty incidents carry this request as their incident key. */
export function incidentsFor(sandbox: Sandbox, requestId: string): number {
  const incidents = (sandbox.pagerduty.state() as { incidents: { incident_key?: string }[] }).incidents;
  return incidents.filter((i) => i.incident_key === requestId).length;
}

export interface Settled {
  request: AccessRequest;
  trail: AuditEvent[];
}

/** What may be left once faults are cleared and the clock is past every expiry. */
export function endsWell(state: AccessRequest['state']): boolean {
  return FINAL_STATES.has(state) || state === 'FAILED';
}
