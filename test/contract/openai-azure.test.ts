// The Advisor against the OpenAI stand-in's Azure OpenAI path, through the real
// `openai` SDK (AzureOpenAI): the deployment in the path, an api-version, the key
// in `api-key`, and Azure's refusal of numeric bounds in the schema, which the
// schema loopgate sends no longer carries.
// What the stand-in follows (Microsoft Learn):
// - "Azure OpenAI in Azure AI Foundry Models REST API reference", Chat completions:
//   POST {endpoint}/openai/deployments/{deployment-id}/chat/completions?api-version=…,
//   authenticated with the `api-key` header (or Microsoft Entra ID), 401 for a wrong key;
// - "How to use structured outputs", Supported schemas and limitations: unsupported
//   type-specific keywords for numbers are minimum, maximum and multipleOf, refused with 400.

import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiAdvisor, type ModelSettings } from '../../lambdas/connectors/openai/advisor';
import { systemClock } from '../../lambdas/core/ports';
import { OpenAiStandIn } from '../../sandbox/openai/stand-in';

const KEY = 'azure-key-1';
let standIn: OpenAiStandIn;

beforeAll(async () => {
  standIn = new OpenAiStandIn({ clock: systemClock, apiKeys: [KEY] });
  await standIn.start(0);
});

afterAll(() => standIn.stop());

const settings = (overrides: Partial<ModelSettings & { provider: 'azure' }> = {}): ModelSettings => ({
  provider: 'azure',
  model: 'loopgate-advice',
  apiKey: KEY,
  baseUrl: standIn.url,
  apiVersion: '2024-10-21',
  maxOutputTokens: 800,
  tokenLimitParameter: 'max_completion_tokens',
  budgetMs: 10_000,
  maxRetries: 0,
  ...overrides,
});

const messages = [
  { role: 'system' as const, content: 'advise' },
  { role: 'user' as const, content: '<signals>\n[medium] S1 weak-justification: short (E1)\n</signals>' },
];

describe('the Advisor on Azure OpenAI (stand-in)', () => {
  it('asks the deployment with an api-version and the api-key header, and gets advice', async () => {
    const answer = await new OpenAiAdvisor(settings()).advise(messages);

    expect(answer).toMatchObject({ ok: true, model: 'sandbox-rules' });
    const received = standIn.requests.at(-1);
    expect(received?.answeredWith).toBe('rules');
    const schema = JSON.stringify(received?.response_format);
    expect(schema).not.toMatch(/"(minimum|maximum|multipleOf)"/);
    const call = standIn.calls.at(-1);
    expect(call?.path).toBe('/openai/deployments/loopgate-advice/chat/completions');
  });

  it('is refused with a wrong key', async () => {
    const answer = await new OpenAiAdvisor(settings({ apiKey: 'wrong' })).advise(messages);
    expect(answer).toMatchObject({ ok: false, failure: 'rejected', detail: 'HTTP 401 401' });
  });

  it('refuses a schema with numeric bounds, as Azure does', async () => {
    const bounded = zodResponseFormat(z.object({ confidence: z.number().min(0).max(1) }), 'bounded');
    const response = await fetch(
      `${standIn.url}/openai/deployments/loopgate-advice/chat/completions?api-version=2024-10-21`,
      {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'loopgate-advice', messages, response_format: bounded }),
      },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_json_schema', param: 'response_format' },
    });
  });
});
