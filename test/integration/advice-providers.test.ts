// The page carries the model's advice whichever provider a stage chooses: the
// same sandbox redeployed for Amazon Bedrock (no key; the function signs with
// its own AWS credentials) and for Azure OpenAI (the deployment path and the
// `api-key` header), each answered by the OpenAI stand-in on that provider's path.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdviceRecord } from '../../lambdas/core/advice/advise';
import { BEDROCK_CHAT_PATH } from '../../sandbox/openai/stand-in';
import { Sandbox } from '../../sandbox/world';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

/** Files a routine ticket and waits for its page and the advice triage recorded. */
async function paged() {
  const { key } = sandbox.jira.fileTicket({
    reporter: 'dana',
    entitlement: 'okta-prod-readonly',
    justification: 'INC-4411 checkout latency, need the dashboards',
  });
  await sandbox.jira.settled();
  for (let attempt = 0; attempt < 200; attempt++) {
    const request = await sandbox.store.getByJiraIssueKey(key);
    const trail = request ? await sandbox.store.listAuditEvents(request.id) : [];
    const advice = trail.find((e) => e.evidence?.advice)?.evidence?.advice as AdviceRecord | undefined;
    const incident = request?.incidentId ? sandbox.pagerduty.incident(request.incidentId) : undefined;
    if (request && advice && incident) return { request, advice, page: incident.details ?? '' };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no page with advice for ${key}`);
}

const modelCalls = () =>
  sandbox.openai.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/chat/completions'));

describe('advice on the page from each provider', () => {
  it('Bedrock: triage signs with its AWS credentials, stores no key, and pages the advice', async () => {
    const bedrockModel = 'openai.gpt-oss-120b-1:0';
    sandbox.redeploy({
      LOOPGATE_MODEL_PROVIDER: 'bedrock',
      LOOPGATE_MODEL: bedrockModel,
      LOOPGATE_MODEL_API_KEY: undefined,
      LOOPGATE_MODEL_BASE_URL: `${sandbox.openai.url}/openai/v1`,
    });
    const before = modelCalls().length;
    const { request, advice, page } = await paged();

    expect(advice.status).toBe('advised');
    expect(request.advice).toMatchObject({ status: 'advised', model: 'sandbox-rules' });
    expect(page).toMatch(/APPROVE|NEEDS-INFO|DENY/);
    const calls = modelCalls().slice(before);
    expect(calls.map((c) => [c.path, c.status])).toEqual([[BEDROCK_CHAT_PATH, 200]]);
    expect(sandbox.openai.requests.at(-1)?.model).toBe(bedrockModel);
  });

  it('Azure OpenAI: triage asks the deployment with the api-key and pages the advice', async () => {
    sandbox.redeploy({
      LOOPGATE_MODEL_PROVIDER: 'azure',
      LOOPGATE_MODEL: 'loopgate-advice',
      LOOPGATE_MODEL_API_KEY: sandbox.credentials.openai.apiKey,
      LOOPGATE_MODEL_BASE_URL: sandbox.openai.url,
      LOOPGATE_MODEL_API_VERSION: '2024-10-21',
    });
    const before = modelCalls().length;
    const { request, advice, page } = await paged();

    expect(advice.status).toBe('advised');
    expect(request.advice).toMatchObject({ status: 'advised', model: 'sandbox-rules' });
    expect(page).toMatch(/APPROVE|NEEDS-INFO|DENY/);
    expect(
      modelCalls()
        .slice(before)
        .map((c) => [c.path, c.status]),
    ).toEqual([['/openai/deployments/loopgate-advice/chat/completions', 200]]);
  });

  it('Bedrock with a key left in the model secret is refused at cold start: the previous deploy keeps running', () => {
    expect(() =>
      sandbox.redeploy({
        LOOPGATE_MODEL_PROVIDER: 'bedrock',
        LOOPGATE_MODEL_API_KEY: 'sk-left-behind',
      }),
    ).toThrow(/LOOPGATE_MODEL_API_KEY is set with LOOPGATE_MODEL_PROVIDER=bedrock/);
  });
});
