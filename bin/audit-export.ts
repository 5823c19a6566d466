// `loopgate audit export`: one row per decided request filed in a period, for
// auditors: who asked for what, who decided and how they were authorized (or
// the rule, or break-glass), what the model advised and whether people
// agreed, the digests of the evidence and the prompt, and the links. Read a
// page at a time from the byEntitlement index (oldest first, merged across
// entitlements) and written as it is read, so memory stays bounded; a file is
// written aside and renamed at the end, so a failure leaves no partial file.

import { createHash } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { humanDecision } from '../lambdas/core/advice/feedback';
import type { Catalog } from '../lambdas/core/catalog';
import type { AccessRequest, AuditEvent, RequestState } from '../lambdas/core/model';
import type { RequestStore } from '../lambdas/core/ports';
import { OperatorInputError } from './operate';

/** States a request reaches only once decided (by people, a rule or break-glass). */
const DECIDED: ReadonlySet<RequestState> = new Set(['APPROVED', 'DENIED', 'GRANTED', 'REVOKED', 'FAILED']);

/** The export's columns, in order. Stable: documented in the README; add at the end, never rename. */
export const AUDIT_COLUMNS = [
  'request_id',
  'jira_key',
  'jira_url',
  'requester_email',
  'requester_okta_id',
  'entitlement',
  'risk_tier',
  'state',
  'break_glass',
  'asked_at',
  'asked_duration_s',
  'justification',
  'decided_by',
  'rule',
  'outcome',
  'decided_at',
  'approvers',
  'granted_at',
  'expires_at',
  'revoked_at',
  'revoked_by',
  'revoke_reason',
  'review_outcome',
  'reviewed_by',
  'reviewed_at',
  'model_recommendation',
  'model_confidence',
  'model',
  'prompt_version',
  'people_agreed',
  'evidence_digest',
  'prompt_digest',
  'pagerduty_incident',
  'pagerduty_url',
] as const;

export type AuditRow = Record<(typeof AUDIT_COLUMNS)[number], string>;

/** What the export reads: the requests a page at a time (DynamoRequestStore), and each one's trail. */
export interface AuditSource {
  store: Pick<RequestStore, 'listAuditEvents'> & {
    pagesByEntitlement(id: string, range: { from: Date; to: Date }): AsyncIterable<AccessRequest[]>;
  };
  catalog: Catalog;
  /** LOOPGATE_JIRA_BASE_URL, when set: the ticket links. */
  jiraBaseUrl?: string;
}

export interface AuditExportOptions {
  since: Date;
  until: Date;
  format: 'csv' | 'jsonl';
  /** A file to write; stdout when absent. */
  out?: string;
  /** Extra entitlement ids to read (ones no longer in the catalog). */
  entitlements?: readonly string[];
}

export interface AuditIo {
  out(text: string): void;
  err(text: string): void;
  interactive?: boolean;
}

export async function auditExportCommand(
  source: AuditSource,
  options: AuditExportOptions,
  io: AuditIo,
): Promise<number> {
  if (options.until.getTime() <= options.since.getTime()) {
    throw new OperatorInputError('--until must be after --since');
  }
  // Written aside and renamed once complete: a failure part-way leaves no file behind.
  const partial = options.out ? `${options.out}.partial-${process.pid}` : undefined;
  let fd: number | undefined;
  if (partial) {
    try {
      fd = openSync(partial, 'wx');
    } catch (error) {
      throw new OperatorInputError(`cannot write --out ${options.out}: ${(error as Error).message}`);
    }
  }
  const write = (text: string) => (fd === undefined ? io.out(text) : writeSync(fd, text));
  let count = 0;
  try {
    if (options.format === 'csv') write(csvLine(AUDIT_COLUMNS));
    for await (const row of auditRows(source, options)) {
      write(
        options.format === 'csv' ? csvLine(AUDIT_COLUMNS.map((c) => row[c])) : `${JSON.stringify(row)}\n`,
      );
      count += 1;
      if (io.interactive && count % 100 === 0) io.err(`\rexported ${count} requests …`);
    }
    if (fd !== undefined && partial && options.out) {
      closeSync(fd);
      fd = undefined;
      renameSync(partial, options.out);
    }
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    if (partial) rmSync(partial, { force: true });
    throw error;
  }
  if (io.interactive) io.err(`\r`);
  if (options.out) io.err(`exported ${count} decided requests to ${options.out}\n`);
  return 0;
}

/** Decided requests filed in the period, oldest first, each with its row. */
export async function* auditRows(
  source: AuditSource,
  options: Pick<AuditExportOptions, 'since' | 'until' | 'entitlements'>,
): AsyncGenerator<AuditRow> {
  const ids = [
    ...new Set([...source.catalog.entitlements.map((e) => e.id), ...(options.entitlements ?? [])]),
  ];
  const range = { from: options.since, to: options.until };
  const batch: AccessRequest[] = [];
  const flush = async function* () {
    const trails = await Promise.all(batch.map((r) => source.store.listAuditEvents(r.id)));
    for (const [i, request] of batch.entries()) yield auditRow(request, trails[i] ?? [], source);
    batch.length = 0;
  };
  for await (const request of merged(ids.map((id) => source.store.pagesByEntitlement(id, range)))) {
    if (!DECIDED.has(request.state)) continue;
    batch.push(request);
    // Trails read a few at a time in parallel; the batch bounds what is held.
    if (batch.length >= 25) yield* flush();
  }
  yield* flush();
}

/** Merges streams each sorted by (createdAt, id) into one, holding one page of each. */
async function* merged(streams: AsyncIterable<AccessRequest[]>[]): AsyncGenerator<AccessRequest> {
  const cursors = streams.map((s) => ({
    pages: s[Symbol.asyncIterator](),
    page: [] as AccessRequest[],
    done: false,
  }));
  const head = async (c: (typeof cursors)[number]) => {
    while (c.page.length === 0 && !c.done) {
      const next = await c.pages.next();
      if (next.done) c.done = true;
      else c.page = [...next.value];
    }
    return c.page[0];
  };
  for (;;) {
    let best: { cursor: (typeof cursors)[number]; request: AccessRequest } | undefined;
    for (const cursor of cursors) {
      const request = await head(cursor);
      if (request && (!best || order(request) < order(best.request))) best = { cursor, request };
    }
    if (!best) return;
    best.cursor.page.shift();
    yield best.request;
  }
}

const order = (r: AccessRequest) => `${r.createdAt}#${r.id}`;

export function auditRow(
  request: AccessRequest,
  trail: readonly AuditEvent[],
  source: Pick<AuditSource, 'catalog' | 'jiraBaseUrl'>,
): AuditRow {
  const entitlement = source.catalog.entitlements.find((e) => e.id === request.entitlementId);
  const ruleDecision = request.decisions.find((d) => d.actor.kind === 'rule');
  const approvals = request.decisions.filter((d) => d.actor.kind === 'person');
  const authorized = (sourceId: string | undefined) =>
    trail.find((e) => sourceId !== undefined && e.evidence?.noteId === sourceId && e.evidence?.authorizedAs)
      ?.evidence?.authorizedAs;
  const decidedEvent = trail.find(
    (e) => e.to === 'APPROVED' || e.to === 'DENIED' || (e.to === 'GRANTED' && e.from === 'TRIAGING'),
  );
  const revokedEvent = trail.find((e) => e.to === 'REVOKED');
  const asked = trail.findLast((e) => e.to === 'GRANTED' && e.evidence?.command === 'revoke');
  const triaged = trail.find((e) => e.evidence?.bundle);
  const adviceEvent = trail.findLast((e) => e.evidence?.advice);
  const adviceRecord = adviceEvent?.evidence?.advice as { inputDigest?: string } | undefined;
  const incident = trail.findLast((e) => e.evidence?.incident)?.evidence?.incident as
    { url?: string } | undefined;
  const advice = request.advice;
  const people = humanDecision(request);
  const recommendation = advice?.status === 'advised' ? advice.recommendation : '';
  const agreed =
    !people || !recommendation
      ? ''
      : recommendation === 'needs-info'
        ? 'needs-info'
        : recommendation === people.outcome
          ? 'yes'
          : 'no';
  const outcome =
    request.decisions.some((d) => d.outcome === 'deny') || request.state === 'DENIED' ? 'deny' : 'approve';
  return {
    request_id: request.id,
    jira_key: request.jiraIssueKey,
    jira_url: source.jiraBaseUrl
      ? `${source.jiraBaseUrl.replace(/\/+$/, '')}/browse/${encodeURIComponent(request.jiraIssueKey)}`
      : '',
    requester_email: request.requester.email ?? '',
    requester_okta_id: request.requester.directoryUserId ?? '',
    entitlement: request.entitlementId,
    risk_tier: entitlement?.riskTier ?? '',
    state: request.state,
    break_glass: request.breakGlass ? 'true' : 'false',
    asked_at: request.createdAt,
    asked_duration_s: String(request.durationSeconds),
    justification: request.justification,
    decided_by: request.breakGlass ? 'break-glass' : ruleDecision ? 'rule' : 'people',
    rule:
      ruleDecision?.actor.id ??
      (typeof decidedEvent?.evidence?.rule === 'string' ? decidedEvent.evidence.rule : ''),
    outcome,
    decided_at: request.decisions.at(-1)?.decidedAt ?? decidedEvent?.at ?? '',
    approvers: approvals
      .map(
        (d) =>
          `${d.outcome} ${d.actor.id}${d.actor.personId ? ` (okta ${d.actor.personId})` : ''} via ${String(
            authorized(d.sourceId) ?? 'unrecorded',
          )} at ${d.decidedAt}`,
      )
      .join('; '),
    granted_at: request.grant?.grantedAt ?? '',
    expires_at: request.grant?.expiresAt ?? '',
    revoked_at: revokedEvent?.at ?? '',
    revoked_by: revokedEvent
      ? (asked?.actor.id ?? `${revokedEvent.actor.kind}:${revokedEvent.actor.id}`)
      : '',
    revoke_reason: revokedEvent?.reason ?? '',
    review_outcome: request.review?.outcome ?? '',
    reviewed_by: request.review?.by ?? '',
    reviewed_at: request.review?.at ?? '',
    model_recommendation: recommendation || (advice?.status === 'unavailable' ? 'unavailable' : ''),
    model_confidence: advice?.status === 'advised' ? String(advice.confidence) : '',
    model: advice?.status === 'advised' ? advice.model : '',
    prompt_version: advice?.promptVersion ?? '',
    people_agreed: agreed,
    evidence_digest: triaged ? sha256(JSON.stringify(triaged.evidence?.bundle)) : '',
    prompt_digest: adviceRecord?.inputDigest ?? '',
    pagerduty_incident: request.incidentId ?? '',
    pagerduty_url: incident?.url ?? '',
  };
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** One RFC 4180 record: a field with a quote, comma, CR or LF is quoted (quotes doubled); CRLF ends it. */
export function csvLine(values: readonly string[]): string {
  return `${values.map((v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',')}\r\n`;
}
