// Stateful resources live apart from the functions so that a bad deploy of code
// can never replace or delete the data: today, the request and audit table.

import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { INDEXES, TABLE } from '../lambdas/connectors/dynamodb/schema';

export class StatefulStack extends Stack {
  readonly table: TableV2;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.table = new TableV2(this, 'Requests', {
      // No fixed name: CloudFormation names it, functions get it from their environment.
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      // Audit data: recoverable to any second of the last 35 days, undeletable by a stack update.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // An AWS managed KMS key puts every use of the key in CloudTrail, at no key cost.
      encryption: TableEncryptionV2.awsManagedKey(),
      timeToLiveAttribute: TABLE.ttlAttribute,
      globalSecondaryIndexes: Object.values(INDEXES).map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        ...(index.sortKey ? { sortKey: { name: index.sortKey, type: AttributeType.STRING } } : {}),
      })),
    });
  }
}
