import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/core/errors';
import {
  CollectingEnv,
  Env,
  readCommonSettings,
  readFunctionSettings,
  readIntakeConfig,
  readModelSettings,
} from '../../lambdas/platform/env';

describe('Env', () => {
  it('reads a present value, trimmed', () => {
    expect(new Env({ NAME: '  loopgate ' }).string('NAME')).toBe('loopgate');
  });

  it.each([{}, { NAME: '' }, { NAME: '   ' }])('names a missing variable (%j)', (source) => {
    expect(() => new Env(source).string('NAME')).toThrow(
      new ConfigurationError('environment variable NAME is required'),
    );
  });

  it('checks URLs, whole numbers and allowed values, quoting what it got', () => {
    const env = new Env({ URL: 'not a url', COUNT: '1.5', ZERO: '0', LEVEL: 'loud' });
    expect(() => env.url('URL')).toThrow('environment variable URL must be a URL, got "not a url"');
    expect(() => env.positiveInt('COUNT')).toThrow(
      'environment variable COUNT must be a positive whole number, got "1.5"',
    );
    expect(() => env.positiveInt('ZERO')).toThrow('must be a positive whole number, got "0"');
    expect(() => env.oneOf('LEVEL', ['debug', 'info'])).toThrow('must be one of debug, info, got "loud"');
  });

  it('reads optional values as undefined when absent', () => {
    const env = new Env({});
    expect(env.optionalString('X')).toBeUndefined();
    expect(env.optionalUrl('X')).toBeUndefined();
  });
});

describe('common settings', () => {
  it('reads the table, the log level and the local endpoint', () => {
    expect(
      readCommonSettings(
        new Env({
          LOOPGATE_TABLE_NAME: 'loopgate',
          LOG_LEVEL: 'debug',
          LOOPGATE_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
        }),
      ),
    ).toEqual({ tableName: 'loopgate', logLevel: 'debug', dynamoDbEndpoint: 'http://127.0.0.1:8000' });
  });

  it('defaults the log level to info and has no endpoint unless one is set', () => {
    expect(readCommonSettings(new Env({ LOOPGATE_TABLE_NAME: 't' }))).toEqual({
      tableName: 't',
      logLevel: 'info',
      dynamoDbEndpoint: undefined,
    });
  });

  it('fails without a table name rather than guessing one', () => {
    expect(() => readCommonSettings(new Env({}))).toThrow(
      'environment variable LOOPGATE_TABLE_NAME is required',
    );
  });
});

describe('function settings', () => {
  it('adds the stage, which names the dimension of every metric, to the common settings', () => {
    expect(readFunctionSettings(new Env({ LOOPGATE_TABLE_NAME: 't', LOOPGATE_STAGE: 'prod' }))).toEqual({
      tableName: 't',
      logLevel: 'info',
      dynamoDbEndpoint: undefined,
      stage: 'prod',
    });
  });

  it('fails without a stage, or with one that is no stage name, rather than emitting metrics of no stage', () => {
    expect(() => readFunctionSettings(new Env({ LOOPGATE_TABLE_NAME: 't' }))).toThrow(
      new ConfigurationError('environment variable LOOPGATE_STAGE is required'),
    );
    expect(() =>
      readFunctionSettings(new Env({ LOOPGATE_TABLE_NAME: 't', LOOPGATE_STAGE: 'Prod EU' })),
    ).toThrow(
      'environment variable LOOPGATE_STAGE must be a stage name (lower-case letters, digits and hyphens, at most 20), got "Prod EU"',
    );
  });
});

describe('intake configuration', () => {
  const complete = {
    LOOPGATE_STAGE: 'dev',
    LOOPGATE_TABLE_NAME: 'loopgate',
    LOOPGATE_CATALOG_FILE: 'config/catalog.yaml',
    AWS_REGION: 'eu-west-1',
    LOOPGATE_TRIAGE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/loopgate-triage',
    LOOPGATE_REVOKE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/loopgate-revoke',
    LOOPGATE_DECIDE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/loopgate-decide',
    LOOPGATE_JIRA_BASE_URL: 'https://example.atlassian.net',
    LOOPGATE_JIRA_EMAIL: 'loopgate@example.com',
    LOOPGATE_JIRA_API_TOKEN: 'token',
    LOOPGATE_JIRA_WEBHOOK_SECRETS: 'current, previous',
    LOOPGATE_JIRA_PROJECTS: 'ACCESS',
    LOOPGATE_JIRA_ISSUE_TYPES: 'Access Request',
    LOOPGATE_OKTA_ORG_URL: 'https://example.okta.com',
    LOOPGATE_OKTA_TOKEN: 'okta-token',
  };

  it('reads which statuses close a request: category done by default, categories checked against Jira’s keys', () => {
    expect(readIntakeConfig(new Env(complete)).jira.closing).toEqual({
      statusCategories: ['done'],
      statuses: [],
      adminAccountIds: [],
    });
    const configured = readIntakeConfig(
      new Env({
        ...complete,
        LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES: 'done, indeterminate',
        LOOPGATE_JIRA_CLOSING_STATUSES: 'Withdrawn,Won’t do',
        LOOPGATE_JIRA_ADMIN_ACCOUNT_IDS: '712020:admin-1',
      }),
    );
    expect(configured.jira.closing).toEqual({
      statusCategories: ['done', 'indeterminate'],
      statuses: ['Withdrawn', 'Won’t do'],
      adminAccountIds: ['712020:admin-1'],
    });
    expect(() =>
      readIntakeConfig(new Env({ ...complete, LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES: 'Done' })),
    ).toThrow(
      'LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES must list Jira status category keys (new, indeterminate, done), got "Done"',
    );
  });

  it('reads every setting, with two webhook secrets during a rotation', () => {
    const config = readIntakeConfig(
      new Env({ ...complete, LOOPGATE_JIRA_FIELD_DURATION: 'customfield_10051' }),
    );
    expect(config.jira).toMatchObject({
      baseUrl: 'https://example.atlassian.net',
      webhookSecrets: ['current', 'previous'],
      projects: ['ACCESS'],
      issueTypes: ['Access Request'],
      fields: { duration: 'customfield_10051' },
    });
    expect(config.jira.automation).toBeUndefined();
    expect(config.timeoutMs).toBe(3000);
  });

  it('names each missing variable', () => {
    for (const name of Object.keys(complete)) {
      const partial: Record<string, string> = { ...complete };
      delete partial[name];
      expect(() => readIntakeConfig(new Env(partial)), name).toThrow(
        `environment variable ${name} is required`,
      );
    }
  });

  it('refuses a list with no entries', () => {
    expect(() => readIntakeConfig(new Env({ ...complete, LOOPGATE_JIRA_PROJECTS: ' , ' }))).toThrow(
      'environment variable LOOPGATE_JIRA_PROJECTS must list at least one value',
    );
  });

  it('reads the Okta attributes that map Jira accounts and PagerDuty users, none by default', () => {
    expect(readIntakeConfig(new Env(complete)).identity).toEqual({});
    const config = readIntakeConfig(
      new Env({
        ...complete,
        LOOPGATE_OKTA_JIRA_ACCOUNT_ATTRIBUTE: 'atlassianAccountId',
        LOOPGATE_OKTA_PAGERDUTY_USER_ATTRIBUTE: 'pagerDutyUserId',
      }),
    );
    expect(config.identity).toEqual({
      jiraAccountAttribute: 'atlassianAccountId',
      pagerDutyUserAttribute: 'pagerDutyUserId',
    });
  });

  it('refuses an Okta attribute name that could change the search it goes into', () => {
    expect(() =>
      readIntakeConfig(
        new Env({ ...complete, LOOPGATE_OKTA_JIRA_ACCOUNT_ATTRIBUTE: 'login eq "x" or profile.a' }),
      ),
    ).toThrow('LOOPGATE_OKTA_JIRA_ACCOUNT_ATTRIBUTE must be an Okta profile attribute name');
  });

  it('refuses a third webhook secret, and an Automation header without its secret', () => {
    expect(() => readIntakeConfig(new Env({ ...complete, LOOPGATE_JIRA_WEBHOOK_SECRETS: 'a,b,c' }))).toThrow(
      'at most two secrets',
    );
    expect(() =>
      readIntakeConfig(new Env({ ...complete, LOOPGATE_JIRA_AUTOMATION_HEADER: 'x-loopgate-secret' })),
    ).toThrow('environment variable LOOPGATE_JIRA_AUTOMATION_SECRET is required');
  });
});

describe('the IAM user of a requester', () => {
  it('is the local part of a company email, and nobody else’s', async () => {
    const { iamUserOf } = await import('../../lambdas/wiring/triage');
    expect(iamUserOf('dana.reyes@example.com', 'example.com')).toEqual({ kind: 'user', name: 'dana.reyes' });
    expect(iamUserOf('Dana.Reyes@EXAMPLE.com', 'example.com')).toEqual({ kind: 'user', name: 'Dana.Reyes' });
    expect(iamUserOf('dana.reyes@contractor.io', 'example.com')).toBeUndefined();
    expect(iamUserOf('dana@example.com.evil.io', 'example.com')).toBeUndefined();
    expect(iamUserOf('@example.com', 'example.com')).toBeUndefined();
  });
});

describe('CollectingEnv', () => {
  it('notes every missing or invalid setting, once each, where Env stops at the first', () => {
    const source = {
      LOOPGATE_HTTP_TIMEOUT_MS: 'soon',
      LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES: 'done,later',
    };
    expect(() => readIntakeConfig(new Env(source))).toThrow(ConfigurationError);
    const env = new CollectingEnv(source);
    readIntakeConfig(env);
    readFunctionSettings(env);
    expect(env.problems).toEqual(
      expect.arrayContaining([
        // A secret's key says which secret should hold it.
        'environment variable LOOPGATE_JIRA_WEBHOOK_SECRETS is required (a key of the jiraWebhook secret, loopgate/<stage>/jira-webhook)',
        'environment variable LOOPGATE_STAGE is required',
        'environment variable LOOPGATE_TABLE_NAME is required',
        'environment variable LOOPGATE_HTTP_TIMEOUT_MS must be a positive whole number, got "soon"',
        'environment variable LOOPGATE_JIRA_BASE_URL is required',
        'environment variable LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES must list Jira status category keys (new, indeterminate, done), got "later"',
        'environment variable LOOPGATE_OKTA_TOKEN is required (a key of the okta secret, loopgate/<stage>/okta)',
      ]),
    );
    expect(new Set(env.problems).size).toBe(env.problems.length);
  });

  it('has nothing to say about complete settings', () => {
    const env = new CollectingEnv({ LOOPGATE_STAGE: 'dev', LOOPGATE_TABLE_NAME: 't' });
    expect(readFunctionSettings(env)).toMatchObject({ stage: 'dev', tableName: 't' });
    expect(env.problems).toEqual([]);
  });
});

describe('model settings', () => {
  it('runs without a model when no key is set, for openai and azure', () => {
    expect(readModelSettings(new Env({}))).toBeUndefined();
    expect(readModelSettings(new Env({ LOOPGATE_MODEL_PROVIDER: 'azure' }))).toBeUndefined();
  });

  it('reads Bedrock without a key: the model, and the region of the function unless another is named', () => {
    expect(
      readModelSettings(
        new Env({
          LOOPGATE_MODEL_PROVIDER: 'bedrock',
          LOOPGATE_MODEL: 'openai.gpt-oss-120b-1:0',
          AWS_REGION: 'eu-west-1',
        }),
      ),
    ).toMatchObject({ provider: 'bedrock', model: 'openai.gpt-oss-120b-1:0', region: 'eu-west-1' });
    const other = readModelSettings(
      new Env({
        LOOPGATE_MODEL_PROVIDER: 'bedrock',
        AWS_REGION: 'eu-west-1',
        LOOPGATE_MODEL_REGION: 'us-west-2',
      }),
    );
    expect(other).toMatchObject({ region: 'us-west-2' });
    expect(other).not.toHaveProperty('apiKey');
  });

  it('refuses a stored key with Bedrock, and an unknown provider', () => {
    expect(() =>
      readModelSettings(
        new Env({ LOOPGATE_MODEL_PROVIDER: 'bedrock', AWS_REGION: 'eu-west-1', LOOPGATE_MODEL_API_KEY: 'k' }),
      ),
    ).toThrow(/LOOPGATE_MODEL_API_KEY is set with LOOPGATE_MODEL_PROVIDER=bedrock/);
    expect(() =>
      readModelSettings(new Env({ LOOPGATE_MODEL_PROVIDER: 'vertex', LOOPGATE_MODEL_API_KEY: 'k' })),
    ).toThrow(/LOOPGATE_MODEL_PROVIDER/);
    expect(() => readModelSettings(new Env({ LOOPGATE_MODEL_PROVIDER: 'bedrock' }))).toThrow(/AWS_REGION/);
  });
});
