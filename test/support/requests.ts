import type { AuditEntry, NewAccessRequest } from '../../lambdas/core/model';

let counter = 0;

/** A valid new request; each call gets its own Jira issue key unless one is given. */
export function newRequest(overrides: Partial<NewAccessRequest> = {}): NewAccessRequest {
  counter += 1;
  return {
    jiraIssueKey: `ACCESS-${counter}`,
    requester: { jiraAccountId: `acct-${counter}`, email: 'dana@example.com', displayName: 'Dana Reyes' },
    entitlementId: 'okta-prod-readonly',
    durationSeconds: 4 * 3600,
    justification: 'Investigating INC-4411 in production',
    breakGlass: false,
    ...overrides,
  };
}

export const systemActor = (id = 'test'): AuditEntry['actor'] => ({ kind: 'system', id });

export const auditBy = (reason: string): AuditEntry => ({ actor: systemActor(), reason });
