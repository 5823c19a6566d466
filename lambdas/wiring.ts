// Builds the real dependencies of each function from its configuration, once
// per cold start. Handlers never construct clients; the sandbox calls the same
// builders with its own configuration, so the same code runs locally and on AWS.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { encode } from 'gpt-tokenizer';
import { createIamClient } from './connectors/aws-iam/client';
import { IamCloudAccess } from './connectors/aws-iam/cloud-access';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createJiraClient } from './connectors/jira/client';
import { JiraTracker } from './connectors/jira/tracker';
import { DynamoRequestStore } from './connectors/dynamodb/request-store';
import { createOktaClient, OktaDirectory } from './connectors/okta';
import { createPagerDutyClient } from './connectors/pagerduty/client';
import { PagerDutyOnCall } from './connectors/pagerduty/on-call';
import { SlackChatSearch } from './connectors/slack/chat-search';
import { createSlackClient } from './connectors/slack/client';
import { SqsWorkQueue } from './connectors/sqs/work-queue';
import type { IntakeDeps } from './core/intake/intake';
import { systemClock } from './core/ports';
import { chunkPolicy } from './core/triage';
import type { TriageDeps, TriageSettings } from './core/triage/triage';
import { type JiraWebhookSettings, MAX_JIRA_BODY_BYTES } from './handlers/jira-webhook';
import { loadCatalogFile } from './platform/catalog-file';
import type { CommonSettings, IntakeConfig, TriageConfig } from './platform/env';
import { Logger } from './platform/logger';

/** Per-attempt limits for AWS calls; without throwOnRequestTimeout a slow answer only logs a warning. */
function awsTimeouts(timeoutMs: number) {
  return {
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  };
}

/** Credentials only in the sandbox; on AWS the SDK takes the function role's. */
function awsCredentials(settings: CommonSettings) {
  return settings.sandboxAwsCredentials ? { credentials: settings.sandboxAwsCredentials } : {};
}

export function requestStore(settings: CommonSettings, timeoutMs = 3000): DynamoRequestStore {
  const client = new DynamoDBClient({
    ...awsTimeouts(timeoutMs),
    ...(settings.dynamoDbEndpoint ? { endpoint: settings.dynamoDbEndpoint, region: 'local' } : {}),
    ...awsCredentials(settings),
    maxAttempts: 3,
  });
  return new DynamoRequestStore({
    client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName: settings.tableName,
  });
}

export interface WireOptions {
  /** Where log lines go; stdout (CloudWatch) unless the sandbox redirects them. */
  log?: (line: string) => void;
}

export function wireIntake(
  config: IntakeConfig,
  options: WireOptions = {},
): { deps: IntakeDeps; settings: JiraWebhookSettings; logger: Logger } {
  const jira = createJiraClient({
    host: config.jira.baseUrl,
    email: config.jira.email,
    apiToken: config.jira.apiToken,
    timeoutMs: config.timeoutMs,
  });
  const okta = createOktaClient({
    orgUrl: config.okta.orgUrl,
    token: config.okta.token,
    timeoutMs: config.timeoutMs,
    maxRetries: 1,
  });
  const sqs = new SQSClient({
    region: config.region,
    ...awsTimeouts(config.timeoutMs),
    ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}),
    ...awsCredentials(config),
    maxAttempts: 3,
  });
  return {
    deps: {
      store: requestStore(config, config.timeoutMs),
      tracker: new JiraTracker(jira),
      directory: new OktaDirectory({ client: okta, maxSignIns: 50 }),
      queue: new SqsWorkQueue(sqs, { triage: config.triageQueueUrl }),
      catalog: loadCatalogFile(config.catalogFile),
      clock: systemClock,
    },
    settings: {
      secrets: config.jira.webhookSecrets,
      ...(config.jira.automation ? { automation: config.jira.automation } : {}),
      projects: config.jira.projects,
      issueTypes: config.jira.issueTypes,
      fields: config.jira.fields,
      maxBodyBytes: MAX_JIRA_BODY_BYTES,
    },
    logger: new Logger({
      service: 'jira-webhook',
      level: config.logLevel,
      ...(options.log ? { write: options.log } : {}),
    }),
  };
}

/** The written policy: every Markdown file of the folder, chunked for retrieval. */
function loadPolicy(dir: string) {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => ({ path: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));
  return chunkPolicy(files);
}

export function wireTriage(
  config: TriageConfig,
  options: WireOptions = {},
): { deps: TriageDeps; settings: TriageSettings; logger: Logger } {
  const { sourceTimeoutMs: timeoutMs } = config;
  const okta = createOktaClient({
    orgUrl: config.okta.orgUrl,
    token: config.okta.token,
    timeoutMs,
    maxRetries: 1,
  });
  const iam = createIamClient({
    region: config.region,
    ...(config.iamEndpoint ? { endpoint: config.iamEndpoint } : {}),
    ...(config.sandboxAwsCredentials ? { credentials: config.sandboxAwsCredentials } : {}),
    timeoutMs,
    maxAttempts: 2,
  });
  const slack = createSlackClient({
    token: config.slack.token,
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    timeoutMs,
    retries: 1,
  });
  const pagerDuty = createPagerDutyClient({
    token: config.pagerduty.token,
    ...(config.pagerduty.baseUrl ? { baseUrl: config.pagerduty.baseUrl } : {}),
    timeoutMs,
  });
  return {
    deps: {
      store: requestStore(config),
      directory: new OktaDirectory({ client: okta, maxSignIns: 100 }),
      cloud: new IamCloudAccess({
        client: iam,
        lastAccessedWaitMs: Math.floor(timeoutMs / 2),
        pollIntervalMs: 250,
      }),
      chat: new SlackChatSearch(
        config.slack.mode === 'history'
          ? { client: slack, maxMessages: 20, mode: 'history', channelIds: config.slack.channelIds }
          : { client: slack, maxMessages: 20, mode: 'search' },
      ),
      onCall: new PagerDutyOnCall(pagerDuty),
      clock: systemClock,
      catalog: loadCatalogFile(config.catalogFile),
      policyChunks: loadPolicy(config.policyDir),
      countTokens: (text) => encode(text).length,
    },
    settings: {
      gather: {
        perSourceTimeoutMs: timeoutMs,
        budgetMs: config.budgetMs,
        // IAM users are named by the local part of the requester's email (dana.reyes@example.com → dana.reyes).
        iamPrincipalFor: (email) => {
          const local = email.split('@')[0];
          return local ? { kind: 'user', name: local } : undefined;
        },
      },
      tokenBudget: config.tokenBudget,
      links: { jiraBaseUrl: config.jiraBaseUrl },
    },
    logger: new Logger({
      service: 'triage',
      level: config.logLevel,
      ...(options.log ? { write: options.log } : {}),
    }),
  };
}
