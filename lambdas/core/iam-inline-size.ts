// How many characters an inline IAM grant takes of its principal's quota, as
// the aws-iam connector writes it (the statements with the expiry condition
// and, on a role, the source-identity condition added), so that the catalog
// can refuse a grant that could never be written at all.

/**
 * IAM's quota on all inline policies of one principal together, white space not counted (IAM and
 * AWS STS quotas: "Inline policy size"). The connector reports the same numbers when IAM refuses.
 */
export const INLINE_POLICY_QUOTA = { user: 2048, role: 10240 } as const;

interface StatementLike {
  Condition?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** The longest email STS accepts as a source identity (64 characters), and an ISO expiry. */
const LONGEST_IDENTITY = 'x'.repeat(64);
const AN_EXPIRY = '2026-11-21T13:00:00.000Z';

/** An upper bound of the written document's size, white space not counted. */
export function inlineGrantSize(
  statements: readonly StatementLike[],
  principalType: 'user' | 'role',
): number {
  const written = statements.map((statement) => ({
    ...statement,
    Condition: {
      ...statement.Condition,
      DateLessThan: { ...statement.Condition?.DateLessThan, 'aws:CurrentTime': AN_EXPIRY },
      ...(principalType === 'role'
        ? {
            StringEqualsIgnoreCase: {
              ...statement.Condition?.StringEqualsIgnoreCase,
              'aws:SourceIdentity': LONGEST_IDENTITY,
            },
          }
        : {}),
    },
  }));
  return JSON.stringify({ Version: '2012-10-17', Statement: written }).replace(/\s/g, '').length;
}
