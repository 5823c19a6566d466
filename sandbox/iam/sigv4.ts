// Verifies an AWS Signature Version 4 `Authorization` header the way AWS does:
// rebuilds the canonical request from what arrived (method, path, query, the
// signed headers, the body's SHA-256), derives the signing key from the
// secret and the credential scope, and compares signatures. Each refusal
// carries the error code and wording IAM uses.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { IamError } from './errors';
import { encodeRfc3986 } from './xml';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const SERVICE = 'iam';

export interface SignedRequest {
  method: string;
  /** The path as it arrived, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A stand-in's request as SigV4 signs it: the body is the bytes as they arrived. */
export function signedRequestOf(request: Omit<SignedRequest, 'body'> & { rawBody: Buffer }): SignedRequest {
  return {
    method: request.method,
    path: request.path,
    query: request.query,
    headers: request.headers,
    body: request.rawBody,
  };
}

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; throws IncompleteSignature when a part is missing. */
export function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new IamError('IncompleteSignature', 400, `Unsupported AWS 'algorithm': '${algorithm}'`);
  }
  const parts = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !parts.get(name));
  if (missing.length > 0) {
    throw new IamError(
      'IncompleteSignature',
      400,
      missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ') +
        ` Authorization=${header}`,
    );
  }
  const credential = (parts.get('Credential') ?? '').split('/');
  const [accessKeyId, date, region, service, terminator] = credential;
  if (
    credential.length !== 5 ||
    !accessKeyId ||
    !date ||
    !region ||
    !service ||
    terminator !== 'aws4_request'
  ) {
    throw new IamError(
      'IncompleteSignature',
      400,
      `Credential should be scoped to a valid region, service and terminator 'aws4_request'. Credential=${parts.get('Credential') ?? ''}`,
    );
  }
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: (parts.get('SignedHeaders') ?? '').split(';'),
    signature: parts.get('Signature') ?? '',
  };
}

/**
 * Checks the signature with the secret of `auth.accessKeyId` for `service` (IAM's unless given:
 * the Bedrock stand-in verifies `bedrock`); throws SignatureDoesNotMatch or IncompleteSignature.
 */
export function verifySignature(
  request: SignedRequest,
  auth: ParsedAuthorization,
  secretAccessKey: string,
  /** The signing name the credential scope must name: `iam`, or another service's (`sts`, `sso`, `identitystore`). */
  service: string = SERVICE,
): void {
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    throw new IamError(
      'IncompleteSignature',
      400,
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (auth.service !== service) {
    throw new IamError(
      'SignatureDoesNotMatch',
      403,
      `Credential should be scoped to correct service: '${service}'. `,
    );
  }
  if (auth.date !== amzDate.slice(0, 8)) {
    throw new IamError(
      'SignatureDoesNotMatch',
      403,
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (!auth.signedHeaders.includes('host')) {
    throw new IamError(
      'SignatureDoesNotMatch',
      403,
      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [
    ALGORITHM,
    amzDate,
    scope,
    sha256Hex(canonicalRequest(request, auth.signedHeaders)),
  ].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, auth.date);
  for (const part of [auth.region, auth.service, 'aws4_request']) key = hmac(key, part);
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const given = Buffer.from(auth.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new IamError('SignatureDoesNotMatch', 403, SIGNATURE_MISMATCH);
  }
}

export function canonicalRequest(request: SignedRequest, signedHeaders: readonly string[]): string {
  // Every service but S3 signs the path URI-encoded once more, segment by segment.
  const path = request.path
    .split('/')
    .map((segment) => encodeRfc3986(segment))
    .join('/');
  const query = [...request.query]
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? compare(va, vb) : compare(ka, kb)))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .map((name) => `${name}:${(headerValue(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  return [request.method, path || '/', query, headers, signedHeaders.join(';'), sha256Hex(request.body)].join(
    '\n',
  );
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
