// Stateful resources live apart from the functions so that a bad deploy of code
// can never replace or delete the data: the request and audit table, and the
// secrets the operator filled by hand.

import { CfnOutput, RemovalPolicy, SecretValue, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { INDEXES, TABLE } from '../lambdas/connectors/dynamodb/schema';
import {
  INTEGRATION_SECRETS,
  SECRET_IDS,
  SECRET_PLACEHOLDER,
  type SecretId,
  secretName,
} from './integration-secrets';

export interface StatefulStackProps extends StackProps {
  /** Names the secrets `loopgate/<stage>/<integration>`. */
  stage: string;
  /**
   * `create` the secrets, or `adopt` the ones of the same names kept from an earlier deploy (they
   * are retained when the stack is deleted, and a name can be created only once).
   */
  secrets?: 'create' | 'adopt';
}

export class StatefulStack extends Stack {
  readonly table: TableV2;
  readonly secrets: Record<SecretId, ISecret>;
  /**
   * The ARN a role's policy names for each secret. An adopted secret is known by name only: its ARN
   * ends in six random characters the template cannot know, so the policy matches them.
   */
  readonly secretPolicyArns: Record<SecretId, string>;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
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

    new CfnOutput(this, 'TableName', {
      value: this.table.tableName,
      description: 'The request and audit table (LOOPGATE_TABLE_NAME for npm run report)',
    });

    const secrets = {} as Record<SecretId, ISecret>;
    const policyArns = {} as Record<SecretId, string>;
    for (const id of SECRET_IDS) {
      const spec = INTEGRATION_SECRETS[id];
      const keys = [
        ...Object.keys(spec.keys),
        ...Object.keys(spec.optionalKeys ?? {}).map((k) => `${k} (optional)`),
      ];
      const constructId = `${id[0]?.toUpperCase()}${id.slice(1)}Secret`;
      new CfnOutput(this, `${constructId}Name`, {
        value: secretName(props.stage, id),
        description: `Fill with ${keys.join(', ')}`,
      });
      if (props.secrets === 'adopt') {
        // Its ARN without the suffix (a partial ARN), which GetSecretValue accepts.
        const adopted = Secret.fromSecretNameV2(this, constructId, secretName(props.stage, id));
        secrets[id] = adopted;
        policyArns[id] = `${adopted.secretArn}-??????`;
        continue;
      }
      const secret = new Secret(this, constructId, {
        // A fixed name the operator can find; the keys are listed here because the value starts empty.
        secretName: secretName(props.stage, id),
        description: `loopgate: ${spec.description}. A JSON object with the keys ${keys.join(', ')}.`,
        // The placeholder holds nothing secret, so it may sit in the template (see SECRET_PLACEHOLDER).
        secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Vendor credentials (Jira, PagerDuty, Okta, Slack, model API keys, webhook signing secrets) are issued by the vendor and cannot be rotated by a rotation Lambda; they are rotated by hand as docs/setup.md describes (the webhook secrets accept "new,old" during a rotation).',
      });
      secrets[id] = secret;
      policyArns[id] = secret.secretArn;
    }
    this.secrets = secrets;
    this.secretPolicyArns = policyArns;
  }
}
