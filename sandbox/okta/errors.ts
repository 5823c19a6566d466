// Okta's error responses: the `{errorCode, errorSummary, errorLink, errorId,
// errorCauses}` body every Management API error carries, with the codes and
// statuses Okta documents, so the SDK raises the same OktaApiError it would
// against a real org.

import { randomBytes } from 'node:crypto';
import { json, type StandInResponse } from '../http/stand-in';

export interface OktaErrorBody {
  errorCode: string;
  errorSummary: string;
  /** Okta repeats the code here rather than a URL. */
  errorLink: string;
  errorId: string;
  errorCauses: { errorSummary: string }[];
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function base62(length: number): string {
  return Array.from(randomBytes(length), (b) => BASE62[b % BASE62.length]).join('');
}

/** Okta error ids look like `oaeHfmOAx1iRLa0H10DeMz5fQ`. */
export function errorId(): string {
  return `oae${base62(22)}`;
}

/** The `x-okta-request-id` every response carries. */
export function requestId(): string {
  return base62(27);
}

export function oktaError(
  status: number,
  errorCode: string,
  errorSummary: string,
  options: { causes?: string[]; headers?: Record<string, string> } = {},
): StandInResponse {
  const body: OktaErrorBody = {
    errorCode,
    errorSummary,
    errorLink: errorCode,
    errorId: errorId(),
    errorCauses: (options.causes ?? []).map((summary) => ({ errorSummary: summary })),
  };
  return json(status, body, options.headers);
}

/** The object kinds Okta names in a 404's summary. */
export type OktaResourceKind = 'User' | 'UserGroup' | 'UserFactor';

export const errors = {
  invalidToken: (headers?: Record<string, string>) =>
    oktaError(401, 'E0000011', 'Invalid token provided', { headers }),
  /** No credentials at all: the API falls back to a browser session, which there is none of. */
  invalidSession: () => oktaError(403, 'E0000005', 'Invalid session'),
  forbidden: (headers?: Record<string, string>) =>
    oktaError(403, 'E0000006', 'You do not have permission to perform the requested action', { headers }),
  notFound: (id: string, kind: OktaResourceKind) =>
    oktaError(404, 'E0000007', `Not found: Resource not found: ${id} (${kind})`),
  /** A push transaction that does not exist (or is not this factor's): 404 like any missing resource. */
  transactionNotFound: (id: string) => oktaError(404, 'E0000007', `Not found: Resource not found: ${id}`),
  /** A factor operation on a user who is not ACTIVE (suspended, locked out, deactivated, staged). */
  userStatus: () => oktaError(403, 'E0000038', "This operation is not allowed in the user's current status."),
  /** Verifying a passcode factor without a valid passCode. */
  invalidPasscode: () =>
    oktaError(403, 'E0000068', 'Invalid Passcode/Answer', {
      causes: ["Your passcode doesn't match our records. Please try again."],
    }),
  endpointNotFound: (path: string) => oktaError(404, 'E0000007', `Not found: Resource not found: ${path}`),
  methodNotAllowed: () =>
    oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method'),
  malformedBody: () => oktaError(400, 'E0000003', 'The request body was not well-formed.'),
  invalidSearch: (cause: string) =>
    oktaError(400, 'E0000031', 'Invalid search criteria.', { causes: [cause] }),
  validation: (field: string, cause: string) =>
    oktaError(400, 'E0000001', `Api validation failed: ${field}`, { causes: [`${field}: ${cause}`] }),
  rateLimited: (headers: Record<string, string>) =>
    oktaError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.', { headers }),
  internal: (status: number) => oktaError(status, 'E0000009', 'Internal Server Error'),
};
