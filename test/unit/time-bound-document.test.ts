// The inline policy of an IAM grant: the expiry and, on a role, the
// requester's source identity are added as conditions to every statement, merged
// with what the statement says itself.

import { describe, expect, it } from 'vitest';
import {
  companyPrincipalFor,
  type IamPolicyAction,
  type IamStatement,
  policySize,
  timeBoundDocument,
} from '../../lambdas/connectors/aws-iam/provisioner';
import { inlineGrantSize } from '../../lambdas/core/iam-inline-size';
import { ValidationError } from '../../lambdas/core/errors';

const EXPIRES = new Date('2026-11-21T13:00:00.000Z');
const READ: IamStatement = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::logs/*' };

describe('timeBoundDocument', () => {
  it('adds DateLessThan aws:CurrentTime at the expiry to every statement', () => {
    const list: IamStatement = { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::logs' };

    expect(timeBoundDocument([READ, list], EXPIRES)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { ...READ, Condition: { DateLessThan: { 'aws:CurrentTime': '2026-11-21T13:00:00.000Z' } } },
        { ...list, Condition: { DateLessThan: { 'aws:CurrentTime': '2026-11-21T13:00:00.000Z' } } },
      ],
    });
  });

  it('merges with the statement’s conditions, even under the same operator, without overwriting them', () => {
    const statement: IamStatement = {
      ...READ,
      Condition: {
        Bool: { 'aws:MultiFactorAuthPresent': 'true' },
        DateLessThan: { 'aws:TokenIssueTime': '2026-12-01T00:00:00Z' },
        StringLike: { 's3:prefix': 'incident/*' },
      },
    };

    const [result] = timeBoundDocument([statement], EXPIRES, 'dana.reyes@example.com').Statement;

    expect(result?.Condition).toEqual({
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      DateLessThan: {
        'aws:TokenIssueTime': '2026-12-01T00:00:00Z',
        'aws:CurrentTime': '2026-11-21T13:00:00.000Z',
      },
      StringLike: { 's3:prefix': 'incident/*' },
      StringEqualsIgnoreCase: { 'aws:SourceIdentity': 'dana.reyes@example.com' },
    });
    // The catalog's statement is not changed in place.
    expect(statement.Condition?.DateLessThan).toEqual({ 'aws:TokenIssueTime': '2026-12-01T00:00:00Z' });
  });

  it('keeps a statement’s own earlier end, and replaces a later one with the expiry', () => {
    const earlier: IamStatement = {
      ...READ,
      Condition: { DateLessThan: { 'aws:CurrentTime': '2026-11-21T12:00:00Z' } },
    };
    // Key names are case-insensitive in IAM: this is the same key, not a second one.
    const later: IamStatement = {
      ...READ,
      Condition: { DateLessThan: { 'aws:currenttime': '2027-01-01T00:00:00Z' } },
    };

    const [first, second] = timeBoundDocument([earlier, later], EXPIRES).Statement;

    expect(first?.Condition).toEqual({ DateLessThan: { 'aws:CurrentTime': '2026-11-21T12:00:00Z' } });
    expect(second?.Condition).toEqual({ DateLessThan: { 'aws:CurrentTime': '2026-11-21T13:00:00.000Z' } });
  });

  it('reads several own end times as alternatives: the latest of them is compared', () => {
    const statement: IamStatement = {
      ...READ,
      Condition: { DateLessThan: { 'aws:CurrentTime': ['2026-11-21T10:00:00Z', '2026-11-22T10:00:00Z'] } },
    };

    const [result] = timeBoundDocument([statement], EXPIRES).Statement;

    expect(result?.Condition?.DateLessThan).toEqual({ 'aws:CurrentTime': '2026-11-21T13:00:00.000Z' });
  });

  it('refuses what it cannot merge safely', () => {
    const ownUserId: IamStatement = {
      ...READ,
      Condition: { StringEqualsIgnoreCase: { 'aws:sourceidentity': 'someone@example.com' } },
    };
    const notADate: IamStatement = { ...READ, Condition: { DateLessThan: { 'aws:CurrentTime': 'soon' } } };

    expect(() => timeBoundDocument([ownUserId], EXPIRES, 'dana.reyes@example.com')).toThrow(ValidationError);
    expect(() => timeBoundDocument([notADate], EXPIRES)).toThrow(ValidationError);
    // Not a source identity STS would accept (and, were the operator ever a Like, a wildcard).
    expect(() => timeBoundDocument([READ], EXPIRES, '*@example.com')).toThrow(ValidationError);
    expect(() => timeBoundDocument([READ], new Date(NaN))).toThrow(ValidationError);
  });
});

describe('the catalog’s size of a grant', () => {
  it('is never less than what the connector writes, so a grant the catalog accepts can be written', () => {
    const statements: IamStatement[] = [
      READ,
      {
        Sid: 'List',
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: 'arn:aws:s3:::logs',
        Condition: { StringLike: { 's3:prefix': 'incident/*' } },
      },
    ];
    const email = `${'a'.repeat(52)}@example.com`;
    expect(policySize(JSON.stringify(timeBoundDocument(statements, EXPIRES)))).toBe(
      inlineGrantSize(statements, 'user'),
    );
    expect(policySize(JSON.stringify(timeBoundDocument(statements, EXPIRES, email)))).toBeLessThanOrEqual(
      inlineGrantSize(statements, 'role'),
    );
  });
});

describe('companyPrincipalFor', () => {
  const principalFor = companyPrincipalFor('Example.com');

  it('maps a company email to the IAM user named by its local part, and a role grant to its role', () => {
    expect(
      principalFor('dana.reyes@EXAMPLE.com', {
        kind: 'aws-iam-policy',
        principalType: 'user',
        statements: [READ],
      }),
    ).toEqual({
      kind: 'user',
      name: 'dana.reyes',
    });
    expect(
      principalFor('dana.reyes@example.com', {
        kind: 'aws-iam-policy',
        principalType: 'role',
        roleName: 'prod-incident-operator',
        statements: [READ],
      }),
    ).toEqual({ kind: 'role', name: 'prod-incident-operator' });
  });

  it('gives anyone outside the domain no IAM user', () => {
    const action: IamPolicyAction = { kind: 'aws-iam-policy', principalType: 'user', statements: [READ] };

    expect(() => principalFor('dana.reyes@contractor.io', action)).toThrow(ValidationError);
    expect(() => principalFor('dana.reyes@example.com.evil.io', action)).toThrow(ValidationError);
    expect(() => principalFor('@example.com', action)).toThrow(ValidationError);
  });
});
