// `loopgate eval` and `loopgate render`: the evaluation suite from the command
// line. People get a table and a progress bar; scripts get `--json` and the
// JSON report file.

import { writeFileSync } from 'node:fs';
import { encode } from 'gpt-tokenizer';
import { OpenAiAdvisor } from '../../lambdas/connectors/openai/advisor';
import type { Advisor } from '../../lambdas/core/ports';
import { systemClock } from '../../lambdas/core/ports';
import { loadCatalogFile } from '../../lambdas/platform/catalog-file';
import { DEFAULT_TOKEN_BUDGET, Env, readModelSettings } from '../../lambdas/platform/env';
import { loadPolicy, loadPromptTemplates } from '../../lambdas/platform/prompt-files';
import { checkPolicyLinks } from '../../lambdas/core/triage';
import { DEFAULT_CATALOG_FILE } from '../../lib/stage-config';
import { OpenAiStandIn } from '../../sandbox/openai/stand-in';
import { type LoadedCase, loadEvalCases } from './cases';
import {
  type CaseResult,
  type EvalMode,
  type EvalReport,
  type EvalSetup,
  loadPrices,
  prepareCase,
  runEval,
} from './run';

export const EVALS_DIR = 'prompts/evals';
export const PROMPT_DIR = 'prompts/recommendation';
export const POLICY_DIR = 'prompts/policy';

export interface EvalIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (a progress bar redraws in place there). */
  interactive: boolean;
}

export interface EvalArgs {
  mode: EvalMode;
  /** Run the rules model of the sandbox (no account, no network) instead of the configured model. */
  sandbox: boolean;
  cases: string[];
  json: boolean;
  report: string;
  minPassRate?: number;
  env?: Env;
}

export function evalSetup(): EvalSetup {
  const catalog = loadCatalogFile(DEFAULT_CATALOG_FILE);
  const policyChunks = loadPolicy(POLICY_DIR);
  checkPolicyLinks(catalog, policyChunks);
  return {
    catalog,
    templates: loadPromptTemplates(PROMPT_DIR),
    policyChunks,
    countTokens: (text) => encode(text).length,
    tokenBudget: DEFAULT_TOKEN_BUDGET,
    recordingsDir: `${EVALS_DIR}/recordings`,
    prices: loadPrices('prompts/model-prices.yaml'),
  };
}

function selectCases(setup: EvalSetup, ids: readonly string[]): LoadedCase[] {
  const all = loadEvalCases(EVALS_DIR, setup.catalog);
  if (ids.length === 0) return all;
  const unknown = ids.filter((id) => !all.some((c) => c.id === id));
  if (unknown.length)
    throw new UsageError(`no eval case ${unknown.map((id) => `"${id}"`).join(', ')} in ${EVALS_DIR}`);
  return all.filter((c) => ids.includes(c.id));
}

export class UsageError extends Error {}

export async function evalCommand(args: EvalArgs, io: EvalIo): Promise<number> {
  const setup = evalSetup();
  const cases = selectCases(setup, args.cases);
  let advisor: Advisor | undefined;
  let standIn: OpenAiStandIn | undefined;
  if (args.mode !== 'replay') {
    if (args.sandbox) {
      const apiKey = `sk-eval-${process.pid}`;
      standIn = new OpenAiStandIn({ clock: systemClock, apiKeys: [apiKey] });
      await standIn.start(0);
      advisor = new OpenAiAdvisor({
        provider: 'openai',
        model: 'sandbox-rules',
        apiKey,
        baseUrl: `${standIn.url}/v1`,
        maxOutputTokens: 800,
        tokenLimitParameter: 'max_completion_tokens',
        budgetMs: 20_000,
        maxRetries: 2,
      });
    } else {
      const settings = readModelSettings(args.env ?? new Env());
      if (!settings) {
        throw new UsageError(
          'no model is configured: set LOOPGATE_MODEL_API_KEY (and LOOPGATE_MODEL, LOOPGATE_MODEL_BASE_URL as needed) or LOOPGATE_MODEL_PROVIDER=bedrock with AWS credentials, use --sandbox for the offline rules model, or --replay for the recorded answers',
        );
      }
      advisor = new OpenAiAdvisor(settings);
    }
  }
  const bar = progressBar(io, args.mode !== 'replay' && !args.json);
  let report: EvalReport;
  try {
    report = await runEval(cases, setup, {
      mode: args.mode,
      ...(advisor ? { advisor } : {}),
      ...(args.minPassRate === undefined ? {} : { minPassRate: args.minPassRate }),
      onCase: bar.update,
    });
  } finally {
    bar.done();
    await standIn?.stop();
  }
  writeFileSync(args.report, `${JSON.stringify(report, null, 2)}\n`);
  io.out(args.json ? `${JSON.stringify(report, null, 2)}\n` : reportTable(report, args.report));
  return report.failures.length === 0 ? 0 : 1;
}

/** The exact messages the model would receive for a case. */
export function renderCommand(id: string, json: boolean, io: EvalIo): number {
  const setup = evalSetup();
  const [c] = selectCases(setup, [id]);
  const prepared = prepareCase(c as LoadedCase, setup);
  if (json) {
    io.out(
      `${JSON.stringify({ promptVersion: prepared.prompt.version, messages: prepared.prompt.messages }, null, 2)}\n`,
    );
  } else {
    for (const message of prepared.prompt.messages)
      io.out(`===== ${message.role} =====\n${message.content}\n\n`);
    io.err(
      `${id}: prompt ${prepared.prompt.version}, ${prepared.promptTokens} tokens (evidence bundle ${prepared.bundle.tokens} of ${setup.tokenBudget})\n`,
    );
  }
  return 0;
}

function progressBar(io: EvalIo, show: boolean) {
  const width = 30;
  let drawn = false;
  return {
    update: (done: number, total: number, result: CaseResult) => {
      if (!show) return;
      const filled = Math.round((done / total) * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${result.pass ? 'pass' : 'FAIL'} ${result.id}`;
      if (io.interactive) {
        io.err(`\r${line.padEnd(100).slice(0, 100)}`);
        drawn = true;
      } else {
        io.err(`${line}\n`);
      }
    },
    done: () => {
      if (drawn) io.err('\n');
    },
  };
}

export function reportTable(report: EvalReport, reportFile: string): string {
  const money = (usd: number | undefined) =>
    usd === undefined ? 'n/a' : `$${usd.toFixed(usd < 0.01 ? 5 : 4)}`;
  const rows = report.cases.map((r) => [
    r.id,
    r.category,
    r.expected.join('|'),
    r.got,
    r.pass ? 'pass' : r.passedWhenRecorded === false ? 'fail (known)' : 'FAIL',
    r.promptTokens === undefined ? '-' : `${r.promptTokens}+${r.completionTokens ?? 0}`,
    money(r.costUsd),
  ]);
  const header = ['CASE', 'CATEGORY', 'EXPECTED', 'GOT', 'PASS', 'TOKENS', 'COST'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const table = [header, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const t = report.totals;
  const perCase = (n: number) => (t.cases ? Math.round(n / t.cases) : 0);
  const lines = [
    ...table,
    '',
    `${report.mode} run: model ${report.model}, prompt ${report.promptVersion}`,
    `${t.passed} of ${t.cases} cases passed; agreement with the expected recommendation ${(t.agreement * 100).toFixed(1)}%`,
    `by category: ${Object.entries(t.byCategory)
      .map(([category, c]) => `${category} ${c.passed}/${c.cases} (${(c.passRate * 100).toFixed(0)}%)`)
      .join(', ')}`,
    `injection cases recommended for approval: ${t.injectionApprovals} (must be 0)`,
    `citations: ${t.citations.valid} of ${t.citations.made} name an id the prompt showed (${(t.citations.validity * 100).toFixed(1)}% valid)`,
    `tokens per case: ${perCase(t.promptTokens)} prompt + ${perCase(t.completionTokens)} completion; estimated cost ${money(t.costUsd)} in all, ${money(t.costUsd === undefined ? undefined : t.costUsd / Math.max(1, t.cases))} per case`,
    `policy in the prompt against the cases' labels: recall ${(t.policy.recall * 100).toFixed(1)}% (${t.policy.relevant} of ${t.policy.labelled} labelled sections included), precision ${(t.policy.precision * 100).toFixed(1)}% (${t.policy.relevant} of ${t.policy.included} included sections labelled)`,
    `prompt tokens per request as rendered now: ${t.promptTokensP95} at p95 (target at most 4,000)`,
  ];
  const failed = report.cases.filter((r) => !r.pass);
  if (failed.length) {
    lines.push('', 'why cases failed:');
    for (const r of failed) lines.push(`  ${r.id}: ${r.problems.join('; ')}`);
  }
  if (report.mode === 'replay' && t.stale === 0 && t.regressions === 0) {
    lines.push('', 'replayed the recorded answers: no case that passed when recorded fails now');
  }
  lines.push(...report.failures.map((f) => `FAILED: ${f}`), `report written to ${reportFile}`, '');
  return lines.join('\n');
}
