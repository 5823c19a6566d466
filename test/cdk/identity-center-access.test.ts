// The provision and revoke roles' Identity Center rights, from a catalog with
// two permission sets on two accounts: each set only on its own account, never
// the combinations the catalog does not name.

import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../lambdas/core/catalog';
import { catalogPrincipals, grantStatements, revokeStatements } from '../../lib/iam-access';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6';
const READ_ONLY = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-4a1b2c3d4e5f6a7b';
const OPERATOR = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-9c8d7e6f5a4b3c2d';

const entitlement = (id: string, permissionSetArn: string, accountId: string) => ({
  id,
  description: id,
  riskTier: 'medium',
  action: {
    kind: 'aws-identity-center',
    identityStoreId: 'd-9067a1b2c3',
    permissionSetArn,
    accountId,
    sessionDuration: '1h',
  },
  duration: { default: '1h', max: '4h' },
  owners: { escalationPolicy: 'PSREPOL', service: 'PSRESVC' },
  approvers: { onCall: true },
});

const catalog = parseCatalog(
  {
    version: 1,
    entitlements: [
      entitlement('prod-read', READ_ONLY, '111122223333'),
      entitlement('staging-operate', OPERATOR, '444455556666'),
      // The same pair again: one statement for it.
      entitlement('prod-read-again', READ_ONLY, '111122223333'),
    ],
  },
  { source: 'test' },
);

describe('Identity Center rights from the catalog', () => {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const principals = catalogPrincipals(catalog);

  it.each([
    ['provision', grantStatements, 'sso:CreateAccountAssignment'],
    ['revoke', revokeStatements, 'sso:DeleteAccountAssignment'],
  ] as const)(
    '%s: one statement per named pair, each with its own set and account',
    (_name, build, write) => {
      const writes = build(stack, principals)
        .map((s) => s.toStatementJson() as { Action: string | string[]; Resource: string | string[] })
        .filter((s) => [s.Action].flat().includes(write));
      expect(writes.map((s) => [s.Resource].flat().sort())).toEqual([
        ['arn:aws:sso:::account/111122223333', INSTANCE, READ_ONLY],
        ['arn:aws:sso:::account/444455556666', INSTANCE, OPERATOR],
      ]);
    },
  );

  it('names no Identity Center right for a catalog without Identity Center entitlements', () => {
    const okta = parseCatalog(
      {
        version: 1,
        entitlements: [
          {
            ...entitlement('okta-read', READ_ONLY, '111122223333'),
            action: { kind: 'okta-group', groupId: '00g1prodreadonly0001' },
          },
        ],
      },
      { source: 'test' },
    );
    const actions = [
      ...grantStatements(stack, catalogPrincipals(okta)),
      ...revokeStatements(stack, catalogPrincipals(okta)),
    ].flatMap((s) => s.actions);
    expect(actions.filter((a) => /^(sso|identitystore):/.test(a))).toEqual([]);
  });
});
