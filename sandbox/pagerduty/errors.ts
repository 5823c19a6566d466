// PagerDuty REST API v2 error responses: the `{error:{message, code, errors?}}`
// body with PagerDuty's numeric codes, so a connector's error handling sees what
// api.pagerduty.com would send.

import { json, type StandInResponse } from '../http/stand-in';

export interface PagerDutyErrorBody {
  error: { message: string; code: number; errors?: string[] };
}

export function pdError(
  status: number,
  message: string,
  code: number,
  errors?: string[],
  headers: Record<string, string> = {},
): StandInResponse {
  const body: PagerDutyErrorBody = { error: { message, code, ...(errors ? { errors } : {}) } };
  return json(status, body, headers);
}

/** 400 code 2001, PagerDuty's generic validation failure; `errors` says what was wrong. */
export function invalidInput(...errors: string[]): StandInResponse {
  return pdError(400, 'Invalid Input Provided', 2001, errors);
}

export function notFound(): StandInResponse {
  return pdError(404, 'Not Found', 2100);
}

export function authenticationFailed(): StandInResponse {
  return pdError(401, 'Authentication failed', 2006);
}

/** PagerDuty's wording when a write lacks the acting user's email (`From`). */
export const FROM_HEADER_REQUIRED =
  'You must specify a user\'s email address in the "From" header to perform this action';

/**
 * A write without `From`: the OpenAPI marks the header required and answers a 400 ArgumentError;
 * of the error codes PagerDuty documents (developer-docs REST-API/14-Errors.md) the one that
 * says so is 2003 "Missing Arguments". Not 2016: that is "The request took too long to process".
 */
export function fromHeaderRequired(): StandInResponse {
  return pdError(400, 'Missing Arguments', 2003, [FROM_HEADER_REQUIRED]);
}

/** A `From` that names no user of the account: 1008 "Requester User Not Found" in the same table. */
export function requesterNotFound(): StandInResponse {
  return pdError(400, 'Requester User Not Found', 1008);
}

export function internalError(status = 500): StandInResponse {
  return pdError(status, 'An internal error has occurred. PagerDuty team has been notified.', 2000);
}

/** 408, and code 2016 "The request took too long to process": PagerDuty says to try again. */
export function requestTimeout(): StandInResponse {
  return pdError(408, 'The request took too long to process', 2016);
}

export interface RateLimitHeaders {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export function rateLimitHeaders(h: RateLimitHeaders): Record<string, string> {
  return {
    'ratelimit-limit': String(h.limit),
    'ratelimit-remaining': String(h.remaining),
    'ratelimit-reset': String(h.resetSeconds),
  };
}

export function rateLimitExceeded(h: RateLimitHeaders): StandInResponse {
  return pdError(429, 'Rate Limit Exceeded', 2020, undefined, rateLimitHeaders(h));
}
