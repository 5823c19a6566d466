import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
  ValidationError,
} from '../../lambdas/core/errors';
import { IllegalTransitionError, TransitionConflictError } from '../../lambdas/core/lifecycle';
import { errorResponse } from '../../lambdas/platform/http-errors';
import { Logger } from '../../lambdas/platform/logger';

function respond(error: unknown) {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({ service: 'test', write: (l) => lines.push(JSON.parse(l)) });
  const response = errorResponse(error, logger);
  return { response, body: JSON.parse(response.body), lines };
}

describe('errors to HTTP responses', () => {
  it.each([
    [new ValidationError('malformed JSON at position 3'), 400, 'validation_failed'],
    [new UnauthenticatedError('signature does not match'), 401, 'unauthenticated'],
    [new ForbiddenError('requesters cannot approve their own request'), 403, 'forbidden'],
    [new NotFoundError('no such request'), 404, 'not_found'],
    [new ConflictError('changed'), 409, 'conflict'],
    [new TransitionConflictError('r1', { state: 'PENDING', version: 3 }), 409, 'conflict'],
    [new IllegalTransitionError('r1', 'DENIED', 'APPROVED'), 409, 'illegal_transition'],
    [new PayloadTooLargeError('body over 256 KB'), 413, 'payload_too_large'],
  ])('maps %s to %i with its code and message', (error, status, code) => {
    const { response, body } = respond(error);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    expect(body).toEqual({ error: { code, message: error.message } });
  });

  it.each([
    ['an unexpected error', new TypeError("Cannot read properties of undefined (reading 'key')")],
    ['a configuration error', new ConfigurationError('environment variable OKTA_TOKEN is required')],
    ['a thrown non-error', { secret: 'value' }],
  ])('answers %s with a bare 500 and logs it', (_, error) => {
    const { response, body, lines } = respond(error);
    expect(response.statusCode).toBe(500);
    expect(body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    expect(response.body).not.toMatch(/stack|Cannot read|OKTA_TOKEN|secret/);
    expect(lines).toEqual([expect.objectContaining({ level: 'error', message: 'unexpected error' })]);
  });
});
