// A fresh, uniquely named table in the shared DynamoDB Local for one test file.

import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { createTableInput } from '../../lambdas/connectors/dynamodb/create-table';
import { localClientConfig } from '../../sandbox/dynamodb-local';

export interface TestTable {
  tableName: string;
  client: DynamoDBDocumentClient;
  drop(): Promise<void>;
}

export async function createTestTable(): Promise<TestTable> {
  const base = new DynamoDBClient(localClientConfig(inject('dynamoDbEndpoint')));
  const client = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = `loopgate-test-${randomUUID()}`;
  await base.send(new CreateTableCommand(createTableInput(tableName)));
  return {
    tableName,
    client,
    async drop() {
      await base.send(new DeleteTableCommand({ TableName: tableName }));
      base.destroy();
    },
  };
}
