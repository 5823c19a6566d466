// `loopgate eval --compare A.json B.json`: two eval reports (one per prompt
// version, each from `npm run eval -- --replay --report FILE` on that version's
// prompt and recordings, or from a live run) side by side on the cases both
// ran: pass rate by category, agreement, injection approvals, policy recall,
// prompt tokens, and every case whose recommendation or verdict flipped.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from './cli';
import type { EvalReport } from './run';

const reportSchema = z.object({
  mode: z.string(),
  promptVersion: z.string(),
  model: z.string(),
  cases: z.array(
    z.object({
      id: z.string(),
      category: z.string(),
      expected: z.array(z.string()),
      got: z.string(),
      pass: z.boolean(),
      measuredPromptTokens: z.number().optional(),
      policy: z.object({ labelled: z.array(z.string()), included: z.array(z.string()) }).optional(),
    }),
  ),
});
type Report = z.output<typeof reportSchema>;

/** A report file written by `loopgate eval`; one error naming the file and what is wrong with it. */
export function readReport(file: string): Report {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read the eval report ${file}: ${(error as Error).message}`);
  }
  const parsed = reportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `${file} is not an eval report (${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}): write one with npm run eval -- --replay --report ${file}`,
    );
  }
  return parsed.data;
}

type Side = { a: number; b: number };

export interface Comparison {
  a: { promptVersion: string; model: string; mode: string };
  b: { promptVersion: string; model: string; mode: string };
  /** Cases both reports ran: every figure below is over these. */
  cases: number;
  onlyInA: string[];
  onlyInB: string[];
  passed: Side;
  agreement: Side;
  byCategory: Record<string, Side & { cases: number }>;
  injectionApprovals: Side;
  /** Share of labelled policy sections the prompt included; absent when a report has no labels. */
  policyRecall?: Side;
  promptTokensMean: Side;
  /** Cases whose recommendation or verdict changed from A to B. */
  flips: { id: string; category: string; expected: string[]; from: string; to: string; verdict: string }[];
}

export function compareReports(a: Report | EvalReport, b: Report | EvalReport): Comparison {
  const inB = new Map(b.cases.map((c) => [c.id, c]));
  const inA = new Set(a.cases.map((c) => c.id));
  const pairs = a.cases.flatMap((ca) => {
    const cb = inB.get(ca.id);
    return cb ? [{ a: ca, b: cb }] : [];
  });
  const share = (n: number) => (pairs.length ? n / pairs.length : 0);
  const count = (pick: (p: (typeof pairs)[number]) => boolean) => pairs.filter(pick).length;
  const byCategory: Comparison['byCategory'] = {};
  for (const p of pairs) {
    const entry = (byCategory[p.a.category] ??= { cases: 0, a: 0, b: 0 });
    entry.cases += 1;
    if (p.a.pass) entry.a += 1;
    if (p.b.pass) entry.b += 1;
  }
  for (const entry of Object.values(byCategory)) {
    entry.a /= entry.cases;
    entry.b /= entry.cases;
  }
  const recall = (side: 'a' | 'b') => {
    let labelled = 0;
    let found = 0;
    for (const p of pairs) {
      const policy = p[side].policy;
      if (!policy) return undefined;
      labelled += policy.labelled.length;
      found += policy.labelled.filter((id) => policy.included.includes(id)).length;
    }
    return labelled ? found / labelled : undefined;
  };
  const recallA = recall('a');
  const recallB = recall('b');
  const tokens = (side: 'a' | 'b') =>
    share(pairs.reduce((sum, p) => sum + (p[side].measuredPromptTokens ?? 0), 0));
  const verdict = (pass: boolean) => (pass ? 'pass' : 'fail');
  return {
    a: { promptVersion: a.promptVersion, model: a.model, mode: a.mode },
    b: { promptVersion: b.promptVersion, model: b.model, mode: b.mode },
    cases: pairs.length,
    onlyInA: a.cases.filter((c) => !inB.has(c.id)).map((c) => c.id),
    onlyInB: b.cases.filter((c) => !inA.has(c.id)).map((c) => c.id),
    passed: { a: count((p) => p.a.pass), b: count((p) => p.b.pass) },
    agreement: {
      a: share(count((p) => p.a.expected.includes(p.a.got))),
      b: share(count((p) => p.b.expected.includes(p.b.got))),
    },
    byCategory,
    injectionApprovals: {
      a: count((p) => p.a.category === 'injection' && p.a.got === 'approve'),
      b: count((p) => p.b.category === 'injection' && p.b.got === 'approve'),
    },
    ...(recallA !== undefined && recallB !== undefined ? { policyRecall: { a: recallA, b: recallB } } : {}),
    promptTokensMean: { a: tokens('a'), b: tokens('b') },
    flips: pairs
      .filter((p) => p.a.got !== p.b.got || p.a.pass !== p.b.pass)
      .map((p) => ({
        id: p.a.id,
        category: p.a.category,
        expected: p.b.expected,
        from: p.a.got,
        to: p.b.got,
        verdict: `${verdict(p.a.pass)} -> ${verdict(p.b.pass)}`,
      })),
  };
}

export function comparisonTable(c: Comparison): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const delta = (s: Side, scale = 100, unit = ' pts') => {
    const d = (s.b - s.a) * scale;
    return `${d >= 0 ? '+' : ''}${d.toFixed(1)}${unit}`;
  };
  const lines = [
    `A: prompt ${c.a.promptVersion}, model ${c.a.model} (${c.a.mode})`,
    `B: prompt ${c.b.promptVersion}, model ${c.b.model} (${c.b.mode})`,
    `${c.cases} cases in both${c.onlyInA.length ? `; only in A: ${c.onlyInA.join(', ')}` : ''}${c.onlyInB.length ? `; only in B: ${c.onlyInB.join(', ')}` : ''}`,
    '',
    `passed: ${c.passed.a} -> ${c.passed.b} of ${c.cases}`,
    `agreement with the expected recommendation: ${pct(c.agreement.a)} -> ${pct(c.agreement.b)} (${delta(c.agreement)})`,
    ...Object.entries(c.byCategory).map(
      ([category, s]) => `  ${category} (${s.cases}): ${pct(s.a)} -> ${pct(s.b)} (${delta(s)})`,
    ),
    `injection cases recommended for approval: ${c.injectionApprovals.a} -> ${c.injectionApprovals.b} (must be 0)`,
    ...(c.policyRecall
      ? [`policy recall: ${pct(c.policyRecall.a)} -> ${pct(c.policyRecall.b)} (${delta(c.policyRecall)})`]
      : []),
    `prompt tokens per case (mean): ${Math.round(c.promptTokensMean.a)} -> ${Math.round(c.promptTokensMean.b)}`,
    '',
    c.flips.length ? `flips (${c.flips.length}):` : 'no case changed its recommendation or verdict',
    ...c.flips.map(
      (f) =>
        `  ${f.id} [${f.category}]: ${f.from} -> ${f.to}, ${f.verdict} (expected ${f.expected.join(' or ')})`,
    ),
    '',
  ];
  return lines.join('\n');
}
