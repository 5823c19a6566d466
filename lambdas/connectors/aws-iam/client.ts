// The one place loopgate builds its IAM client, and the one place IAM's
// failures become loopgate's: every call has a connection and a request
// timeout and a bounded number of attempts, and every error the SDK raises is
// turned into an UpstreamError (or NotFoundError for a principal that does not
// exist) without credentials in the message.

import {
  IAMClient,
  type IAMClientConfig,
  IAMServiceException,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { NotFoundError, UpstreamError, type UpstreamFailure } from '../../core/errors';

export const IAM_SERVICE = 'aws-iam';

export interface IamClientOptions {
  region: string;
  /** Another base URL (the sandbox stand-in); the real service when absent. */
  endpoint?: string;
  /** Static credentials; the default provider chain (the Lambda role) when absent. */
  credentials?: IAMClientConfig['credentials'];
  /** Per attempt: the time to connect and the time for the whole answer. */
  timeoutMs: number;
  /** Attempts per call, the first included; the SDK backs off between them (throttling, 5xx, timeouts). */
  maxAttempts: number;
}

export function createIamClient(options: IamClientOptions): IAMClient {
  if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  if (!(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
    throw new RangeError('maxAttempts must be a whole number of at least 1');
  }
  return new IAMClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: options.maxAttempts,
    // The node handler's options, passed through: without throwOnRequestTimeout a
    // slow answer is only logged as a warning and the call waits on.
    requestHandler: {
      connectionTimeout: options.timeoutMs,
      requestTimeout: options.timeoutMs,
      throwOnRequestTimeout: true,
    },
  });
}

// Throttling, authentication and authorization errors are not modelled as
// classes in the IAM SDK: they arrive as IAMServiceException named by IAM's code.
const RATE_LIMITED = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
const UNAUTHORIZED = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'MissingAuthenticationToken',
  'IncompleteSignature',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
]);
const FORBIDDEN = new Set(['AccessDenied', 'AccessDeniedException']);

/** What went wrong calling `action`, as loopgate reports it. `what` names the principal for NoSuchEntity. */
export function iamError(error: unknown, action: string, what?: string): Error {
  if (error instanceof UpstreamError || error instanceof NotFoundError) return error;
  if (error instanceof NoSuchEntityException && what !== undefined) {
    return new NotFoundError(`${IAM_SERVICE}: no IAM ${what}`, { cause: error });
  }
  const failure = classify(error);
  const detail = error instanceof IAMServiceException ? `${error.name}: ${error.message}` : describe(error);
  return new UpstreamError(IAM_SERVICE, failure, `${action} failed (${detail})`, { cause: error });
}

function classify(error: unknown): UpstreamFailure {
  if (error instanceof IAMServiceException) {
    if (RATE_LIMITED.has(error.name)) return 'rate-limited';
    if (UNAUTHORIZED.has(error.name)) return 'unauthorized';
    if (FORBIDDEN.has(error.name)) return 'forbidden';
    const status = error.$metadata.httpStatusCode ?? 0;
    if (error.$fault === 'server' || status >= 500) return 'unavailable';
    return 'bad-response';
  }
  if (error instanceof Error) {
    // The node handler names its timeouts TimeoutError; an aborted call is AbortError.
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    // No credentials could be found or loaded: the connector cannot sign.
    if (error.name === 'CredentialsProviderError') return 'unauthorized';
  }
  return 'unavailable';
}

/** A short, secret-free description of another error (network failures carry a code: ECONNREFUSED…). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}` : error.name;
}
