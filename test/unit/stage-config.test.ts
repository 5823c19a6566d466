import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '../../lib/stage-config';
import { exampleStage } from '../cdk/support';

describe('stage configuration: okta.identity', () => {
  it('is empty unless set: people are then found by the email Jira and PagerDuty hold', () => {
    expect(parseStageConfig(exampleStage()).okta.identity).toEqual({});
  });

  it('takes the Okta attributes that map Atlassian account ids and PagerDuty user ids', () => {
    const stage = exampleStage();
    const okta = stage.okta as Record<string, unknown>;
    okta.identity = {
      jiraAccountIdAttribute: 'atlassianAccountId',
      pagerDutyUserIdAttribute: 'pagerDutyUserId',
    };
    expect(parseStageConfig(stage).okta.identity).toEqual(okta.identity);
  });

  it('names the key of an attribute that is not an Okta attribute name, or a key it does not know', () => {
    const stage = exampleStage();
    (stage.okta as Record<string, unknown>).identity = { jiraAccountIdAttribute: 'profile.x or y' };
    expect(() => parseStageConfig(stage)).toThrow(/okta\.identity\.jiraAccountIdAttribute/);
    (stage.okta as Record<string, unknown>).identity = { jiraEmailAttribute: 'x' };
    expect(() => parseStageConfig(stage)).toThrow(/okta\.identity/);
  });
});
