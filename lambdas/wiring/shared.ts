// What every function's wiring shares: the request store and the AWS client settings.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRequestStore } from '../connectors/dynamodb/request-store';
import { type Clock, systemClock } from '../core/ports';
import type { CommonSettings } from '../platform/env';

/** Per-attempt limits for AWS calls; without throwOnRequestTimeout a slow answer only logs a warning. */
export function awsTimeouts(timeoutMs: number) {
  return {
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
  };
}

/** Credentials only in the sandbox; on AWS the SDK takes the function role's. */
export function awsCredentials(settings: CommonSettings) {
  return settings.sandboxAwsCredentials ? { credentials: settings.sandboxAwsCredentials } : {};
}

export function requestStore(
  settings: CommonSettings,
  timeoutMs = 3000,
  clock: Clock = systemClock,
): DynamoRequestStore {
  const client = new DynamoDBClient({
    ...awsTimeouts(timeoutMs),
    ...(settings.dynamoDbEndpoint ? { endpoint: settings.dynamoDbEndpoint, region: 'local' } : {}),
    ...awsCredentials(settings),
    maxAttempts: 3,
  });
  return new DynamoRequestStore({
    client: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName: settings.tableName,
    clock,
  });
}

export interface WireOptions {
  /** Where log lines go; stdout (CloudWatch) unless the sandbox redirects them. */
  log?: (line: string) => void;
  /** The time the function runs on: the system clock, or the sandbox's, which tests move forward. */
  clock?: Clock;
}

export const clockOf = (options: WireOptions): Clock => options.clock ?? systemClock;
