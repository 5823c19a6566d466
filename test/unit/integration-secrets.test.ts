// The one definition of which keys each integration secret may set: the
// cold-start loader refuses any other, so the definitions must not overlap.

import { describe, expect, it } from 'vitest';
import {
  INTEGRATION_SECRETS,
  SECRET_IDS,
  secretKeys,
  secretOwning,
} from '../../lambdas/platform/integration-secrets';

describe('integration secrets', () => {
  it('gives every key to exactly one secret, and every key is a LOOPGATE_* variable', () => {
    const keys = SECRET_IDS.flatMap(secretKeys);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).toMatch(/^LOOPGATE_[A-Z0-9_]+$/);
    for (const id of SECRET_IDS) for (const key of secretKeys(id)) expect(secretOwning(key)).toBe(id);
  });

  it("owns no plain setting: a vendor's base URL is never a secret's key", () => {
    for (const key of ['LOOPGATE_JIRA_BASE_URL', 'LOOPGATE_OKTA_ORG_URL', 'LOOPGATE_PAGERDUTY_BASE_URL']) {
      expect(secretOwning(key)).toBeUndefined();
    }
  });

  it('counts optional keys as the secret’s own', () => {
    expect(secretKeys('jiraWebhook')).toEqual(
      Object.keys({
        ...INTEGRATION_SECRETS.jiraWebhook.keys,
        ...INTEGRATION_SECRETS.jiraWebhook.optionalKeys,
      }),
    );
    expect(secretKeys('model')).toEqual(['LOOPGATE_MODEL_API_KEY']);
  });
});
