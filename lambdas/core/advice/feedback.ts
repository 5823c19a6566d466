// The feedback loop: how often the model's advice matched what people decided,
// by entitlement and prompt version, why people disagreed, and the decided
// requests as training or evaluation examples. Only human decisions count:
// catalog rules (audit-only, on-call) and break-glass are not judgements.

import type { AccessRequest, Decision, Recommendation } from '../model';
import type { PromptMessage } from './prompt';

/** States a request only reaches after its decision. */
export const DECIDED_STATES = ['APPROVED', 'DENIED', 'GRANTED', 'REVOKED', 'FAILED'] as const;

export interface HumanDecision {
  outcome: 'approve' | 'deny';
  /** The deciding people's own words, joined. */
  reason: string;
}

/** What the people decided: a deny by a person wins; else approvals by people; undefined when no person decided. */
export function humanDecision(request: AccessRequest): HumanDecision | undefined {
  const byPeople = request.decisions.filter((d) => d.actor.kind === 'person');
  const deny = byPeople.filter((d) => d.outcome === 'deny');
  const deciding: Decision[] = deny.length ? deny : byPeople.filter((d) => d.outcome === 'approve');
  if (deciding.length === 0 || (!deny.length && request.state === 'DENIED')) return undefined;
  return {
    outcome: deny.length ? 'deny' : 'approve',
    reason: deciding
      .map((d) => d.comment?.trim())
      .filter(Boolean)
      .join(' / '),
  };
}

export interface AgreementRow {
  entitlementId: string;
  promptVersion: string;
  decided: number;
  /** The model recommended what the people decided. */
  agreed: number;
  /** The model recommended the opposite. */
  disagreed: number;
  /** The model asked for more information: neither agreement nor disagreement. */
  needsInfo: number;
  /** No recommendation was available (model failed or not configured). */
  unavailable: number;
}

export interface FeedbackReport {
  rows: AgreementRow[];
  totals: Omit<AgreementRow, 'entitlementId' | 'promptVersion'>;
  /** The most common reasons people gave when they decided against the model, most frequent first. */
  disagreements: { reason: string; count: number; example: string }[];
}

/** Agreement = agreed / (agreed + disagreed): a needs-info answer is not a call either way. */
export function agreementRate(row: Pick<AgreementRow, 'agreed' | 'disagreed'>): number | undefined {
  const calls = row.agreed + row.disagreed;
  return calls === 0 ? undefined : row.agreed / calls;
}

export function feedbackReport(requests: readonly AccessRequest[], topReasons = 5): FeedbackReport {
  const rows = new Map<string, AgreementRow>();
  const empty = () => ({ decided: 0, agreed: 0, disagreed: 0, needsInfo: 0, unavailable: 0 });
  const totals = empty();
  const reasons = new Map<string, { count: number; example: string }>();
  for (const request of requests) {
    const human = humanDecision(request);
    if (!human) continue;
    const promptVersion = request.advice?.promptVersion ?? 'none';
    const key = `${request.entitlementId}\0${promptVersion}`;
    const row = rows.get(key) ?? { entitlementId: request.entitlementId, promptVersion, ...empty() };
    rows.set(key, row);
    const verdict = compare(
      request.advice?.status === 'advised' ? request.advice.recommendation : undefined,
      human,
    );
    for (const target of [row, totals]) {
      target.decided += 1;
      target[verdict] += 1;
    }
    if (verdict === 'disagreed') {
      const example = human.reason || '(no reason given)';
      const normalized = normalizeReason(example);
      const seen = reasons.get(normalized);
      reasons.set(normalized, { count: (seen?.count ?? 0) + 1, example: seen?.example ?? example });
    }
  }
  return {
    rows: [...rows.values()].sort(
      (a, b) =>
        a.entitlementId.localeCompare(b.entitlementId) || a.promptVersion.localeCompare(b.promptVersion),
    ),
    totals,
    disagreements: [...reasons.entries()]
      .map(([reason, { count, example }]) => ({ reason, count, example }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
      .slice(0, topReasons),
  };
}

function compare(
  model: Recommendation | undefined,
  human: HumanDecision,
): 'agreed' | 'disagreed' | 'needsInfo' | 'unavailable' {
  if (model === undefined) return 'unavailable';
  if (model === 'needs-info') return 'needsInfo';
  return model === human.outcome ? 'agreed' : 'disagreed';
}

/** Groups reasons that differ only in case, punctuation, spacing or ticket numbers. */
function normalizeReason(reason: string): string {
  return reason
    .toLowerCase()
    .replace(/\b[a-z][a-z0-9]*-\d+\b/g, '#')
    .replace(/[^\p{L}\p{N}#]+/gu, ' ')
    .trim()
    .split(' ')
    .slice(0, 12)
    .join(' ');
}

/**
 * One decided request in OpenAI's chat fine-tuning format: the messages the model was given, and
 * as the answer, the people's decision in the shape the model answers in.
 */
export function feedbackExample(
  request: AccessRequest,
  messages: readonly PromptMessage[],
): { messages: { role: string; content: string }[] } | undefined {
  const human = humanDecision(request);
  if (!human || messages.length === 0) return undefined;
  const target = {
    recommendation: human.outcome,
    confidence: 1,
    summary: human.reason || `${human.outcome === 'approve' ? 'Approved' : 'Denied'} by the approver.`,
    reasons: [],
    concerns: [],
    suggestedDuration: null,
    narrowerAlternative: null,
  };
  return {
    messages: [
      ...messages.map((m) => ({ role: m.role, content: m.content })),
      { role: 'assistant', content: JSON.stringify(target) },
    ],
  };
}
