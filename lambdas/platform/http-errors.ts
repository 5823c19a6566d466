// The one place where errors become HTTP responses. Known errors keep their
// code and message; anything else is a 500 with a generic message, logged in
// full (redacted) but never echoed: no stacks or internals leave the function.

import {
  ConfigurationError,
  ConflictError,
  ForbiddenError,
  LoopgateError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
  ValidationError,
} from '../core/errors';
import { IllegalTransitionError } from '../core/lifecycle';
import type { Logger } from './logger';

/** The shape a Lambda Function URL (payload format 2.0) expects back. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const STATUS_BY_CLASS: readonly [abstract new (...args: never[]) => LoopgateError, number][] = [
  [ValidationError, 400],
  [UnauthenticatedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [IllegalTransitionError, 409],
  [PayloadTooLargeError, 413],
];

export function jsonResponse(statusCode: number, body: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** The message of the line a refused request logs (with its status): the stack counts the 401s. */
export const REQUEST_REFUSED = 'request refused';

export function errorResponse(error: unknown, logger: Logger): HttpResponse {
  if (error instanceof LoopgateError && !(error instanceof ConfigurationError)) {
    const status = STATUS_BY_CLASS.find(([type]) => error instanceof type)?.[1];
    if (status !== undefined) {
      logger.warn(REQUEST_REFUSED, { status, error });
      return jsonResponse(status, { error: { code: error.code, message: error.message } });
    }
  }
  logger.error('unexpected error', { error });
  return jsonResponse(500, { error: { code: 'internal_error', message: 'internal error' } });
}
