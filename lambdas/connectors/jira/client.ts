// The Jira Cloud client: jira.js's Version3Client with a timeout, no redirects
// and a bounded response size, and one way to run a call under a deadline and
// turn Jira's failures into UpstreamErrors.

import { vendorBaseUrl } from '../base-url';
import { HttpException, Version3Client } from 'jira.js';
import { ConfigurationError, failureOfHttpStatus, UpstreamError } from '../../core/errors';

export const JIRA = 'jira';

/** Jira's answers to what loopgate asks are small; anything bigger than this is not Jira talking. */
const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
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
}

/**
 * Atlassian's OpenAPI for POST /rest/api/3/issue/{key}/transitions: "409 Returned if the issue could
 * not be updated due to a conflicting update." Another update of the issue was running: try again.
 */
export class JiraConflictError extends UpstreamError {}

const CONFLICT_RETRIES = { attempts: 3, firstDelayMs: 250 };

export class JiraClient {
  readonly api: Version3Client;
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
    this.api = new Version3Client({
      host: vendorBaseUrl(options.host, 'Jira host'),
      authentication: { basic: { email: options.email.trim(), apiToken: options.apiToken.trim() } },
      baseRequestConfig: {
        // axios's timeout covers connecting and a silent socket; `call` adds the deadline for the whole call.
        timeout: options.timeoutMs,
        // Basic credentials go with every request; a redirect is never followed with them.
        maxRedirects: 0,
        maxContentLength: MAX_RESPONSE_BYTES,
      },
    });
  }

  /**
   * Runs one jira.js call under the deadline. `operation` names it in errors (no secrets, no bodies);
   * `onNotFound`, when given, is the answer to a 404, which is otherwise a bad response.
   */
  async call<T>(
    operation: string,
    run: (api: Version3Client) => Promise<T>,
    onNotFound?: () => T,
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new UpstreamError(JIRA, 'timeout', `${operation} took longer than ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([run(this.api), deadline]);
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      if (error instanceof HttpException && error.status === 404 && onNotFound) return onNotFound();
      throw upstreamError(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `call`, with a 409 (a conflicting update of the issue) tried again a bounded number of times,
   * pausing longer each time. Only for calls that are safe to repeat after a 409: Jira did not apply them.
   */
  async callRetryingConflicts<T>(operation: string, run: (api: Version3Client) => Promise<T>): Promise<T> {
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
 * jira.js throws an HttpException for an answer (status, Jira's body at `response.data`) and axios's
 * own error for no answer. Both keep the request config, Authorization header included, so neither
 * is passed on as the cause: the UpstreamError carries what is safe to log.
 */
function upstreamError(operation: string, error: unknown): UpstreamError {
  if (error instanceof HttpException && error.status >= 400) {
    const detail = jiraMessage((error.response as { data?: unknown } | undefined)?.data);
    const what = error.status === 404 ? 'was not found' : `answered ${error.status}`;
    const Kind = error.status === 409 ? JiraConflictError : UpstreamError;
    return new Kind(
      JIRA,
      failureOfHttpStatus(error.status),
      `${operation} ${what}${detail ? `: ${detail}` : ''}`,
    );
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new UpstreamError(JIRA, 'timeout', `${operation} timed out`);
  }
  if (typeof code === 'string' && code.startsWith('ERR_') && code !== 'ERR_NETWORK') {
    // axios refused the answer itself: too large, a redirect, a body that does not parse.
    return new UpstreamError(JIRA, 'bad-response', `${operation} failed (${code})`);
  }
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
