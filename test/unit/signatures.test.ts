import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  hubSignatureDigests,
  pagerDutySignatureDigests,
  secretsEqual,
  verifyHmacSha256,
} from '../../lambdas/platform/signatures';

const body = Buffer.from('{"webhookEvent":"jira:issue_created","issue":{"key":"ACCESS-1"}}');
const hex = (secret: string, data: Buffer = body) => createHmac('sha256', secret).update(data).digest('hex');
const verifyHub = (header: string | undefined, secrets = ['current'], data = body) =>
  verifyHmacSha256(data, hubSignatureDigests(header), secrets);

describe('Jira X-Hub-Signature', () => {
  it('accepts the HMAC of the raw body under the secret', () => {
    expect(verifyHub(`sha256=${hex('current')}`)).toBe(true);
    expect(verifyHub(`SHA256=${hex('current').toUpperCase()}`)).toBe(true);
  });

  it('accepts either secret while a rotation is in progress', () => {
    expect(verifyHub(`sha256=${hex('previous')}`, ['current', 'previous'])).toBe(true);
    expect(verifyHub(`sha256=${hex('previous')}`, ['current'])).toBe(false);
  });

  it.each([
    ['a wrong secret', () => `sha256=${hex('wrong')}`],
    ['a truncated header', () => `sha256=${hex('current').slice(0, 63)}`],
    ['a sha1= prefix', () => `sha1=${createHmac('sha1', 'current').update(body).digest('hex')}`],
    ['a sha1= prefix on a sha256 digest', () => `sha1=${hex('current')}`],
    ['no prefix', () => hex('current')],
    ['an empty header', () => ''],
    ['no header', () => undefined],
  ])('refuses %s', (_, header) => {
    expect(verifyHub(header())).toBe(false);
  });

  it('refuses a body changed by one byte', () => {
    const changed = Buffer.from(body);
    changed[10] = (changed[10] ?? 0) ^ 1;
    expect(verifyHub(`sha256=${hex('current')}`, ['current'], changed)).toBe(false);
  });
});

describe('PagerDuty X-PagerDuty-Signature', () => {
  it('reads every v1 signature, and accepts when any matches', () => {
    const header = `v1=${hex('old')},v1=${hex('new')}`;
    expect(pagerDutySignatureDigests(header)).toHaveLength(2);
    expect(verifyHmacSha256(body, pagerDutySignatureDigests(header), ['new'])).toBe(true);
    expect(verifyHmacSha256(body, pagerDutySignatureDigests(`v1=${hex('old')}`), ['new'])).toBe(false);
    expect(pagerDutySignatureDigests(`v0=${hex('new')}, v1=nothex`)).toEqual([]);
  });
});

describe('shared-secret headers', () => {
  it('compares secrets of any length', () => {
    expect(secretsEqual('s3cret-value', 's3cret-value')).toBe(true);
    expect(secretsEqual('s3cret-valu', 's3cret-value')).toBe(false);
    expect(secretsEqual('', 's3cret-value')).toBe(false);
  });
});
