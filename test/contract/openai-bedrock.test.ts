// The Advisor against the OpenAI stand-in's Amazon Bedrock path, through the real
// `openai` SDK with loopgate's SigV4-signing fetch: no API key, each request
// signed with AWS credentials for the service `bedrock` in the model's region.
// What the stand-in follows (AWS documentation):
// - Amazon Bedrock User Guide, "Invoke a model with the OpenAI Chat Completions API"
//   (inference-chat-completions): POST https://bedrock-runtime.{region}.amazonaws.com/openai/v1/chat/completions,
//   authenticated with AWS credentials (SigV4) or a Bedrock API key;
// - IAM User Guide, "Signature Version 4 for API requests" (create-signed-request): the canonical
//   request, credential scope date/region/service/aws4_request, and the signature check;
// - Amazon Bedrock API Reference, Common Errors: 403 UnrecognizedClientException,
//   InvalidSignatureException, MissingAuthenticationTokenException and AccessDeniedException,
//   the type in `x-amzn-ErrorType`; Bedrock User Guide, "Identity-based policy examples":
//   bedrock:InvokeModel on arn:aws:bedrock:{region}::foundation-model/{model-id}.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiAdvisor, type ModelSettings } from '../../lambdas/connectors/openai/advisor';
import { sigV4Fetch } from '../../lambdas/connectors/openai/sigv4-fetch';
import { systemClock } from '../../lambdas/core/ports';
import { BEDROCK_CHAT_PATH, OpenAiStandIn } from '../../sandbox/openai/stand-in';

const KEYS = { accessKeyId: 'AKIABEDROCKSANDBOX01', secretAccessKey: 'bedrock-secret-1' };
const REGION = 'eu-west-1';
const MODEL = 'openai.gpt-oss-120b-1:0';
let standIn: OpenAiStandIn;

beforeAll(async () => {
  standIn = new OpenAiStandIn({
    clock: systemClock,
    apiKeys: ['sk-openai-only'],
    bedrock: { credentials: [KEYS], region: REGION, models: [MODEL] },
  });
  await standIn.start(0);
});

afterAll(() => standIn.stop());

const settings = (overrides: Partial<ModelSettings & { provider: 'bedrock' }> = {}): ModelSettings => ({
  provider: 'bedrock',
  model: MODEL,
  region: REGION,
  baseUrl: `${standIn.url}/openai/v1`,
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

const lastCall = () => standIn.calls.at(-1);

describe('the Advisor on Amazon Bedrock (stand-in)', () => {
  it('signs with the AWS credentials, sends no key, and gets advice from the Chat Completions path', async () => {
    const answer = await new OpenAiAdvisor(settings(), { credentials: KEYS }).advise(messages);

    expect(answer).toMatchObject({ ok: true, model: 'sandbox-rules' });
    expect(standIn.requests.at(-1)).toMatchObject({ answeredWith: 'rules', model: MODEL, status: 200 });
    expect(lastCall()).toMatchObject({ method: 'POST', path: BEDROCK_CHAT_PATH, status: 200 });
  });

  it('refreshes credentials from a provider (a role session, with its token signed too)', async () => {
    let asked = 0;
    const provider = () => {
      asked += 1;
      return Promise.resolve({ ...KEYS, sessionToken: 'session-token-1' });
    };
    const answer = await new OpenAiAdvisor(settings(), { credentials: provider }).advise(messages);
    expect(answer).toMatchObject({ ok: true });
    expect(asked).toBeGreaterThan(0);
  });

  it('is refused for a key Bedrock does not know, a wrong secret, or a signature for another region', async () => {
    const answered = standIn.requests.length;
    const unknown = await new OpenAiAdvisor(settings(), {
      credentials: { ...KEYS, accessKeyId: 'AKIAUNKNOWN000000000' },
    }).advise(messages);
    expect(unknown).toMatchObject({ ok: false, failure: 'rejected', detail: 'HTTP 403' });
    expect(lastCall()?.status).toBe(403);

    const wrongSecret = await new OpenAiAdvisor(settings(), {
      credentials: { ...KEYS, secretAccessKey: 'not-the-secret' },
    }).advise(messages);
    expect(wrongSecret).toMatchObject({ ok: false, failure: 'rejected', detail: 'HTTP 403' });

    const otherRegion = await new OpenAiAdvisor(settings({ region: 'us-west-2' }), {
      credentials: KEYS,
    }).advise(messages);
    expect(otherRegion).toMatchObject({ ok: false, failure: 'rejected', detail: 'HTTP 403' });
    // Refused before the body is read: nothing was answered.
    expect(standIn.requests).toHaveLength(answered);
  });

  it('refuses a model the credentials may not invoke, as bedrock:InvokeModel on one model ARN does', async () => {
    const answer = await new OpenAiAdvisor(settings({ model: 'openai.gpt-oss-20b-1:0' }), {
      credentials: KEYS,
    }).advise(messages);
    expect(answer).toMatchObject({ ok: false, failure: 'rejected', detail: 'HTTP 403' });
  });

  it("answers Bedrock's errors: no signature, a bearer key, a body changed after signing", async () => {
    const url = `${standIn.url}${BEDROCK_CHAT_PATH}`;
    const body = JSON.stringify({ model: MODEL, messages });

    const unsigned = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');

    // An OpenAI key is no AWS credential, even one the stand-in accepts on /v1.
    const bearer = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-openai-only' },
    });
    expect(bearer.status).toBe(403);

    // Signed for one body, sent with another: the payload hash no longer matches.
    const tampering = sigV4Fetch({
      region: REGION,
      credentials: KEYS,
      fetch: (input, init) =>
        fetch(input, { ...init, body: JSON.stringify({ model: MODEL, messages: [messages[0]] }) }),
    });
    const tampered = await tampering(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    expect(await tampered.json()).toEqual({ message: expect.stringContaining('signature we calculated') });

    const signed = await sigV4Fetch({ region: REGION, credentials: KEYS })(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization: 'Bearer placeholder' },
    });
    expect(signed.status).toBe(200);
  });
});
