// The one place loopgate builds its IAM client, and the one place IAM's
// failures become loopgate's: every call has a connection and a request
// timeout and a bounded number of attempts, and every error the SDK raises is
// turned into an UpstreamError (or NotFoundError for a principal that does not
// exist, ValidationError for a write IAM will never accept) without
// credentials in the message.

import {
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  UnmodifiableEntityException,
} from '@aws-sdk/client-iam';
import { NotFoundError, UpstreamError, type UpstreamFailure, ValidationError } from '../../core/errors';
import { INLINE_POLICY_QUOTA } from '../../core/iam-inline-size';
import { awsClientConfig, type AwsClientOptions } from '../aws-client';

export const IAM_SERVICE = 'aws-iam';

/** IAM's quota on all inline policies of one principal together (see the core, which checks the catalog). */
export const INLINE_QUOTA = INLINE_POLICY_QUOTA;

export type IamClientOptions = AwsClientOptions & { region: string };

export function createIamClient(options: IamClientOptions): IAMClient {
  const client = new IAMClient(awsClientConfig(options));
  // The retry middleware asks the resolved config for its strategy on every call.
  const standard = client.config.retryStrategy;
  client.config.retryStrategy = async () => permanentErrorsNotRetried(await standard());
  return client;
}

/**
 * IAM's answers that no retry can change. The SDK's standard strategy counts LimitExceededException
 * as throttling (smithy's THROTTLING_ERROR_CODES lists the name, shared with services whose
 * LimitExceeded is a rate limit) and would write again and again; IAM's is a quota.
 */
const PERMANENT = new Set([
  'LimitExceededException',
  'UnmodifiableEntityException',
  'MalformedPolicyDocumentException',
]);

type RetryStrategy = Awaited<ReturnType<IAMClient['config']['retryStrategy']>>;

/** The SDK's strategy, except that a permanent error ends the call at once (the middleware then throws it). */
function permanentErrorsNotRetried(strategy: RetryStrategy): RetryStrategy {
  if (!('refreshRetryTokenForRetry' in strategy)) return strategy;
  return {
    acquireInitialRetryToken: (scope) => strategy.acquireInitialRetryToken(scope),
    recordSuccess: (token) => strategy.recordSuccess(token),
    refreshRetryTokenForRetry: (token, info) => {
      if (info.error instanceof IAMServiceException && PERMANENT.has(info.error.name)) {
        return Promise.reject(info.error);
      }
      return strategy.refreshRetryTokenForRetry(token, info);
    },
  };
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
  if (error instanceof UpstreamError || error instanceof NotFoundError || error instanceof ValidationError) {
    return error;
  }
  if (error instanceof NoSuchEntityException && what !== undefined) {
    return new NotFoundError(`${IAM_SERVICE}: no IAM ${what}`, { cause: error });
  }
  const permanent = permanentRefusal(error, action, what);
  if (permanent) return permanent;
  const failure = classify(error);
  const detail = error instanceof IAMServiceException ? `${error.name}: ${error.message}` : describe(error);
  return new UpstreamError(IAM_SERVICE, failure, `${action} failed (${detail})`, { cause: error });
}

/**
 * A write IAM refuses for good: a ValidationError (the core fails the request at once, without
 * retries) saying what to change.
 */
function permanentRefusal(error: unknown, action: string, what?: string): ValidationError | undefined {
  const on = what === undefined ? '' : ` on ${what}`;
  const refused = (why: string) =>
    new ValidationError(
      `${IAM_SERVICE}: ${action}${on} refused, and no retry can change that (${(error as Error).name.replace(/Exception$/, '')}: ${(error as Error).message}). ${why}`,
      { cause: error },
    );
  if (error instanceof UnmodifiableEntityException) {
    return refused(
      'Only AWS may change this role: the roles IAM Identity Center creates (AWSReservedSSO_*, under /aws-reserved/) and service-linked roles take no grant from loopgate. Name a role your account manages in the catalog.',
    );
  }
  if (error instanceof LimitExceededException) {
    return refused(
      /^Put\w+Policy$/.test(action)
        ? `IAM caps the inline policies of one principal together (a user's at ${INLINE_QUOTA.user.toLocaleString('en')} characters, a role's at ${INLINE_QUOTA.role.toLocaleString('en')}, white space not counted): remove inline policies it no longer needs, or make the entitlement's statements shorter.`
        : 'An IAM quota of the principal is reached (10 managed policies each, by default): detach what it no longer needs, or raise the quota with AWS.',
    );
  }
  if (error instanceof MalformedPolicyDocumentException) {
    return refused(
      "IAM does not accept the entitlement's statements as a policy: correct them in the catalog.",
    );
  }
  return undefined;
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
