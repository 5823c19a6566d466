// Webhook signature checks: hex HMAC-SHA256 over the raw body, compared in
// constant time, against every configured secret (two during a rotation).

import { createHmac, timingSafeEqual } from 'node:crypto';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** True when one of the presented hex digests is the HMAC of the body under one of the secrets. */
export function verifyHmacSha256(
  rawBody: Buffer,
  presented: readonly string[],
  secrets: readonly string[],
): boolean {
  const candidates = presented.filter((p) => HEX_SHA256.test(p)).map((p) => Buffer.from(p, 'hex'));
  let matched = false;
  // Every pair is compared, so the time taken does not reveal which secret or signature matched.
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    for (const candidate of candidates) matched = timingSafeEqual(expected, candidate) || matched;
  }
  return matched;
}

/** Jira's `X-Hub-Signature: sha256=<hex>`; anything else (sha1=, truncated, empty) yields no digest. */
export function hubSignatureDigests(header: string | undefined): string[] {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  return match?.[1] ? [match[1]] : [];
}

/** PagerDuty's `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`. */
export function pagerDutySignatureDigests(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((part) => /^v1=([0-9a-f]{64})$/i.exec(part.trim())?.[1])
    .filter((digest): digest is string => digest !== undefined);
}

/** Constant-time equality of two secrets of any length (the shared-header check for Jira Automation). */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHmac('sha256', 'loopgate-compare').update(presented).digest();
  const b = createHmac('sha256', 'loopgate-compare').update(expected).digest();
  return timingSafeEqual(a, b);
}
