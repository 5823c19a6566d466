// OpenAI's error responses: the `{error:{message,type,param,code}}` body, the
// `x-request-id` header every response carries, and the rate-limit headers of a
// 429, so clients see exactly what api.openai.com would send.

import { randomBytes } from 'node:crypto';
import { json, type StandInResponse } from '../http/stand-in';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface RateLimitOptions {
  /** Seconds the client should wait; sent as `retry-after`. */
  retryAfterSeconds?: number;
  /** Milliseconds the client should wait; sent as `retry-after-ms`, which the openai SDKs prefer. */
  retryAfterMs?: number;
}

/** Requests per minute the stand-in advertises in `x-ratelimit-*`; nothing is actually counted. */
export const REQUESTS_PER_MINUTE = 500;
export const TOKENS_PER_MINUTE = 200_000;

export function requestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

export function openAiError(
  status: number,
  message: string,
  fields: { type?: string; param?: string | null; code?: string | null } = {},
  headers: Record<string, string> = {},
): StandInResponse {
  const body: OpenAiErrorBody = {
    error: {
      message,
      type: fields.type ?? 'invalid_request_error',
      param: fields.param ?? null,
      code: fields.code ?? null,
    },
  };
  return json(status, body, { 'x-request-id': requestId(), ...headers });
}

/** A 400 `invalid_request_error`, the answer to every request the API cannot accept. */
export function invalidRequest(message: string, param: string | null, code: string | null): StandInResponse {
  return openAiError(400, message, { param, code });
}

/** Formats a wait the way OpenAI's `x-ratelimit-reset-*` headers do: `120ms`, `1s`, `6m0s`. */
export function resetDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const totalSeconds = Math.ceil(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** The `x-ratelimit-*` headers OpenAI sends with every chat completion. */
export function rateLimitHeaders(remainingRequests: number, resetMs: number): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(REQUESTS_PER_MINUTE),
    'x-ratelimit-limit-tokens': String(TOKENS_PER_MINUTE),
    'x-ratelimit-remaining-requests': String(remainingRequests),
    'x-ratelimit-remaining-tokens': String(remainingRequests > 0 ? TOKENS_PER_MINUTE : 0),
    'x-ratelimit-reset-requests': resetDuration(resetMs),
    'x-ratelimit-reset-tokens': resetDuration(resetMs),
  };
}

/** 429 `rate_limit_exceeded` with `retry-after` (and `retry-after-ms` when asked) and exhausted `x-ratelimit-*`. */
export function rateLimited(model: string, options: RateLimitOptions = {}): StandInResponse {
  const waitMs = options.retryAfterMs ?? (options.retryAfterSeconds ?? 1) * 1000;
  const headers: Record<string, string> = {
    ...rateLimitHeaders(0, waitMs),
    'retry-after': String(options.retryAfterSeconds ?? Math.ceil(waitMs / 1000)),
  };
  if (options.retryAfterMs !== undefined) headers['retry-after-ms'] = String(options.retryAfterMs);
  const wait = waitMs < 1000 ? `${Math.round(waitMs)}ms` : `${Math.ceil(waitMs / 1000)}s`;
  return openAiError(
    429,
    `Rate limit reached for ${model} in organization org-sandbox on requests per min (RPM): ` +
      `Limit ${REQUESTS_PER_MINUTE}, Used ${REQUESTS_PER_MINUTE}, Requested 1. Please try again in ${wait}. ` +
      'Visit https://platform.openai.com/account/rate-limits to learn more.',
    { type: 'requests', code: 'rate_limit_exceeded' },
    headers,
  );
}

/** The body OpenAI sends for an HTTP error of this status (429 handled by `rateLimited`). */
export function errorForStatus(
  status: number,
  override: { message?: string; type?: string; code?: string | null; param?: string | null } = {},
): StandInResponse {
  const defaults = DEFAULT_ERRORS[status] ?? {
    message: `The server returned status ${status}.`,
    type: status >= 500 ? 'server_error' : 'invalid_request_error',
    code: null,
  };
  return openAiError(status, override.message ?? defaults.message, {
    type: override.type ?? defaults.type,
    code: override.code !== undefined ? override.code : defaults.code,
    param: override.param ?? null,
  });
}

const DEFAULT_ERRORS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: 'Bad request.', type: 'invalid_request_error', code: null },
  401: {
    message:
      'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  },
  403: {
    message: 'You are not allowed to sample from this model',
    type: 'invalid_request_error',
    code: 'unsupported_country_region_territory',
  },
  404: {
    message: 'The model does not exist or you do not have access to it.',
    type: 'invalid_request_error',
    code: 'model_not_found',
  },
  408: { message: 'Request timed out.', type: 'timeout', code: null },
  409: { message: 'Conflict.', type: 'invalid_request_error', code: null },
  500: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    code: null,
  },
  502: { message: 'Bad gateway.', type: 'server_error', code: null },
  503: { message: 'The server is overloaded or not ready yet.', type: 'server_error', code: null },
  504: { message: 'Gateway timeout.', type: 'server_error', code: null },
};
