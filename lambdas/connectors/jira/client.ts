// The Jira Cloud client: jira.js's cloud platform client, and one way to run a
// call under a deadline and turn Jira's failures into UpstreamErrors.
//
// jira.js 6 talks through the runtime's fetch and takes no signal, redirect or
// size option: the deadline here bounds how long loopgate waits, and fetch drops
// the Authorization header on a redirect to another origin (Fetch standard, 4.4).

import { vendorBaseUrl } from '../base-url';
import {
  createCloudClient,
  isApiError,
  isNetworkError,
  isNotFoundError,
  isSchemaMismatchError,
} from 'jira.js';
import type { CloudClient } from 'jira.js';
import { withDeadline } from '../../core/deadline';
import { ConfigurationError, failureOfHttpStatus, UpstreamError } from '../../core/errors';

export const JIRA = 'jira';

const MAX_MESSAGE_LENGTH = 200;

export interface JiraClientOptions {
  /** The site, e.g. `https://example.atlassian.net` (the sandbox passes its stand-in's URL). */
  host: string;
  /** The account the API token belongs to. */
  email: string;
  apiToken: string;
  /** Each call is given up after this long. */
  timeoutMs: number;
  /** Retries of a 409 on calls that allow them (transitions), and the first pause; doubled each time. */
  conflictRetries?: { attempts: number; firstDelayMs: number };
  /**
   * What to do when an answer does not match Jira's OpenAPI as jira.js encodes it: `silent` in the
   * functions (loopgate checks the fields it reads itself); the contract tests use `throw`, so a stand-in
   * that drifts from Jira's published schema fails them.
   */
  onSchemaMismatch?: 'silent' | 'warn' | 'throw';
}

/**
 * Atlassian's OpenAPI for POST /rest/api/3/issue/{key}/transitions: "409 Returned if the issue could
 * not be updated due to a conflicting update." Another update of the issue was running: try again.
 */
export class JiraConflictError extends UpstreamError {}

const CONFLICT_RETRIES = { attempts: 3, firstDelayMs: 250 };

export class JiraClient {
  readonly api: CloudClient;
  private readonly timeoutMs: number;
  private readonly conflictRetries: { attempts: number; firstDelayMs: number };

  constructor(options: JiraClientOptions) {
    if (!options.email.trim()) throw new ConfigurationError('the Jira account email is empty');
    if (!options.apiToken.trim()) throw new ConfigurationError('the Jira API token is empty');
    if (!(options.timeoutMs > 0)) throw new ConfigurationError('the Jira timeout must be positive');
    this.timeoutMs = options.timeoutMs;
    this.conflictRetries = options.conflictRetries ?? CONFLICT_RETRIES;
    const { attempts, firstDelayMs } = this.conflictRetries;
    if (!(Number.isInteger(attempts) && attempts >= 0 && attempts <= 10 && firstDelayMs >= 0)) {
      throw new ConfigurationError(
        'Jira conflict retries must be 0 to 10 attempts with a delay of 0 ms or more',
      );
    }
    this.api = createCloudClient({
      host: vendorBaseUrl(options.host, 'Jira host'),
      auth: { type: 'basic', email: options.email.trim(), apiToken: options.apiToken.trim() },
      // One attempt per call: loopgate's queues and outbox retry, with their own backoff and budget.
      retry: { maxAttempts: 1 },
      onSchemaMismatch: options.onSchemaMismatch ?? 'silent',
    });
  }

  /**
   * Runs one jira.js call under the deadline. `operation` names it in errors (no secrets, no bodies);
   * `onNotFound`, when given, is the answer to a 404, which is otherwise a bad response.
   */
  async call<T>(operation: string, run: (api: CloudClient) => Promise<T>, onNotFound?: () => T): Promise<T> {
    try {
      // jira.js takes no signal: the deadline ends loopgate's wait, not the request.
      return await withDeadline(
        this.timeoutMs,
        () => new UpstreamError(JIRA, 'timeout', `${operation} took longer than ${this.timeoutMs} ms`),
        () => run(this.api),
      );
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      if (isNotFoundError(error) && onNotFound) return onNotFound();
      throw upstreamError(operation, error);
    }
  }

  /**
   * `call`, with a 409 (a conflicting update of the issue) tried again a bounded number of times,
   * pausing longer each time. Only for calls that are safe to repeat after a 409: Jira did not apply them.
   */
  async callRetryingConflicts<T>(operation: string, run: (api: CloudClient) => Promise<T>): Promise<T> {
    const { attempts, firstDelayMs } = this.conflictRetries;
    for (let retry = 0; ; retry++) {
      try {
        return await this.call(operation, run);
      } catch (error) {
        if (!(error instanceof JiraConflictError) || retry >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** retry));
      }
    }
  }
}

export function createJiraClient(options: JiraClientOptions): JiraClient {
  return new JiraClient(options);
}

/**
 * jira.js throws an ApiError for an answer (status, Jira's body at `body`), a NetworkError for no
 * answer and a SchemaMismatchError when told to check shapes. The ApiError's message holds the whole
 * response text, so none is passed on as the cause: the UpstreamError carries what is safe to log.
 */
function upstreamError(operation: string, error: unknown): UpstreamError {
  if (isApiError(error) && error.status >= 400) {
    const detail = jiraMessage(error.body);
    const what = error.status === 404 ? 'was not found' : `answered ${error.status}`;
    const Kind = error.status === 409 ? JiraConflictError : UpstreamError;
    return new Kind(
      JIRA,
      failureOfHttpStatus(error.status),
      `${operation} ${what}${detail ? `: ${detail}` : ''}`,
    );
  }
  if (isSchemaMismatchError(error)) {
    return new UpstreamError(JIRA, 'bad-response', `${operation} answered a shape Jira does not document`);
  }
  const code = isNetworkError(error) ? error.code : undefined;
  return new UpstreamError(
    JIRA,
    'unavailable',
    `${operation} could not be reached${typeof code === 'string' ? ` (${code})` : ''}`,
  );
}

/** The first thing Jira's error collection says (`errorMessages`, then `errors`), cut short. */
function jiraMessage(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  const { errorMessages, errors } = data as { errorMessages?: unknown; errors?: unknown };
  const messages = Array.isArray(errorMessages) ? errorMessages : [];
  const fields = typeof errors === 'object' && errors !== null ? Object.values(errors) : [];
  const first = [...messages, ...fields].find((m): m is string => typeof m === 'string' && m.trim() !== '');
  return first?.slice(0, MAX_MESSAGE_LENGTH) ?? '';
}
