// The Advisor on the `openai` SDK: structured outputs (`chat.completions.parse`
// with the zod schema), against OpenAI, Azure OpenAI, Amazon Bedrock's
// OpenAI-compatible endpoint (signed with the function's AWS credentials), or
// any OpenAI-compatible server (Ollama, vLLM) by base URL. Every failure becomes a ModelAnswer that
// says why, so a slow or broken model never holds up a page.

import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AzureOpenAI, OpenAI } from 'openai';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  ContentFilterFinishReasonError,
  LengthFinishReasonError,
  RateLimitError,
} from 'openai/core/error';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { PromptMessage } from '../../core/advice/prompt';
import { MODEL_OUTPUT_NAME, modelOutputSchema } from '../../core/advice/schema';
import { ConfigurationError } from '../../core/errors';
import type { Advisor, ModelAnswer, ModelFailure, TokenUsage } from '../../core/ports';
import { sigV4Fetch } from './sigv4-fetch';

export type ModelSettings = {
  /** The model id; on Azure, the deployment name; on Bedrock, the model id (openai.gpt-oss-120b-1:0). */
  model: string;
  /**
   * OpenAI's API unless set: an OpenAI-compatible server's `/v1` URL, the Azure resource endpoint, or
   * on Bedrock a stand-in's `/openai/v1` URL instead of the region's endpoint.
   */
  baseUrl?: string;
  /** Sent only when set: some reasoning models refuse any temperature. */
  temperature?: number;
  /** The answer's token limit. */
  maxOutputTokens: number;
  /** `max_completion_tokens` (OpenAI, vLLM) or the older `max_tokens` some compatible servers still expect. */
  tokenLimitParameter: 'max_completion_tokens' | 'max_tokens';
  /** The whole call, the SDK's retries and their waits included. */
  budgetMs: number;
  /** Retries of 408/409/429/5xx and connection errors inside the budget. */
  maxRetries: number;
} & (
  | { provider: 'openai'; apiKey: string }
  /** Azure: the API version, e.g. 2024-10-21. */
  | { provider: 'azure'; apiKey: string; apiVersion: string }
  /** Bedrock: no key; each request is signed (SigV4) with the function's AWS credentials for the region. */
  | { provider: 'bedrock'; region: string }
);

/** Bedrock's OpenAI-compatible Chat Completions base URL in a region (the SDK adds `/chat/completions`). */
export const bedrockBaseUrl = (region: string) => `https://bedrock-runtime.${region}.amazonaws.com/openai/v1`;

/** A placeholder the SDK insists on; the signing fetch removes the header it goes in. */
const NO_KEY = 'sigv4-signed';

const responseFormat = zodResponseFormat(modelOutputSchema, MODEL_OUTPUT_NAME);

export class OpenAiAdvisor implements Advisor {
  readonly model: string;
  private readonly client: OpenAI;

  /**
   * `awsCredentials` (Bedrock only): the sandbox's keys; on AWS the default chain, which in Lambda
   * reads the function role's credentials from the environment and refreshes them.
   */
  constructor(
    private readonly settings: ModelSettings,
    aws: { credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider } = {},
  ) {
    this.model = settings.model;
    const limits = { timeout: settings.budgetMs, maxRetries: settings.maxRetries };
    if (settings.provider === 'bedrock') {
      if (!settings.region.trim()) throw new ConfigurationError('Bedrock needs a region');
      this.client = new OpenAI({
        ...limits,
        apiKey: NO_KEY,
        baseURL: settings.baseUrl ?? bedrockBaseUrl(settings.region),
        fetch: sigV4Fetch({ region: settings.region, credentials: aws.credentials ?? defaultProvider() }),
      });
      return;
    }
    if (!settings.apiKey.trim()) throw new ConfigurationError('the model API key is empty');
    const common = { apiKey: settings.apiKey, ...limits };
    if (settings.provider === 'azure') {
      if (!settings.baseUrl || !settings.apiVersion) {
        throw new ConfigurationError(
          'Azure OpenAI needs the resource endpoint (base URL) and an API version',
        );
      }
      this.client = new AzureOpenAI({
        ...common,
        endpoint: settings.baseUrl,
        apiVersion: settings.apiVersion,
        deployment: settings.model,
      });
    } else {
      this.client = new OpenAI({ ...common, ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}) });
    }
  }

  async advise(messages: readonly PromptMessage[]): Promise<ModelAnswer> {
    const { settings } = this;
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    // The SDK's timeout is per attempt and its wait before a retry (retry-after) cannot be
    // interrupted; the abort ends a request in flight and the race ends the wait.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), settings.budgetMs);
    const deadline = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new BudgetExceeded()), { once: true });
    });
    try {
      const call = this.client.chat.completions.parse(
        {
          model: settings.model,
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          response_format: responseFormat,
          [settings.tokenLimitParameter]: settings.maxOutputTokens,
          ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
        },
        { signal: controller.signal },
      );
      call.catch(() => undefined); // the race may settle first; the call's own rejection is handled there
      const completion = await Promise.race([call, deadline]);
      const model = completion.model || settings.model;
      const usage = tokenUsage(completion.usage);
      const latencyMs = elapsed();
      const message = completion.choices[0]?.message;
      const common = { model, latencyMs, ...(usage ? { usage } : {}) };
      if (!message)
        return { ...common, ok: false, failure: 'invalid-output', detail: 'the answer had no choices' };
      if (message.refusal) return { ...common, ok: false, failure: 'refused', detail: message.refusal };
      if (!message.parsed)
        return { ...common, ok: false, failure: 'invalid-output', detail: 'the answer was empty' };
      return { ...common, ok: true, output: message.parsed };
    } catch (error) {
      return {
        model: settings.model,
        latencyMs: elapsed(),
        ok: false,
        ...failureOf(error, settings.budgetMs),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

class BudgetExceeded extends Error {}

function tokenUsage(usage: OpenAI.CompletionUsage | undefined): TokenUsage | undefined {
  return usage
    ? { prompt: usage.prompt_tokens, completion: usage.completion_tokens, total: usage.total_tokens }
    : undefined;
}

/** What went wrong, in words safe for the audit trail (the SDK's messages never carry the key). */
function failureOf(error: unknown, budgetMs: number): { failure: ModelFailure; detail: string } {
  if (
    error instanceof BudgetExceeded ||
    error instanceof APIUserAbortError ||
    error instanceof APIConnectionTimeoutError
  ) {
    return { failure: 'timeout', detail: `no answer within ${budgetMs / 1000} s` };
  }
  if (error instanceof LengthFinishReasonError) return { failure: 'length', detail: 'finish_reason length' };
  if (error instanceof ContentFilterFinishReasonError) {
    return { failure: 'content-filter', detail: 'finish_reason content_filter' };
  }
  if (error instanceof RateLimitError) return { failure: 'rate-limited', detail: 'HTTP 429 after retries' };
  if (error instanceof APIConnectionError) return { failure: 'unavailable', detail: 'could not connect' };
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    return status >= 500 || status === 408 || status === 409
      ? { failure: 'unavailable', detail: `HTTP ${status} after retries` }
      : { failure: 'rejected', detail: `HTTP ${status}${error.code ? ` ${error.code}` : ''}` };
  }
  // JSON that does not parse, or that the schema rejects: the message names the field, not the data.
  const name = error instanceof Error ? error.name : 'unknown error';
  return {
    failure: 'invalid-output',
    detail: name === 'SyntaxError' ? 'not JSON' : `${name}: does not match the schema`,
  };
}
