// The one place loopgate builds its Slack client, and the one place Slack's
// failures become loopgate's. Every call has a timeout and a few quick
// retries; a 429 is handed back at once (rejectRateLimitedCalls) so the caller
// decides whether its Retry-After fits the triage budget, instead of the client
// sleeping for as long as Slack asks.

import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from '@slack/web-api';
import { UpstreamError, type UpstreamFailure } from '../../core/errors';

export const SLACK_SERVICE = 'slack';

export interface SlackClientOptions {
  /** A user token (xoxp-…) for search, or a bot token (xoxb-…) for channel history. */
  token: string;
  /** Another base URL ending in `/api/` (the sandbox stand-in); Slack's when absent. */
  slackApiUrl?: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt on network errors, timeouts and 5xx (not on 429 or `ok:false`). */
  retries: number;
}

export function createSlackClient(options: SlackClientOptions): WebClient {
  if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  if (!(Number.isInteger(options.retries) && options.retries >= 0)) {
    throw new RangeError('retries must be a whole number, 0 or more');
  }
  return new WebClient(options.token, {
    ...(options.slackApiUrl === undefined ? {} : { slackApiUrl: options.slackApiUrl }),
    timeout: options.timeoutMs,
    // Short pauses: the default policy retries ten times over about thirty minutes.
    retryConfig: { retries: options.retries, factor: 2, minTimeout: 100, maxTimeout: 1_000, randomize: true },
    rejectRateLimitedCalls: true,
    // Failures come back as UpstreamError; the client's own warnings would only repeat them, unstructured.
    logLevel: LogLevel.ERROR,
  });
}

const UNAUTHORIZED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
]);
const FORBIDDEN = new Set([
  'missing_scope',
  'not_allowed_token_type',
  'no_permission',
  'not_in_channel',
  'access_denied',
  'ekm_access_denied',
  'team_access_not_granted',
]);
const UNAVAILABLE = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** What went wrong calling `method`, as loopgate reports it: Slack's error code, never the token. */
export function slackError(error: unknown, method: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const [failure, detail] = classify(error);
  return new UpstreamError(SLACK_SERVICE, failure, `${method} failed (${detail})`, { cause: error });
}

function classify(error: unknown): [UpstreamFailure, string] {
  if (error instanceof WebAPIPlatformError) {
    const code = typeof error.data.error === 'string' ? error.data.error : 'unknown_error';
    if (UNAUTHORIZED.has(code)) return ['unauthorized', code];
    if (FORBIDDEN.has(code)) {
      // missing_scope names the scope the token lacks: what an operator needs to fix it.
      const needed = (error.data as { needed?: unknown }).needed;
      return ['forbidden', typeof needed === 'string' ? `${code}, needs ${needed}` : code];
    }
    if (code === 'ratelimited') return ['rate-limited', code];
    if (UNAVAILABLE.has(code)) return ['unavailable', code];
    return ['bad-response', code];
  }
  if (error instanceof WebAPIRateLimitedError)
    return ['rate-limited', `429, retry after ${error.retryAfter} s`];
  if (error instanceof WebAPIHTTPError) {
    return [error.statusCode >= 500 ? 'unavailable' : 'bad-response', `HTTP ${error.statusCode}`];
  }
  if (error instanceof WebAPIRequestError) {
    // fetch aborted by the client's AbortSignal.timeout.
    const name = error.original.name;
    if (name === 'TimeoutError' || name === 'AbortError') return ['timeout', 'no answer in time'];
    return ['unavailable', `request failed: ${name}`];
  }
  return ['unavailable', error instanceof Error ? error.name : 'unknown error'];
}
