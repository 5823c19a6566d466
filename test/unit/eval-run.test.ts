// The eval runner's own rules, with a fake model: recording, replaying, and
// what makes a replay fail (a missing or stale recording, a regression).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelOutput } from '../../lambdas/core/advice/schema';
import type { Advisor } from '../../lambdas/core/ports';
import { citeMatches, loadEvalCases } from '../../bin/eval/cases';
import { EVALS_DIR, evalSetup, reportTable } from '../../bin/eval/cli';
import { type EvalSetup, judge, percentile, prepareCase, runEval } from '../../bin/eval/run';

let setup: EvalSetup;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loopgate-eval-'));
  setup = { ...evalSetup(), recordingsDir: dir };
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const answer = (recommendation: ModelOutput['recommendation']): ModelOutput => ({
  recommendation,
  confidence: 0.9,
  summary: 'fake',
  reasons: [],
  concerns: [],
  suggestedDuration: null,
  narrowerAlternative: null,
});

/** Always the same recommendation, priced like gpt-4o-mini. */
const fake = (recommendation: ModelOutput['recommendation']): Advisor => ({
  model: 'gpt-4o-mini',
  advise: () =>
    Promise.resolve({
      ok: true,
      output: answer(recommendation),
      model: 'gpt-4o-mini-2024-07-18',
      usage: { prompt: 1000, completion: 100, total: 1100 },
      latencyMs: 10,
    }),
});

function twoCases() {
  const all = loadEvalCases(EVALS_DIR, setup.catalog);
  const approve = all.find((c) => c.expect.recommendation.join() === 'approve' && c.expect.cite.length === 0);
  const deny = all.find((c) => !c.expect.recommendation.includes('approve'));
  if (!approve || !deny) throw new Error('the suite lacks a plain approve case or a non-approve case');
  return [approve, deny];
}

describe('judging an answer', () => {
  it('checks the recommendation, signals, words and citations, and prices the call', () => {
    const [c] = twoCases();
    const prepared = prepareCase(c as never, setup);
    const good = judge(
      prepared,
      {
        ok: true,
        output: answer('approve'),
        model: 'gpt-4o-mini',
        usage: { prompt: 1000, completion: 100, total: 1100 },
        latencyMs: 1,
      },
      setup.prices,
    );
    expect(good).toMatchObject({ pass: true, got: 'approve', problems: [] });
    expect(good.costUsd).toBeCloseTo((1000 * 0.15 + 100 * 0.6) / 1e6, 12);

    const bad = judge(
      prepared,
      {
        ok: true,
        output: { ...answer('deny'), reasons: [{ text: 'x', evidence: ['E404'] }] },
        model: 'unknown-model',
        latencyMs: 1,
      },
      setup.prices,
    );
    expect(bad.pass).toBe(false);
    expect(bad.problems).toEqual([
      'recommended deny, expected approve',
      'cited ids the prompt never showed: E404',
    ]);
    expect(bad.costUsd).toBeUndefined();

    const none = judge(
      prepared,
      { ok: false, failure: 'timeout', detail: 'slow', model: 'm', latencyMs: 1 },
      setup.prices,
    );
    expect(none).toMatchObject({ pass: false, got: 'none', problems: ['no recommendation: timeout (slow)'] });
  });
});

describe('judging citations of signals', () => {
  it('accepts S1 … as the prompt shows them, and counts a signal citation as citing its evidence', () => {
    const all = loadEvalCases(EVALS_DIR, setup.catalog).map((c) => prepareCase(c, setup));
    // A case expecting a citation that one of its signals rests on.
    const found = all.flatMap((p) =>
      p.bundle.signals.flatMap((signal, i) => {
        const keys = signal.evidence.map((id) => p.keys.get(id) ?? '');
        const cite = p.case.expect.cite.find((c) => keys.some((key) => citeMatches(c, key)));
        return cite ? [{ prepared: p, ref: `S${i + 1}` }] : [];
      }),
    )[0];
    if (!found) throw new Error('no eval case expects a citation a signal rests on');
    const { prepared, ref } = found;
    const result = judge(
      prepared,
      {
        ok: true,
        output: {
          ...answer(prepared.case.expect.recommendation[0] as ModelOutput['recommendation']),
          reasons: [{ text: 'x', evidence: [ref] }],
        },
        model: 'm',
        latencyMs: 1,
      },
      setup.prices,
    );
    expect(result.problems.filter((p) => /cite/.test(p))).toEqual([]);
  });
});

describe('the metrics a prompt tuner reads', () => {
  it('reports pass rate by category, injection approvals, citation validity and prompt tokens at p95', async () => {
    const all = loadEvalCases(EVALS_DIR, setup.catalog);
    const injection = all.find((c) => c.category === 'injection');
    const [routine] = twoCases();
    if (!injection || !routine) throw new Error('the suite lacks an injection or a routine case');
    const citing: Advisor = {
      model: 'gpt-4o-mini',
      advise: () =>
        Promise.resolve({
          ok: true,
          output: { ...answer('approve'), reasons: [{ text: 'x', evidence: ['E1', 'E404', 'S77'] }] },
          model: 'gpt-4o-mini',
          latencyMs: 1,
        }),
    };
    const report = await runEval([routine, injection], setup, {
      mode: 'record',
      advisor: citing,
      minPassRate: 0,
    });
    expect(report.totals.byCategory).toEqual({
      [routine.category]: { cases: 1, passed: 0, passRate: 0 },
      injection: { cases: 1, passed: 0, passRate: 0 },
    });
    expect(report.totals.injectionApprovals).toBe(1);
    expect(report.failures).toEqual([`1 injection case(s) were recommended for approval: ${injection.id}`]);
    expect(report.totals.citations).toEqual({ made: 6, valid: 2, validity: 2 / 6 });
    const tokens = [routine, injection].map((c) => prepareCase(c, setup).promptTokens);
    expect(report.totals.promptTokensP95).toBe(Math.max(...tokens));
    const table = reportTable(report, 'r.json');
    expect(table).toContain('injection cases recommended for approval: 1 (must be 0)');
    expect(table).toContain('citations: 2 of 6 name an id the prompt showed (33.3% valid)');
    expect(table).toMatch(/prompt tokens per request as rendered now: \d+ at p95/);
  });

  it('measures the policy the prompt includes against the sections each case labels', async () => {
    const [routine, deny] = twoCases();
    if (!routine || !deny) throw new Error('unreachable');
    const labelled = {
      ...routine,
      expect: { ...routine.expect, policy: ['access-policy#2.1', 'access-policy#5.2'] },
    };
    const unlabelled = { ...deny, expect: { ...deny.expect, policy: [] } };
    const report = await runEval([labelled, unlabelled], setup, {
      mode: 'record',
      advisor: fake('approve'),
      minPassRate: 0,
    });
    const included = prepareCase(labelled, setup).bundle.kept.policy;
    const relevant = ['access-policy#2.1', 'access-policy#5.2'].filter((id) => included.includes(id)).length;
    expect(report.cases[0]?.policy).toEqual({
      labelled: ['access-policy#2.1', 'access-policy#5.2'],
      included,
    });
    // The unlabelled case counts for neither precision nor recall.
    expect(report.totals.policy).toEqual({
      labelled: 2,
      included: included.length,
      relevant,
      recall: relevant / 2,
      precision: relevant / included.length,
    });
    expect(reportTable(report, 'r.json')).toContain(
      `recall ${((relevant / 2) * 100).toFixed(1)}% (${relevant} of 2 labelled`,
    );
  });

  it('refuses a case labelling a policy section the policy does not have', () => {
    const [c] = twoCases();
    if (!c) throw new Error('unreachable');
    expect(() =>
      prepareCase({ ...c, expect: { ...c.expect, policy: ['access-policy#9.9'] } }, setup),
    ).toThrow(/expects policy access-policy#9\.9, which the policy has no section for/);
  });

  it('takes the nearest-rank percentile', () => {
    expect(percentile([], 0.95)).toBe(0);
    expect(percentile([5, 1, 3], 0.5)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(19);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBe(95);
  });
});

describe('recording and replaying', () => {
  it('replays what was recorded offline; a case that failed when recorded is a known failure', async () => {
    const cases = twoCases();
    const recorded = await runEval(cases, setup, { mode: 'record', advisor: fake('approve') });
    expect(recorded.cases.map((r) => r.pass)).toEqual([true, false]);
    expect(recorded.failures).toEqual(['1 of 2 cases passed; at least 2 required']);
    expect(recorded.totals).toMatchObject({ cases: 2, passed: 1, agreement: 0.5, promptTokens: 2000 });

    const replayed = await runEval(cases, setup, { mode: 'replay' });
    expect(replayed.failures).toEqual([]);
    expect(replayed.cases.map((r) => [r.pass, r.passedWhenRecorded, r.stale])).toEqual([
      [true, true, false],
      [false, false, false],
    ]);
    expect(reportTable(replayed, 'r.json')).toContain('fail (known)');
  });

  it('fails a replay when a case that passed fails now', async () => {
    const cases = twoCases();
    await runEval(cases, setup, { mode: 'record', advisor: fake('approve') });
    const file = join(dir, `${cases[0]?.id}.json`);
    const recording = JSON.parse(readFileSync(file, 'utf8'));
    recording.answer.output.recommendation = 'deny';
    writeFileSync(file, JSON.stringify(recording));

    const replayed = await runEval(cases, setup, { mode: 'replay' });
    expect(replayed.failures).toEqual([`1 case(s) passed when recorded and fail now: ${cases[0]?.id}`]);
  });

  it('fails a replay when the prompt changed since recording, or a recording is missing', async () => {
    const cases = twoCases();
    await runEval(cases, setup, { mode: 'record', advisor: fake('approve') });
    const changed = {
      ...setup,
      templates: { ...setup.templates, system: `${setup.templates.system}\nBe terse.` },
    };
    expect((await runEval(cases, changed, { mode: 'replay' })).failures).toEqual([
      '2 recording(s) were made from another input (the prompt, the evidence code or the case changed): record again with `npm run eval -- --record`',
    ]);

    rmSync(join(dir, `${cases[1]?.id}.json`));
    expect((await runEval(cases, setup, { mode: 'replay' })).failures).toEqual([
      `1 case(s) have no recording: ${cases[1]?.id}`,
    ]);
  });
});
