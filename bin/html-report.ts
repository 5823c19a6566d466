// `loopgate report --html FILE`: one self-contained HTML page for a security
// lead: how long requests wait for a page, a decision and a grant, what each
// entitlement's requests came to, how often people agreed with the model per
// prompt version week by week, the break-glass grants and their reviews, and
// who holds what now. The charts are SVG drawn here; the page loads nothing
// (its Content-Security-Policy forbids it) and runs no script.

import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { humanDecision } from '../lambdas/core/advice/feedback';
import type { AccessRequest, AuditEvent } from '../lambdas/core/model';
import type { RequestStore } from '../lambdas/core/ports';
import type { AuditSource } from './audit-export';
import { OperatorInputError } from './operate';

const OUTCOMES = ['granted', 'denied', 'cancelled', 'rejected', 'failed', 'open'] as const;
type Outcome = (typeof OUTCOMES)[number];
const OUTCOME_COLOURS: Record<Outcome, string> = {
  granted: '#2f855a',
  denied: '#c53030',
  cancelled: '#718096',
  rejected: '#b7791f',
  failed: '#6b46c1',
  open: '#3182ce',
};
const LINE_COLOURS = ['#3182ce', '#dd6b20', '#38a169', '#805ad5', '#d53f8c', '#319795'];

export interface ReportData {
  generatedAt: string;
  requests: number;
  /** Seconds from filing to each milestone, one value per request that reached it. */
  timeToPage: number[];
  timeToDecision: number[];
  timeToGrant: number[];
  outcomes: Map<string, Record<Outcome, number>>;
  /** prompt version → week (Monday, YYYY-MM-DD) → agreed and disagreed human decisions. */
  agreement: Map<string, Map<string, { agreed: number; calls: number }>>;
  breakGlass: {
    key: string;
    requester: string;
    entitlement: string;
    grantedAt: string;
    state: string;
    review?: { outcome: string; by: string; at: string };
  }[];
  active: { key: string; holder: string; entitlement: string; access: string; expiresAt: string }[];
}

/** Reads every request page by page (the byEntitlement index) and keeps only what the charts need. */
export async function reportData(
  source: Pick<AuditSource, 'store' | 'catalog'> & { store: Pick<RequestStore, 'listDue'> },
  now: Date,
): Promise<ReportData> {
  const data: ReportData = {
    generatedAt: now.toISOString(),
    requests: 0,
    timeToPage: [],
    timeToDecision: [],
    timeToGrant: [],
    outcomes: new Map(),
    agreement: new Map(),
    breakGlass: [],
    active: [],
  };
  const range = { from: new Date('2000-01-01T00:00:00Z'), to: new Date('9999-01-01T00:00:00Z') };
  for (const entitlement of source.catalog.entitlements) {
    for await (const page of source.store.pagesByEntitlement(entitlement.id, range)) {
      const trails = await Promise.all(page.map((r) => source.store.listAuditEvents(r.id)));
      page.forEach((request, i) => add(data, request, trails[i] ?? []));
    }
  }
  const live = await source.store.listDue('GRANTED', new Date('9999-12-31T00:00:00Z'), { limit: 10_000 });
  data.active = live
    .filter((r) => r.grant)
    .sort((a, b) => (a.grant?.expiresAt ?? '').localeCompare(b.grant?.expiresAt ?? ''))
    .map((r) => ({
      key: r.jiraIssueKey,
      holder: r.requester.email ?? r.grant?.principal ?? '',
      entitlement: r.entitlementId,
      access: `${r.grant?.action} ${r.grant?.target}`,
      expiresAt: r.grant?.expiresAt ?? '',
    }));
  return data;
}

function add(data: ReportData, request: AccessRequest, trail: readonly AuditEvent[]): void {
  data.requests += 1;
  const filed = Date.parse(request.createdAt);
  const since = (e: AuditEvent | undefined) =>
    e ? Math.max(0, (Date.parse(e.at) - filed) / 1000) : undefined;
  const paged = since(trail.find((e) => e.evidence?.incident));
  const decided = since(
    trail.find(
      (e) =>
        e.to === 'APPROVED' ||
        e.to === 'DENIED' ||
        (e.to === 'GRANTED' && e.from === 'TRIAGING') ||
        (e.to === 'CANCELLED' && e.from !== 'RECEIVED'),
    ),
  );
  const granted = since(trail.find((e) => e.to === 'GRANTED' && e.from !== 'GRANTED'));
  if (paged !== undefined) data.timeToPage.push(paged);
  if (decided !== undefined) data.timeToDecision.push(decided);
  if (granted !== undefined) data.timeToGrant.push(granted);

  const counts =
    data.outcomes.get(request.entitlementId) ??
    (Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>);
  counts[outcomeOf(request)] += 1;
  data.outcomes.set(request.entitlementId, counts);

  const people = humanDecision(request);
  const advice = request.advice;
  if (people && advice?.status === 'advised' && advice.recommendation !== 'needs-info') {
    const weeks = data.agreement.get(advice.promptVersion) ?? new Map();
    const week = mondayOf(request.createdAt);
    const cell = weeks.get(week) ?? { agreed: 0, calls: 0 };
    cell.calls += 1;
    if (advice.recommendation === people.outcome) cell.agreed += 1;
    weeks.set(week, cell);
    data.agreement.set(advice.promptVersion, weeks);
  }
  if (request.breakGlass && request.grant) {
    data.breakGlass.push({
      key: request.jiraIssueKey,
      requester: request.requester.email ?? '',
      entitlement: request.entitlementId,
      grantedAt: request.grant.grantedAt,
      state: request.state,
      ...(request.review
        ? { review: { outcome: request.review.outcome, by: request.review.by, at: request.review.at } }
        : {}),
    });
  }
}

function outcomeOf(request: AccessRequest): Outcome {
  switch (request.state) {
    case 'GRANTED':
    case 'REVOKED':
      return 'granted';
    case 'DENIED':
      return 'denied';
    case 'CANCELLED':
      return 'cancelled';
    case 'REJECTED':
      return 'rejected';
    case 'FAILED':
      return 'failed';
    default:
      return 'open';
  }
}

function mondayOf(iso: string): string {
  const day = new Date(iso.slice(0, 10));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

/** Writes the page aside and renames it when complete: a failure leaves no file. */
export async function htmlReportCommand(
  source: Parameters<typeof reportData>[0],
  file: string,
  now: Date,
  io: { err(text: string): void },
): Promise<number> {
  const partial = `${file}.partial-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(partial, 'wx');
  } catch (error) {
    throw new OperatorInputError(`cannot write --html ${file}: ${(error as Error).message}`);
  }
  try {
    const data = await reportData(source, now);
    writeSync(fd, renderReport(data));
    closeSync(fd);
    renameSync(partial, file);
  } catch (error) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  }
  io.err(`wrote ${file}\n`);
  return 0;
}

// --- the page -------------------------------------------------------------------------------------

const BUCKETS: { label: string; upTo: number }[] = [
  { label: '<1m', upTo: 60 },
  { label: '1–5m', upTo: 300 },
  { label: '5–15m', upTo: 900 },
  { label: '15–60m', upTo: 3600 },
  { label: '1–4h', upTo: 4 * 3600 },
  { label: '4–24h', upTo: 86_400 },
  { label: '>1d', upTo: Number.POSITIVE_INFINITY },
];

export function renderReport(data: ReportData): string {
  const sections = [
    section(
      'Time to page, to decision, to grant',
      `<div class="row">${histogram('Time to page', data.timeToPage)}${histogram('Time to decision', data.timeToDecision)}${histogram('Time to grant', data.timeToGrant)}</div>`,
    ),
    section('Requests and outcomes per entitlement', outcomesChart(data.outcomes)),
    section('Model and people: agreement per prompt version, by week', agreementChart(data.agreement)),
    section(
      'Break-glass grants and their reviews',
      htmlTable(
        ['Ticket', 'Requester', 'Entitlement', 'Granted', 'State', 'Review'],
        data.breakGlass.map((b) => [
          b.key,
          b.requester,
          b.entitlement,
          b.grantedAt,
          b.state,
          b.review ? `${b.review.outcome} by ${b.review.by} at ${b.review.at}` : 'NOT REVIEWED',
        ]),
        'No break-glass grants.',
      ),
    ),
    section(
      'Active grants',
      htmlTable(
        ['Ticket', 'Holder', 'Entitlement', 'Access', 'Ends'],
        data.active.map((a) => [a.key, a.holder, a.entitlement, a.access, a.expiresAt]),
        'Nobody holds access through loopgate.',
      ),
    ),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>loopgate report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1a202c; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.row { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: .25rem; }
svg text { font: 11px system-ui, sans-serif; fill: #4a5568; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .25rem .75rem; border-bottom: 1px solid #e2e8f0; }
.legend span { display: inline-block; margin-right: 1rem; } .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
.empty { color: #718096; }
</style>
</head>
<body>
<h1>loopgate report</h1>
<p>${data.requests} requests; generated ${esc(data.generatedAt)}.</p>
${sections.join('\n')}
</body>
</html>
`;
}

const esc = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const section = (title: string, body: string) => `<section><h2>${esc(title)}</h2>${body}</section>`;

const n = (value: number) => Number(value.toFixed(1));

function histogram(title: string, seconds: readonly number[]): string {
  const counts = BUCKETS.map(() => 0);
  for (const s of seconds) {
    const i = BUCKETS.findIndex((b) => s < b.upTo);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  const [width, height, left, bottom] = [360, 180, 32, 24];
  const max = Math.max(1, ...counts);
  const band = (width - left) / BUCKETS.length;
  const bars = counts
    .map((c, i) => {
      const h = ((height - bottom - 10) * c) / max;
      const x = left + i * band + 4;
      return c === 0
        ? ''
        : `<path class="bar" d="M${n(x)} ${n(height - bottom)}h${n(band - 8)}v${n(-h)}h${n(-(band - 8))}Z" fill="#3182ce"><title>${BUCKETS[i]?.label}: ${c}</title></path>` +
            `<text x="${n(x + (band - 8) / 2)}" y="${n(height - bottom - h - 3)}" text-anchor="middle">${c}</text>`;
    })
    .join('');
  const labels = BUCKETS.map(
    (b, i) =>
      `<text x="${n(left + i * band + band / 2)}" y="${height - 8}" text-anchor="middle">${esc(b.label)}</text>`,
  ).join('');
  const median = seconds.length
    ? [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]
    : undefined;
  return figure(
    `${title}${median === undefined ? '' : ` (median ${span(median)}, n=${seconds.length})`}`,
    seconds.length === 0
      ? empty(width, height)
      : svg(width, height, `${axes(left, height - bottom, width)}${bars}${labels}`),
  );
}

function outcomesChart(outcomes: ReadonlyMap<string, Record<Outcome, number>>): string {
  const rows = [...outcomes.entries()].sort(([a], [b]) => a.localeCompare(b));
  const [width, rowHeight, left] = [640, 26, 180];
  const height = rows.length * rowHeight + 30;
  const max = Math.max(1, ...rows.map(([, c]) => OUTCOMES.reduce((t, o) => t + c[o], 0)));
  const scale = (width - left - 40) / max;
  const bars = rows
    .map(([id, counts], i) => {
      let x = left;
      const y = 10 + i * rowHeight;
      const parts = OUTCOMES.filter((o) => counts[o] > 0)
        .map((o) => {
          const w = counts[o] * scale;
          const part = `<path class="bar" d="M${n(x)} ${y}h${n(w)}v${rowHeight - 8}h${n(-w)}Z" fill="${OUTCOME_COLOURS[o]}"><title>${esc(id)}: ${counts[o]} ${o}</title></path>`;
          x += w;
          return part;
        })
        .join('');
      const total = OUTCOMES.reduce((t, o) => t + counts[o], 0);
      return `<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(id)}</text>${parts}<text x="${n(x + 4)}" y="${y + 13}">${total}</text>`;
    })
    .join('');
  const legend = `<p class="legend">${OUTCOMES.map((o) => `<span><i style="background:${OUTCOME_COLOURS[o]}"></i>${o}</span>`).join('')}</p>`;
  return figure(
    'Requests by entitlement and outcome',
    rows.length === 0 ? empty(width, 120) : `${svg(width, height, bars)}${legend}`,
  );
}

function agreementChart(
  agreement: ReadonlyMap<string, ReadonlyMap<string, { agreed: number; calls: number }>>,
): string {
  const weeks = [...new Set([...agreement.values()].flatMap((m) => [...m.keys()]))].sort();
  const versions = [...agreement.keys()].sort();
  const [width, height, left, bottom, top] = [640, 220, 40, 28, 10];
  if (versions.length === 0)
    return figure('Agreement rate (agreed / (agreed + disagreed))', empty(width, height));
  const x = (week: string) =>
    weeks.length === 1
      ? (left + width) / 2
      : left + 20 + ((width - left - 40) * weeks.indexOf(week)) / (weeks.length - 1);
  const y = (rate: number) => top + (height - bottom - top) * (1 - rate);
  const grid = [0, 0.5, 1]
    .map(
      (r) =>
        `<path d="M${left} ${n(y(r))}H${width - 10}" stroke="#e2e8f0"/><text x="${left - 4}" y="${n(y(r) + 4)}" text-anchor="end">${r * 100}%</text>`,
    )
    .join('');
  const lines = versions
    .map((version, i) => {
      const colour = LINE_COLOURS[i % LINE_COLOURS.length];
      const points = weeks
        .filter((w) => agreement.get(version)?.has(w))
        .map((w) => {
          const cell = agreement.get(version)?.get(w) ?? { agreed: 0, calls: 1 };
          return { w, rate: cell.agreed / cell.calls, cell };
        });
      // A single week is drawn as a short level segment, so every version has a visible line.
      const d = points
        .map((p, j) => `${j === 0 ? 'M' : 'L'}${n(x(p.w))} ${n(y(p.rate))}`)
        .join('')
        .concat(points.length === 1 ? `h12` : '');
      const dots = points
        .map(
          (p) =>
            `<circle cx="${n(x(p.w))}" cy="${n(y(p.rate))}" r="3.5" fill="${colour}"><title>${esc(version)} week of ${p.w}: ${p.cell.agreed} of ${p.cell.calls}</title></circle>`,
        )
        .join('');
      return `<path class="line" d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>${dots}`;
    })
    .join('');
  const labels = weeks
    .map((w) => `<text x="${n(x(w))}" y="${height - 8}" text-anchor="middle">${w}</text>`)
    .join('');
  const legend = `<p class="legend">${versions.map((v, i) => `<span><i style="background:${LINE_COLOURS[i % LINE_COLOURS.length]}"></i>${esc(v)}</span>`).join('')}</p>`;
  return figure(
    'Agreement rate (agreed / (agreed + disagreed)); needs-info and unavailable advice not counted',
    `${svg(width, height, `${axes(left, height - bottom, width)}${grid}${lines}${labels}`)}${legend}`,
  );
}

const svg = (width: number, height: number, body: string) =>
  `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">${body}</svg>`;

const axes = (left: number, baseline: number, width: number) =>
  `<path class="axis" d="M${left} 4V${baseline}H${width - 4}" fill="none" stroke="#a0aec0"/>`;

const empty = (width: number, height: number) =>
  `<svg class="chart empty" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.min(height, 60)}"><text x="10" y="30">no data yet</text></svg>`;

const figure = (caption: string, body: string) =>
  `<figure><figcaption>${esc(caption)}</figcaption>${body}</figure>`;

function htmlTable(header: string[], rows: string[][], none: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(none)}</p>`;
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function span(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}
