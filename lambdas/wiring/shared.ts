// What every function's wiring shares: the request store and the AWS client settings.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../connectors/aws-client';
import { DynamoRequestStore } from '../connectors/dynamodb/request-store';
import { createJiraClient } from '../connectors/jira/client';
import { SqsWorkQueue } from '../connectors/sqs/work-queue';
import type { Catalog } from '../core/catalog';
import { type Clock, type QueueName, systemClock } from '../core/ports';
import type { CommonSettings, FunctionSettings, JiraApiSettings } from '../platform/env';
import { lifecycleMetrics } from '../platform/lifecycle-metrics';
import { MetricsWriter } from '../platform/metrics';

/** Credentials only in the sandbox; on AWS the SDK takes the function role's. */
export function awsCredentials(settings: CommonSettings) {
  return settings.sandboxAwsCredentials ? { credentials: settings.sandboxAwsCredentials } : {};
}

export function dynamoDocumentClient(settings: CommonSettings, timeoutMs = 3000): DynamoDBDocumentClient {
  const client = new DynamoDBClient(
    awsClientConfig({
      ...(settings.dynamoDbEndpoint ? { endpoint: settings.dynamoDbEndpoint, region: 'local' } : {}),
      ...awsCredentials(settings),
      timeoutMs,
      maxAttempts: 3,
    }),
  );
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function requestStore(
  settings: CommonSettings,
  timeoutMs = 3000,
  clock: Clock = systemClock,
  client: DynamoDBDocumentClient = dynamoDocumentClient(settings, timeoutMs),
): DynamoRequestStore {
  return new DynamoRequestStore({ client, tableName: settings.tableName, clock });
}

/**
 * The request store a function writes through: every lifecycle step it records is counted and
 * timed (platform/lifecycle-metrics.ts), per entitlement when the catalog has the entitlement.
 */
export function functionRequestStore(
  config: FunctionSettings,
  service: string,
  catalog: Catalog,
  options: WireOptions,
  timeoutMs = 3000,
  client: DynamoDBDocumentClient = dynamoDocumentClient(config, timeoutMs),
): DynamoRequestStore {
  const catalogIds = new Set(catalog.entitlements.map((e) => e.id));
  return new DynamoRequestStore({
    client,
    tableName: config.tableName,
    clock: clockOf(options),
    onStep: lifecycleMetrics(metricsWriter(config, service, options), catalogIds),
  });
}

/** A function's CloudWatch metrics (EMF lines on its log, whatever the log level), with its stage. */
export function metricsWriter(
  config: FunctionSettings,
  service: string,
  options: WireOptions,
): MetricsWriter {
  return new MetricsWriter({
    stage: config.stage,
    service,
    ...(options.log ? { write: options.log } : {}),
    now: () => clockOf(options).now(),
  });
}

export interface WireOptions {
  /** Where log lines go; stdout (CloudWatch) unless the sandbox redirects them. */
  log?: (line: string) => void;
  /** The time the function runs on: the system clock, or the sandbox's, which tests move forward. */
  clock?: Clock;
}

export const clockOf = (options: WireOptions): Clock => options.clock ?? systemClock;

/** The queues a function sends to, on SQS (the sandbox's when `sqsEndpoint` is set). */
export function sqsWorkQueue(
  config: CommonSettings & { region: string; sqsEndpoint?: string },
  timeoutMs: number,
  queueUrls: Partial<Record<QueueName, string>>,
): SqsWorkQueue {
  const client = new SQSClient(
    awsClientConfig({
      region: config.region,
      ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}),
      ...awsCredentials(config),
      timeoutMs,
      maxAttempts: 3,
    }),
  );
  return new SqsWorkQueue(client, queueUrls);
}

/** The Jira REST client, as the account loopgate comments as. */
export function jiraClient(jira: JiraApiSettings, timeoutMs: number) {
  return createJiraClient({ host: jira.baseUrl, email: jira.email, apiToken: jira.apiToken, timeoutMs });
}
