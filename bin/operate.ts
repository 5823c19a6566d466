// The operator's side of the command line: what is pending, who holds what
// through loopgate and until when, and the whole story of one request. Reads
// the same table the functions write (LOOPGATE_TABLE_NAME with the standard
// AWS credential chain, or a sandbox's DynamoDB Local through
// LOOPGATE_DYNAMODB_ENDPOINT), page by page through the indexes; never scans.

import type { Catalog } from '../lambdas/core/catalog';
import { parseDuration } from '../lambdas/core/duration';
import { isFinal } from '../lambdas/core/lifecycle';
import {
  type AccessRequest,
  type ActionKind,
  type AuditEvent,
  REQUEST_STATES,
  type RequestState,
} from '../lambdas/core/model';
import {
  cancelByOperator,
  type OperatorActionDeps,
  type OperatorActionSettings,
  type OperatorOutcome,
  revokeByOperator,
} from '../lambdas/core/operator';
import type { Clock, HeldAccess, Provisioner, RequestStore } from '../lambdas/core/ports';

export interface OperateDeps {
  store: RequestStore;
  catalog: Catalog;
  clock: Clock;
}

/** Bad input: the message is shown as is and the command exits 2, having written nothing. */
export class OperatorInputError extends Error {}

/** The furthest due time: every live grant is due (at its expiry) before it. */
const END_OF_TIME = new Date('9999-12-31T23:59:59.999Z');

export interface RequestsOptions {
  state?: string;
  requester?: string;
  entitlement?: string;
  since?: string;
  limit: number;
  json: boolean;
}

/** `loopgate requests`: newest first, like `tctl request ls`. */
export async function requestsCommand(
  deps: OperateDeps,
  options: RequestsOptions,
  out: (text: string) => void,
): Promise<number> {
  const state = options.state === undefined ? undefined : stateOf(options.state);
  const since = options.since === undefined ? undefined : dateOf('--since', options.since);
  const list = { limit: options.limit, ...(state ? { states: [state] } : {}) };
  const found = options.requester
    ? await deps.store.listByRequester(options.requester, list)
    : options.entitlement
      ? await deps.store.listByEntitlement(options.entitlement, list)
      : (
          await Promise.all(deps.catalog.entitlements.map((e) => deps.store.listByEntitlement(e.id, list)))
        ).flat();
  const rows = found
    .filter((r) => (options.entitlement ? r.entitlementId === options.entitlement : true))
    .filter((r) => since === undefined || Date.parse(r.createdAt) >= since.getTime())
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, options.limit)
    .map((r) => ({
      key: r.jiraIssueKey,
      requestId: r.id,
      requester: r.requester.email ?? r.requester.jiraAccountId,
      entitlement: r.entitlementId,
      state: r.state,
      createdAt: r.createdAt,
      approvers: r.decisions.filter((d) => d.outcome === 'approve').map((d) => d.actor.id),
    }));
  if (options.json) {
    out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const now = deps.clock.now();
  out(
    table(
      ['KEY', 'REQUESTER', 'ENTITLEMENT', 'STATE', 'AGE', 'APPROVERS'],
      rows.map((r) => [
        r.key,
        r.requester,
        r.entitlement,
        r.state,
        age(now, r.createdAt),
        r.approvers.join(', ') || '-',
      ]),
    ) || 'No requests match.\n',
  );
  return 0;
}

export interface GrantsOptions {
  /** Only GRANTED: leave out FAILED requests that still hold what they could not finish or remove. */
  active: boolean;
  expiringWithin?: string;
  json: boolean;
}

/** `loopgate grants`: who holds what through loopgate now, soonest end first. */
export async function grantsCommand(
  deps: OperateDeps,
  options: GrantsOptions,
  out: (text: string) => void,
): Promise<number> {
  const within =
    options.expiringWithin === undefined
      ? undefined
      : durationOf('--expiring-within', options.expiringWithin);
  const now = deps.clock.now();
  const states: RequestState[] = options.active ? ['GRANTED'] : ['GRANTED', 'FAILED'];
  const held = (await Promise.all(states.map((s) => deps.store.listDue(s, END_OF_TIME, { limit: 10_000 }))))
    .flat()
    .filter((r): r is AccessRequest & { grant: NonNullable<AccessRequest['grant']> } => r.grant !== undefined)
    .filter((r) => within === undefined || Date.parse(r.grant.expiresAt) <= now.getTime() + within * 1000)
    .sort((a, b) => a.grant.expiresAt.localeCompare(b.grant.expiresAt));
  const rows = held.map((r) => ({
    key: r.jiraIssueKey,
    requestId: r.id,
    holder: r.requester.email ?? r.grant.principal,
    entitlement: r.entitlementId,
    inCatalog: deps.catalog.entitlements.some((e) => e.id === r.entitlementId),
    access: `${r.grant.action} ${r.grant.target}`,
    principal: r.grant.principal,
    state: r.state,
    grantedAt: r.grant.grantedAt,
    expiresAt: r.grant.expiresAt,
    preExisting: r.grant.preExisting ?? false,
  }));
  if (options.json) {
    out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  out(
    table(
      ['KEY', 'HOLDER', 'ENTITLEMENT', 'ACCESS', 'STATE', 'ENDS'],
      rows.map((r) => [
        r.key,
        r.holder,
        r.inCatalog ? r.entitlement : `${r.entitlement} (no longer in the catalog)`,
        r.access,
        r.state,
        `${r.expiresAt.slice(0, 16).replace('T', ' ')} UTC (in ${age(new Date(r.expiresAt), now.toISOString())})`,
      ]),
    ) || 'Nobody holds access through loopgate.\n',
  );
  return 0;
}

/** `loopgate show KEY`: the request, its decisions and grant, the advice and the page as sent, and the trail. */
export async function showCommand(
  deps: OperateDeps,
  key: string,
  options: { json: boolean },
  out: (text: string) => void,
): Promise<number> {
  const request = await find(deps.store, key);
  const trail = await deps.store.listAuditEvents(request.id);
  const page = trail.findLast((e) => e.evidence?.page)?.evidence?.page as
    { title?: string; urgency?: string; details?: string } | undefined;
  const advice = trail.findLast((e) => e.evidence?.advice)?.evidence?.advice;
  if (options.json) {
    out(`${JSON.stringify({ request, page, advice, trail }, null, 2)}\n`);
    return 0;
  }
  const r = request;
  const lines = [
    `${r.jiraIssueKey}  ${r.entitlementId}  ${r.state}${isFinal(r.state) ? ' (final)' : ''}`,
    `request id   ${r.id}`,
    `requester    ${r.requester.displayName ?? '-'} <${r.requester.email ?? '-'}> (Okta ${r.requester.directoryUserId ?? 'unknown'})`,
    `asked        ${seconds(r.durationSeconds)}${r.breakGlass ? ', break-glass' : ''}: ${r.justification}`,
    `filed        ${r.createdAt}`,
    ...(r.incidentId ? [`incident     ${r.incidentId}`] : []),
    ...(r.advice
      ? [
          r.advice.status === 'advised'
            ? `advice       ${r.advice.recommendation} (confidence ${r.advice.confidence}; ${r.advice.model}, prompt ${r.advice.promptVersion})`
            : `advice       none: ${r.advice.reason} (prompt ${r.advice.promptVersion})`,
        ]
      : []),
    ...r.decisions.map(
      (d) =>
        `decision     ${d.outcome} by ${d.actor.id} (${d.actor.kind}) at ${d.decidedAt}${d.comment ? `: ${d.comment}` : ''}`,
    ),
    ...(r.grant
      ? [
          `grant        ${r.grant.action} ${r.grant.target} to ${r.grant.principal}, ${r.grant.grantedAt} → ${r.grant.expiresAt}${r.grant.preExisting ? ' (held before: kept at revoke)' : ''}`,
        ]
      : []),
    ...(r.review ? [`review       ${r.review.outcome} by ${r.review.by} at ${r.review.at}`] : []),
    ...(page ? ['', `page as sent: ${page.title ?? ''} (${page.urgency ?? '?'} urgency)`] : []),
    '',
    `audit trail (${trail.length} events):`,
    ...trail.map((e) => `  ${trailLine(e)}`),
  ];
  out(`${lines.join('\n')}\n`);
  return 0;
}

export interface ActDeps extends OperatorActionDeps {
  settings: OperatorActionSettings;
  /** The operator's AWS identity (STS GetCallerIdentity): the actor the step is recorded with. */
  identity(): Promise<{ arn: string; account: string; userId: string }>;
}

/**
 * `loopgate revoke KEY --reason` and `loopgate cancel KEY --reason`: the core's step, recorded with
 * the caller's ARN; the revoke function removes the access and the decide function tells people.
 */
export async function actCommand(
  deps: ActDeps,
  verb: 'revoke' | 'cancel',
  key: string,
  options: { reason?: string; json: boolean },
  out: (text: string) => void,
): Promise<number> {
  const reason = options.reason?.trim();
  if (!reason)
    throw new OperatorInputError(`${verb} needs --reason TEXT: it is recorded and told to the requester`);
  const request = await find(deps.store, key);
  const identity = await deps.identity();
  const action = {
    requestId: request.id,
    actor: { kind: 'person' as const, id: identity.arn },
    reason,
    identity: { ...identity },
  };
  const outcome: OperatorOutcome =
    verb === 'revoke'
      ? await revokeByOperator(deps, action)
      : await cancelByOperator(deps, deps.settings, action);
  if (outcome.kind === 'refused') throw new OperatorInputError(outcome.reason);
  const done = {
    key: request.jiraIssueKey,
    requestId: request.id,
    result: outcome.result,
    actor: identity.arn,
    problems: outcome.problems,
  };
  if (options.json) {
    out(`${JSON.stringify(done, null, 2)}\n`);
    return 0;
  }
  out(
    verb === 'revoke'
      ? `${done.key}: revoke queued, recorded as ${done.actor}. The revoke function removes the access; the incident and the ticket are told.\n`
      : `${done.key}: CANCELLED, recorded as ${done.actor}. The incident and the ticket are told.\n`,
  );
  for (const problem of outcome.problems) out(`  warning: ${problem}\n`);
  return 0;
}

/** A request by its Jira key or its id; bad input when there is none. */
async function find(store: RequestStore, key: string): Promise<AccessRequest> {
  const request = (await store.getByJiraIssueKey(key)) ?? (await store.get(key));
  if (!request) throw new OperatorInputError(`no request has the Jira key or id "${key}"`);
  return request;
}

/** Reads a kind of access back from the system that holds it: each provisioner's own `holds`. */
export type Verifiers = Partial<Record<ActionKind, Pick<Provisioner, 'holds'>>>;

export interface Drift {
  /** missing: recorded as held, not in place; left-in-place: ended (or never live) yet in place. */
  kind: 'missing' | 'left-in-place' | 'not-checked';
  key: string;
  requestId: string;
  state: RequestState;
  holder: string;
  access: string;
  detail: string;
}

/**
 * `loopgate grants --verify`: every live grant (GRANTED, or FAILED holding what it could not
 * finish or remove) read back from the system that holds it, and every ended grant loopgate made
 * (REVOKED, not held before) that is still in place while no live request holds the same access.
 * A kind plugs in with its provisioner's `holds`; a kind without one is listed as not checked.
 */
export async function verifyGrantsCommand(
  deps: OperateDeps & { verifiers: Verifiers },
  options: { json: boolean },
  out: (text: string) => void,
): Promise<number> {
  type Held = AccessRequest & { grant: NonNullable<AccessRequest['grant']> };
  const hasGrant = (r: AccessRequest): r is Held => r.grant !== undefined;
  const accessKey = (g: Held['grant']) => `${g.action} ${g.principal} ${g.target}`;
  const live = (
    await Promise.all(
      (['GRANTED', 'FAILED'] as const).map((s) => deps.store.listDue(s, END_OF_TIME, { limit: 10_000 })),
    )
  )
    .flat()
    .filter(hasGrant);
  const ended = (
    await Promise.all(
      deps.catalog.entitlements.map((e) =>
        deps.store.listByEntitlement(e.id, { states: ['REVOKED'], limit: 10_000 }),
      ),
    )
  )
    .flat()
    .filter(hasGrant)
    .filter((r) => !r.grant.preExisting);
  const drift: Drift[] = [];
  const row = (r: Held, kind: Drift['kind'], detail: string): Drift => ({
    kind,
    key: r.jiraIssueKey,
    requestId: r.id,
    state: r.state,
    holder: r.requester.email ?? r.grant.principal,
    access: `${r.grant.action} ${r.grant.target}`,
    detail,
  });
  const holds = async (r: Held): Promise<boolean | undefined> => {
    const verifier = deps.verifiers[r.grant.action];
    const access: HeldAccess = { principal: r.grant.principal, target: r.grant.target };
    return verifier ? verifier.holds(access) : undefined;
  };
  for (const r of live) {
    const held = await holds(r);
    if (held === undefined) drift.push(row(r, 'not-checked', `no verifier for ${r.grant.action} here`));
    else if (!held) {
      drift.push(row(r, 'missing', `recorded ${r.state} until ${r.grant.expiresAt}, not in place`));
    }
  }
  // Shared access another live request holds is rightly in place; each access is checked once,
  // under the request that ended last.
  const liveKeys = new Set(live.map((r) => accessKey(r.grant)));
  const latest = new Map<string, Held>();
  for (const r of ended.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))) {
    if (!liveKeys.has(accessKey(r.grant))) latest.set(accessKey(r.grant), r);
  }
  for (const r of latest.values()) {
    if ((await holds(r)) === true) {
      drift.push(
        row(r, 'left-in-place', `REVOKED at ${r.updatedAt}, still in place; no live request holds it`),
      );
    }
  }
  const summary = { liveChecked: live.length, endedChecked: latest.size, drift };
  if (options.json) out(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    out(
      `Checked ${live.length} live grant${live.length === 1 ? '' : 's'} and ${latest.size} ended one${latest.size === 1 ? '' : 's'} against the systems that hold them.\n`,
    );
    out(
      table(
        ['DRIFT', 'KEY', 'HOLDER', 'ACCESS', 'DETAIL'],
        drift.map((d) => [d.kind, d.key, d.holder, d.access, d.detail]),
      ) || 'No drift: every live grant is in place, and nothing loopgate granted outlives its request.\n',
    );
  }
  // Like a failed check: scripts and cron see drift without parsing the output.
  return drift.some((d) => d.kind !== 'not-checked') ? 1 : 0;
}

function trailLine(e: AuditEvent): string {
  const step = e.from === undefined ? `→ ${e.to}` : e.from === e.to ? `  ${e.to}` : `${e.from} → ${e.to}`;
  const security = e.evidence?.securityEvent ? ` [security: ${String(e.evidence.securityEvent)}]` : '';
  return `v${e.version}  ${e.at}  ${step.padEnd(22)} ${e.actor.kind}:${e.actor.id}  ${e.reason}${security}`;
}

function stateOf(text: string): RequestState {
  const state = text.toUpperCase();
  if (!(REQUEST_STATES as readonly string[]).includes(state)) {
    throw new OperatorInputError(`unknown state "${text}": one of ${REQUEST_STATES.join(', ')}`);
  }
  return state as RequestState;
}

export function dateOf(flag: string, text: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? new Date(text)
    : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new OperatorInputError(
      `${flag} must be a date like 2026-12-01 or 2026-12-01T09:00Z, got "${text}"`,
    );
  }
  return date;
}

function durationOf(flag: string, text: string): number {
  const value = parseDuration(text);
  if (value === undefined) {
    throw new OperatorInputError(`${flag} must be a duration like 30m, 24h or 7d, got "${text}"`);
  }
  return value;
}

/** How long from `iso` to `now`, roughly, as people say it. */
function age(now: Date, iso: string): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

function seconds(value: number): string {
  return value % 86_400 === 0
    ? `${value / 86_400}d`
    : value % 3600 === 0
      ? `${value / 3600}h`
      : `${value / 60}m`;
}

/** Columns padded to their widest cell; empty when there are no rows. */
function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
