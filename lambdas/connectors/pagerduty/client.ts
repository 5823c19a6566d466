// A small client for PagerDuty's REST API v2 on @pagerduty/pdjs: one place that
// bounds every call in time, turns PagerDuty's answers into UpstreamErrors,
// checks the shape of what comes back, pages through classic offset lists and
// sends writes as the configured PagerDuty user (the `From` header).
// pdjs itself resolves non-2xx responses, cannot abort by its own timeout
// option, retries 429 after a fixed pause without reading `ratelimit-reset`
// and paginates only on `.com` hosts; this module works around each.

import { setTimeout as sleep } from 'node:timers/promises';
import { vendorBaseUrl } from '../base-url';
import { api } from '@pagerduty/pdjs';
import type { APIResponse } from '@pagerduty/pdjs/build/src/api';
import { z } from 'zod';
import { withDeadline } from '../../core/deadline';
import { ConfigurationError, failureOfHttpStatus, UpstreamError } from '../../core/errors';

export const PAGERDUTY = 'pagerduty';

const DEFAULT_BASE_URL = 'https://api.pagerduty.com';
/** pdjs retries a 429 three times after this pause; PagerDuty's own hint (ratelimit-reset) is ignored by pdjs. */
const DEFAULT_RATE_LIMIT_RETRY_MS = 500;
/** PagerDuty's largest page. */
const MAX_PAGE_SIZE = 100;
/** A list longer than this is not something loopgate asks for; a server that keeps saying `more` is broken. */
const MAX_PAGES = 20;
const MAX_MESSAGE_LENGTH = 200;

export type Query = Record<string, string | string[]>;

export interface PagerDutyClientOptions {
  /** A REST API key (`Token token=`) or, with tokenType `bearer`, an OAuth access token. */
  token: string;
  tokenType?: 'token' | 'bearer';
  /** Defaults to https://api.pagerduty.com; the sandbox passes its stand-in's URL. */
  baseUrl?: string;
  /** Each call, its 429 retries and any wait for the rate limit to reset included, is aborted after this long. */
  timeoutMs: number;
  /** The pause before each of pdjs's three 429 retries (pdjs's default is 20 s, longer than any triage budget). */
  rateLimitRetryMs?: number;
  /** Items asked for per page of a list, at most (and by default) PagerDuty's 100. */
  pageSize?: number;
  /**
   * The email of the PagerDuty user that writes are made as: PagerDuty requires it (the `From`
   * header) on POST and PUT. Only `post` and `put` need it, so a read-only client may leave it out.
   */
  from?: string;
}

export interface PagerDutyClient {
  /** GET a path and check the body against `schema`. */
  get<T>(path: string, query: Query, schema: z.ZodType<T>): Promise<T>;
  /** GET every page of a classic (offset/limit/more) list and return the items under `key`. */
  list<T>(path: string, key: string, query: Query, item: z.ZodType<T>): Promise<T[]>;
  /** POST a JSON body as the `from` user and check the answer against `schema`. */
  post<T>(path: string, body: object, schema: z.ZodType<T>): Promise<T>;
  /** PUT a JSON body as the `from` user and check the answer against `schema`. */
  put<T>(path: string, body: object, schema: z.ZodType<T>): Promise<T>;
}

/**
 * PagerDuty answered with an error status. Besides the failure every UpstreamError has, it keeps
 * the status, PagerDuty's error code and its list of what was wrong, for a caller that treats one
 * refusal (a 404, a 400 for a clash) differently from the rest.
 */
export class PagerDutyStatusError extends UpstreamError {
  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
    readonly errors: readonly string[],
    message: string,
  ) {
    super(PAGERDUTY, failureOfHttpStatus(status), message);
  }
}

export function createPagerDutyClient(options: PagerDutyClientOptions): PagerDutyClient {
  return new PdjsClient(options);
}

const errorBody = z.object({
  error: z.object({
    message: z.string().optional(),
    code: z.number().optional(),
    errors: z.array(z.string()).optional(),
  }),
});

type Method = 'GET' | 'POST' | 'PUT';

class PdjsClient implements PagerDutyClient {
  private readonly token: string;
  private readonly tokenType: 'token' | 'bearer';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly pageSize: number;
  private readonly from: string | undefined;

  constructor(options: PagerDutyClientOptions) {
    if (!options.token.trim()) throw new ConfigurationError('the PagerDuty API token is empty');
    if (!(options.timeoutMs > 0)) throw new ConfigurationError('the PagerDuty timeout must be positive');
    if (options.from !== undefined && !/^[^\s@]+@[^\s@]+$/.test(options.from.trim())) {
      throw new ConfigurationError(
        `the PagerDuty "from" option must be a user's email, got "${options.from}"`,
      );
    }
    this.token = options.token.trim();
    this.tokenType = options.tokenType ?? 'token';
    this.baseUrl = vendorBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, 'PagerDuty base URL');
    this.timeoutMs = options.timeoutMs;
    this.retryMs = options.rateLimitRetryMs ?? DEFAULT_RATE_LIMIT_RETRY_MS;
    this.pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? MAX_PAGE_SIZE)));
    this.from = options.from?.trim();
  }

  get<T>(path: string, query: Query, schema: z.ZodType<T>): Promise<T> {
    return this.call('GET', path, { query }, schema);
  }

  async list<T>(path: string, key: string, query: Query, item: z.ZodType<T>): Promise<T[]> {
    const page = z.object({ [key]: z.array(item), more: z.boolean() });
    const items: T[] = [];
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const offset = String(items.length);
      const body = await this.get(path, { ...query, limit: String(this.pageSize), offset }, page);
      const found = body[key] as T[];
      items.push(...found);
      if (!body.more) return items;
      // Offsets advance by what arrived, so a server that caps `limit` lower still pages correctly.
      if (found.length === 0) {
        throw new UpstreamError(PAGERDUTY, 'bad-response', `GET ${path} said there is more but sent nothing`);
      }
    }
    throw new UpstreamError(PAGERDUTY, 'bad-response', `GET ${path} did not end within ${MAX_PAGES} pages`);
  }

  post<T>(path: string, body: object, schema: z.ZodType<T>): Promise<T> {
    return this.call('POST', path, { body }, schema);
  }

  put<T>(path: string, body: object, schema: z.ZodType<T>): Promise<T> {
    return this.call('PUT', path, { body }, schema);
  }

  private async call<T>(
    method: Method,
    path: string,
    request: { query?: Query; body?: object },
    schema: z.ZodType<T>,
  ): Promise<T> {
    const operation = `${method} ${path}`;
    const response = await this.send(operation, method, path, request);
    const parsed = schema.safeParse(response.data);
    if (!parsed.success) {
      throw new UpstreamError(PAGERDUTY, 'bad-response', `${operation} answered an unexpected shape`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  private async send(
    operation: string,
    method: Method,
    path: string,
    request: { query?: Query; body?: object },
  ): Promise<APIResponse> {
    const headers: Record<string, string> = {};
    if (method !== 'GET') {
      if (this.from === undefined) {
        throw new ConfigurationError(
          `${operation} needs the PagerDuty client's "from" option: the email of the PagerDuty user loopgate writes as`,
        );
      }
      headers.From = this.from;
    }
    // pdjs's own timeout only starts a timer that does nothing. The signal ends a fetch in flight;
    // the deadline ends the call during pdjs's pause before a 429 retry too, which no signal interrupts.
    const startedAt = Date.now();
    const timedOut = () =>
      new UpstreamError(PAGERDUTY, 'timeout', `${operation} took longer than ${this.timeoutMs} ms`);
    let response: APIResponse;
    try {
      response = await withDeadline(this.timeoutMs, timedOut, async (signal) => {
        const attempt = () =>
          api({
            url: `${this.baseUrl}${path}`,
            method,
            token: this.token,
            tokenType: this.tokenType,
            headers,
            ...(request.query ? { queryParameters: request.query } : {}),
            ...(request.body ? { data: request.body } : {}),
            signal,
            retryTimeout: this.retryMs,
            // 0 turns off pdjs's idle timer, which would otherwise keep the process alive for 30 s.
            requestTimeout: 0,
          });
        const first = await attempt();
        // pdjs's retries are spent. When PagerDuty says its window resets before our deadline, one
        // more round after the reset is worth it; a 429 was not acted on, so a write may be resent.
        const resetMs = rateLimitResetMs(first);
        if (resetMs === undefined || Date.now() - startedAt + resetMs >= this.timeoutMs) return first;
        await sleep(resetMs, undefined, { signal });
        return attempt();
      });
    } catch (error) {
      throw error instanceof UpstreamError ? error : rejection(operation, error);
    }
    if (!response.ok) throw statusError(operation, response);
    return response;
  }
}

/** How long until PagerDuty's rate limit window resets, from the `ratelimit-reset` seconds of a 429. */
function rateLimitResetMs(response: APIResponse): number | undefined {
  if (response.status !== 429) return undefined;
  const seconds = Number(response.headers.get('ratelimit-reset') ?? Number.NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** An error answer: the status decides the failure; PagerDuty's message, errors and code help whoever reads the log. */
function statusError(operation: string, response: APIResponse): PagerDutyStatusError {
  const parsed = errorBody.safeParse(response.data);
  const error = parsed.success ? parsed.data.error : undefined;
  const errors = error?.errors ?? [];
  const text = [error?.message, ...errors].filter(Boolean).join(': ').slice(0, MAX_MESSAGE_LENGTH);
  const code = error?.code === undefined ? '' : ` (code ${error.code})`;
  const resetMs = rateLimitResetMs(response);
  const reset = resetMs === undefined ? '' : `; the rate limit resets in ${Math.ceil(resetMs / 1000)} s`;
  return new PagerDutyStatusError(
    response.status,
    error?.code,
    errors,
    `${operation} answered ${response.status}${text ? `: ${text}` : ''}${code}${reset}`,
  );
}

/** What pdjs rejects with: a fetch error (connection, abort), or the response when its body is not JSON. */
function rejection(operation: string, error: unknown): UpstreamError {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && !(error instanceof Error)) {
    const failure = status >= 200 && status < 300 ? 'bad-response' : failureOfHttpStatus(status);
    return new UpstreamError(
      PAGERDUTY,
      failure,
      `${operation} answered ${status} with a body that is not JSON`,
    );
  }
  // node-fetch's errors name the URL and the socket error, never the Authorization header.
  return new UpstreamError(PAGERDUTY, 'unavailable', `${operation} could not be reached`, { cause: error });
}
