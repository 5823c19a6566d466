import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../../lambdas/core/catalog';
import type { Signal } from '../../../lambdas/core/context';
import {
  checkPolicyLinks,
  chunkPolicy,
  policyQuery,
  retrievePolicy,
  SIGNAL_IDS,
  SIGNAL_POLICY_TERMS,
} from '../../../lambdas/core/triage';
import { entitlement, request, routineContext } from './fakes';

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

  it('ranks from the request: a break-glass ticket brings the break-glass rules', () => {
    const req = request({
      entitlementId: 'aws-prod-db-connect',
      breakGlass: true,
      justification: 'Break-glass for the active incident INC-77',
    });
    const results = retrievePolicy(
      chunks,
      policyQuery(routineContext({ request: req, entitlement: entitlement('aws-prod-db-connect') })),
      4,
    );
    expect(results.map((r) => r.id)).toEqual(
      expect.arrayContaining(['access-policy#5.1', 'access-policy#5.2']),
    );
  });

  const signal = (id: string): Signal => ({ id, severity: 'high', explanation: 'x', evidence: [] });
  const ids = (results: { id: string }[]) => results.map((r) => r.id);

  it('brings in the rules a signal is about, in words the signal itself never uses', () => {
    const context = routineContext({
      entitlement: entitlement('okta-prod-admin'),
      request: request({ entitlementId: 'okta-prod-admin', justification: 'Fix the billing app, IAM-340' }),
    });
    const without = ids(retrievePolicy(chunks, policyQuery(context), 4));
    expect(without).not.toContain('access-policy#4.2');
    const withSignals = ids(
      retrievePolicy(chunks, policyQuery(context, [signal('no-mfa'), signal('new-country-sign-in')]), 4),
    );
    expect(withSignals).toEqual(expect.arrayContaining(['access-policy#4.2', 'access-policy#4.3']));
  });

  it('weighs the justification least: words stuffed into it do not push out what the signals call for', () => {
    const context = routineContext({
      request: request({
        justification: 'billing finance billing finance data read-only team separation duties change approve',
      }),
    });
    const results = ids(retrievePolicy(chunks, policyQuery(context, [signal('account-not-active')]), 2));
    expect(results[0]).toBe('access-policy#4.1');
  });

  it('puts the sections the catalog links first, in the catalog order, within k', () => {
    const results = retrievePolicy(chunks, 'break-glass', 3, ['access-policy#6.2', 'access-policy#4.2']);
    expect(ids(results)).toEqual(['access-policy#6.2', 'access-policy#4.2', 'access-policy#5.1']);
    expect(ids(retrievePolicy(chunks, 'break-glass', 1, ['access-policy#6.2']))).toEqual([
      'access-policy#6.2',
    ]);
  });

  it('has policy terms for every signal', () => {
    expect(Object.keys(SIGNAL_POLICY_TERMS).sort()).toEqual([...SIGNAL_IDS].sort());
  });
});

describe('checkPolicyLinks', () => {
  const chunks = chunkPolicy(policy);
  const catalogLinking = (links: string[]) =>
    parseCatalog(
      {
        version: 1,
        entitlements: [
          {
            id: 'okta-prod-readonly',
            description: 'Read-only.',
            riskTier: 'low',
            action: { kind: 'okta-group', groupId: '00g1prodreadonly0001' },
            duration: { default: '8h', max: '7d' },
            owners: { escalationPolicy: 'PSREPOL', service: 'PSRESVC' },
            approvers: { onCall: true },
            policy: links,
          },
        ],
      },
      { source: 'catalog.yaml' },
    );

  it('accepts links to sections the policy has and names every one it does not have', () => {
    expect(() => checkPolicyLinks(catalogLinking(['access-policy#4.2']), chunks)).not.toThrow();
    expect(() =>
      checkPolicyLinks(catalogLinking(['access-policy#4.2', 'access-policy#9.9', 'other#1.1']), chunks),
    ).toThrow(/okta-prod-readonly links to access-policy#9\.9; okta-prod-readonly links to other#1\.1/);
  });

  it('is deterministic, breaks ties by policy order and leaves out chunks that match nothing', () => {
    const results = retrievePolicy(chunks, 'break-glass', 10);
    expect(results.map((r) => r.id)).toEqual(['access-policy#5.1', 'access-policy#5.2']);
    expect(retrievePolicy(chunks, 'break-glass', 10)).toEqual(results);
    expect(retrievePolicy(chunks, 'zebra', 5)).toEqual([]);
    expect(retrievePolicy(chunks, 'break-glass', 0)).toEqual([]);
  });
});
