import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { createTableInput } from '../../lambdas/connectors/dynamodb/create-table';
import { INDEXES, TABLE } from '../../lambdas/connectors/dynamodb/schema';
import { CatalogError } from '../../lambdas/core/catalog';
import { buildApp } from '../../lib/loopgate-app';

describe('the stateful stack', () => {
  const { stateful } = buildApp();
  const template = Template.fromStack(stateful);

  it('has one table: on demand, recoverable, protected from deletion, encrypted, with the TTL attribute', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });

  it('has exactly the indexes the store queries, with the same keys the test tables use', () => {
    const [table] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
    const deployed = (table?.Properties.GlobalSecondaryIndexes ?? []).map(
      (i: { IndexName: string; KeySchema: unknown }) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema }),
    );
    const local = (createTableInput('t').GlobalSecondaryIndexes ?? []).map((i) => ({
      IndexName: i.IndexName,
      KeySchema: i.KeySchema,
    }));
    expect(deployed).toEqual(local);
    expect(deployed.map((i: { IndexName: string }) => i.IndexName)).toEqual(
      Object.values(INDEXES).map((i) => i.name),
    );
  });
});

describe('synth', () => {
  it('fails on a bad catalog, naming the file and the problem', () => {
    const file = 'test/fixtures/catalogs/duplicate-ids.yaml';
    expect(() => buildApp({ context: { catalog: file } })).toThrow(CatalogError);
    expect(() => buildApp({ context: { catalog: file } })).toThrow(
      `${file}:10:5 entitlements[1].id: duplicate id "okta-prod-readonly": entitlements[0] has it too`,
    );
  });
});
