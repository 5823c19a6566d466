// A `fetch` for the openai SDK that signs each request with AWS Signature
// Version 4, so Amazon Bedrock's OpenAI-compatible endpoint is called with the
// function's own AWS credentials (its role) and no API key is stored anywhere.
// The SDK's bearer header (a placeholder) is dropped; the signature covers the
// method, path, query, host, content type and the body's SHA-256.

import { createHash, createHmac, type Hash as NodeHash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/** Bedrock's SigV4 signing name, for bedrock-runtime and its OpenAI-compatible path alike. */
export const BEDROCK_SIGNING_NAME = 'bedrock';

export interface SigV4FetchOptions {
  region: string;
  service?: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The fetch that sends the signed request; the global one unless given. */
  fetch?: typeof fetch;
}

/** Only these of the SDK's headers are signed; the others (user agent, retry counters) may change in transit. */
const SIGNED = ['content-type'];

export function sigV4Fetch(options: SigV4FetchOptions): typeof fetch {
  const signer = new SignatureV4({
    service: options.service ?? BEDROCK_SIGNING_NAME,
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const send = options.fetch ?? fetch;
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : String(input));
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers ?? request?.headers);
    const body = bodyText(init?.body ?? null);

    const toSign: Record<string, string> = { host: url.host };
    for (const name of SIGNED) {
      const value = headers.get(name);
      if (value !== null) toSign[name] = value;
    }
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const seen = query[key];
      query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: toSign,
      ...(body === undefined ? {} : { body }),
    });

    // The SDK's Authorization carries a placeholder key: it must never reach AWS.
    headers.delete('authorization');
    for (const [name, value] of Object.entries(signed.headers)) {
      if (name.toLowerCase() !== 'host') headers.set(name, value);
    }
    return send(url, { ...init, method, headers, ...(body === undefined ? {} : { body }) });
  };
}

/** The body as the signature must hash it; the SDK sends chat completions as a JSON string. */
function bodyText(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('a SigV4-signed request needs its body in memory (a string or bytes) to hash it');
}

/** SHA-256 (and, given a secret, HMAC-SHA-256) on node:crypto, in the shape the signer expects. */
class Sha256 {
  private readonly hash: NodeHash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function bytes(data: SourceData): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
