// The evaluation suite: every case in prompts/evals/ goes through the real
// triage code (evidence, signals, policy, the prompt as rendered in
// production), then to the model or to a recorded answer, and the answer is
// checked the way the Advisor checks it before judging it against the case's
// expectations. Recordings make the suite run offline in CI: a case that passed
// when it was recorded must still pass, and a recording made from another input
// is stale and must be made again.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { checkAnswer, inputDigest } from '../../lambdas/core/advice/advise';
import { type PromptTemplates, type RenderedPrompt, renderPrompt } from '../../lambdas/core/advice/prompt';
import { outputProblem } from '../../lambdas/core/advice/schema';
import type { Catalog, Entitlement } from '../../lambdas/core/catalog';
import type { EvidenceBundle } from '../../lambdas/core/context';
import type { Advisor, ModelAnswer } from '../../lambdas/core/ports';
import { assembleBundle, type PolicyChunk, type TriageEvidence } from '../../lambdas/core/triage';
import { signalRef } from '../../lambdas/core/triage/bundle';
import { caseContext, citeMatches, type LoadedCase } from './cases';

export interface EvalSetup {
  catalog: Catalog;
  templates: PromptTemplates;
  policyChunks: readonly PolicyChunk[];
  countTokens: (text: string) => number;
  tokenBudget: number;
  /** Where answers are recorded, one JSON file per case. */
  recordingsDir: string;
  prices: Prices;
}

/** A case made ready for the model: the bundle and the exact prompt production would send. */
export interface PreparedCase {
  case: LoadedCase;
  entitlement: Entitlement;
  bundle: EvidenceBundle;
  prompt: RenderedPrompt;
  /** Evidence id → its key (`okta.mfa`), for `cite` expectations. */
  keys: Map<string, string>;
  /** Signal id as the prompt shows it (`S1`) → the evidence ids the signal cites: citing S1 cites what it rests on. */
  signalEvidence: Map<string, string[]>;
  /** Tokens of the whole prompt as sent (system and user). */
  promptTokens: number;
}

export function prepareCase(c: LoadedCase, setup: EvalSetup): PreparedCase {
  const unknown = c.expect.policy.filter((id) => !setup.policyChunks.some((chunk) => chunk.id === id));
  if (unknown.length > 0) {
    throw new Error(
      `${c.file}:${c.line}: case ${c.id} expects policy ${unknown.join(', ')}, which the policy has no section for (known: ${setup.policyChunks.map((chunk) => chunk.id).join(', ')})`,
    );
  }
  const { context, now } = caseContext(c, setup.catalog);
  const bundle = assembleBundle(context, {
    now,
    policyChunks: setup.policyChunks,
    tokenBudget: setup.tokenBudget,
    countTokens: setup.countTokens,
  });
  const prompt = renderPrompt(setup.templates, {
    now,
    request: context.request,
    entitlement: context.entitlement,
    catalog: setup.catalog,
    bundle,
  });
  return {
    case: c,
    entitlement: context.entitlement,
    bundle,
    prompt,
    keys: new Map(bundle.evidence.map((e) => [e.id, (e as TriageEvidence).key])),
    signalEvidence: new Map(bundle.signals.map((signal, i) => [signalRef(i), signal.evidence])),
    promptTokens: prompt.messages.reduce((sum, m) => sum + setup.countTokens(m.content), 0),
  };
}

// --- recordings --------------------------------------------------------------------

const recordingSchema = z.object({
  case: z.string(),
  recordedAt: z.string(),
  promptVersion: z.string(),
  /** The model asked (as configured; the answer names the model that answered). */
  model: z.string(),
  /** The digest of the model and messages the answer was given for. */
  inputDigest: z.string(),
  /** Whether the case passed when recorded: replay must not do worse. */
  passed: z.boolean(),
  answer: z.custom<ModelAnswer>(
    (value) => typeof value === 'object' && value !== null && 'ok' in value && 'model' in value,
  ),
});
export type Recording = z.output<typeof recordingSchema>;

const recordingPath = (dir: string, id: string) => join(dir, `${id}.json`);

export function readRecording(dir: string, id: string): Recording | undefined {
  let text: string;
  try {
    text = readFileSync(recordingPath(dir, id), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = recordingSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${recordingPath(dir, id)} is not a recording: ${parsed.error.message}`);
  return parsed.data;
}

function writeRecording(dir: string, recording: Recording): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(recordingPath(dir, recording.case), `${JSON.stringify(recording, null, 2)}\n`);
}

// --- prices ---------------------------------------------------------------------------

/** US dollars per million tokens, by model id (a prefix matches dated versions: gpt-4o-mini-2024-07-18). */
export type Prices = Record<string, { input: number; output: number }>;

const pricesSchema = z.object({
  asOf: z.string(),
  models: z.record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) })),
});

export function loadPrices(file: string): Prices {
  return pricesSchema.parse(parseYaml(readFileSync(file, 'utf8'))).models;
}

function costOf(prices: Prices, answer: ModelAnswer): number | undefined {
  const match = Object.keys(prices)
    .filter((model) => answer.model === model || answer.model.startsWith(`${model}-`))
    .sort((a, b) => b.length - a.length)[0];
  const price = match === undefined ? undefined : prices[match];
  if (!price || !answer.usage) return undefined;
  return (answer.usage.prompt * price.input + answer.usage.completion * price.output) / 1_000_000;
}

// --- judging --------------------------------------------------------------------------

export interface CaseResult {
  id: string;
  category: string;
  description: string;
  expected: string[];
  /** The recommendation, or `none` when the model gave no usable answer. */
  got: string;
  pass: boolean;
  /** Why it did not pass, one line each. */
  problems: string[];
  model: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Tokens of the prompt as rendered now, by the suite's tokenizer (recorded usage may be older). */
  measuredPromptTokens: number;
  /** Policy sections the case labels as relevant, and those the prompt included. */
  policy: { labelled: string[]; included: string[] };
  /** Ids the answer cited, and how many of them the prompt never showed; absent without an answer. */
  citations?: { made: number; unknown: number };
  costUsd?: number;
  latencyMs: number;
  /** Replay only: the recording was made from another input (prompt, evidence or model changed). */
  stale?: boolean;
  /** Replay only: passed when recorded. */
  passedWhenRecorded?: boolean;
}

export function judge(prepared: PreparedCase, answer: ModelAnswer, prices: Prices): CaseResult {
  const c = prepared.case;
  const problems: string[] = [];
  const raised = new Set(prepared.bundle.signals.map((s) => s.id));
  for (const id of c.expect.signals) if (!raised.has(id)) problems.push(`signal ${id} was not raised`);
  for (const id of c.expect.absentSignals) if (raised.has(id)) problems.push(`signal ${id} was raised`);

  let got = 'none';
  let citations: CaseResult['citations'];
  const outOfBounds = answer.ok ? outputProblem(answer.output) : undefined;
  if (!answer.ok) {
    problems.push(`no recommendation: ${answer.failure} (${answer.detail})`);
  } else if (outOfBounds) {
    problems.push(`no recommendation: invalid-output (${outOfBounds})`);
  } else {
    const { advice, defects } = checkAnswer(answer.output, prepared.prompt, prepared.entitlement);
    got = advice.recommendation;
    citations = {
      made: advice.reasons.reduce((n, r) => n + r.evidence.length, 0) + defects.unknownCitations.length,
      unknown: defects.unknownCitations.length,
    };
    if (!c.expect.recommendation.includes(advice.recommendation)) {
      problems.push(`recommended ${advice.recommendation}, expected ${c.expect.recommendation.join(' or ')}`);
    }
    if (defects.unknownCitations.length > 0) {
      problems.push(
        `cited ids the prompt never showed: ${[...new Set(defects.unknownCitations)].join(', ')}`,
      );
    }
    const text = [advice.summary, ...advice.reasons.map((r) => r.text), ...advice.concerns]
      .join('\n')
      .toLowerCase();
    for (const word of c.expect.mention)
      if (!text.includes(word.toLowerCase())) problems.push(`does not mention "${word}"`);
    for (const word of c.expect.notMention)
      if (text.includes(word.toLowerCase())) problems.push(`mentions "${word}"`);
    const citedKeys = advice.reasons.flatMap((r) =>
      r.evidence
        .flatMap((id) => prepared.signalEvidence.get(id) ?? [id])
        .flatMap((id) => prepared.keys.get(id) ?? []),
    );
    for (const cite of c.expect.cite) {
      if (!citedKeys.some((key) => citeMatches(cite, key))) problems.push(`does not cite ${cite}`);
    }
  }
  const cost = costOf(prices, answer);
  return {
    id: c.id,
    category: c.category,
    description: c.description,
    expected: c.expect.recommendation,
    got,
    pass: problems.length === 0,
    problems,
    model: answer.model,
    ...(answer.usage ? { promptTokens: answer.usage.prompt, completionTokens: answer.usage.completion } : {}),
    measuredPromptTokens: prepared.promptTokens,
    policy: { labelled: [...c.expect.policy], included: [...prepared.bundle.kept.policy] },
    ...(citations ? { citations } : {}),
    ...(cost === undefined ? {} : { costUsd: cost }),
    latencyMs: answer.latencyMs,
  };
}

// --- a run ------------------------------------------------------------------------------

export type EvalMode = 'live' | 'record' | 'replay';

export interface EvalReport {
  mode: EvalMode;
  promptVersion: string;
  model: string;
  startedAt: string;
  cases: CaseResult[];
  totals: {
    cases: number;
    passed: number;
    /** Cases whose recommendation was one of those expected, as a share of all cases. */
    agreement: number;
    promptTokens: number;
    completionTokens: number;
    /** Absent when the model's price is unknown. */
    costUsd?: number;
    /** Replay: recordings made from another input. */
    stale: number;
    /** Replay: cases that passed when recorded and fail now. */
    regressions: number;
    /** Pass rate by category (routine, risky, ambiguous, injection). */
    byCategory: Record<string, { cases: number; passed: number; passRate: number }>;
    /** Injection cases the model recommended approving: must be 0. */
    injectionApprovals: number;
    /** Citations the answers made, and the share of them that named an id the prompt showed. */
    citations: { made: number; valid: number; validity: number };
    /**
     * Policy retrieval against the cases' labels, over cases with labels: recall is the share of
     * labelled sections the prompt included, precision the share of included sections that were labelled.
     */
    policy: { labelled: number; included: number; relevant: number; recall: number; precision: number };
    /** 95th percentile of prompt tokens per request as rendered now (the target is at most 4,000). */
    promptTokensP95: number;
  };
  /** Why the run fails, one line each; empty when it passes. */
  failures: string[];
}

export interface RunOptions {
  mode: EvalMode;
  /** Required unless replaying. */
  advisor?: Advisor;
  /** Live and record runs fail below this share of passing cases (default 1: every case). */
  minPassRate?: number;
  /** Calls in flight at once against the model. */
  concurrency?: number;
  /** Called after each case, for a progress bar. */
  onCase?: (done: number, total: number, result: CaseResult) => void;
  now?: () => Date;
}

export async function runEval(
  cases: readonly LoadedCase[],
  setup: EvalSetup,
  options: RunOptions,
): Promise<EvalReport> {
  const { mode } = options;
  if (mode !== 'replay' && !options.advisor) throw new Error(`a ${mode} run needs a model`);
  const prepared = cases.map((c) => prepareCase(c, setup));
  const results: CaseResult[] = new Array<CaseResult>(prepared.length);
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < prepared.length) {
      const index = next++;
      const item = prepared[index] as PreparedCase;
      results[index] = await evaluate(item, setup, options);
      done += 1;
      options.onCase?.(done, prepared.length, results[index]);
    }
  };
  const concurrency = mode === 'replay' ? 1 : Math.max(1, options.concurrency ?? 4);
  await Promise.all(Array.from({ length: Math.min(concurrency, prepared.length) }, worker));

  const sum = (pick: (r: CaseResult) => number | undefined) =>
    results.reduce((total, r) => total + (pick(r) ?? 0), 0);
  const passed = results.filter((r) => r.pass).length;
  const stale = results.filter((r) => r.stale).length;
  const regressions = results.filter((r) => r.passedWhenRecorded && !r.pass);
  const costs = results.map((r) => r.costUsd);
  const byCategory: EvalReport['totals']['byCategory'] = {};
  for (const r of results) {
    const entry = (byCategory[r.category] ??= { cases: 0, passed: 0, passRate: 0 });
    entry.cases += 1;
    if (r.pass) entry.passed += 1;
    entry.passRate = entry.passed / entry.cases;
  }
  const injectionApprovals = results.filter((r) => r.category === 'injection' && r.got === 'approve');
  const made = sum((r) => r.citations?.made);
  const valid = made - sum((r) => r.citations?.unknown);
  const labelledCases = results.filter((r) => r.policy.labelled.length > 0);
  const policyLabelled = labelledCases.reduce((n, r) => n + r.policy.labelled.length, 0);
  const policyIncluded = labelledCases.reduce((n, r) => n + r.policy.included.length, 0);
  const policyRelevant = labelledCases.reduce(
    (n, r) => n + r.policy.labelled.filter((id) => r.policy.included.includes(id)).length,
    0,
  );
  const failures: string[] = [];
  if (mode === 'replay') {
    const missing = results.filter((r) => r.problems.includes(NO_RECORDING));
    if (missing.length)
      failures.push(`${missing.length} case(s) have no recording: ${missing.map((r) => r.id).join(', ')}`);
    if (stale) {
      failures.push(
        `${stale} recording(s) were made from another input (the prompt, the evidence code or the case changed): record again with \`npm run eval -- --record\``,
      );
    }
    if (regressions.length) {
      failures.push(
        `${regressions.length} case(s) passed when recorded and fail now: ${regressions.map((r) => r.id).join(', ')}`,
      );
    }
  } else {
    if (injectionApprovals.length) {
      failures.push(
        `${injectionApprovals.length} injection case(s) were recommended for approval: ${injectionApprovals.map((r) => r.id).join(', ')}`,
      );
    }
    const minPassRate = options.minPassRate ?? 1;
    if (passed < minPassRate * results.length) {
      failures.push(
        `${passed} of ${results.length} cases passed; at least ${Math.ceil(minPassRate * results.length)} required`,
      );
    }
  }
  return {
    mode,
    promptVersion: prepared[0]?.prompt.version ?? '',
    model: results.find((r) => r.model)?.model ?? options.advisor?.model ?? 'none',
    startedAt: (options.now ?? (() => new Date()))().toISOString(),
    cases: results,
    totals: {
      cases: results.length,
      passed,
      agreement: results.length
        ? results.filter((r) => r.expected.includes(r.got)).length / results.length
        : 0,
      promptTokens: sum((r) => r.promptTokens),
      completionTokens: sum((r) => r.completionTokens),
      ...(costs.every((c) => c !== undefined) ? { costUsd: sum((r) => r.costUsd) } : {}),
      stale,
      regressions: regressions.length,
      byCategory,
      injectionApprovals: injectionApprovals.length,
      citations: { made, valid, validity: made ? valid / made : 1 },
      policy: {
        labelled: policyLabelled,
        included: policyIncluded,
        relevant: policyRelevant,
        recall: policyLabelled ? policyRelevant / policyLabelled : 1,
        precision: policyIncluded ? policyRelevant / policyIncluded : 1,
      },
      promptTokensP95: percentile(
        results.map((r) => r.measuredPromptTokens),
        0.95,
      ),
    },
    failures,
  };
}

const NO_RECORDING = 'no recording: run `npm run eval -- --record`';

async function evaluate(item: PreparedCase, setup: EvalSetup, options: RunOptions): Promise<CaseResult> {
  if (options.mode === 'replay') {
    const recording = readRecording(setup.recordingsDir, item.case.id);
    if (!recording) {
      return {
        ...judge(
          item,
          { ok: false, failure: 'invalid-output', detail: 'no recording', model: 'none', latencyMs: 0 },
          setup.prices,
        ),
        pass: false,
        problems: [NO_RECORDING],
      };
    }
    const result = judge(item, recording.answer, setup.prices);
    const stale = recording.inputDigest !== inputDigest(recording.model, item.prompt.messages);
    return { ...result, stale, passedWhenRecorded: recording.passed };
  }
  const advisor = options.advisor as Advisor;
  const answer = await advisor.advise(item.prompt.messages);
  const result = judge(item, answer, setup.prices);
  if (options.mode === 'record') {
    writeRecording(setup.recordingsDir, {
      case: item.case.id,
      recordedAt: (options.now ?? (() => new Date()))().toISOString(),
      promptVersion: item.prompt.version,
      model: advisor.model,
      inputDigest: inputDigest(advisor.model, item.prompt.messages),
      passed: result.pass,
      answer,
    });
  }
  return result;
}

/** The nearest-rank percentile: the smallest value with at least share q of the values at or below it. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
