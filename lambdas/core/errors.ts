// The error hierarchy of loopgate. Every error a caller may act on is a
// subclass of LoopgateError with a stable `code`; platform/http-errors.ts maps
// them to responses by class, never by name or message.

export abstract class LoopgateError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input from outside (a webhook, a config file, a CLI argument) is malformed or breaks a rule. */
export class ValidationError extends LoopgateError {
  readonly code = 'validation_failed';
}

/** The caller is not who they claim to be (bad or missing signature, unknown secret header). */
export class UnauthenticatedError extends LoopgateError {
  readonly code = 'unauthenticated';
}

/** The caller is known but may not do this (an approver outside the approver set, a self-approval). */
export class ForbiddenError extends LoopgateError {
  readonly code = 'forbidden';
}

export class PayloadTooLargeError extends LoopgateError {
  readonly code = 'payload_too_large';
}

export class NotFoundError extends LoopgateError {
  readonly code = 'not_found';
}

/** Optimistic concurrency lost: someone else changed the request first. Safe to re-read and decide again. */
export class ConflictError extends LoopgateError {
  readonly code = 'conflict';
}

/** A required setting (environment variable, secret) is missing or malformed. Fails the cold start. */
export class ConfigurationError extends LoopgateError {
  readonly code = 'configuration_error';
}

export type UpstreamFailure =
  'timeout' | 'unauthorized' | 'forbidden' | 'rate-limited' | 'unavailable' | 'bad-response';

/**
 * An outside service (Okta, IAM, Slack, PagerDuty, Jira, the model) did not answer usefully.
 * Triage turns it into an `unavailable: <reason>` fact; it never stalls a request.
 */
export class UpstreamError extends LoopgateError {
  readonly code = 'upstream_error';

  constructor(
    readonly service: string,
    readonly failure: UpstreamFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${service}: ${message}`, options);
  }
}

/** What an HTTP error status from a vendor means for loopgate. */
export function failureOfHttpStatus(status: number): UpstreamFailure {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'rate-limited';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'unavailable';
  // Other 4xx: the vendor refused what was asked; retrying the same call would not help.
  return 'bad-response';
}
