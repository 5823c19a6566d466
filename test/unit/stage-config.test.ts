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

describe('stage configuration: reservedConcurrency', () => {
  it('defaults to 10 per webhook, 5 for revoke and 2 for the sweeper; a partial object fills in the rest', () => {
    expect(parseStageConfig(exampleStage()).reservedConcurrency).toEqual({
      webhooks: 10,
      revoke: 5,
      sweeper: 2,
    });
    expect(
      parseStageConfig({ ...exampleStage(), reservedConcurrency: { revoke: 8 } }).reservedConcurrency,
    ).toEqual({ webhooks: 10, revoke: 8, sweeper: 2 });
  });

  it('is switched off with false, for an account whose concurrency limit leaves no room', () => {
    expect(parseStageConfig({ ...exampleStage(), reservedConcurrency: false }).reservedConcurrency).toBe(
      false,
    );
  });

  it('names what is wrong: anything but false or the object, too little for revoke, an unknown key', () => {
    const check = (value: unknown) => () =>
      parseStageConfig({ ...exampleStage(), reservedConcurrency: value });
    expect(check(true)).toThrow(
      'loopgate.reservedConcurrency: must be false or an object of webhooks, revoke and sweeper (each a whole number)',
    );
    expect(check({ revoke: 2 })).toThrow(
      'loopgate.reservedConcurrency.revoke: must be at least 3: 2 for its queue, 1 for the expiry schedules',
    );
    expect(check({ webhook: 3 })).toThrow('loopgate.reservedConcurrency.webhook: unknown key');
  });
});

describe('stage configuration: revokeUncataloged', () => {
  it('revokes grants of entitlements no longer in the catalog at their expiry unless set to at-once', () => {
    expect(parseStageConfig(exampleStage()).revokeUncataloged).toBe('at-expiry');
    expect(parseStageConfig({ ...exampleStage(), revokeUncataloged: 'at-once' }).revokeUncataloged).toBe(
      'at-once',
    );
    expect(() => parseStageConfig({ ...exampleStage(), revokeUncataloged: 'never' })).toThrow(
      /loopgate\.revokeUncataloged/,
    );
  });
});

describe('stage config: slack', () => {
  it('may be switched off, with nothing else to set; channels belong to history only', () => {
    expect(parseStageConfig({ ...exampleStage(), slack: { mode: 'off' } }).slack).toEqual({ mode: 'off' });
    expect(() => parseStageConfig({ ...exampleStage(), slack: { mode: 'off', channels: ['C1'] } })).toThrow(
      /slack/,
    );
  });
});
