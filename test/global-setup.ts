// Starts DynamoDB Local once for the whole run; every test file makes its own table in it.

import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../sandbox/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal();
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  return () => dynamo.stop();
}
