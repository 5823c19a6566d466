// `loopgate report` and `loopgate export-feedback`: the feedback loop from the
// command line, reading the same table the functions write (configured by the
// same environment variables: LOOPGATE_TABLE_NAME, and AWS credentials or
// LOOPGATE_DYNAMODB_ENDPOINT for DynamoDB Local).

import { writeFileSync } from 'node:fs';
import {
  agreementRate,
  DECIDED_STATES,
  feedbackExample,
  type FeedbackReport,
  feedbackReport,
} from '../lambdas/core/advice/feedback';
import type { AdviceRecord } from '../lambdas/core/advice/advise';
import type { Catalog } from '../lambdas/core/catalog';
import type { AccessRequest } from '../lambdas/core/model';
import type { RequestStore } from '../lambdas/core/ports';
import { unreviewedBreakGlass } from '../lambdas/core/decide/review';
import { type JustificationStudy, studyJustifications } from '../lambdas/core/justifications';

/** Every decided request of every entitlement in the catalog, newest first per entitlement. */
export async function decidedRequests(
  store: RequestStore,
  catalog: Catalog,
  limitPerEntitlement: number,
): Promise<AccessRequest[]> {
  const lists = await Promise.all(
    catalog.entitlements.map((e) =>
      store.listByEntitlement(e.id, { states: DECIDED_STATES, limit: limitPerEntitlement }),
    ),
  );
  return lists.flat();
}

export function reportText(report: FeedbackReport): string {
  const percent = (row: Parameters<typeof agreementRate>[0]) => {
    const rate = agreementRate(row);
    return rate === undefined ? '-' : `${Math.round(rate * 100)}%`;
  };
  const header = [
    'ENTITLEMENT',
    'PROMPT',
    'DECIDED',
    'AGREED',
    'DISAGREED',
    'NEEDS-INFO',
    'NO ADVICE',
    'AGREEMENT',
  ];
  const cells = (name: string, prompt: string, row: FeedbackReport['totals']) => [
    name,
    prompt,
    ...[row.decided, row.agreed, row.disagreed, row.needsInfo, row.unavailable].map(String),
    percent(row),
  ];
  const rows = [
    ...report.rows.map((r) => cells(r.entitlementId, r.promptVersion, r)),
    cells('all', '', report.totals),
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const lines = [header, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  lines.push('', 'Agreement counts approve/deny calls only; a needs-info answer is neither.');
  if (report.totals.decided === 0) lines.push('No request has been decided by a person yet.');
  if (report.disagreements.length) {
    lines.push('', 'Most common reasons people decided against the model:');
    for (const d of report.disagreements) lines.push(`  ${String(d.count).padStart(3)}×  ${d.example}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function reportCommand(
  deps: { store: RequestStore; catalog: Catalog },
  options: { json: boolean; limit: number },
  out: (text: string) => void,
): Promise<number> {
  const decided = await decidedRequests(deps.store, deps.catalog, options.limit);
  const report = feedbackReport(decided);
  const justifications = studyJustifications(decided);
  const unreviewed = await unreviewedBreakGlass(deps.store, deps.catalog, options.limit);
  out(
    options.json
      ? `${JSON.stringify({ ...report, justifications, unreviewedBreakGlass: unreviewed.map(breakGlassRow) }, null, 2)}\n`
      : reportText(report) + justificationText(justifications) + unreviewedText(unreviewed),
  );
  return 0;
}

/** Why people keep asking, per entitlement: the tickets they cite and the phrases that recur. */
function justificationText(studies: readonly JustificationStudy[]): string {
  if (!studies.length) return '\nNo request has been granted yet: no justifications to study.\n';
  const lines = studies.map((s) => {
    const tickets = s.ticketPrefixes.map((t) => `${t.prefix}- ${t.requests}×`);
    if (s.withoutTicket) tickets.push(`no ticket ${s.withoutTicket}×`);
    const phrases = s.phrases.map((p) => `"${p.phrase}" ${p.requests}×`).join(', ');
    return `  ${s.entitlementId} (${s.requests} granted): tickets ${tickets.join(', ')}${phrases ? `; repeated: ${phrases}` : ''}`;
  });
  return `\nWhy people ask (justifications of approved and audit-only requests):\n${lines.join('\n')}\n`;
}

function breakGlassRow(request: AccessRequest) {
  return {
    requestId: request.id,
    jiraIssueKey: request.jiraIssueKey,
    requester: request.requester.email ?? request.requester.jiraAccountId,
    entitlementId: request.entitlementId,
    state: request.state,
    grantedAt: request.grant?.grantedAt,
    incidentId: request.incidentId,
  };
}

function unreviewedText(requests: AccessRequest[]): string {
  if (!requests.length) return '\nEvery break-glass grant has been reviewed.\n';
  const lines = requests.map((r) => {
    const row = breakGlassRow(r);
    return `  ${row.jiraIssueKey}  ${row.requester}  ${row.entitlementId}  ${row.state}  granted ${row.grantedAt ?? '-'}  incident ${row.incidentId ?? '-'}`;
  });
  return `\nBreak-glass grants waiting for their review (answer "approve" or "deny" on the incident):\n${lines.join('\n')}\n`;
}

/** Writes one JSON line per decided request that has the messages its advice was asked with. */
export async function exportFeedbackCommand(
  deps: { store: RequestStore; catalog: Catalog },
  options: { file: string; limit: number },
  err: (text: string) => void,
): Promise<number> {
  const requests = await decidedRequests(deps.store, deps.catalog, options.limit);
  const lines: string[] = [];
  let withoutMessages = 0;
  for (const request of requests) {
    const trail = await deps.store.listAuditEvents(request.id);
    const advice = trail.find((e) => e.evidence?.advice)?.evidence?.advice as AdviceRecord | undefined;
    const example = feedbackExample(request, advice?.messages ?? []);
    if (example) lines.push(JSON.stringify(example));
    else withoutMessages += 1;
  }
  // Written whole at the end: an interrupted export leaves no half-written file.
  writeFileSync(options.file, lines.length ? `${lines.join('\n')}\n` : '');
  err(
    `wrote ${lines.length} example${lines.length === 1 ? '' : 's'} to ${options.file}` +
      (withoutMessages
        ? `; ${withoutMessages} decided request(s) skipped: no person decided or no prompt was recorded`
        : '') +
      '\n',
  );
  return 0;
}
