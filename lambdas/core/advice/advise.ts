// Asks the model for advice and turns its answer into what is stored and shown:
// plain text only, length-capped, URLs defanged, citations checked against the
// ids the prompt really showed (evidence, signals, policy excerpts). The model advises; nothing here decides.
// Every way the model can fail ends in a record saying why, never in an error
// that would hold up the page.

import { createHash } from 'node:crypto';
import type { Entitlement } from '../catalog';
import { parseDuration } from '../duration';
import type { AdviceSummary, Recommendation } from '../model';
import type { Advisor, ModelFailure, TokenUsage } from '../ports';
import { duration, oneLine } from '../triage/text';
import type { PromptMessage, RenderedPrompt } from './prompt';
import { type ModelOutput, outputProblem } from './schema';

export const SUMMARY_MAX = 280;
const REASON_MAX = 400;
const CONCERN_MAX = 300;
const MAX_REASONS = 6;
const MAX_CONCERNS = 6;

/** The model's answer after checking: safe to put in front of a person. */
export interface Advice {
  recommendation: Recommendation;
  confidence: number;
  summary: string;
  reasons: { text: string; evidence: string[] }[];
  concerns: string[];
  suggestedDuration?: { text: string; seconds: number };
  narrowerAlternative?: string;
}

/** What was wrong with an answer that was still usable. */
export interface AdviceDefects {
  /** Cited ids the prompt never showed; removed from the reasons. */
  unknownCitations: string[];
  /** Anything else removed or cut, one sentence each. */
  notes: string[];
}

/** One call to the model as the audit trail keeps it. */
interface AdviceCall {
  promptVersion: string;
  /** `sha256:` over the model name and the exact messages sent. */
  inputDigest: string;
  /** The model configured, or the one that answered when it said. */
  model?: string;
  usage?: TokenUsage;
  latencyMs?: number;
  /** The exact messages, so the call can be replayed, evaluated or exported for fine-tuning. */
  messages: PromptMessage[];
}

export type AdviceFailure = ModelFailure | 'not-configured';

export type AdviceRecord = AdviceCall &
  (
    | { status: 'advised'; advice: Advice; defects: AdviceDefects }
    | { status: 'unavailable'; failure: AdviceFailure; reason: string; detail?: string }
  );

const FAILURE_REASONS: Record<AdviceFailure, string> = {
  'not-configured': 'no model is configured',
  timeout: 'the model did not answer in time',
  'rate-limited': "the model's API kept rate-limiting the call",
  unavailable: "the model's API failed",
  rejected: "the model's API refused the call",
  refused: 'the model declined to answer',
  'invalid-output': "the model's answer did not match the expected form",
  length: "the model's answer was cut off at the token limit",
  'content-filter': "the model's answer was withheld by a content filter",
};

export async function seekAdvice(
  advisor: Advisor | undefined,
  prompt: RenderedPrompt,
  entitlement: Entitlement,
): Promise<AdviceRecord> {
  const base = {
    promptVersion: prompt.version,
    messages: prompt.messages,
  };
  if (!advisor) {
    return {
      ...base,
      inputDigest: inputDigest(undefined, prompt.messages),
      status: 'unavailable',
      failure: 'not-configured',
      reason: FAILURE_REASONS['not-configured'],
    };
  }
  const answer = await advisor.advise(prompt.messages);
  const call = {
    ...base,
    inputDigest: inputDigest(advisor.model, prompt.messages),
    model: answer.model,
    latencyMs: answer.latencyMs,
    ...(answer.usage ? { usage: answer.usage } : {}),
  };
  if (!answer.ok) {
    const detail = safeText(answer.detail, 300);
    return {
      ...call,
      status: 'unavailable',
      failure: answer.failure,
      reason: `${FAILURE_REASONS[answer.failure]}${detail ? ` (${detail})` : ''}`,
      detail,
    };
  }
  // Bounds the schema sent could not carry: an answer outside them is not used, and the record says why.
  const problem = outputProblem(answer.output);
  if (problem) {
    return {
      ...call,
      status: 'unavailable',
      failure: 'invalid-output',
      reason: `${FAILURE_REASONS['invalid-output']} (${problem})`,
      detail: problem,
    };
  }
  return { ...call, status: 'advised', ...checkAnswer(answer.output, prompt, entitlement) };
}

/** Keeps only what the prompt offered and what a person can safely read; says what it removed. */
export function checkAnswer(
  output: ModelOutput,
  prompt: Pick<RenderedPrompt, 'citable' | 'alternatives'>,
  entitlement: Entitlement,
): { advice: Advice; defects: AdviceDefects } {
  const citable = new Set(prompt.citable);
  const unknownCitations: string[] = [];
  const notes: string[] = [];

  const reasons = output.reasons.slice(0, MAX_REASONS).map((reason) => {
    const cited = [...new Set(reason.evidence.map((id) => id.trim()))];
    unknownCitations.push(...cited.filter((id) => !citable.has(id)));
    return { text: safeText(reason.text, REASON_MAX), evidence: cited.filter((id) => citable.has(id)) };
  });
  if (output.reasons.length > MAX_REASONS)
    notes.push(`${output.reasons.length - MAX_REASONS} reasons beyond ${MAX_REASONS} dropped`);
  if (output.concerns.length > MAX_CONCERNS)
    notes.push(`${output.concerns.length - MAX_CONCERNS} concerns beyond ${MAX_CONCERNS} dropped`);
  if (Array.from(output.summary).length > SUMMARY_MAX) notes.push(`summary cut to ${SUMMARY_MAX} characters`);

  const advice: Advice = {
    recommendation: output.recommendation,
    confidence: Math.round(output.confidence * 100) / 100,
    summary: safeText(output.summary, SUMMARY_MAX),
    reasons: reasons.filter((reason) => reason.text.length > 0),
    concerns: output.concerns
      .slice(0, MAX_CONCERNS)
      .map((c) => safeText(c, CONCERN_MAX))
      .filter(Boolean),
  };

  if (output.suggestedDuration !== null) {
    const text = output.suggestedDuration.trim();
    const seconds = parseDuration(text);
    if (seconds === undefined)
      notes.push(`suggested duration ${JSON.stringify(oneLine(text, 40))} is not a duration; dropped`);
    else if (seconds > entitlement.duration.max)
      notes.push(
        `suggested duration ${text} is longer than the maximum ${duration(entitlement.duration.max)}; dropped`,
      );
    else advice.suggestedDuration = { text: duration(seconds), seconds };
  }
  if (output.narrowerAlternative !== null) {
    const id = output.narrowerAlternative.trim();
    if (prompt.alternatives.includes(id)) advice.narrowerAlternative = id;
    else notes.push(`narrower alternative ${JSON.stringify(oneLine(id, 60))} was not offered; dropped`);
  }
  if (unknownCitations.length > 0) {
    notes.push(
      `citations of ids the prompt never showed removed: ${[...new Set(unknownCitations)].join(', ')}`,
    );
  }
  return { advice, defects: { unknownCitations, notes } };
}

/** The brief the request itself carries, next to the human decisions. */
export function adviceSummary(record: AdviceRecord): AdviceSummary {
  return record.status === 'advised'
    ? {
        status: 'advised',
        recommendation: record.advice.recommendation,
        confidence: record.advice.confidence,
        model: record.model ?? 'unknown',
        promptVersion: record.promptVersion,
      }
    : { status: 'unavailable', reason: record.reason, promptVersion: record.promptVersion };
}

/** The recommendation as the page shows it, or "No recommendation: <reason>". */
export function adviceText(record: AdviceRecord): string {
  if (record.status === 'unavailable') return `No recommendation: ${record.reason}.`;
  const { advice } = record;
  const lines = [
    `${advice.recommendation.toUpperCase()} (confidence ${advice.confidence.toFixed(2)}; advisory only, a person decides; model ${record.model ?? 'unknown'}, prompt ${record.promptVersion})`,
    advice.summary,
  ];
  if (advice.reasons.length) {
    lines.push('Reasons:');
    lines.push(
      ...advice.reasons.map((r) => `- ${r.text}${r.evidence.length ? ` [${r.evidence.join(', ')}]` : ''}`),
    );
  }
  if (advice.concerns.length) {
    lines.push('Concerns:');
    lines.push(...advice.concerns.map((c) => `- ${c}`));
  }
  if (advice.suggestedDuration) lines.push(`Suggested duration: ${advice.suggestedDuration.text}`);
  if (advice.narrowerAlternative) lines.push(`Narrower alternative: ${advice.narrowerAlternative}`);
  const defects = record.defects.unknownCitations.length;
  if (defects > 0)
    lines.push(`(${defects} citation${defects === 1 ? '' : 's'} of evidence that does not exist removed)`);
  return lines.join('\n');
}

/**
 * Model output for a page or a Jira comment: one line, no control or invisible characters, links
 * defanged (hxxp://…) so an injected URL is never one click away, and at most `max` characters.
 */
export function safeText(text: string, max: number): string {
  return oneLine(text.replace(/\b(h)tt(ps?):\/\//gi, '$1xx$2://'), max);
}

export function inputDigest(model: string | undefined, messages: readonly PromptMessage[]): string {
  const hash = createHash('sha256')
    .update(JSON.stringify({ model: model ?? null, messages }))
    .digest('hex');
  return `sha256:${hash}`;
}
