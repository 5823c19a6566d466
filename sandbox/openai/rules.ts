// The rules responder: what the OpenAI stand-in answers when no reply is
// scripted. It is not a model. It reads the prompt with fixed rules and says
// so, answering as model `sandbox-rules` with a summary that starts with
// "sandbox-rules:", so its advice is never mistaken for a real model's.
//
// Prompt convention (prompt templates follow it so the sandbox gives useful advice):
// - Only `user` messages are read. System and developer messages may explain
//   the notation below with examples without those examples being counted.
// - Evidence items are named `E1`, `E2`, … (capital E and a number, as a
//   word). Reasons cite only ids that occur in the user messages.
// - A risk signal is one line containing its severity in square brackets,
//   `[low]`, `[medium]`, `[high]` or `[critical]`, then optionally a signal id
//   and name ending in a colon, a description, and the evidence ids it rests on:
//     [high] S3 new-country: first sign-in from Portugal in 90 days (E2, E4)
// - Decision: any critical signal → `deny`; otherwise any high → `needs-info`;
//   otherwise `approve`.
// - Confidence: deny 0.7 plus 0.1 per further critical and 0.05 per high
//   (at most 0.95); needs-info 0.55 plus 0.05 per further high (at most 0.8);
//   approve 0.9 less 0.1 per medium and 0.03 per low (at least 0.5).
// - Reasons: one per deciding signal, citing the evidence on its line; an
//   approval without deciding signals cites the first evidence ids of the prompt.
//   Concerns: every signal, most severe first. `suggestedDuration` and
//   `narrowerAlternative` are left null: the rules have no basis for them.

export const RULES_MODEL = 'sandbox-rules';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type Recommendation = 'approve' | 'deny' | 'needs-info';

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export interface Signal {
  severity: Severity;
  /** `S3 new-country` in `[high] S3 new-country: …`; the first words when the line has no colon. */
  label: string;
  description: string;
  /** Evidence ids on the signal's line, in order of appearance. */
  evidence: string[];
  line: string;
}

export interface PromptAnalysis {
  signals: Signal[];
  /** Every evidence id in the user messages, in order of first appearance. */
  evidenceIds: string[];
}

export interface Advice {
  recommendation: Recommendation;
  confidence: number;
  summary: string;
  reasons: { text: string; evidence: string[] }[];
  concerns: string[];
  suggestedDuration: null;
  narrowerAlternative: null;
}

/** Property names that mean the same as the advice's own, for schemas that name them differently. */
export const ADVICE_ALIASES: readonly (readonly string[])[] = [
  ['recommendation', 'decision', 'verdict', 'outcome', 'advice'],
  ['confidence', 'score', 'certainty', 'probability'],
  ['summary', 'rationale', 'explanation', 'justification'],
  ['reasons', 'factors', 'findings'],
  ['concerns', 'risks', 'warnings', 'caveats'],
  ['text', 'reason', 'description', 'detail'],
  ['evidence', 'evidenceIds', 'citations', 'sources', 'refs'],
  ['suggestedDuration', 'duration', 'recommendedDuration'],
  ['narrowerAlternative', 'alternative', 'narrowerAccess'],
];

/** Other enum spellings of each recommendation. */
export const RECOMMENDATION_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  approve: ['approved', 'allow', 'grant', 'accept', 'yes'],
  deny: ['denied', 'reject', 'rejected', 'block', 'no'],
  'needs-info': ['needs-more-info', 'more-info', 'needs-review', 'review', 'escalate', 'unsure', 'abstain'],
};

const SIGNAL_LINE = /\[(low|medium|high|critical)\]\s*(.*)$/i;
const EVIDENCE_ID = /\bE\d+\b/g;
const SUMMARY_MAX = 280;

/** The text of the user messages, one message per paragraph; text parts of multi-part content are joined. */
export function userText(messages: readonly { role?: unknown; content?: unknown }[]): string {
  return messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .join('\n\n');
}

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string'
        ? part.text
        : '',
    )
    .filter(Boolean)
    .join('\n');
}

export function analysePrompt(text: string): PromptAnalysis {
  const signals: Signal[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const match = SIGNAL_LINE.exec(line);
    if (!match) continue;
    const severity = (match[1] ?? 'low').toLowerCase() as Severity;
    const rest = (match[2] ?? '').trim();
    const colon = rest.indexOf(':');
    const hasLabel = colon > 0 && colon <= 60;
    const label = hasLabel ? rest.slice(0, colon).trim() : rest.split(/\s+/).slice(0, 3).join(' ');
    const description = (hasLabel ? rest.slice(colon + 1) : rest).trim();
    signals.push({
      severity,
      label: label || severity,
      description,
      evidence: unique(line.match(EVIDENCE_ID) ?? []),
      line,
    });
  }
  signals.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  return { signals, evidenceIds: unique(text.match(EVIDENCE_ID) ?? []) };
}

export function recommend(analysis: PromptAnalysis): Advice {
  const { signals } = analysis;
  const count = (severity: Severity) => signals.filter((signal) => signal.severity === severity).length;
  const critical = count('critical');
  const high = count('high');
  const medium = count('medium');
  const low = count('low');

  let recommendation: Recommendation;
  let confidence: number;
  let deciding: Signal[];
  if (critical > 0) {
    recommendation = 'deny';
    confidence = Math.min(0.95, 0.7 + 0.1 * (critical - 1) + 0.05 * high);
    deciding = signals.filter((signal) => signal.severity === 'critical');
  } else if (high > 0) {
    recommendation = 'needs-info';
    confidence = Math.min(0.8, 0.55 + 0.05 * (high - 1));
    deciding = signals.filter((signal) => signal.severity === 'high');
  } else {
    recommendation = 'approve';
    confidence = Math.max(0.5, 0.9 - 0.1 * medium - 0.03 * low);
    deciding = [];
  }

  const reasons = deciding.map((signal) => ({
    text: `${capitalize(signal.severity)} signal ${signal.label}${signal.description ? `: ${signal.description}` : ''}`,
    evidence: signal.evidence,
  }));
  if (recommendation === 'approve') {
    reasons.push({
      text:
        signals.length === 0
          ? 'No risk signal was raised for this request.'
          : `Only low or medium signals were raised (${signals.map((signal) => signal.label).join(', ')}).`,
      evidence:
        signals.length === 0 ? analysis.evidenceIds.slice(0, 3) : unique(signals.flatMap((s) => s.evidence)),
    });
  }

  return {
    recommendation,
    confidence: Math.round(confidence * 100) / 100,
    summary: summarize(recommendation, deciding, signals),
    reasons,
    concerns: signals.map(
      (signal) =>
        `[${signal.severity}] ${signal.label}${signal.description ? `: ${signal.description}` : ''}`,
    ),
    suggestedDuration: null,
    narrowerAlternative: null,
  };
}

/** The plain-text answer for a request without a JSON schema. */
export function adviceText(advice: Advice): string {
  const lines = [
    advice.summary,
    `Recommendation: ${advice.recommendation} (confidence ${advice.confidence}).`,
  ];
  for (const reason of advice.reasons) {
    lines.push(`- ${reason.text}${reason.evidence.length ? ` [${reason.evidence.join(', ')}]` : ''}`);
  }
  if (advice.concerns.length) lines.push(`Concerns: ${advice.concerns.join('; ')}`);
  return lines.join('\n');
}

function summarize(recommendation: Recommendation, deciding: Signal[], all: Signal[]): string {
  let summary: string;
  if (deciding.length > 0) {
    const severity = deciding[0]?.severity ?? 'high';
    summary = `sandbox-rules: ${recommendation} on ${severity} signal${deciding.length > 1 ? 's' : ''} ${deciding
      .map((signal) => signal.label)
      .join(', ')}.`;
  } else if (all.length > 0) {
    summary = `sandbox-rules: approve; only low or medium signals (${all.map((signal) => signal.label).join(', ')}).`;
  } else {
    summary = 'sandbox-rules: approve; no risk signals.';
  }
  return summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 1)}…` : summary;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function capitalize(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}
