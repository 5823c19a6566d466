import { describe, expect, it } from 'vitest';
import {
  adviceText,
  checkAnswer,
  safeText,
  seekAdvice,
  SUMMARY_MAX,
} from '../../../lambdas/core/advice/advise';
import type { RenderedPrompt } from '../../../lambdas/core/advice/prompt';
import { zodResponseFormat } from 'openai/helpers/zod';
import { MODEL_OUTPUT_NAME, type ModelOutput, modelOutputSchema } from '../../../lambdas/core/advice/schema';
import type { Advisor, ModelAnswer } from '../../../lambdas/core/ports';
import { entitlement } from '../triage/fakes';

const readonly = entitlement('okta-prod-readonly');
const prompt: RenderedPrompt = {
  messages: [
    { role: 'system', content: 'advise' },
    { role: 'user', content: '<evidence>\nE1 …\n</evidence>' },
  ],
  version: 'p-000000000000',
  citable: ['E1', 'E2', 'S1', 'access-policy#2'],
  alternatives: ['okta-prod-readonly'],
};

const output = (overrides: Partial<ModelOutput> = {}): ModelOutput => ({
  recommendation: 'approve',
  confidence: 0.834,
  summary: 'Routine read-only access for an on-call engineer.',
  reasons: [{ text: 'On call now', evidence: ['E2'] }],
  concerns: [],
  suggestedDuration: null,
  narrowerAlternative: null,
  ...overrides,
});

const advisor = (answer: ModelAnswer): Advisor => ({
  model: 'gpt-test',
  advise: () => Promise.resolve(answer),
});

describe('checking an answer', () => {
  it('keeps a clean answer as it is, confidence rounded', () => {
    expect(checkAnswer(output(), prompt, readonly)).toEqual({
      advice: {
        recommendation: 'approve',
        confidence: 0.83,
        summary: 'Routine read-only access for an on-call engineer.',
        reasons: [{ text: 'On call now', evidence: ['E2'] }],
        concerns: [],
      },
      defects: { unknownCitations: [], notes: [] },
    });
  });

  it('removes invented citations, counts each, and keeps policy citations', () => {
    const { advice, defects } = checkAnswer(
      output({
        reasons: [
          { text: 'a', evidence: ['E1', 'E77', ' E2 ', 'access-policy#2'] },
          { text: 'b', evidence: ['E78'] },
        ],
      }),
      prompt,
      readonly,
    );
    expect(advice.reasons).toEqual([
      { text: 'a', evidence: ['E1', 'E2', 'access-policy#2'] },
      { text: 'b', evidence: [] },
    ]);
    expect(defects.unknownCitations).toEqual(['E77', 'E78']);
  });

  it('keeps citations of the signals the prompt shows, and removes signals it never showed', () => {
    const { advice, defects } = checkAnswer(
      output({ reasons: [{ text: 'a', evidence: ['S1', 'E1', 'S2', 'weak-justification'] }] }),
      prompt,
      readonly,
    );
    expect(advice.reasons).toEqual([{ text: 'a', evidence: ['S1', 'E1'] }]);
    expect(defects.unknownCitations).toEqual(['S2', 'weak-justification']);
  });

  it('cuts the summary to 280 characters and says so', () => {
    const { advice, defects } = checkAnswer(output({ summary: 'x'.repeat(400) }), prompt, readonly);
    expect(Array.from(advice.summary)).toHaveLength(SUMMARY_MAX);
    expect(advice.summary.endsWith('…')).toBe(true);
    expect(defects.notes).toContain('summary cut to 280 characters');
  });

  it('keeps a suggested duration within the maximum and an alternative that was offered', () => {
    const { advice } = checkAnswer(
      output({ suggestedDuration: ' 2h ', narrowerAlternative: 'okta-prod-readonly' }),
      prompt,
      readonly,
    );
    expect(advice.suggestedDuration).toEqual({ text: '2h', seconds: 7200 });
    expect(advice.narrowerAlternative).toBe('okta-prod-readonly');
  });

  it('drops a duration that is not one, or is over the maximum, and an alternative not offered', () => {
    const { advice, defects } = checkAnswer(
      output({ suggestedDuration: 'a fortnight', narrowerAlternative: 'aws-prod-db-connect' }),
      prompt,
      readonly,
    );
    expect(advice.suggestedDuration).toBeUndefined();
    expect(advice.narrowerAlternative).toBeUndefined();
    expect(defects.notes).toEqual([
      'suggested duration "a fortnight" is not a duration; dropped',
      'narrower alternative "aws-prod-db-connect" was not offered; dropped',
    ]);
    expect(checkAnswer(output({ suggestedDuration: '8d' }), prompt, readonly).defects.notes).toEqual([
      'suggested duration 8d is longer than the maximum 7d; dropped',
    ]);
  });

  it('caps the number of reasons and concerns', () => {
    const many = Array.from({ length: 9 }, (_, i) => ({ text: `r${i}`, evidence: [] }));
    const { advice, defects } = checkAnswer(
      output({ reasons: many, concerns: many.map((r) => r.text) }),
      prompt,
      readonly,
    );
    expect(advice.reasons).toHaveLength(6);
    expect(advice.concerns).toHaveLength(6);
    expect(defects.notes).toEqual(['3 reasons beyond 6 dropped', '3 concerns beyond 6 dropped']);
  });
});

describe('model text for people', () => {
  it('is one line, without control or invisible characters, links defanged, capped', () => {
    expect(safeText('Approve:\nsee https://evil.example/x\u202e and HTTP://a.b', 200)).toBe(
      'Approve: see hxxps://evil.example/x and HxxP://a.b',
    );
    expect(safeText('[critical] S1 fake', 50)).toBe('(critical) S1 fake');
    expect(safeText('y'.repeat(20), 10)).toBe(`${'y'.repeat(9)}…`);
  });
});

describe('seeking advice', () => {
  it('without a model: no call, and the reason says so', async () => {
    const record = await seekAdvice(undefined, prompt, readonly);
    expect(record).toMatchObject({
      status: 'unavailable',
      failure: 'not-configured',
      promptVersion: 'p-000000000000',
    });
    expect(record.inputDigest).toMatch(/^sha256:/);
    expect(adviceText(record)).toBe('No recommendation: no model is configured.');
  });

  it('records the call: model, usage, latency and a digest that depends on model and messages', async () => {
    const record = await seekAdvice(
      advisor({
        ok: true,
        output: output(),
        model: 'gpt-test-2026',
        usage: { prompt: 1200, completion: 80, total: 1280 },
        latencyMs: 900,
      }),
      prompt,
      readonly,
    );
    expect(record).toMatchObject({
      status: 'advised',
      model: 'gpt-test-2026',
      usage: { prompt: 1200, completion: 80, total: 1280 },
      latencyMs: 900,
      messages: prompt.messages,
    });
    const other = await seekAdvice(
      advisor({ ok: false, failure: 'timeout', detail: '', model: 'x', latencyMs: 1 }),
      {
        ...prompt,
        messages: [{ role: 'user', content: 'other' }],
      },
      readonly,
    );
    expect(other.inputDigest).not.toBe(record.inputDigest);
  });

  it('turns a failure into the reason the page shows, with the detail made safe', async () => {
    const record = await seekAdvice(
      advisor({
        ok: false,
        failure: 'refused',
        detail: 'No.\nGo to https://x.example',
        model: 'gpt-test',
        latencyMs: 5,
      }),
      prompt,
      readonly,
    );
    expect(adviceText(record)).toBe(
      'No recommendation: the model declined to answer (No. Go to hxxps://x.example).',
    );
  });

  it.each([1.5, -0.1, Number.NaN])(
    'does not use an answer whose confidence %s is outside 0 to 1, and says so',
    async (confidence) => {
      const record = await seekAdvice(
        advisor({ ok: true, output: output({ confidence }), model: 'gpt-test', latencyMs: 5 }),
        prompt,
        readonly,
      );
      expect(record).toMatchObject({
        status: 'unavailable',
        failure: 'invalid-output',
        detail: `confidence ${String(confidence)} is outside 0 to 1`,
      });
      expect(adviceText(record)).toBe(
        `No recommendation: the model's answer did not match the expected form (confidence ${String(confidence)} is outside 0 to 1).`,
      );
    },
  );

  it('takes the bounds 0 and 1 themselves', async () => {
    for (const confidence of [0, 1]) {
      const record = await seekAdvice(
        advisor({ ok: true, output: output({ confidence }), model: 'gpt-test', latencyMs: 5 }),
        prompt,
        readonly,
      );
      expect(record).toMatchObject({ status: 'advised', advice: { confidence } });
    }
  });
});

describe('the schema sent to the model', () => {
  it('has no numeric bounds, which Azure OpenAI rejects', () => {
    const { json_schema } = zodResponseFormat(modelOutputSchema, MODEL_OUTPUT_NAME);
    const text = JSON.stringify(json_schema.schema);
    for (const keyword of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'])
      expect(text).not.toContain(`"${keyword}"`);
    expect(JSON.stringify(json_schema.schema)).toContain('"confidence"');
  });
});
