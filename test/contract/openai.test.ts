// Contract of the OpenAI stand-in, driven through the real `openai` SDK over
// HTTP: structured outputs with zod, the rules responder, every scripted
// failure mode, retries, authentication, injected faults and request validation.

import OpenAI, {
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import { ContentFilterFinishReasonError, LengthFinishReasonError } from 'openai/core/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SandboxClock } from '../../sandbox/clock';
import { reply } from '../../sandbox/openai/script';
import { OpenAiStandIn } from '../../sandbox/openai/stand-in';

const API_KEY = 'sk-sandbox-contract-test-0001';
const CHAT = 'POST /v1/chat/completions';

/** The advice schema loopgate asks the model for. */
const Advice = z.object({
  recommendation: z.enum(['approve', 'deny', 'needs-info']),
  confidence: z.number().min(0).max(1),
  summary: z.string().max(280),
  reasons: z.array(z.object({ text: z.string(), evidence: z.array(z.string()) })),
  concerns: z.array(z.string()),
  suggestedDuration: z.string().nullable().optional(),
  narrowerAlternative: z.string().nullable().optional(),
});
const adviceFormat = zodResponseFormat(Advice, 'access_advice');

const clock = new SandboxClock({ start: new Date('2026-11-21T09:00:00.000Z'), frozen: true });
const standIn = new OpenAiStandIn({ clock, apiKeys: [API_KEY] });

function client(options: { maxRetries?: number; timeout?: number; apiKey?: string } = {}): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey ?? API_KEY,
    baseURL: `${standIn.url}/v1`,
    maxRetries: options.maxRetries ?? 0,
    timeout: options.timeout ?? 10_000,
  });
}

/** A prompt following the rules responder's convention; the system message's examples must not count. */
function messages(signals: string[]): OpenAI.ChatCompletionMessageParam[] {
  return [
    {
      role: 'system',
      content: 'You advise on access requests. Signals look like "[critical] S9 example: text (E99)".',
    },
    {
      role: 'user',
      content: [
        'Request ACCESS-7: alice@example.com asks for prod-db-admin for 4h.',
        'Evidence:',
        'E1 okta: alice is in group engineering since 2024',
        'E2 okta: last sign-in from Lisbon, Portugal',
        'E3 pagerduty: alice is not on call',
        'Signals:',
        ...signals,
      ].join('\n'),
    },
  ];
}

function parseAdvice(signals: string[], options: { maxTokens?: number } = {}) {
  return client().chat.completions.parse({
    model: 'gpt-4o-mini',
    messages: messages(signals),
    response_format: adviceFormat,
    ...(options.maxTokens ? { max_completion_tokens: options.maxTokens } : {}),
  });
}

/** The error a call rejects with; toBeInstanceOf on it fails loudly if the expected class does not exist. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.fail('the call succeeded'),
    (error: unknown) => error,
  );
}

async function rawPost(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${standIn.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { error: unknown },
  };
}

beforeAll(async () => {
  await standIn.start();
});

afterAll(async () => {
  await standIn.stop();
});

afterEach(() => {
  standIn.reset();
});

describe('rules responder', () => {
  it('approves a request without signals, as model sandbox-rules, citing only evidence in the prompt', async () => {
    const completion = await parseAdvice([]);
    const choice = completion.choices[0];
    const advice = choice?.message.parsed;

    expect(completion.model).toBe('sandbox-rules');
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.created).toBe(Date.parse('2026-11-21T09:00:00.000Z') / 1000);
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.refusal).toBeNull();
    expect(advice?.recommendation).toBe('approve');
    expect(advice?.summary.startsWith('sandbox-rules:')).toBe(true);
    expect(advice?.concerns).toEqual([]);
    const cited = advice?.reasons.flatMap((reason) => reason.evidence) ?? [];
    expect(cited.length).toBeGreaterThan(0);
    for (const id of cited) expect(['E1', 'E2', 'E3']).toContain(id);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
    expect(completion.usage?.completion_tokens).toBe(Math.ceil((choice?.message.content ?? '').length / 4));
  });

  it('denies on a critical signal, naming it and citing the evidence on its line', async () => {
    const completion = await parseAdvice([
      '[low] S1 off-hours: requested at 23:10 local time (E1)',
      '[critical] S3 new-country: first sign-in from Portugal in 90 days (E2)',
    ]);
    const advice = completion.choices[0]?.message.parsed;

    expect(advice?.recommendation).toBe('deny');
    expect(advice?.summary).toBe('sandbox-rules: deny on critical signal S3 new-country.');
    expect(advice?.reasons).toEqual([
      {
        text: 'Critical signal S3 new-country: first sign-in from Portugal in 90 days (E2)',
        evidence: ['E2'],
      },
    ]);
    expect(advice?.concerns).toEqual([
      '[critical] S3 new-country: first sign-in from Portugal in 90 days (E2)',
      '[low] S1 off-hours: requested at 23:10 local time (E1)',
    ]);
    expect(advice?.confidence).toBe(0.7);
    expect(advice?.suggestedDuration).toBeNull();
  });

  it('asks for more information on a high signal', async () => {
    const completion = await parseAdvice([
      '[high] S2 not-on-call: alice is not on call for the service (E3)',
    ]);
    const advice = completion.choices[0]?.message.parsed;

    expect(advice?.recommendation).toBe('needs-info');
    expect(advice?.summary).toContain('S2 not-on-call');
    expect(advice?.reasons[0]?.evidence).toEqual(['E3']);
  });

  it('fills a differently named schema through aliases, enum synonyms and bounds', async () => {
    const Other = z.object({
      decision: z.enum(['APPROVE', 'DENY', 'NEEDS_INFO']),
      rationale: z.string().max(30),
      score: z.number().min(0).max(0.5),
      findings: z.array(z.object({ reason: z.string(), citations: z.array(z.string()) })).max(1),
      reviewedAt: z.iso.datetime(),
    });
    const completion = await client().chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: messages(['[critical] S3 new-country: first sign-in from Portugal (E2)']),
      response_format: zodResponseFormat(Other, 'other_advice'),
    });
    const parsed = completion.choices[0]?.message.parsed;

    expect(parsed?.decision).toBe('DENY');
    expect(parsed?.rationale).toHaveLength(30);
    expect(parsed?.score).toBe(0.5);
    expect(parsed?.findings).toEqual([
      { reason: 'Critical signal S3 new-country: first sign-in from Portugal (E2)', citations: ['E2'] },
    ]);
    expect(parsed?.reviewedAt).toBe('2026-11-21T09:00:00.000Z');
  });

  it('produces valid JSON for any strict schema zod emits', async () => {
    const Node = z.object({ name: z.string().min(3), children: z.array(z.string()).min(2) });
    const Odd = z.object({
      version: z.literal('v1'),
      rank: z.int().min(1).max(5),
      ratio: z.number().gt(0).lt(1).multipleOf(0.25),
      flag: z.boolean(),
      id: z.uuid(),
      either: z.union([z.string(), z.number()]),
      node: Node.nullable(),
      nodes: z.array(Node).min(1),
      tags: z.array(z.enum(['a', 'b'])),
    });
    const completion = await client().chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: messages([]),
      response_format: zodResponseFormat(Odd, 'odd'),
    });
    const parsed = completion.choices[0]?.message.parsed;

    expect(Odd.parse(parsed)).toEqual(parsed);
    expect(parsed?.node).toBeNull();
    expect(parsed?.nodes[0]?.children).toHaveLength(2);
  });

  it('answers plain text without a json_schema response_format', async () => {
    const completion = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: messages(['[high] S2 not-on-call: alice is not on call (E3)']),
    });
    const content = completion.choices[0]?.message.content ?? '';

    expect(content.startsWith('sandbox-rules: needs-info')).toBe(true);
    expect(content).toContain('[E3]');
  });

  it('honours n with identical choices', async () => {
    const completion = await client().chat.completions.create({ model: 'm', messages: messages([]), n: 2 });
    const [first, second] = completion.choices;

    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(second?.message.content).toBe(first?.message.content);
    expect(completion.usage?.completion_tokens).toBe(
      2 * Math.ceil((first?.message.content ?? '').length / 4),
    );
  });

  it('cuts an answer longer than max_completion_tokens, finishing with length', async () => {
    expect(await failure(parseAdvice([], { maxTokens: 5 }))).toBeInstanceOf(LengthFinishReasonError);
  });

  it('records what the model was sent', async () => {
    await parseAdvice([]);
    const [request] = standIn.state().requests;

    expect(request?.model).toBe('gpt-4o-mini');
    expect(request?.messages).toEqual(messages([]));
    expect(request?.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'access_advice', strict: true },
    });
    expect(request?.answeredWith).toBe('rules');
  });
});

describe('scripted replies', () => {
  it('returns a scripted JSON body parsed, consuming the script in order', async () => {
    const body = {
      recommendation: 'deny',
      confidence: 0.9,
      summary: 'scripted',
      reasons: [{ text: 'because', evidence: ['E1'] }],
      concerns: [],
      suggestedDuration: '1h',
      narrowerAlternative: null,
    };
    standIn.script(reply.json(body));
    expect(standIn.state().script).toHaveLength(1);

    const completion = await parseAdvice([]);

    expect(completion.model).toBe('sandbox-script');
    expect(completion.choices[0]?.message.parsed).toEqual(body);
    expect(standIn.state().script).toEqual([]);
    expect((await parseAdvice([])).model).toBe('sandbox-rules');
  });

  it('makes parse() throw on invalid JSON content and on JSON that breaks the schema', async () => {
    standIn.script(reply.content('{"recommendation": "approve",'), reply.json({ recommendation: 'maybe' }));

    expect(await failure(parseAdvice([]))).toBeInstanceOf(SyntaxError);
    expect(await failure(parseAdvice([]))).toBeInstanceOf(z.ZodError);
  });

  it('surfaces a refusal as message.refusal with parsed null', async () => {
    standIn.script(reply.refusal("I'm sorry, I can't help with that."));

    const message = (await parseAdvice([])).choices[0]?.message;

    expect(message?.refusal).toBe("I'm sorry, I can't help with that.");
    expect(message?.content).toBeNull();
    expect(message?.parsed).toBeNull();
  });

  it('makes the SDK throw its errors on finish_reason length and content_filter', async () => {
    standIn.script(reply.length(), reply.contentFilter());

    expect(await failure(parseAdvice([]))).toBeInstanceOf(LengthFinishReasonError);
    expect(await failure(parseAdvice([]))).toBeInstanceOf(ContentFilterFinishReasonError);
  });

  it('answers 429 in OpenAI shape and the SDK retries after retry-after-ms', async () => {
    standIn.script(reply.rateLimited({ retryAfterMs: 5 }));

    const completion = await client({ maxRetries: 2 }).chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: messages([]),
      response_format: adviceFormat,
    });

    expect(completion.choices[0]?.message.parsed?.recommendation).toBe('approve');
    expect(standIn.requests.map((request) => [request.answeredWith, request.status])).toEqual([
      ['script:error', 429],
      ['rules', 200],
    ]);
  });

  it('gives a 429 with retry-after, exhausted x-ratelimit-* headers and rate_limit_exceeded', async () => {
    standIn.script(reply.rateLimited({ retryAfterSeconds: 0 }));

    const error = await failure(parseAdvice([]));

    expect(error).toBeInstanceOf(RateLimitError);
    const limited = error as RateLimitError;
    expect(limited.status).toBe(429);
    expect(limited.error).toMatchObject({ type: 'requests', param: null, code: 'rate_limit_exceeded' });
    expect(limited.message).toContain('Rate limit reached for gpt-4o-mini');
    expect(limited.headers.get('retry-after')).toBe('0');
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.headers.get('x-ratelimit-limit-requests')).toBe('500');
    expect(limited.requestID).toMatch(/^req_/);
  });

  it('retries a 503 and then answers', async () => {
    standIn.script(reply.overloaded({ retryAfterSeconds: 0 }));

    const completion = await client({ maxRetries: 1 }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: messages([]),
    });

    expect(completion.model).toBe('sandbox-rules');
    expect(standIn.requests.map((request) => request.status)).toEqual([503, 200]);
  });

  it('raises InternalServerError on a 500 when retries are off', async () => {
    standIn.script(reply.serverError());

    const error = await failure(parseAdvice([]));

    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).error).toMatchObject({ type: 'server_error', code: null });
    expect(standIn.requests).toHaveLength(1);
  });

  it('holds a delayed reply past the client timeout', async () => {
    standIn.script(reply.delayed(5_000, reply.rules()));

    const slow = client({ timeout: 100 }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: messages([]),
    });

    expect(await failure(slow)).toBeInstanceOf(APIConnectionTimeoutError);
    expect(standIn.state().script).toEqual([]);
    expect(standIn.requests.map((request) => [request.answeredWith, request.status])).toEqual([
      ['rules', null],
    ]);
    expect((await client().chat.completions.create({ model: 'm', messages: messages([]) })).model).toBe(
      'sandbox-rules',
    );
  });
});

describe('authentication, faults and validation', () => {
  it('refuses a wrong key with 401 invalid_api_key, masking the key', async () => {
    const wrong = 'sk-wrong-key-abcdefgh1234';
    const error = await failure(
      client({ apiKey: wrong }).chat.completions.create({ model: 'gpt-4o-mini', messages: messages([]) }),
    );

    expect(error).toBeInstanceOf(AuthenticationError);
    const refused = error as AuthenticationError;
    expect(refused.status).toBe(401);
    expect(refused.error).toEqual({
      message:
        'Incorrect API key provided: sk-wrong*************1234. You can find your API key at https://platform.openai.com/account/api-keys.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    });
    expect(standIn.requests).toEqual([]);
  });

  it('refuses a request without a key', async () => {
    const response = await rawPost('/v1/chat/completions', '{}', { authorization: '' });

    expect(response.status).toBe(401);
    expect(response.body.error).toMatchObject({ type: 'invalid_request_error', code: null });
    expect(JSON.stringify(response.body)).toContain("You didn't provide an API key.");
  });

  it('answers an injected fault in OpenAI 429 shape', async () => {
    standIn.faults.set(CHAT, { failNext: 1, status: 429 });

    const error = await failure(parseAdvice([]));

    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).error).toMatchObject({ code: 'rate_limit_exceeded', type: 'requests' });
    expect((error as RateLimitError).headers.get('retry-after')).toBe('1');
    expect((await parseAdvice([])).model).toBe('sandbox-rules');
    expect(standIn.calls.map((call) => call.status)).toEqual([429, 200]);
  });

  it('refuses malformed JSON and a missing messages parameter as OpenAI does', async () => {
    const malformed = await rawPost('/v1/chat/completions', '{"model":');
    const missing = await rawPost('/v1/chat/completions', '{"model":"gpt-4o-mini"}');

    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('We could not parse the JSON body of your request.');
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({
      message: "Missing required parameter: 'messages'.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'missing_required_parameter',
    });
  });

  it.each([
    ['no model', { messages: messages([]) }, null, 'you must provide a model parameter'],
    ['empty messages', { model: 'm', messages: [] }, 'messages', "Invalid 'messages': empty array."],
    [
      'unknown role',
      { model: 'm', messages: [{ role: 'robot', content: 'x' }] },
      'messages[0].role',
      "Invalid value: 'robot'.",
    ],
    [
      'user message without content',
      { model: 'm', messages: [{ role: 'user' }] },
      'messages[0].content',
      'Missing required parameter',
    ],
    ['n below 1', { model: 'm', messages: messages([]), n: 0 }, 'n', 'integer below minimum value'],
    [
      'temperature above 2',
      { model: 'm', messages: messages([]), temperature: 3 },
      'temperature',
      'decimal above maximum value',
    ],
    ['stream', { model: 'm', messages: messages([]), stream: true }, 'stream', "Unsupported value: 'stream'"],
    [
      'unknown parameter',
      { model: 'm', messages: messages([]), temprature: 1 },
      null,
      'Unrecognized request argument supplied: temprature',
    ],
    [
      'json_object without the word json',
      { model: 'm', messages: messages([]), response_format: { type: 'json_object' } },
      'messages',
      "'messages' must contain the word 'json'",
    ],
    [
      'json_schema without json_schema',
      { model: 'm', messages: messages([]), response_format: { type: 'json_schema' } },
      'response_format.json_schema',
      "Missing required parameter: 'response_format.json_schema'.",
    ],
    [
      'a strict schema with an open object',
      {
        model: 'm',
        messages: messages([]),
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'advice',
            strict: true,
            schema: { type: 'object', properties: { a: { type: 'string' } } },
          },
        },
      },
      'response_format',
      "Invalid schema for response_format 'advice': In context=(), 'additionalProperties' is required",
    ],
  ])('refuses %s with 400 on param %s', async (_label, body, param, message) => {
    const error = await failure(
      client().chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
    );

    expect(error).toBeInstanceOf(BadRequestError);
    const refused = error as BadRequestError;
    expect(refused.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(refused.message).toContain(message);
    expect(standIn.requests[0]?.answeredWith).toBe('invalid');
  });

  it('lists its models and answers 404 for unknown models and paths', async () => {
    const models = await client().models.list();
    const unknownModel = await failure(client().models.retrieve('gpt-4o'));
    const unknownPath = await rawPost('/v1/nothing', '{}');

    expect(models.data.map((model) => model.id)).toEqual(['sandbox-rules', 'sandbox-script']);
    expect(unknownModel).toBeInstanceOf(NotFoundError);
    expect((unknownModel as NotFoundError).error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.body.error).toMatchObject({ message: 'Invalid URL (POST /v1/nothing)' });
  });
});
