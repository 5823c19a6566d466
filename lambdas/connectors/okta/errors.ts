// Turns whatever the Okta SDK throws into loopgate's errors: UpstreamError with
// the kind of failure triage reports, or NotFoundError for a 404 so lookups can
// answer "none". Messages are built from status codes and Okta's error codes,
// never from request headers, so a token cannot end up in one.

import { ZodError } from 'zod';
import {
  failureOfHttpStatus,
  LoopgateError,
  NotFoundError,
  UpstreamError,
  type UpstreamFailure,
} from '../../core/errors';

const SERVICE = 'okta';
/** Okta's errorSummary is shown to people; a misbehaving server should not fill a page with it. */
const MAX_SUMMARY = 200;

/** `action` says what loopgate was doing, e.g. `reading user 00u…`; it prefixes the message. */
export function oktaFailure(error: unknown, action: string): LoopgateError {
  if (error instanceof LoopgateError) return error;
  if (error instanceof ZodError) {
    return upstream('bad-response', `${action}: unexpected response shape (${describeIssues(error)})`, error);
  }

  // OktaApiError (a JSON error body) and the SDK's HttpError (any other body) carry `status`;
  // the generated ApiException (a status the generated code did not expect) carries `code`.
  const status = numberField(error, 'status') ?? numberField(error, 'code');
  if (status !== undefined) {
    if (status === 404) return new NotFoundError(`${SERVICE}: ${action}: not found`, { cause: error });
    return upstream(
      failureOfHttpStatus(status),
      `${action}: Okta answered ${describeStatus(error, status)}`,
      error,
    );
  }

  // node-fetch's FetchError, which the SDK's request executor uses, says what went wrong in `type`.
  const fetchType = stringField(error, 'type');
  if (fetchType === 'request-timeout' || fetchType === 'body-timeout') {
    return upstream('timeout', `${action}: no answer within the timeout`, error);
  }
  if (fetchType === 'system') {
    const code = stringField(error, 'code');
    return upstream('unavailable', `${action}: could not reach Okta${code ? ` (${code})` : ''}`, error);
  }

  // The SDK's 429 handling gives up with plain Errors; their text is its only signal.
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith('HTTP 429 retry delay would exceed')) {
    return upstream('rate-limited', `${action}: rate limited, and the wait would outlast the timeout`, error);
  }
  if (message.startsWith('HTTP request time exceeded')) {
    return upstream('timeout', `${action}: rate limited until the timeout ran out`, error);
  }

  // Anything else came out of parsing what Okta sent (bad JSON, an unknown media type, a body of the wrong kind).
  return upstream('bad-response', `${action}: unexpected response`, error);
}

/** Runs one call to Okta, turning its failure into loopgate's errors. */
export async function callOkta<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw oktaFailure(error, action);
  }
}

/** A 404 as "none", every other failure as it is. */
export async function orNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

function describeStatus(error: unknown, status: number): string {
  const code = stringField(error, 'errorCode');
  const summary = stringField(error, 'errorSummary')?.slice(0, MAX_SUMMARY);
  return [String(status), code, summary].filter(Boolean).join(' ');
}

function describeIssues(error: ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

function upstream(failure: UpstreamFailure, message: string, cause: unknown): UpstreamError {
  return new UpstreamError(SERVICE, failure, message, { cause });
}

function numberField(value: unknown, key: string): number | undefined {
  const field =
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof field === 'number' ? field : undefined;
}

function stringField(value: unknown, key: string): string | undefined {
  const field =
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return typeof field === 'string' && field !== '' ? field : undefined;
}
