import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunkPolicy, policyQuery, retrievePolicy } from '../../../lambdas/core/triage';
import { entitlement, request } from './fakes';

const path = 'prompts/policy/access-policy.md';
const policy = [{ path, text: readFileSync(path, 'utf8') }];

describe('chunkPolicy', () => {
  it('makes one chunk per numbered rule, with ids from the file and rule number', () => {
    const chunks = chunkPolicy(policy);
    expect(chunks.map((c) => c.id)).toEqual([
      'access-policy#1.1',
      'access-policy#1.2',
      'access-policy#2.1',
      'access-policy#2.2',
      'access-policy#3.1',
      'access-policy#3.2',
      'access-policy#3.3',
      'access-policy#4.1',
      'access-policy#4.2',
      'access-policy#4.3',
      'access-policy#4.4',
      'access-policy#5.1',
      'access-policy#5.2',
      'access-policy#6.1',
      'access-policy#6.2',
    ]);
    expect(chunks.find((c) => c.id === 'access-policy#4.2')).toEqual({
      id: 'access-policy#4.2',
      file: path,
      heading: '4. Identity hygiene',
      text: '4.2 Production write access requires an enrolled phishing-resistant or push MFA factor.',
    });
    expect(chunkPolicy(policy)).toEqual(chunks);
  });

  it('joins wrapped rules, names prose sections by heading slug and keeps ids unique', () => {
    const chunks = chunkPolicy([
      {
        path: 'policy/extra.md',
        text: [
          '# Extra rules',
          'A preamble that is not policy.',
          '## Vendor access',
          'Vendors get read-only access',
          'for at most a day.',
          '## 7. Data',
          '7.1 Customer data stays in',
          '    the region it was collected in.',
          '7.1 A second rule numbered by mistake.',
        ].join('\n'),
      },
    ]);
    expect(chunks.map((c) => [c.id, c.text])).toEqual([
      ['extra#vendor-access', 'Vendors get read-only access for at most a day.'],
      ['extra#7.1', '7.1 Customer data stays in the region it was collected in.'],
      ['extra#7.1-2', '7.1 A second rule numbered by mistake.'],
    ]);
  });
});

describe('retrievePolicy', () => {
  const chunks = chunkPolicy(policy);

  it('ranks the MFA rule first for a query about MFA and production write', () => {
    const results = retrievePolicy(chunks, 'production write access without MFA', 3);
    expect(results[0]?.id).toBe('access-policy#4.2');
    expect(results).toHaveLength(3);
    expect(results[0]?.score).toBeGreaterThan(results[1]?.score ?? 0);
  });

  it('ranks from the request: entitlement id, description and justification', () => {
    const req = request({
      entitlementId: 'aws-prod-db-connect',
      justification: 'Break-glass for the active incident INC-77',
    });
    const results = retrievePolicy(chunks, policyQuery(req, entitlement('aws-prod-db-connect')), 2);
    expect(results[0]?.id).toBe('access-policy#5.1');
  });

  it('is deterministic, breaks ties by policy order and leaves out chunks that match nothing', () => {
    const results = retrievePolicy(chunks, 'break-glass', 10);
    expect(results.map((r) => r.id)).toEqual(['access-policy#5.1', 'access-policy#5.2']);
    expect(retrievePolicy(chunks, 'break-glass', 10)).toEqual(results);
    expect(retrievePolicy(chunks, 'zebra', 5)).toEqual([]);
    expect(retrievePolicy(chunks, 'break-glass', 0)).toEqual([]);
  });
});
