// Builds the real dependencies of each function from its configuration, once
// per cold start. Handlers never construct clients; the sandbox calls the same
// builders with its own configuration, so the same code runs locally and on AWS.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createJiraClient } from './connectors/jira/client';
import { JiraTracker } from './connectors/jira/tracker';
import { DynamoRequestStore } from './connectors/dynamodb/request-store';
import { createOktaClient, OktaDirectory } from './connectors/okta';
import { SqsWorkQueue } from './connectors/sqs/work-queue';
import type { IntakeDeps } from './core/intake/intake';
import { type JiraWebhookSettings, MAX_JIRA_BODY_BYTES } from './handlers/jira-webhook';
import { loadCatalogFile } from './platform/catalog-file';
import type { CommonSettings, IntakeConfig } from './platform/env';
import { Logger } from './platform/logger';

/** Credentials only in the sandbox; on AWS the SDK takes the function role's. */
function awsCredentials(settings: CommonSettings) {
  return settings.sandboxAwsCredentials ? { credentials: settings.sandboxAwsCredentials } : {};
}

export function requestStore(settings: CommonSettings): DynamoRequestStore {
  const client = new DynamoDBClient({
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
  const sqs = new SQSClient({ region: config.region, ...awsCredentials(config), maxAttempts: 3 });
  return {
    deps: {
      store: requestStore(config),
      tracker: new JiraTracker(jira),
      directory: new OktaDirectory({ client: okta, maxSignIns: 50 }),
      queue: new SqsWorkQueue(sqs, { triage: config.triageQueueUrl }),
      catalog: loadCatalogFile(config.catalogFile),
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
