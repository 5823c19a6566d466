// A small client for PagerDuty's REST API v2 on @pagerduty/pdjs: one place that
// bounds every call in time, turns PagerDuty's answers into UpstreamErrors,
// checks the shape of what comes back and pages through classic offset lists.
// pdjs itself resolves non-2xx responses, cannot abort by its own timeout
// option, retries 429 after 20 s by default and paginates only on `.com`
// hosts; this module works around each.

import { vendorBaseUrl } from '../base-url';
import { api } from '@pagerduty/pdjs';
import type { APIResponse } from '@pagerduty/pdjs/build/src/api';
import { z } from 'zod';
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
  /** Each call, its 429 retries included, is aborted after this long. */
  timeoutMs: number;
  /** The pause before each of pdjs's three 429 retries (pdjs's default is 20 s, longer than any triage budget). */
  rateLimitRetryMs?: number;
  /** Items asked for per page of a list, at most (and by default) PagerDuty's 100. */
  pageSize?: number;
}

export interface PagerDutyClient {
  /** GET a path and check the body against `schema`. */
  get<T>(path: string, query: Query, schema: z.ZodType<T>): Promise<T>;
  /** GET every page of a classic (offset/limit/more) list and return the items under `key`. */
  list<T>(path: string, key: string, query: Query, item: z.ZodType<T>): Promise<T[]>;
}

export function createPagerDutyClient(options: PagerDutyClientOptions): PagerDutyClient {
  return new PdjsClient(options);
}

const errorBody = z.object({
  error: z.object({ message: z.string().optional(), code: z.number().optional() }),
});

class PdjsClient implements PagerDutyClient {
  private readonly token: string;
  private readonly tokenType: 'token' | 'bearer';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly pageSize: number;

  constructor(options: PagerDutyClientOptions) {
    if (!options.token.trim()) throw new ConfigurationError('the PagerDuty API token is empty');
    if (!(options.timeoutMs > 0)) throw new ConfigurationError('the PagerDuty timeout must be positive');
    this.token = options.token.trim();
    this.tokenType = options.tokenType ?? 'token';
    this.baseUrl = vendorBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL, 'PagerDuty base URL');
    this.timeoutMs = options.timeoutMs;
    this.retryMs = options.rateLimitRetryMs ?? DEFAULT_RATE_LIMIT_RETRY_MS;
    this.pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? MAX_PAGE_SIZE)));
  }

  async get<T>(path: string, query: Query, schema: z.ZodType<T>): Promise<T> {
    const operation = `GET ${path}`;
    const response = await this.send(operation, path, query);
    const parsed = schema.safeParse(response.data);
    if (!parsed.success) {
      throw new UpstreamError(PAGERDUTY, 'bad-response', `${operation} answered an unexpected shape`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
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

  private async send(operation: string, path: string, query: Query): Promise<APIResponse> {
    // pdjs's own timeout only starts a timer that does nothing. The AbortSignal ends a fetch in flight;
    // the race ends the call during pdjs's pause before a 429 retry too, which no signal interrupts.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const deadline = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new Error('deadline')), { once: true });
    });
    let response: APIResponse;
    try {
      const call = api({
        url: `${this.baseUrl}${path}`,
        method: 'GET',
        token: this.token,
        tokenType: this.tokenType,
        queryParameters: query,
        signal: controller.signal,
        retryTimeout: this.retryMs,
        // 0 turns off pdjs's idle timer, which would otherwise keep the process alive for 30 s.
        requestTimeout: 0,
      });
      response = await Promise.race([call, deadline]);
    } catch (error) {
      throw rejection(operation, error, controller.signal.aborted, this.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw statusError(operation, response.status, response.data);
    return response;
  }
}

/** An error answer: the status decides the failure; PagerDuty's message and code help whoever reads the log. */
function statusError(operation: string, status: number, body: unknown): UpstreamError {
  const parsed = errorBody.safeParse(body);
  const message = parsed.success ? parsed.data.error.message?.slice(0, MAX_MESSAGE_LENGTH) : undefined;
  const code = parsed.success ? parsed.data.error.code : undefined;
  const detail = `${message ? `: ${message}` : ''}${code === undefined ? '' : ` (code ${code})`}`;
  return new UpstreamError(
    PAGERDUTY,
    failureOfHttpStatus(status),
    `${operation} answered ${status}${detail}`,
  );
}

/** What pdjs rejects with: a fetch error (connection, abort), or the response when its body is not JSON. */
function rejection(operation: string, error: unknown, aborted: boolean, timeoutMs: number): UpstreamError {
  if (aborted) {
    return new UpstreamError(PAGERDUTY, 'timeout', `${operation} took longer than ${timeoutMs} ms`);
  }
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
