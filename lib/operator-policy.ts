// The managed policy an operator's AWS identity needs for the operator's commands
// (bin/operate.ts, bin/audit-export.ts, bin/html-report.ts): read the table and
// its indexes; write the steps an operator's revoke or cancel records (the
// store writes each step, its audit event and its follow-ups in one
// TransactWriteItems of Puts); queue the revoke and the follow-ups; read IAM
// inline policies and attachments back for `grants --verify`. Nothing here
// changes access: removing it stays the revoke function's. STS
// GetCallerIdentity needs no permission.

import { Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { INDEXES } from '../lambdas/connectors/dynamodb/schema';
import {
  type CatalogPrincipals,
  identityCenterReadStatements,
  identityStoreAcknowledgements,
} from './iam-access';

export function operatorPolicy(
  scope: Construct,
  props: {
    stage: string;
    table: ITableV2;
    revokeQueue: IQueue;
    decideQueue: IQueue;
    principals: CatalogPrincipals;
  },
): ManagedPolicy {
  const { table } = props;
  const stack = Stack.of(scope);
  const iamArn = (resource: 'user' | 'role') =>
    stack.formatArn({ service: 'iam', region: '', resource, resourceName: '*' });
  const policy = new ManagedPolicy(scope, 'OperatorPolicy', {
    description: `loopgate ${props.stage}: the operator's commands (requests, show, grants --verify, revoke, cancel, audit export, report)`,
    statements: [
      new PolicyStatement({
        sid: 'ReadRequests',
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
        // Each index by name: the commands page through them and never scan.
        resources: [
          table.tableArn,
          ...Object.values(INDEXES).map((index) => `${table.tableArn}/index/${index.name}`),
        ],
      }),
      new PolicyStatement({
        sid: 'RecordOperatorSteps',
        actions: ['dynamodb:PutItem'],
        resources: [table.tableArn],
      }),
      new PolicyStatement({
        sid: 'QueueRevokeAndFollowUps',
        actions: ['sqs:SendMessage'],
        resources: [props.revokeQueue.queueArn, props.decideQueue.queueArn],
      }),
      new PolicyStatement({
        sid: 'VerifyIamGrants',
        actions: ['iam:GetUserPolicy', 'iam:GetRolePolicy', 'iam:ListAttachedUserPolicies'],
        resources: [iamArn('user'), iamArn('role')],
      }),
      ...identityCenterReadStatements(props.principals),
    ],
  });
  Validations.of(policy).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]',
      reason:
        "grants --verify reads back the inline policies and attachments of any requester's IAM user; read-only actions, and any employee may hold a grant.",
    },
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]',
      reason:
        'grants --verify reads back the loopgate- inline policies on the roles grants name; read-only actions (GetRolePolicy), no change to any role.',
    },
    ...identityStoreAcknowledgements(props.principals),
  );
  return policy;
}
