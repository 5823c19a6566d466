// What every function's wiring shares: the request store and the AWS client settings.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../connectors/aws-client';
import { DynamoRequestStore } from '../connectors/dynamodb/request-store';
import { createJiraClient } from '../connectors/jira/client';
import { SqsWorkQueue } from '../connectors/sqs/work-queue';
import { type Clock, type QueueName, systemClock } from '../core/ports';
import type { CommonSettings, JiraApiSettings } from '../platform/env';

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
