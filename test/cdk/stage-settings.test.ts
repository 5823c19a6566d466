// Every setting the functions read has a stage configuration key, and each key
// reaches its function: set in the stage, written into the function's
// environment by the stack, and read back by the function's own reader
// (lambdas/platform/env.ts) as the value the stage gave. Templates without
// bundling: the code is not under test here.

import type { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  Env,
  readCommonSettings,
  readDecideConfig,
  readIntakeConfig,
  readPagerDutyWebhookConfig,
  readProvisionConfig,
  readTriageConfig,
} from '../../lambdas/platform/env';
import { readSecretSettings } from '../../lambdas/platform/secrets';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../../lib/functions';
import { INTEGRATION_SECRETS } from '../../lib/integration-secrets';
import { buildApp } from '../../lib/loopgate-app';
import { cdkContext, exampleStage } from './support';

type Json = Record<string, unknown>;
const REGION = 'eu-west-1';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/queue';

describe('every setting the functions read is a stage key, and reaches them', () => {
  // Prepare: every tuning key set away from its default.
  const tuned = buildApp({
    context: cdkContext({
      ...exampleStage(),
      logLevel: 'warn',
      model: {
        name: 'gpt-4.1-mini',
        timeoutMs: 15_000,
        temperature: 0.3,
        maxOutputTokens: 1200,
        tokenLimitParameter: 'max_tokens',
        maxRetries: 1,
      },
      triage: { sourceTimeoutMs: 2000, budgetMs: 9000, tokenBudget: 4000 },
      timeouts: { jiraWebhookCallMs: 2500, pagerdutyWebhookCallMs: 1000, callMs: 4000, secretsMs: 2000 },
    }),
  });
  const functions = Template.fromStack(tuned.appStack).findResources('AWS::Lambda::Function');
  /** What the function's reader makes of its variables (secrets' keys filled in, as Lambda's loader would). */
  const readAs = <T>(name: FunctionName, reader: (env: Env) => T): T => {
    const fn =
      functions[
        tuned.appStack.getLogicalId(tuned.appStack.functions[name].function.node.defaultChild as CfnResource)
      ];
    const variables = (fn?.Properties.Environment as { Variables: Json }).Variables;
    const env: Record<string, string> = { AWS_REGION: REGION, LOOPGATE_MODEL_API_KEY: 'k' };
    for (const [key, value] of Object.entries(variables)) {
      // CloudFormation's values stood in for by plausible ones: only the settings are under test.
      env[key] =
        typeof value === 'string'
          ? value
          : key.endsWith('_QUEUE_URL')
            ? QUEUE_URL
            : key === 'LOOPGATE_SECRET_ARNS'
              ? FUNCTIONS[name].secrets.map((secret) => `${secret}=${SECRET_ARN}${secret}`).join(',')
              : 'cfn-value';
    }
    for (const secret of FUNCTIONS[name].secrets) {
      for (const key of Object.keys(INTEGRATION_SECRETS[secret].keys)) env[key] ??= `value of ${key}`;
    }
    return reader(new Env(env));
  };

  it('model: temperature, max output tokens, token-limit parameter, retries and timeout reach triage', () => {
    expect(readAs('triage', readTriageConfig).model).toMatchObject({
      model: 'gpt-4.1-mini',
      temperature: 0.3,
      maxOutputTokens: 1200,
      tokenLimitParameter: 'max_tokens',
      maxRetries: 1,
      budgetMs: 15_000,
    });
  });

  it("triage: the per-source timeout, the gathering's budget and the token budget reach triage", () => {
    expect(readAs('triage', readTriageConfig)).toMatchObject({
      sourceTimeoutMs: 2000,
      budgetMs: 9000,
      tokenBudget: 4000,
    });
  });

  it('timeouts: each function gets its own per-call timeout, and every function the secrets timeout', () => {
    expect(readAs('jira-webhook', readIntakeConfig).timeoutMs).toBe(2500);
    expect(readAs('pagerduty-webhook', readPagerDutyWebhookConfig).timeoutMs).toBe(1000);
    expect(readAs('decide', readDecideConfig).timeoutMs).toBe(4000);
    for (const name of ['provision', 'revoke', 'sweeper'] as const) {
      expect(readAs(name, readProvisionConfig).timeoutMs).toBe(4000);
    }
    for (const name of FUNCTION_NAMES) expect(readAs(name, readSecretSettings)?.timeoutMs).toBe(2000);
  });

  it('logLevel reaches every function', () => {
    for (const name of FUNCTION_NAMES) expect(readAs(name, readCommonSettings).logLevel).toBe('warn');
  });

  it('refuses values out of range, naming the key', () => {
    const synth = (stage: Json) => () => buildApp({ context: cdkContext({ ...exampleStage(), ...stage }) });
    expect(synth({ model: { temperature: 3 } })).toThrow('loopgate.model.temperature');
    expect(synth({ timeouts: { pagerdutyWebhookCallMs: 5000 } })).toThrow(
      'loopgate.timeouts.pagerdutyWebhookCallMs',
    );
    expect(synth({ triage: { sourceTimeoutMs: 9000, budgetMs: 5000 } })).toThrow(
      'sourceTimeoutMs must not exceed budgetMs',
    );
  });
});
