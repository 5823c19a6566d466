// The one place loopgate builds its IAM Identity Center clients (sso-admin for
// assignments and permission sets, identitystore for users), and the one place
// their failures become loopgate's: a connection and request timeout and
// bounded attempts on every call; ResourceNotFound becomes NotFoundError,
// Validation and ServiceQuotaExceeded a ValidationError (no retry changes
// them), everything else an UpstreamError, without credentials in the message.

import { IdentitystoreClient, IdentitystoreServiceException } from '@aws-sdk/client-identitystore';
import { SSOAdminClient, SSOAdminServiceException } from '@aws-sdk/client-sso-admin';
import { NotFoundError, UpstreamError, type UpstreamFailure, ValidationError } from '../../core/errors';
import { awsClientConfig, type AwsClientOptions } from '../aws-client';

export const IDENTITY_CENTER_SERVICE = 'identity-center';

/** `endpoint` serves both APIs (the sandbox stand-in). */
export type IdentityCenterClientOptions = AwsClientOptions & { region: string };

export interface IdentityCenterClients {
  ssoAdmin: SSOAdminClient;
  identityStore: IdentitystoreClient;
}

export function createIdentityCenterClients(options: IdentityCenterClientOptions): IdentityCenterClients {
  const config = awsClientConfig(options);
  return { ssoAdmin: new SSOAdminClient(config), identityStore: new IdentitystoreClient(config) };
}

const UNAUTHORIZED = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
]);

/** What went wrong calling `operation`, as loopgate reports it. */
export function identityCenterError(error: unknown, operation: string): Error {
  if (error instanceof UpstreamError || error instanceof NotFoundError || error instanceof ValidationError) {
    return error;
  }
  const isService =
    error instanceof SSOAdminServiceException || error instanceof IdentitystoreServiceException;
  const detail = isService ? `${error.name}: ${error.message}` : describe(error);
  if (isService && error.name === 'ResourceNotFoundException') {
    return new NotFoundError(`${IDENTITY_CENTER_SERVICE}: ${operation}: ${detail}`, { cause: error });
  }
  if (isService && (error.name === 'ValidationException' || error.name === 'ServiceQuotaExceededException')) {
    return new ValidationError(
      `${IDENTITY_CENTER_SERVICE}: ${operation} refused, and no retry can change that (${detail})`,
      { cause: error },
    );
  }
  return new UpstreamError(IDENTITY_CENTER_SERVICE, classify(error), `${operation} failed (${detail})`, {
    cause: error,
  });
}

function classify(error: unknown): UpstreamFailure {
  if (error instanceof SSOAdminServiceException || error instanceof IdentitystoreServiceException) {
    if (error.name === 'ThrottlingException') return 'rate-limited';
    if (UNAUTHORIZED.has(error.name)) return 'unauthorized';
    if (error.name === 'AccessDeniedException') return 'forbidden';
    const status = error.$metadata.httpStatusCode ?? 0;
    if (error.$fault === 'server' || status >= 500) return 'unavailable';
    // ConflictException: another write to the assignment is under way; the retry finds it.
    return 'bad-response';
  }
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    if (error.name === 'CredentialsProviderError') return 'unauthorized';
  }
  return 'unavailable';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}` : error.name;
}
