import { readFileSync } from 'node:fs';
import { encode } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../lambdas/core/context';
import { ConfigurationError } from '../../../lambdas/core/errors';
import {
  assembleBundle,
  buildEvidence,
  chunkPolicy,
  deriveSignals,
  renderBundle,
  retrievePolicy,
} from '../../../lambdas/core/triage';
import { daysAgo, NOW, request, routineContext } from './fakes';

const countTokens = (text: string) => encode(text).length;
const chunks = chunkPolicy([
  { path: 'prompts/policy/access-policy.md', text: readFileSync('prompts/policy/access-policy.md', 'utf8') },
]);

/** A risky request with plenty of chat, so a budget has something to cut. */
function inputs() {
  const chat: ChatMessage[] = Array.from({ length: 8 }, (_, i) => ({
    channelId: 'C01',
    channelName: 'sre',
    authorName: 'Dana Reyes',
    text: `Update ${i} on INC-4411: still looking at the checkout latency, nothing conclusive yet`,
    at: daysAgo(i, 8),
  }));
  const context = routineContext({
    request: request({ justification: 'need access', durationSeconds: 3 * 86_400 }),
    chat: { status: 'ok', value: chat },
  });
  const evidence = buildEvidence(context, NOW);
  const signals = deriveSignals(context, evidence, NOW);
  const policy = retrievePolicy(chunks, 'justification production access', 4);
  return { context, evidence, signals, policy };
}

describe('renderBundle', () => {
  it('renders everything when it fits: signals with severity and evidence ids, evidence, policy by id', () => {
    const { evidence, signals, policy } = inputs();
    const bundle = renderBundle({ evidence, signals, policy }, { tokenBudget: 10_000, countTokens });

    expect(bundle.cut).toEqual([]);
    expect(bundle.tokens).toBe(countTokens(bundle.rendered));
    expect(bundle.rendered).toMatch(
      /^\[medium\] S1 duration-above-usual: 3d asked; usually at most 8h \(the 80th percentile of 5 decided requests\) \(E1, E\d+\)$/m,
    );
    expect(bundle.rendered).toMatch(/^\[medium\] S2 weak-justification: .*\(E2\)$/m);
    for (const e of evidence) expect(bundle.rendered).toContain(`\n${e.id} [${e.source}] ${e.statement}`);
    expect(bundle.rendered).toContain('[access-policy#2.2] 2. Justification: 2.2 "Need access"');
    expect(bundle.rendered).not.toMatch(/left out/);
  });

  it('stays within the budget with the real tokenizer, cutting the lowest-priority evidence first', () => {
    const { evidence, signals, policy } = inputs();
    const full = renderBundle({ evidence, signals, policy }, { tokenBudget: 10_000, countTokens });

    for (const budget of [400, 550, 700, full.tokens - 1]) {
      const bundle = renderBundle({ evidence, signals, policy }, { tokenBudget: budget, countTokens });
      expect(bundle.tokens).toBeLessThanOrEqual(budget);
      expect(countTokens(bundle.rendered)).toBe(bundle.tokens);
      expect(bundle.cut.length).toBeGreaterThan(0);

      // Whatever was cut ranks below everything kept, except that evidence a signal cites is kept first.
      const cited = new Set(signals.flatMap((s) => s.evidence));
      const kept = evidence.filter((e) => !bundle.cut.includes(e.id));
      const worstKept = Math.max(...kept.filter((e) => !cited.has(e.id)).map((e) => e.priority), -1);
      for (const id of bundle.cut) {
        const e = evidence.find((x) => x.id === id);
        expect(cited.has(id) || (e?.priority ?? 0) >= worstKept).toBe(true);
      }
      expect(bundle.rendered).toContain(
        `(${bundle.cut.length} lower-priority fact${bundle.cut.length === 1 ? '' : 's'} left out to fit the budget: ${bundle.cut.join(', ')})`,
      );
      for (const id of bundle.cut) expect(bundle.rendered).not.toMatch(new RegExp(`^${id} `, 'm'));
    }

    // Just under the full size, only chat (the lowest priority) goes.
    const tight = renderBundle({ evidence, signals, policy }, { tokenBudget: full.tokens - 1, countTokens });
    expect(tight.cut.every((id) => evidence.find((e) => e.id === id)?.source === 'slack')).toBe(true);
    expect(tight.cut.at(-1)).toBe(evidence.at(-1)?.id);
  });

  it('keeps the evidence signals cite ahead of uncited facts', () => {
    const { evidence, signals, policy } = inputs();
    const bundle = renderBundle({ evidence, signals, policy }, { tokenBudget: 420, countTokens });
    const cited = signals.flatMap((s) => s.evidence);
    expect(cited.filter((id) => bundle.cut.includes(id))).toEqual([]);
    expect(bundle.cut.length).toBeGreaterThan(3);
  });

  it('refuses a budget too small for the frame', () => {
    const { evidence, signals, policy } = inputs();
    expect(() => renderBundle({ evidence, signals, policy }, { tokenBudget: 20, countTokens })).toThrow(
      ConfigurationError,
    );
  });

  it('assembles a bundle from a context in one call', () => {
    const bundle = assembleBundle(routineContext(), {
      now: NOW,
      policyChunks: chunks,
      tokenBudget: 3000,
      countTokens,
    });
    expect(bundle.signals).toEqual([]);
    expect(bundle.rendered).toContain(
      '=== RISK SIGNALS (deterministic; each cites evidence ids) ===\nnone raised',
    );
    expect(bundle.policy.length).toBeGreaterThan(0);
    expect(bundle.cut).toEqual([]);
  });
});
