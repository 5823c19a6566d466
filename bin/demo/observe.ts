// What the demo shows is read from the world, never written by it: the request
// and its trail from loopgate's table, the page and its notes from the
// PagerDuty stand-in, the grant from the Okta or IAM stand-in, the thread from
// the Jira stand-in. Waiting is polling with a bound, so a step that never
// happens ends the demo with what was last seen instead of hanging it.

import type { Entitlement } from '../../lambdas/core/catalog';
import type { AccessRequest } from '../../lambdas/core/model';
import { adfToText, type AdfNode } from '../../sandbox/jira/adf';
import { firstResponders } from '../../sandbox/pagerduty/oncall';
import type { ScenarioPerson } from '../../sandbox/scenario/load';
import type { Sandbox } from '../../sandbox/world';
import { millis } from './format';

/** A step that did not happen in time; `seen` says what the world looked like instead. */
export class DemoTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly seen: string,
    readonly waitedMs: number,
  ) {
    super(`timed out after ${millis(waitedMs)} waiting for ${what}; last seen: ${seen}`);
  }
}

/** The user stopped the demo (Ctrl-C, SIGTERM). */
export class DemoInterruptedError extends Error {
  constructor() {
    super('interrupted');
  }
}

export interface WaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value. `describe` is asked what was seen when time runs out,
 * so the error names the state the demo got stuck in.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  describe: () => Promise<string> | string,
  options: WaitOptions,
): Promise<T> {
  const started = performance.now();
  for (;;) {
    if (options.signal.aborted) throw new DemoInterruptedError();
    const found = await probe();
    if (found !== undefined) return found;
    const waited = performance.now() - started;
    if (waited >= options.timeoutMs) throw new DemoTimeoutError(what, await describe(), waited);
    await sleep(options.intervalMs ?? 25, options.signal);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new DemoInterruptedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DemoInterruptedError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function person(sandbox: Sandbox, idOrEmail: string): ScenarioPerson {
  const found = sandbox.scenario.people.find((p) => p.id === idOrEmail || p.email === idOrEmail);
  if (!found) throw new Error(`the scenario has no person "${idOrEmail}"`);
  return found;
}

/** Who PagerDuty pages first for an escalation policy right now (the policy's level-1 on-call). */
export function onCallNow(sandbox: Sandbox, policyId: string): ScenarioPerson[] {
  const policy = sandbox.pagerduty.directory.policies.find((p) => p.id === policyId);
  if (!policy) throw new Error(`PagerDuty has no escalation policy ${policyId}`);
  return firstResponders(sandbox.pagerduty.directory, policy, sandbox.clock.now());
}

/** Members of an Okta group, by login, as the Okta stand-in holds them now. */
export function oktaGroupLogins(sandbox: Sandbox, groupId: string): { name: string; logins: string[] } {
  const state = sandbox.okta.state();
  const group = state.groups.find((g) => g.id === groupId);
  const loginOf = new Map(state.users.map((u) => [u.id, u.login]));
  return {
    name: group?.name ?? groupId,
    logins: (group?.members ?? []).map((id) => loginOf.get(id) ?? id),
  };
}

export interface PageView {
  id: string;
  number: number;
  title: string;
  urgency: string;
  status: string;
  service: string;
  policy: string;
  assignees: string[];
  details: string;
  notes: { at: Date; author: string; authorEmail: string; content: string }[];
}

export function pageOf(sandbox: Sandbox, incidentId: string): PageView | undefined {
  const incident = sandbox.pagerduty.incident(incidentId);
  if (!incident) return undefined;
  return {
    id: incident.id,
    number: incident.number,
    title: incident.title,
    urgency: incident.urgency,
    status: incident.status,
    service: `${incident.service.name} (${incident.service.id})`,
    policy: `${incident.policy.name} (${incident.policy.id})`,
    assignees: incident.assignments.map((a) => a.person.name),
    details: incident.details ?? '',
    notes: incident.notes.map((n) => ({
      at: n.createdAt,
      author: n.person.name,
      authorEmail: n.person.email,
      content: n.content,
    })),
  };
}

export interface JiraThread {
  status: string;
  labels: string[];
  comments: { at: string; author: string; text: string }[];
}

interface IssueView {
  key?: string;
  fields?: { status?: { name?: string }; labels?: string[] };
  comments?: { authorId: string; body: string | AdfNode; created: string }[];
}

export function jiraThread(sandbox: Sandbox, key: string): JiraThread | undefined {
  const state = sandbox.jira.state();
  const issue = (state.issues as IssueView[]).find((i) => i.key === key);
  if (!issue) return undefined;
  const nameOf = new Map(state.users.map((u) => [u.accountId, u.displayName]));
  return {
    status: issue.fields?.status?.name ?? '?',
    labels: issue.fields?.labels ?? [],
    comments: (issue.comments ?? []).map((c) => ({
      at: c.created,
      author: nameOf.get(c.authorId) ?? c.authorId,
      text: typeof c.body === 'string' ? c.body : adfToText(c.body),
    })),
  };
}

/** What the grant's stand-in holds for it now, one line per fact, and whether the access is in place. */
export function grantInWorld(
  sandbox: Sandbox,
  request: AccessRequest,
  entitlement: Entitlement,
): { inPlace: boolean; lines: string[] } {
  const action = entitlement.action;
  if (action.kind === 'okta-group') {
    const login = request.requester.email ?? '?';
    const group = oktaGroupLogins(sandbox, action.groupId);
    const member = group.logins.includes(login);
    return {
      inPlace: member,
      lines: [
        `Okta group ${group.name} (${action.groupId}): ${group.logins.length} members; ${login} ${member ? 'IS a member' : 'is not a member'}`,
      ],
    };
  }
  if (action.kind === 'aws-identity-center') {
    const instance = sandbox.identityCenter.instance;
    const user = instance.users.find((u) => u.person === person(sandbox, request.requester.email ?? '').id);
    const ps = instance.permissionSets.find((p) => p.arn === action.permissionSetArn);
    const label = `Identity Center permission set ${ps?.name ?? action.permissionSetArn} on account ${action.accountId}`;
    if (!user) return { inPlace: false, lines: [`${label}: the requester has no Identity Center user`] };
    const assigned = instance.hasAssignment({
      accountId: action.accountId,
      permissionSetArn: action.permissionSetArn,
      principalType: 'USER',
      principalId: user.userId,
    });
    return {
      inPlace: assigned,
      lines: [`${label}: ${user.userName} ${assigned ? 'IS assigned' : 'is not assigned'}`],
    };
  }
  // IAM: the principal and what loopgate put on it (an inline policy named after the request, or a managed ARN).
  const principalArn = request.grant?.principal ?? '';
  const [, kind = '', name = ''] = /:(user|role)\/(?:.*\/)?([^/]+)$/.exec(principalArn) ?? [];
  const fallback =
    action.principalType === 'role'
      ? { kind: 'role', name: action.roleName ?? '' }
      : { kind: 'user', name: person(sandbox, request.requester.email ?? '').aws?.iamUser ?? '' };
  const principal = kind ? { kind, name } : fallback;
  const held = sandbox.iam.principalPolicies(principal.kind as 'user' | 'role', principal.name);
  const target = request.grant?.target ?? (action.policyArn ? action.policyArn : `loopgate-${request.id}`);
  const label = `IAM ${principal.kind} ${principal.name}`;
  if (!held) return { inPlace: false, lines: [`${label}: no such principal`] };
  if (target.startsWith('arn:')) {
    const attached = held.attached.includes(target);
    return {
      inPlace: attached,
      lines: [`${label}: managed policy ${target} ${attached ? 'IS attached' : 'is not attached'}`],
    };
  }
  const document = held.inline[target];
  if (document === undefined) {
    return {
      inPlace: false,
      lines: [
        `${label}: no inline policy ${target} (inline policies now: ${Object.keys(held.inline).join(', ') || 'none'})`,
      ],
    };
  }
  return {
    inPlace: true,
    lines: [`${label}: inline policy ${target} IS in place:`, ...policyLines(document)],
  };
}

/** An IAM policy document, one statement per line: effect, actions, resource, conditions. */
function policyLines(document: unknown): string[] {
  const statements = ((document as { Statement?: unknown[] })?.Statement ?? []) as Record<string, unknown>[];
  return statements.map((st) => {
    const list = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v));
    const condition = st.Condition ? ` when ${JSON.stringify(st.Condition)}` : '';
    return `  ${String(st.Effect)} ${list(st.Action)} on ${list(st.Resource)}${condition}`;
  });
}
