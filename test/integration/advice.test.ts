// The model's advice in the sandbox: a filed ticket is triaged and the OpenAI
// stand-in, scripted per test, answers through the real `openai` SDK. Every way
// the model can fail must leave a request that goes on without a recommendation,
// with the reason on the page and in the audit trail.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdviceRecord, adviceText } from '../../lambdas/core/advice/advise';
import { promptVersion } from '../../lambdas/core/advice/prompt';
import type { EvidenceBundle } from '../../lambdas/core/context';
import type { RequestStore } from '../../lambdas/core/ports';
import { triageRequest } from '../../lambdas/core/triage/triage';
import { Env, readTriageConfig } from '../../lambdas/platform/env';
import { loadPromptTemplates } from '../../lambdas/platform/prompt-files';
import { wireTriage } from '../../lambdas/wiring/triage';
import { reply } from '../../sandbox/openai/script';
import { Sandbox } from '../../sandbox/world';
import { newRequest } from '../support/requests';

const BUDGET_MS = 1500;
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({
    log: () => {},
    // A short budget keeps the timeout case quick; one retry, as the SDK would do within it.
    environment: { LOOPGATE_MODEL_TIMEOUT_MS: String(BUDGET_MS), LOOPGATE_MODEL_MAX_RETRIES: '1' },
  });
});

afterAll(() => sandbox.stop());

afterEach(() => sandbox.openai.clearScript());

/** Files a routine ticket and waits until triage recorded the advice (or why there is none). */
async function advised(justification = 'INC-4411 checkout latency, need the dashboards') {
  const { key } = sandbox.jira.fileTicket({
    reporter: 'dana',
    entitlement: 'okta-prod-readonly',
    justification,
  });
  await sandbox.jira.settled();
  for (let attempt = 0; attempt < 200; attempt++) {
    const id = (await sandbox.store.getByJiraIssueKey(key))?.id;
    const trail = id ? await sandbox.store.listAuditEvents(id) : [];
    const event = trail.find((e) => e.evidence?.advice);
    const bundle = trail.find((e) => e.evidence?.bundle)?.evidence?.bundle as EvidenceBundle | undefined;
    const request = event && (await sandbox.store.get(event.requestId));
    const incident = request?.incidentId ? sandbox.pagerduty.incident(request.incidentId) : undefined;
    if (request && event && bundle && incident) {
      return {
        request,
        event,
        bundle,
        page: incident.details ?? '',
        advice: event.evidence?.advice as AdviceRecord,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no advice recorded for ${key}`);
}

describe('advice from the model', () => {
  it('records the recommendation with model, prompt version, tokens, latency and a digest of the input', async () => {
    const { request, event, bundle, advice } = await advised();

    expect(advice.status).toBe('advised');
    if (advice.status !== 'advised') return;
    expect(advice.model).toBe('sandbox-rules');
    expect(advice.promptVersion).toBe(promptVersion(loadPromptTemplates('prompts/recommendation')));
    expect(advice.usage?.prompt).toBeGreaterThan(500);
    expect(advice.usage?.completion).toBeGreaterThan(0);
    expect(advice.latencyMs).toBeGreaterThanOrEqual(0);
    expect(advice.inputDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // What was sent is kept exactly, with the request's data inside delimited sections only.
    const user = advice.messages.find((m) => m.role === 'user')?.content ?? '';
    expect(user).toMatch(/<evidence>\n[\s\S]*\n<\/evidence>/);
    expect(user).toContain('INC-4411');
    expect(advice.messages.find((m) => m.role === 'system')?.content).not.toContain('INC-4411');
    expect(sandbox.openai.requests.at(-1)?.messages).toEqual(advice.messages);
    // The schema sent carries no numeric bounds (Azure OpenAI rejects them).
    const schema = JSON.stringify(sandbox.openai.requests.at(-1)?.response_format);
    expect(schema).toContain('"confidence"');
    expect(schema).not.toMatch(/"(minimum|maximum|exclusiveMinimum|exclusiveMaximum|multipleOf)"/);

    const known = new Set([...bundle.evidence.map((e) => e.id), ...bundle.policy.map((p) => p.id)]);
    expect(advice.advice.reasons.flatMap((r) => r.evidence).every((id) => known.has(id))).toBe(true);
    expect(advice.defects.unknownCitations).toEqual([]);
    expect(event.actor).toEqual({ kind: 'system', id: 'advisor' });
    expect(event.reason).toMatch(/^advice recorded: approve \(confidence 0\.\d+\)$/);
    expect(request.advice).toEqual({
      status: 'advised',
      recommendation: advice.advice.recommendation,
      confidence: advice.advice.confidence,
      model: 'sandbox-rules',
      promptVersion: advice.promptVersion,
    });
    expect(adviceText(advice)).toMatch(
      /^APPROVE \(confidence 0\.\d\d; advisory only, a person decides; model sandbox-rules/,
    );
  });

  it('removes citations of evidence that does not exist and counts them as a defect', async () => {
    sandbox.openai.script(
      reply.json({
        recommendation: 'approve',
        confidence: 0.8,
        summary: 'Routine. Details at https://evil.example/approve',
        reasons: [{ text: 'Fits the role', evidence: ['E1', 'E999', 'E1'] }],
        concerns: [],
        suggestedDuration: '30d',
        narrowerAlternative: 'okta-prod-admin',
      }),
    );
    const { advice } = await advised();

    expect(advice.status).toBe('advised');
    if (advice.status !== 'advised') return;
    expect(advice.advice.reasons).toEqual([{ text: 'Fits the role', evidence: ['E1'] }]);
    expect(advice.defects.unknownCitations).toEqual(['E999']);
    expect(advice.advice.summary).toBe('Routine. Details at hxxps://evil.example/approve');
    // okta-prod-readonly offers no narrower alternative, and 30d is over its 7d maximum.
    expect(advice.advice.narrowerAlternative).toBeUndefined();
    expect(advice.advice.suggestedDuration).toBeUndefined();
    expect(advice.defects.notes).toEqual([
      'suggested duration 30d is longer than the maximum 7d; dropped',
      'narrower alternative "okta-prod-admin" was not offered; dropped',
      'citations of ids the prompt never showed removed: E999',
    ]);
    expect(adviceText(advice)).toContain('(1 citation of evidence that does not exist removed)');
  });

  it('keeps citations of signals (S1) and evidence, and pages them without a "removed" note', async () => {
    sandbox.openai.script(
      reply.json({
        recommendation: 'needs-info',
        confidence: 0.6,
        summary: 'The justification names no ticket.',
        reasons: [{ text: 'Vague justification', evidence: ['S1', 'E1'] }],
        concerns: ['Ask which incident this is for'],
        suggestedDuration: null,
        narrowerAlternative: null,
      }),
    );
    // A short justification raises a signal, so the prompt shows S1.
    const { advice, bundle, page } = await advised('dashboards');

    expect(bundle.signals[0]?.id).toBe('weak-justification');
    expect(advice.messages.find((m) => m.role === 'user')?.content).toMatch(
      /^\[medium\] S1 weak-justification: /m,
    );
    expect(advice.status).toBe('advised');
    if (advice.status !== 'advised') return;
    expect(advice.advice.reasons).toEqual([{ text: 'Vague justification', evidence: ['S1', 'E1'] }]);
    expect(advice.defects).toEqual({ unknownCitations: [], notes: [] });
    expect(adviceText(advice)).not.toContain('removed');
    // The page shows the citation and the signal it names, numbered the same way.
    expect(page).toContain('- Vague justification [S1, E1]');
    expect(page).toMatch(/^S1 \[medium\] weak-justification: /m);
    expect(page).not.toContain('removed');
  });

  it('still removes a signal id the prompt never showed', async () => {
    sandbox.openai.script(
      reply.json({
        recommendation: 'approve',
        confidence: 0.7,
        summary: 'Routine.',
        reasons: [{ text: 'Fits the role', evidence: ['E1', 'S9'] }],
        concerns: [],
        suggestedDuration: null,
        narrowerAlternative: null,
      }),
    );
    const { advice, page } = await advised();

    expect(advice.status).toBe('advised');
    if (advice.status !== 'advised') return;
    expect(advice.advice.reasons).toEqual([{ text: 'Fits the role', evidence: ['E1'] }]);
    expect(advice.defects.unknownCitations).toEqual(['S9']);
    expect(page).toContain('(1 citation of evidence that does not exist removed)');
  });

  const failures: [string, () => ReturnType<typeof reply.json>[], string, RegExp][] = [
    [
      'a timeout',
      () => [reply.delayed(BUDGET_MS * 3, reply.rules())],
      'timeout',
      /did not answer in time \(no answer within 1\.5 s\)/,
    ],
    [
      '429 after the retries',
      () => [reply.rateLimited({ retryAfterMs: 10 }), reply.rateLimited({ retryAfterMs: 10 })],
      'rate-limited',
      /rate-limiting/,
    ],
    [
      '5xx after the retries',
      () => [reply.serverError(), reply.overloaded()],
      'unavailable',
      /API failed \(HTTP 503 after retries\)/,
    ],
    [
      'a refused key',
      () => [reply.error(401, { message: 'Incorrect API key provided', code: 'invalid_api_key' })],
      'rejected',
      /refused the call \(HTTP 401 invalid_api_key\)/,
    ],
    [
      'a refusal',
      () => [reply.refusal("I can't help with that request.")],
      'refused',
      /declined to answer \(I can't help with that request\.\)/,
    ],
    [
      'output that is not JSON',
      () => [reply.content('Sure! I recommend approving.')],
      'invalid-output',
      /did not match the expected form \(not JSON\)/,
    ],
    [
      'JSON that breaks the schema',
      () => [reply.json({ recommendation: 'maybe', confidence: 2 })],
      'invalid-output',
      /does not match the schema/,
    ],
    [
      'a confidence outside 0 to 1 (the schema sent has no bounds; they are checked after parsing)',
      () => [
        reply.json({
          recommendation: 'approve',
          confidence: 1.5,
          summary: 'Routine.',
          reasons: [],
          concerns: [],
          suggestedDuration: null,
          narrowerAlternative: null,
        }),
      ],
      'invalid-output',
      /did not match the expected form \(confidence 1\.5 is outside 0 to 1\)/,
    ],
    ['a length cut-off', () => [reply.length()], 'length', /cut off at the token limit/],
    ['a content filter', () => [reply.contentFilter()], 'content-filter', /content filter/],
  ];

  it.each(failures)(
    'goes on without a recommendation after %s, saying why',
    async (_, script, failure, reason) => {
      sandbox.openai.script(...script());
      const { request, event, advice, page } = await advised();

      expect(advice).toMatchObject({ status: 'unavailable', failure });
      if (advice.status !== 'unavailable') return;
      expect(advice.reason).toMatch(reason);
      expect(adviceText(advice)).toBe(`No recommendation: ${advice.reason}.`);
      expect(event.reason).toBe(`no recommendation: ${advice.reason}`);
      // The owners are paged all the same, and the page says why there is no recommendation.
      expect(request.state).toBe('PENDING');
      expect(page).toContain(`No recommendation: ${advice.reason}.`);
      expect(request.advice).toMatchObject({ status: 'unavailable', reason: advice.reason });
      expect(advice.latencyMs).toBeLessThan(BUDGET_MS * 2);
      expect(advice.promptVersion).toMatch(/^p-[0-9a-f]{12}$/);
    },
  );
});

/** A Jira issue intake ignores (a Task), so only the test triages the request made for it. */
function quietTicket(): string {
  return sandbox.jira.fileTicket({ reporter: 'dana', issueType: 'Task', justification: 'direct' }).key;
}

describe('without a model', () => {
  it('triages without a recommendation and says no model is configured', async () => {
    const env = { ...sandbox.loopgateEnvironment() };
    delete env.LOOPGATE_MODEL_API_KEY;
    const { deps, settings } = wireTriage(readTriageConfig(new Env(env)), { log: () => {} });
    expect(deps.advisor).toBeUndefined();
    const { request } = await sandbox.store.create(newRequest({ jiraIssueKey: quietTicket() }), {
      actor: { kind: 'system', id: 'test' },
      reason: 'filed',
    });
    const calls = sandbox.openai.requests.length;

    const outcome = await triageRequest(deps, settings, request.id);

    expect(outcome.kind).toBe('paged');
    if (outcome.kind !== 'paged') return;
    expect(outcome.advice).toMatchObject({ status: 'unavailable', failure: 'not-configured' });
    expect(adviceText(outcome.advice)).toBe('No recommendation: no model is configured.');
    expect(outcome.page.details).toContain('No recommendation: no model is configured.');
    expect(sandbox.openai.requests.length).toBe(calls);
  });
});

describe('a redelivered message', () => {
  it('asks the model without gathering again when the advice was not recorded', async () => {
    const { deps, settings } = wireTriage(readTriageConfig(new Env(sandbox.loopgateEnvironment())), {
      log: () => {},
    });
    const { request } = await sandbox.store.create(newRequest({ jiraIssueKey: quietTicket() }), {
      actor: { kind: 'system', id: 'test' },
      reason: 'filed',
    });
    // The first attempt dies after recording the context, before recording the advice.
    const dying: RequestStore = Object.create(deps.store, {
      transition: {
        value: (input: Parameters<RequestStore['transition']>[0]) =>
          input.audit.evidence?.advice
            ? Promise.reject(new Error('crashed before the advice was written'))
            : deps.store.transition(input),
      },
    });
    await expect(triageRequest({ ...deps, store: dying }, settings, request.id)).rejects.toThrow('crashed');
    const oktaCalls = sandbox.okta.calls.length;

    const outcome = await triageRequest(deps, settings, request.id);

    expect(outcome.kind).toBe('paged');
    expect(sandbox.okta.calls.length).toBe(oktaCalls);
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.filter((e) => e.evidence?.bundle)).toHaveLength(1);
    expect(trail.filter((e) => e.evidence?.advice)).toHaveLength(1);
    expect(await triageRequest(deps, settings, request.id)).toEqual({
      kind: 'skipped',
      reason: 'request is PENDING',
    });
  });
});
