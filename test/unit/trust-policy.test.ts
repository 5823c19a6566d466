// A role grant reaches only the requester when the role's trust policy proves
// that a session's source identity is set by the identity provider, or pinned
// to the caller's own identity: never chosen freely by whoever assumes the role.

import { describe, expect, it } from 'vitest';
import { sourceIdentityProblem } from '../../lambdas/connectors/aws-iam/trust-policy';

const SAML = { Federated: 'arn:aws:iam::111122223333:saml-provider/company-idp' };
const ACCOUNT_ROOT = { AWS: 'arn:aws:iam::111122223333:root' };
const trust = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe('sourceIdentityProblem', () => {
  it('a SAML identity provider that sets the source identity: proven', () => {
    const policy = trust({
      Effect: 'Allow',
      Principal: SAML,
      Action: ['sts:AssumeRoleWithSAML', 'sts:SetSourceIdentity'],
    });
    expect(sourceIdentityProblem(policy)).toBeUndefined();
    // As IAM returns it: URL-encoded.
    expect(sourceIdentityProblem(encodeURIComponent(policy))).toBeUndefined();
  });

  it('callers of the account pinned to their own user name: proven', () => {
    const policy = trust({
      Effect: 'Allow',
      Principal: ACCOUNT_ROOT,
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      Condition: { StringEquals: { 'sts:SourceIdentity': '${aws:username}' } },
    });
    expect(sourceIdentityProblem(policy)).toBeUndefined();
  });

  it.each([
    [
      'sts:SetSourceIdentity for the account, unpinned',
      { Principal: ACCOUNT_ROOT, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] },
    ],
    ['sts:* for the account', { Principal: ACCOUNT_ROOT, Action: 'sts:*' }],
    [
      'pinned to a fixed value anyone may send',
      {
        Principal: ACCOUNT_ROOT,
        Action: 'sts:SetSourceIdentity',
        Condition: { StringEquals: { 'sts:SourceIdentity': 'dana.reyes@example.com' } },
      },
    ],
    [
      'pinned with a Like operator',
      {
        Principal: ACCOUNT_ROOT,
        Action: 'sts:SetSourceIdentity',
        Condition: { StringLike: { 'sts:SourceIdentity': '${aws:username}' } },
      },
    ],
    [
      'a SAML provider mixed with an account principal',
      {
        Principal: { ...SAML, ...ACCOUNT_ROOT },
        Action: ['sts:AssumeRoleWithSAML', 'sts:AssumeRole', 'sts:SetSourceIdentity'],
      },
    ],
    ['Principal "*"', { Principal: '*', Action: 'sts:SetSourceIdentity' }],
  ])('refused: %s', (_, statement) => {
    expect(sourceIdentityProblem(trust({ Effect: 'Allow', ...statement }))?.reason).toMatch(
      /trust statement 1 lets its callers set any source identity/,
    );
  });

  it('refused: a trust policy where nobody can set a source identity (the grant would reach no one)', () => {
    const sessionNameOnly = trust({ Effect: 'Allow', Principal: ACCOUNT_ROOT, Action: 'sts:AssumeRole' });
    expect(sourceIdentityProblem(sessionNameOnly)?.reason).toMatch(/allows no sts:SetSourceIdentity/);
  });

  it('refused: NotPrincipal or NotAction, and a policy that cannot be read', () => {
    expect(
      sourceIdentityProblem(
        trust({ Effect: 'Allow', NotPrincipal: ACCOUNT_ROOT, Action: 'sts:SetSourceIdentity' }),
      )?.reason,
    ).toMatch(/NotAction or NotPrincipal/);
    expect(sourceIdentityProblem('%7Bnot json')?.reason).toMatch(/could not be read/);
    expect(sourceIdentityProblem(undefined)?.reason).toMatch(/could not be read/);
  });

  it('a Deny statement does not count, either way', () => {
    const policy = trust(
      { Effect: 'Allow', Principal: SAML, Action: ['sts:AssumeRoleWithSAML', 'sts:SetSourceIdentity'] },
      { Effect: 'Deny', Principal: ACCOUNT_ROOT, Action: 'sts:*' },
    );
    expect(sourceIdentityProblem(policy)).toBeUndefined();
  });
});
