// The OpenAI stand-in: an OpenAI-compatible chat completions server on
// loopback. Tests queue scripted replies (a JSON body, broken content, a
// refusal, a cut or filtered answer, an HTTP error, a slow answer) to exercise
// every failure mode through the real `openai` SDK; with nothing scripted it
// answers with the rules responder (model `sandbox-rules`, see rules.ts), so the
// whole pipeline runs without a model account.
//
// Any model name is accepted: loopgate is configured with a real model id and
// the stand-in answers for it, naming itself in the response's `model` field.
// Azure OpenAI's path is served too: `/openai/deployments/<deployment>/chat/completions`
// with a required `api-version` query parameter, the key in an `api-key` header,
// and Azure's structured-output restrictions (a schema with `minimum`, `maximum`
// or `multipleOf` is refused with a 400, as Azure lists them unsupported).
// Amazon Bedrock's OpenAI-compatible path is served as well: `/openai/v1/chat/completions`
// signed with AWS Signature Version 4 for the service `bedrock` and the stand-in's region
// (verified as the IAM stand-in verifies its requests), refused with Bedrock's
// `x-amzn-ErrorType` errors, and only for the models the credentials may invoke when a list
// is given (AccessDeniedException, as IAM's bedrock:InvokeModel on a model ARN would).
// Bedrock's own structured-output limits are not reproduced: not documented for this path.
// Not reproduced: streaming (refused with OpenAI's `unsupported_value` 400),
// tool calls (tools are accepted and never called), logprobs, audio and images.

import type { Clock } from '../../lambdas/core/ports';
import { IamError } from '../iam/errors';
import { parseAuthorization, signedRequestOf, verifySignature } from '../iam/sigv4';
import { HttpStandIn, json, jsonBody, type StandInRequest, type StandInResponse } from '../http/stand-in';
import {
  errorForStatus,
  openAiError,
  rateLimited,
  rateLimitHeaders,
  REQUESTS_PER_MINUTE,
  requestId,
} from './errors';
import { generateFromSchema } from './json-schema';
import {
  ADVICE_ALIASES,
  adviceText,
  analysePrompt,
  contentText,
  RECOMMENDATION_SYNONYMS,
  recommend,
  RULES_MODEL,
  userText,
} from './rules';
import { SCRIPT_MODEL, type ScriptedReply } from './script';
import { validateChatRequest, type ChatMessage, type ChatRequest } from './validate';

export interface OpenAiStandInOptions {
  clock: Clock;
  /** Keys accepted as `Authorization: Bearer <key>`. */
  apiKeys: string[];
  /** The wait a 429 asks for when none is given (injected faults, scripted 429s without one); default 1000 ms. */
  rateLimitRetryAfterMs?: number;
  /** Bedrock's path: AWS keys that may sign, the region, and (when given) the only models they may invoke. */
  bedrock?: BedrockOptions;
}

export interface BedrockOptions {
  credentials: { accessKeyId: string; secretAccessKey: string }[];
  /** Default us-east-1. */
  region?: string;
  models?: string[];
}

/** Bedrock's OpenAI-compatible Chat Completions path on bedrock-runtime. */
export const BEDROCK_CHAT_PATH = '/openai/v1/chat/completions';

export interface ReceivedRequest {
  at: string;
  model: string | undefined;
  messages: unknown;
  response_format: unknown;
  /** The whole request body as sent. */
  body: unknown;
  /** `rules`, `script:<kind>`, or `invalid` when the request was refused with a 400. */
  answeredWith: string;
  /** The status answered; null while a scripted delay holds the request. */
  status: number | null;
}

interface Choice {
  content: string | null;
  refusal: string | null;
  finishReason: 'stop' | 'length' | 'content_filter';
}

const OPENAI_VERSION = '2020-10-01';
const SYSTEM_FINGERPRINT = 'fp_sandbox';

export class OpenAiStandIn extends HttpStandIn {
  private readonly clock: Clock;
  private readonly apiKeys: ReadonlySet<string>;
  private readonly rateLimitRetryAfterMs: number;
  private readonly queue: ScriptedReply[] = [];
  private readonly received: ReceivedRequest[] = [];
  private readonly delays = new Set<{ timer: NodeJS.Timeout; release: () => void }>();
  private readonly createdAt: number;
  private readonly bedrock: { secrets: Map<string, string>; region: string; models?: ReadonlySet<string> };

  constructor(options: OpenAiStandInOptions) {
    super('openai', options.clock);
    this.clock = options.clock;
    this.apiKeys = new Set(options.apiKeys);
    this.rateLimitRetryAfterMs = options.rateLimitRetryAfterMs ?? 1000;
    this.createdAt = epochSeconds(options.clock.now());
    this.bedrock = {
      secrets: new Map((options.bedrock?.credentials ?? []).map((c) => [c.accessKeyId, c.secretAccessKey])),
      region: options.bedrock?.region ?? 'us-east-1',
      ...(options.bedrock?.models ? { models: new Set(options.bedrock.models) } : {}),
    };
    this.route('POST', BEDROCK_CHAT_PATH, (request) => this.bedrockChatCompletion(request));
    this.route('POST', '/v1/chat/completions', (request) => this.chatCompletion(request));
    this.route('POST', '/openai/deployments/:deployment/chat/completions', (request) =>
      this.azureChatCompletion(request),
    );
    this.route('GET', '/v1/models', () => this.ok({ object: 'list', data: this.models() }));
    this.route('GET', '/v1/models/:model', (request) => this.model(request.params.model ?? ''));
  }

  /** Queues replies, one consumed per chat completion request, in order. */
  script(...replies: ScriptedReply[]): void {
    this.queue.push(...replies.map((reply) => structuredClone(reply)));
  }

  clearScript(): void {
    this.queue.length = 0;
  }

  /** Chat completion requests received, oldest first (injected faults are answered before and are only in `calls`). */
  get requests(): readonly ReceivedRequest[] {
    return this.received;
  }

  /** Forgets the script, the received requests, the faults and the call log. */
  reset(): void {
    this.clearScript();
    this.received.length = 0;
    this.calls.length = 0;
    this.faults.clear();
  }

  state() {
    return {
      models: this.models().map((model) => model.id),
      requests: this.received.map((request) => ({ ...request })),
      script: this.queue.map((reply) => ({ ...reply })),
      faults: this.faults.list(),
    };
  }

  override async stop(): Promise<void> {
    // Answer held requests now so nothing keeps the process alive after the server is gone.
    for (const delay of this.delays) {
      clearTimeout(delay.timer);
      delay.release();
    }
    this.delays.clear();
    await super.stop();
  }

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    if (request.path === BEDROCK_CHAT_PATH) return this.authenticateBedrock(request);
    if (request.path.startsWith('/openai/')) {
      // Azure: the key in `api-key`, refused with Azure's own 401 body.
      const key = request.headers['api-key'];
      if (typeof key === 'string' && this.apiKeys.has(key.trim())) return undefined;
      return json(401, {
        error: {
          code: '401',
          message:
            'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
        },
      });
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S.*)$/i.exec(header.trim()) : null;
    const key = match?.[1]?.trim();
    if (!key) {
      return openAiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer " +
          'auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (i.e. Authorization: Basic ...) ' +
          'in your HTTP request. You can obtain an API key from https://platform.openai.com/account/api-keys.',
      );
    }
    if (this.apiKeys.has(key)) return undefined;
    return openAiError(
      401,
      `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      { code: 'invalid_api_key' },
    );
  }

  protected faultResponse(status: number, request: StandInRequest): StandInResponse {
    if (status === 429) return rateLimited(requestedModel(request), this.defaultWait());
    return errorForStatus(status);
  }

  protected routeNotFound(request: StandInRequest): StandInResponse {
    return openAiError(404, `Invalid URL (${request.method} ${request.path})`);
  }

  protected malformedBody(_message: string, _request: StandInRequest): StandInResponse {
    return openAiError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP " +
        'library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you ' +
        'have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)',
    );
  }

  /** Bedrock: a SigV4 signature for `bedrock` in this region from a known key, else Bedrock's 403. */
  private authenticateBedrock(request: StandInRequest): StandInResponse | undefined {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('AWS4-')) {
      return bedrockError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    try {
      const auth = parseAuthorization(header);
      const secret = this.bedrock.secrets.get(auth.accessKeyId);
      if (secret === undefined) {
        return bedrockError(
          403,
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      }
      if (auth.region !== this.bedrock.region) {
        return bedrockError(
          403,
          'InvalidSignatureException',
          `Credential should be scoped to a valid region. `,
        );
      }
      verifySignature(signedRequestOf(request), auth, secret, 'bedrock');
      return undefined;
    } catch (error) {
      if (!(error instanceof IamError)) throw error;
      const type = error.code === 'SignatureDoesNotMatch' ? 'InvalidSignatureException' : error.code;
      return bedrockError(error.status, type, error.message);
    }
  }

  /** Bedrock: the model must be one the credentials may invoke (IAM's bedrock:InvokeModel on its ARN). */
  private async bedrockChatCompletion(request: StandInRequest): Promise<StandInResponse> {
    const body = jsonBody(request);
    const model =
      typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string'
        ? (body as { model: string }).model
        : undefined;
    if (model !== undefined && this.bedrock.models && !this.bedrock.models.has(model)) {
      this.record(body, 'invalid').status = 403;
      return bedrockError(
        403,
        'AccessDeniedException',
        `User is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:${this.bedrock.region}::foundation-model/${model} because no identity-based policy allows the bedrock:InvokeModel action`,
      );
    }
    return this.chatCompletion(request);
  }

  /** Azure OpenAI: the deployment in the path, an api-version, and a schema without the keywords Azure rejects. */
  private async azureChatCompletion(request: StandInRequest): Promise<StandInResponse> {
    if (!request.query.get('api-version')) {
      return json(404, { error: { code: '404', message: 'Resource not found' } });
    }
    const body = jsonBody(request);
    const keyword = unsupportedAzureKeyword(
      typeof body === 'object' && body !== null
        ? (body as { response_format?: unknown }).response_format
        : undefined,
    );
    if (keyword) {
      this.record(body, 'invalid').status = 400;
      return openAiError(
        400,
        `Invalid schema for response_format: '${keyword}' is not supported in structured outputs on this model.`,
        { param: 'response_format', code: 'invalid_json_schema' },
      );
    }
    return this.chatCompletion(request);
  }

  private async chatCompletion(request: StandInRequest): Promise<StandInResponse> {
    const started = Date.now();
    const body = jsonBody(request);
    const validation = validateChatRequest(body);
    if (!validation.ok) {
      this.record(body, 'invalid').status = validation.response.status;
      return validation.response;
    }
    const chat = validation.request;
    const reply: ScriptedReply = this.queue.shift() ?? { kind: 'rules' };
    // Recorded on arrival, so a request still held by a delay is visible; a reset() meanwhile orphans the entry.
    const entry = this.record(body, reply.kind === 'rules' ? 'rules' : `script:${reply.kind}`);
    if (reply.delayMs) await this.hold(reply.delayMs);

    const response = this.answer(chat, reply, started);
    entry.status = response.status;
    return response;
  }

  private answer(chat: ChatRequest, reply: ScriptedReply, started: number): StandInResponse {
    const model = reply.model ?? (reply.kind === 'rules' ? RULES_MODEL : SCRIPT_MODEL);
    switch (reply.kind) {
      case 'rules':
        return this.completion(chat, model, this.rulesChoice(chat), started);
      case 'json':
        return this.completion(chat, model, stop(JSON.stringify(reply.body)), started);
      case 'content':
        return this.completion(chat, model, stop(reply.content), started);
      case 'refusal':
        return this.completion(
          chat,
          model,
          { content: null, refusal: reply.refusal, finishReason: 'stop' },
          started,
        );
      case 'length': {
        const full = this.rulesChoice(chat).content ?? '';
        const content = reply.content ?? full.slice(0, Math.floor(full.length / 2));
        return this.completion(chat, model, { content, refusal: null, finishReason: 'length' }, started);
      }
      case 'content-filter':
        return this.completion(
          chat,
          model,
          { content: reply.content ?? null, refusal: null, finishReason: 'content_filter' },
          started,
        );
      case 'error':
        if (reply.status === 429) {
          const wait =
            reply.retryAfterMs !== undefined || reply.retryAfterSeconds !== undefined
              ? { retryAfterMs: reply.retryAfterMs, retryAfterSeconds: reply.retryAfterSeconds }
              : this.defaultWait();
          const limited = rateLimited(chat.model, stripUndefined(wait));
          return reply.message === undefined ? limited : withMessage(limited, reply.message);
        }
        return this.withRetryAfter(errorForStatus(reply.status, stripUndefined(reply)), reply);
    }
  }

  /** The rules responder's answer, shaped by the request's response_format. */
  private rulesChoice(chat: ChatRequest): Choice {
    const advice = recommend(analysePrompt(userText(chat.messages)));
    const format = chat.responseFormat;
    if (format.type === 'text') return stop(adviceText(advice));
    if (format.type === 'json_schema' && format.schema) {
      const value = generateFromSchema(format.schema, advice, {
        now: this.clock.now(),
        aliases: ADVICE_ALIASES,
        enumSynonyms: RECOMMENDATION_SYNONYMS,
      });
      return stop(JSON.stringify(value));
    }
    return stop(JSON.stringify(advice));
  }

  private completion(chat: ChatRequest, model: string, choice: Choice, started: number): StandInResponse {
    const fitted = cutToLimit(choice, chat.maxTokens);
    const completionTokens = estimateTokens(fitted.content ?? fitted.refusal ?? '') * chat.n;
    const promptTokens = estimatePromptTokens(chat.messages);
    const body = {
      id: `chatcmpl-${requestId().slice(4, 33)}`,
      object: 'chat.completion',
      created: epochSeconds(this.clock.now()),
      model,
      choices: Array.from({ length: chat.n }, (_, index) => ({
        index,
        message: { role: 'assistant', content: fitted.content, refusal: fitted.refusal, annotations: [] },
        logprobs: null,
        finish_reason: fitted.finishReason,
      })),
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 0,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
    };
    return this.ok(body, {
      'openai-processing-ms': String(Date.now() - started),
      ...rateLimitHeaders(REQUESTS_PER_MINUTE - 1, 120),
    });
  }

  private ok(body: unknown, headers: Record<string, string> = {}): StandInResponse {
    return json(200, body, { 'x-request-id': requestId(), 'openai-version': OPENAI_VERSION, ...headers });
  }

  private models() {
    return [RULES_MODEL, SCRIPT_MODEL].map((id) => ({
      id,
      object: 'model',
      created: this.createdAt,
      owned_by: 'loopgate-sandbox',
    }));
  }

  private model(id: string): StandInResponse {
    const found = this.models().find((model) => model.id === id);
    if (found) return this.ok(found);
    return openAiError(404, `The model \`${id}\` does not exist or you do not have access to it.`, {
      param: 'model',
      code: 'model_not_found',
    });
  }

  private defaultWait(): { retryAfterMs?: number; retryAfterSeconds?: number } {
    const ms = this.rateLimitRetryAfterMs;
    return ms % 1000 === 0 ? { retryAfterSeconds: ms / 1000 } : { retryAfterMs: ms };
  }

  private withRetryAfter(
    response: StandInResponse,
    reply: { retryAfterSeconds?: number; retryAfterMs?: number },
  ) {
    const headers = { ...response.headers };
    if (reply.retryAfterMs !== undefined) {
      headers['retry-after-ms'] = String(reply.retryAfterMs);
      headers['retry-after'] = String(reply.retryAfterSeconds ?? Math.ceil(reply.retryAfterMs / 1000));
    } else if (reply.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(reply.retryAfterSeconds);
    }
    return { ...response, headers };
  }

  private hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const delay = {
        timer: setTimeout(() => {
          this.delays.delete(delay);
          resolve();
        }, ms),
        release: resolve,
      };
      this.delays.add(delay);
    });
  }

  private record(body: unknown, answeredWith: string): ReceivedRequest {
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const entry: ReceivedRequest = {
      at: this.clock.now().toISOString(),
      model: typeof fields.model === 'string' ? fields.model : undefined,
      messages: fields.messages,
      response_format: fields.response_format,
      body,
      answeredWith,
      status: null,
    };
    this.received.push(entry);
    return entry;
  }
}

function stop(content: string): Choice {
  return { content, refusal: null, finishReason: 'stop' };
}

/** Cuts content that would exceed the request's token limit, as the API does, finishing with `length`. */
function cutToLimit(choice: Choice, maxTokens: number | undefined): Choice {
  if (maxTokens === undefined || choice.content === null || choice.finishReason !== 'stop') return choice;
  if (estimateTokens(choice.content) <= maxTokens) return choice;
  return { ...choice, content: choice.content.slice(0, maxTokens * CHARS_PER_TOKEN), finishReason: 'length' };
}

// Token counts are estimates, not a tokenizer's: about 4 characters per token
// (OpenAI's rule of thumb for English), plus the few tokens each message costs
// for its role and separators. Deterministic, so tests can rely on them.
const CHARS_PER_TOKEN = 4;
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PRIMING_REPLY = 3;

function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function estimatePromptTokens(messages: ChatMessage[]): number {
  return (
    messages.reduce(
      (sum, message) => sum + TOKENS_PER_MESSAGE + estimateTokens(contentText(message.content)),
      0,
    ) + TOKENS_PRIMING_REPLY
  );
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** OpenAI's masking of a wrong key in its 401 message: the first 8 and last 4 characters. */
function maskKey(key: string): string {
  if (key.length <= 12) return '*'.repeat(key.length);
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`;
}

function requestedModel(request: StandInRequest): string {
  try {
    const body = JSON.parse(request.rawBody.toString('utf8')) as unknown;
    if (typeof body === 'object' && body !== null && 'model' in body && typeof body.model === 'string') {
      return body.model;
    }
  } catch {
    // A fault is answered whatever the body; the message then names no particular model.
  }
  return 'this model';
}

function withMessage(response: StandInResponse, message: string): StandInResponse {
  const body = response.body as { error: Record<string, unknown> };
  return { ...response, body: { error: { ...body.error, message } } };
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** Bedrock's REST-JSON error: `{"message"}` and the type in `x-amzn-ErrorType`. */
function bedrockError(status: number, type: string, message: string): StandInResponse {
  return json(status, { message }, { 'x-amzn-errortype': type, 'x-amzn-requestid': requestId().slice(4) });
}

/** Azure OpenAI's structured outputs do not support these keywords (numeric bounds). */
const AZURE_UNSUPPORTED = ['minimum', 'maximum', 'multipleOf', 'exclusiveMinimum', 'exclusiveMaximum'];

/** The first keyword of a `json_schema` response format that Azure would refuse, if any. */
export function unsupportedAzureKeyword(responseFormat: unknown): string | undefined {
  const visit = (node: unknown): string | undefined => {
    if (Array.isArray(node)) {
      for (const item of node) {
        const found = visit(item);
        if (found) return found;
      }
      return undefined;
    }
    if (typeof node !== 'object' || node === null) return undefined;
    for (const [key, value] of Object.entries(node)) {
      // A property may be named `minimum`; only keywords of a schema count.
      if (AZURE_UNSUPPORTED.includes(key) && typeof value === 'number') return key;
      const found = visit(value);
      if (found) return found;
    }
    return undefined;
  };
  const format = responseFormat as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  return format?.type === 'json_schema' ? visit(format.json_schema?.schema) : undefined;
}
