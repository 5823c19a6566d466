// The functions and what connects them: two webhooks behind Function URLs
// (signatures are checked in code), three queues with dead-letter queues, the
// expiry schedule group, the sweeper's five-minute rule, and alarms on an
// encrypted topic. Every function gets its settings as env.ts reads them and
// may do only what its code calls.

import {
  Annotations,
  Aws,
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type Dashboard,
  type IMetric,
  Metric,
  TreatMissingData,
  Unit,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import {
  Effect,
  ManagedPolicy,
  PermissionsBoundary,
  Policy,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { INDEXES } from '../lambdas/connectors/dynamodb/schema';
import { SCHEDULE_PREFIX } from '../lambdas/connectors/scheduler/expiry-scheduler';
import type { Catalog } from '../lambdas/core/catalog';
import { MAX_DECIDE_ATTEMPTS } from '../lambdas/handlers/decide';
import { MAX_ATTEMPTS } from '../lambdas/handlers/provision';
import { METRIC_NAMESPACE, STAGE_DIMENSION } from '../lambdas/handlers/sweeper';
import { REVOKE_HEARTBEAT_METRIC, SWEEPER_HEARTBEAT_METRIC } from '../lambdas/platform/metrics';
import { REQUEST_REFUSED } from '../lambdas/platform/http-errors';
import {
  BUNDLED,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionName,
  functionNameOf,
  TASK_ROOT,
} from './functions';
import { createDashboard } from './dashboard';
import {
  catalogPrincipals,
  contextReadStatements,
  grantStatements,
  identityStoreAcknowledgements,
  revokeStatements,
} from './iam-access';
import { LoopgateFunction } from './loopgate-function';
import { operatorPolicy } from './operator-policy';
import type { StageConfig } from './stage-config';
import type { StatefulStack } from './stateful-stack';

export interface AppStackProps extends StackProps {
  config: StageConfig;
  catalog: Catalog;
  stateful: StatefulStack;
}

type QueueName = 'triage' | 'provision' | 'revoke' | 'decide';

/** Which queue feeds which function, and how often a message is tried before its DLQ. */
const QUEUES: Record<QueueName, { consumer: FunctionName; maxReceiveCount: number; batchSize: number }> = {
  // A source that is down is already an "unavailable" fact: repeated failures are an outage or a bug.
  // Five, not fewer: a throttled invocation counts as a receive too (AWS advises at least 5).
  triage: { consumer: 'triage', maxReceiveCount: 5, batchSize: 5 },
  // The handlers record FAILED on the last delivery the queue allows, so both must agree.
  provision: { consumer: 'provision', maxReceiveCount: MAX_ATTEMPTS, batchSize: 5 },
  revoke: { consumer: 'revoke', maxReceiveCount: MAX_ATTEMPTS, batchSize: 5 },
  // Verified PagerDuty events; five deliveries six minutes apart ride out a short vendor outage.
  decide: { consumer: 'decide', maxReceiveCount: MAX_DECIDE_ATTEMPTS, batchSize: 5 },
};

// AWS's advice for a queue feeding Lambda: at least six times the function's timeout.
const visibilitySecondsOf = (name: QueueName) => 6 * FUNCTIONS[QUEUES[name].consumer].timeoutSeconds;

/** Who sends to which queue (lambdas/wiring/*: the SqsWorkQueue each function builds). */
const SENDS: Record<FunctionName, QueueName[]> = {
  // The decide function delivers what a closed ticket or a Jira revoke tells people: the webhook holds no PagerDuty key.
  'jira-webhook': ['triage', 'revoke', 'decide'],
  // Its own queue too: a request waiting for its requester's Okta Verify push is looked at again.
  triage: ['provision', 'triage'],
  'pagerduty-webhook': ['decide'],
  // Its own queue too: an Okta Verify push is looked at again a little later.
  decide: ['provision', 'revoke', 'decide'],
  provision: [],
  revoke: [],
  sweeper: ['provision', 'triage'],
};

export class AppStack extends Stack {
  readonly functions: Record<FunctionName, LoopgateFunction>;
  readonly queues: Record<QueueName, { queue: Queue; dlq: Queue }>;
  readonly scheduleGroup: ScheduleGroup;
  readonly schedulerRole: Role;
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const { config, catalog, stateful } = props;
    const { stage } = config;

    if (config.permissionsBoundaryArn) {
      PermissionsBoundary.of(this).apply(
        ManagedPolicy.fromManagedPolicyArn(this, 'PermissionsBoundary', config.permissionsBoundaryArn),
      );
    }

    this.queues = {} as AppStack['queues'];
    for (const [name, spec] of Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][]) {
      const title = titleOf(name);
      const dlq = new Queue(this, `${title}DeadLetterQueue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      const queue = new Queue(this, `${title}Queue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(visibilitySecondsOf(name)),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
      });
      this.queues[name] = { queue, dlq };
    }

    this.scheduleGroup = new ScheduleGroup(this, 'ExpiryScheduleGroup', {
      scheduleGroupName: `loopgate-${stage}-expiry`,
      // Deleted with the stack, schedules and all: they only time revokes the table records, and
      // without the revoke function and this role they could not run anyway. After a new deploy
      // the sweeper revokes whatever is past its expiry. Retained, its fixed name would stop that deploy.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const revokeFunctionName = functionNameOf(stage, 'revoke');
    // Built from the name: the revoke function reads its own ARN, which GetAtt cannot give it.
    const revokeFunctionArn = this.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: revokeFunctionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.schedulerRole = new Role(this, 'ExpirySchedulerRole', {
      description: `loopgate ${stage}: EventBridge Scheduler invokes the revoke function at a grant's expiry`,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        // Only schedules of this account's loopgate group may use it (confused deputy).
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnEquals: { 'aws:SourceArn': this.scheduleGroup.scheduleGroupArn },
        },
      }),
    });
    this.schedulerRole.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [revokeFunctionArn] }),
    );

    // <secret id>=<ARN>: the loader lets each secret set only its own keys (integration-secrets.ts).
    const secretArns = (name: FunctionName) =>
      FUNCTIONS[name].secrets.map((secret) => `${secret}=${stateful.secrets[secret].secretArn}`).join(',');
    const queueUrl = (name: QueueName) => this.queues[name].queue.queueUrl;
    const common = (name: FunctionName): Record<string, string> => ({
      // The dimension of every metric: stages sharing an account must not fire each other's alarms.
      LOOPGATE_STAGE: stage,
      LOOPGATE_TABLE_NAME: stateful.table.tableName,
      LOOPGATE_CATALOG_FILE: `${TASK_ROOT}/${BUNDLED.catalog}`,
      LOOPGATE_SECRET_ARNS: secretArns(name),
      LOOPGATE_JIRA_BASE_URL: config.jira.baseUrl,
      LOOPGATE_OKTA_ORG_URL: config.okta.orgUrl,
      ...optional('LOOPGATE_SECRETS_TIMEOUT_MS', config.timeouts.secretsMs),
    });
    const callTimeout = optional('LOOPGATE_HTTP_TIMEOUT_MS', config.timeouts.callMs);
    const pagerDuty = {
      LOOPGATE_PAGERDUTY_FROM: config.pagerduty.from,
      ...optional('LOOPGATE_PAGERDUTY_BASE_URL', config.pagerduty.baseUrl),
    };
    const statuses = (...outcomes: (keyof StageConfig['jira']['statuses'])[]) =>
      Object.fromEntries(
        outcomes.flatMap((o) => {
          const status = config.jira.statuses[o];
          return status === undefined ? [] : [[`LOOPGATE_JIRA_STATUS_${o.toUpperCase()}`, status]];
        }),
      );
    const provisioning = (name: FunctionName) => ({
      ...common(name),
      ...pagerDuty,
      LOOPGATE_COMPANY_EMAIL_DOMAIN: config.companyEmailDomain,
      LOOPGATE_SCHEDULE_GROUP: this.scheduleGroup.scheduleGroupName,
      LOOPGATE_REVOKE_FUNCTION_ARN: revokeFunctionArn,
      LOOPGATE_SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      LOOPGATE_PROVISION_QUEUE_URL: queueUrl('provision'),
      LOOPGATE_TRIAGE_QUEUE_URL: queueUrl('triage'),
      ...callTimeout,
      // cancelled: the sweeper's, for a ticket nobody decided in time.
      ...statuses('granted', 'revoked', 'failed', 'cancelled'),
      // A shift-bound grant follows the requester's own PagerDuty users, mapped as decide maps authors.
      ...optional('LOOPGATE_OKTA_PAGERDUTY_USER_ATTRIBUTE', config.okta.identity.pagerDutyUserIdAttribute),
    });
    // Exactly what each reader of lambdas/platform/env.ts asks for.
    const environment: Record<FunctionName, Record<string, string>> = {
      'jira-webhook': {
        ...common('jira-webhook'),
        ...optional('LOOPGATE_HTTP_TIMEOUT_MS', config.timeouts.jiraWebhookCallMs),
        ...optional(
          'LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES',
          config.jira.closing.statusCategories.join(','),
        ),
        ...optional('LOOPGATE_JIRA_CLOSING_STATUSES', config.jira.closing.statuses.join(',') || undefined),
        ...optional(
          'LOOPGATE_JIRA_ADMIN_ACCOUNT_IDS',
          config.jira.closing.adminAccountIds.join(',') || undefined,
        ),
        LOOPGATE_TRIAGE_QUEUE_URL: queueUrl('triage'),
        LOOPGATE_REVOKE_QUEUE_URL: queueUrl('revoke'),
        LOOPGATE_DECIDE_QUEUE_URL: queueUrl('decide'),
        LOOPGATE_JIRA_PROJECTS: config.jira.projects.join(','),
        LOOPGATE_JIRA_ISSUE_TYPES: config.jira.issueTypes.join(','),
        ...optional('LOOPGATE_JIRA_FIELD_ENTITLEMENT', config.jira.fields.entitlement),
        ...optional('LOOPGATE_JIRA_FIELD_DURATION', config.jira.fields.duration),
        ...optional('LOOPGATE_JIRA_FIELD_JUSTIFICATION', config.jira.fields.justification),
        ...optional('LOOPGATE_BREAK_GLASS_LABEL', config.jira.breakGlass.label),
        ...optional('LOOPGATE_BREAK_GLASS_PRIORITY', config.jira.breakGlass.priority),
        ...optional('LOOPGATE_JIRA_AUTOMATION_HEADER', config.jira.automationHeader),
        ...optional('LOOPGATE_OKTA_JIRA_ACCOUNT_ATTRIBUTE', config.okta.identity.jiraAccountIdAttribute),
        ...optional('LOOPGATE_OKTA_PAGERDUTY_USER_ATTRIBUTE', config.okta.identity.pagerDutyUserIdAttribute),
      },
      triage: {
        ...common('triage'),
        ...pagerDuty,
        ...optional('LOOPGATE_OKTA_PAGERDUTY_USER_ATTRIBUTE', config.okta.identity.pagerDutyUserIdAttribute),
        LOOPGATE_PROMPT_DIR: `${TASK_ROOT}/${BUNDLED.promptDir}`,
        LOOPGATE_POLICY_DIR: `${TASK_ROOT}/${BUNDLED.policyDir}`,
        LOOPGATE_COMPANY_EMAIL_DOMAIN: config.companyEmailDomain,
        LOOPGATE_SLACK_MODE: config.slack.mode,
        ...(config.slack.mode === 'history'
          ? { LOOPGATE_SLACK_CHANNELS: config.slack.channels.join(',') }
          : {}),
        LOOPGATE_PROVISION_QUEUE_URL: queueUrl('provision'),
        LOOPGATE_TRIAGE_QUEUE_URL: queueUrl('triage'),
        ...optional('LOOPGATE_DECISION_TIMEOUT_MINUTES', config.decisionTimeoutMinutes),
        LOOPGATE_MODEL: config.model.name,
        LOOPGATE_MODEL_PROVIDER: config.model.provider,
        ...optional('LOOPGATE_MODEL_BASE_URL', config.model.baseUrl),
        ...optional('LOOPGATE_MODEL_API_VERSION', config.model.apiVersion),
        ...optional('LOOPGATE_MODEL_REGION', config.model.region),
        ...optional('LOOPGATE_MODEL_TIMEOUT_MS', config.model.timeoutMs),
        ...optional('LOOPGATE_MODEL_TEMPERATURE', config.model.temperature),
        ...optional('LOOPGATE_MODEL_MAX_OUTPUT_TOKENS', config.model.maxOutputTokens),
        ...optional('LOOPGATE_MODEL_TOKEN_LIMIT_PARAMETER', config.model.tokenLimitParameter),
        ...optional('LOOPGATE_MODEL_MAX_RETRIES', config.model.maxRetries),
        ...optional('LOOPGATE_TRIAGE_SOURCE_TIMEOUT_MS', config.triage.sourceTimeoutMs),
        ...optional('LOOPGATE_TRIAGE_BUDGET_MS', config.triage.budgetMs),
        ...optional('LOOPGATE_TRIAGE_TOKEN_BUDGET', config.triage.tokenBudget),
      },
      'pagerduty-webhook': {
        ...common('pagerduty-webhook'),
        ...optional('LOOPGATE_HTTP_TIMEOUT_MS', config.timeouts.pagerdutyWebhookCallMs),
        LOOPGATE_DECIDE_QUEUE_URL: queueUrl('decide'),
      },
      decide: {
        ...common('decide'),
        ...pagerDuty,
        ...callTimeout,
        LOOPGATE_PROVISION_QUEUE_URL: queueUrl('provision'),
        LOOPGATE_REVOKE_QUEUE_URL: queueUrl('revoke'),
        LOOPGATE_DECIDE_QUEUE_URL: queueUrl('decide'),
        LOOPGATE_CANCEL_ON_RESOLVE: String(config.pagerduty.cancelOnResolve),
        ...optional('LOOPGATE_OKTA_JIRA_ACCOUNT_ATTRIBUTE', config.okta.identity.jiraAccountIdAttribute),
        ...optional('LOOPGATE_OKTA_PAGERDUTY_USER_ATTRIBUTE', config.okta.identity.pagerDutyUserIdAttribute),
        ...statuses('approved', 'denied', 'cancelled'),
      },
      provision: provisioning('provision'),
      revoke: provisioning('revoke'),
      sweeper: { ...provisioning('sweeper'), LOOPGATE_REVOKE_UNCATALOGED: config.revokeUncataloged },
    };

    const reserved = reservedConcurrencyOf(config.reservedConcurrency);
    this.functions = {} as AppStack['functions'];
    for (const name of FUNCTION_NAMES) {
      const fn = new LoopgateFunction(this, titleOf(name), {
        name,
        stage,
        catalogFile: config.catalog,
        logLevel: config.logLevel,
        environment: environment[name],
        ...(reserved[name] === undefined ? {} : { reservedConcurrency: reserved[name] }),
      });
      this.functions[name] = fn;
      // The webhook only queues events: it needs no table.
      if (name !== 'pagerduty-webhook') grantTable(fn, stateful, name !== 'triage');
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'ReadOwnSecrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: FUNCTIONS[name].secrets.map((secret) => stateful.secretPolicyArns[secret]),
        }),
      );
      const sends = SENDS[name];
      if (sends.length) {
        fn.role.addToPrincipalPolicy(
          new PolicyStatement({
            sid: 'SendToNextStage',
            actions: ['sqs:SendMessage'],
            resources: sends.map((queue) => this.queues[queue].queue.queueArn),
          }),
        );
      }
    }
    for (const [name, spec] of Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][]) {
      this.functions[spec.consumer].function.addEventSource(
        new SqsEventSource(this.queues[name].queue, {
          batchSize: spec.batchSize,
          reportBatchItemFailures: true,
          ...(name === 'revoke' && config.reservedConcurrency
            ? { maxConcurrency: revokeQueueConcurrency(config.reservedConcurrency.revoke) }
            : {}),
        }),
      );
    }

    // Webhooks: public URLs by necessity (Jira and PagerDuty cannot sign AWS requests); every
    // delivery's HMAC signature is checked in the handler before anything else is done.
    const jiraUrl = this.functions['jira-webhook'].function.addFunctionUrl({
      authType: FunctionUrlAuthType.NONE,
    });
    const pagerDutyUrl = this.functions['pagerduty-webhook'].function.addFunctionUrl({
      authType: FunctionUrlAuthType.NONE,
    });

    this.grantAccessChanges(catalog);
    if (config.model.provider === 'bedrock') {
      // Bedrock is called with the triage role: the one model configured, nothing else.
      this.functions.triage.role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'InvokeConfiguredModel',
          actions: ['bedrock:InvokeModel'],
          resources: [
            `arn:${Aws.PARTITION}:bedrock:${config.model.region ?? Aws.REGION}::foundation-model/${config.model.name}`,
          ],
        }),
      );
    }

    new Rule(this, 'SweepEveryFiveMinutes', {
      description: `loopgate ${stage}: the sweeper, the safety net under every timer and queue`,
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(this.functions.sweeper.function, { retryAttempts: 2 })],
    });

    this.alarmTopic = this.createAlarmTopic(config);
    this.createAlarms(stage);
    this.dashboard = createDashboard(this, {
      stage,
      functions: Object.fromEntries(FUNCTION_NAMES.map((name) => [name, this.functions[name].function])),
      deadLetterQueues: Object.fromEntries(Object.entries(this.queues).map(([name, { dlq }]) => [name, dlq])),
      alarms: this.alarms,
      heartbeats: [SWEEPER_HEARTBEAT_METRIC, REVOKE_HEARTBEAT_METRIC],
    });
    if (config.logLevel === 'error') {
      Annotations.of(this).addWarningV2(
        'loopgate:signatureAlarmBlind',
        'logLevel "error" drops the webhooks\' "request refused" lines (level warn): the webhook-signature-failures alarm cannot fire',
      );
    }

    new CfnOutput(this, 'JiraWebhookUrl', {
      value: jiraUrl.url,
      description: 'The URL of the Jira admin webhook (issue created, comment created)',
    });
    new CfnOutput(this, 'PagerDutyWebhookUrl', {
      value: pagerDutyUrl.url,
      description: 'The URL of the PagerDuty v3 webhook subscription (incident.annotated, incident.resolved)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarmTopic.topicArn,
      description: 'Subscribe PagerDuty (its Amazon CloudWatch integration URL) or an email to it',
    });
    new CfnOutput(this, 'ScheduleGroupName', { value: this.scheduleGroup.scheduleGroupName });
    const operators = operatorPolicy(this, {
      stage,
      table: stateful.table,
      revokeQueue: this.queues.revoke.queue,
      decideQueue: this.queues.decide.queue,
      principals: catalogPrincipals(catalog),
    });
    new CfnOutput(this, 'OperatorPolicyArn', {
      value: operators.managedPolicyArn,
      description:
        "Attach to the operators' role or permission set: loopgate's operator commands (docs/setup.md)",
    });
  }

  /** IAM writes, expiry schedules and passing the scheduler role: provision, revoke and the sweeper. */
  private grantAccessChanges(catalog: Catalog) {
    const principals = catalogPrincipals(catalog);
    const schedules = this.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/${SCHEDULE_PREFIX}*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const scheduleAck = {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.scheduleGroup.scheduleGroupName}/${SCHEDULE_PREFIX}*]`,
      reason: `One schedule per grant, named ${SCHEDULE_PREFIX}<request id> at run time: the wildcard covers only loopgate's own schedules in its own group.`,
    };
    const usersAck = {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:user/*]`,
      reason:
        "Requesters are the company's IAM users (named by their email) and any of them may ask: a user-level grant cannot be limited to users known at synth time. Actions are only those the catalog's user entitlements need, and managed policies only the catalog's (iam:PolicyARN condition).",
    };
    const needsUsers = principals.userInline || principals.userManagedPolicies.length > 0;
    // Identity Center: any of the company's users may ask, in the stores the catalog names.
    const identityStoreAcks = identityStoreAcknowledgements(principals);

    const provision = this.functions.provision;
    const grants = new Policy(this, 'ProvisionAccessChanges', {
      roles: [provision.role],
      statements: [
        ...grantStatements(this, principals),
        new PolicyStatement({
          sid: 'ScheduleExpiry',
          actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'],
          resources: [schedules],
        }),
        new PolicyStatement({
          sid: 'PassSchedulerRole',
          actions: ['iam:PassRole'],
          resources: [this.schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      ],
    });
    Validations.of(grants).acknowledge(scheduleAck, ...identityStoreAcks);
    if (needsUsers) Validations.of(grants).acknowledge(usersAck);

    for (const name of ['revoke', 'sweeper'] as const) {
      const revokes = new Policy(this, `${titleOf(name)}AccessChanges`, {
        roles: [this.functions[name].role],
        statements: [
          ...revokeStatements(this, principals),
          new PolicyStatement({
            sid: 'CancelExpiry',
            actions: ['scheduler:DeleteSchedule'],
            resources: [schedules],
          }),
        ],
      });
      Validations.of(revokes).acknowledge(scheduleAck, ...identityStoreAcks);
      if (needsUsers) Validations.of(revokes).acknowledge(usersAck);
    }

    const context = new Policy(this, 'TriageContextRead', {
      roles: [this.functions.triage.role],
      statements: contextReadStatements(this),
    });
    Validations.of(context).acknowledge(
      {
        ...usersAck,
        reason: "Triage reads the requester's own IAM user, who may be any of the company's users.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:group/*]`,
        reason:
          "Triage reads the attached policies of the requester's groups, which are known only at run time.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'iam:GetServiceLastAccessedDetails reads a report by job id and supports no resource-level permissions.',
      },
    );
  }

  private createAlarmTopic(config: StageConfig): Topic {
    const key = new Key(this, 'AlarmTopicKey', {
      description: `loopgate ${config.stage}: encrypts the alarm topic`,
      enableKeyRotation: true,
      // It encrypts alarm messages in flight only, nothing kept: deleted with the stack (after
      // KMS's shortest waiting period) rather than left behind at a monthly fee per deploy.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch encrypts what it publishes to an encrypted topic with this key.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: `loopgate ${config.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one, so CloudWatch's right to publish is stated.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (config.alarmEmail) topic.addSubscription(new EmailSubscription(config.alarmEmail));
    return topic;
  }

  /**
   * Every alarm is named and described with its stage, and watches that stage only: its own
   * queues and functions, or loopgate's metrics of its Stage dimension.
   */
  private createAlarms(stage: string) {
    const action = new SnsAction(this.alarmTopic);
    const alarm = (
      name: string,
      description: string,
      metric: IMetric,
      periods = 1,
      threshold = 0,
      // For a heartbeat: too few is the alarm, and no data at all is the worst case of it.
      heartbeat = false,
    ) => {
      const created = new Alarm(this, `${titleOf(name)}Alarm`, {
        alarmName: `loopgate-${stage}-${name}`,
        alarmDescription: `loopgate ${stage}: ${description}`,
        metric,
        threshold,
        comparisonOperator: heartbeat
          ? ComparisonOperator.LESS_THAN_THRESHOLD
          : ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: heartbeat ? TreatMissingData.BREACHING : TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
    };
    for (const [name, { dlq }] of Object.entries(this.queues)) {
      alarm(
        `${name}-dead-letter`,
        `messages in the ${name} dead-letter queue; each is a request that needs a person`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      );
    }
    const sweeper = (metricName: string, statistic = 'Maximum', period = Duration.minutes(5)) =>
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { [STAGE_DIMENSION]: stage },
        period,
        statistic,
      });
    alarm(
      'failed-requests',
      'requests in FAILED (provisioning or revocation failed after retries); see the sweeper log',
      sweeper('FailedRequests'),
    );
    // One sweep's error is retried by the next; three in a row is not going away.
    alarm('sweep-errors', 'the sweeper failed on a request three sweeps in a row', sweeper('SweepErrors'), 3);
    // The alarms above need a sweep to report; this one needs none. Three sweeps are due in 15
    // minutes, each beating once when it completes: no beat means the rule is disabled or gone, the
    // function cannot start or every sweep throws, or its metric lines no longer reach CloudWatch.
    // No data breaches.
    alarm(
      'sweeper-stopped',
      'no sweep has completed for 15 minutes (it runs every 5; SweeperHeartbeat): expired grants are ' +
        'not revoked and nothing else alarms on FAILED requests; check the sweeper rule, function and log',
      sweeper(SWEEPER_HEARTBEAT_METRIC, 'Sum', Duration.minutes(15)),
      1,
      1,
      true,
    );
    // Errors, throttles and the DLQ cover a revoke that runs and fails. A revoke that is never
    // received (event source mapping disabled, function gone) leaves its message waiting: one older
    // than every delivery the queue allows (visibility timeout × receives) is not being received.
    const revokeDeliveries = visibilitySecondsOf('revoke') * QUEUES.revoke.maxReceiveCount;
    alarm(
      'revoke-queue-stuck',
      `a revoke has waited in its queue longer than all its deliveries take (${revokeDeliveries / 60} minutes): ` +
        "the revoke function is not receiving; check the revoke queue's event source mapping",
      this.queues.revoke.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      1,
      revokeDeliveries,
    );
    // A wrong signing secret is silent otherwise: Jira does not retry a 401, PagerDuty drops it and
    // disables the subscription after three, and approvals simply stop arriving.
    for (const name of ['jira-webhook', 'pagerduty-webhook'] as const) {
      new MetricFilter(this, `${titleOf(name)}SignatureFailures`, {
        logGroup: this.functions[name].logGroup,
        filterPattern: SIGNATURE_FAILURE_PATTERN,
        metricNamespace: METRIC_NAMESPACE,
        metricName: SIGNATURE_FAILURE_METRIC,
        metricValue: '1',
        unit: Unit.COUNT,
        // Its lines carry the stage (lambdas/wiring), so two stages' webhooks count apart.
        dimensions: { [STAGE_DIMENSION]: '$.stage' },
      });
    }
    alarm(
      'webhook-signature-failures',
      'three or more webhook deliveries refused with 401 (bad or missing signature) within 15 minutes; ' +
        'a rotated or mistyped webhook secret, or someone probing the URLs; see docs/runbooks.md',
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: SIGNATURE_FAILURE_METRIC,
        dimensionsMap: { [STAGE_DIMENSION]: stage },
        period: Duration.minutes(15),
        statistic: 'Sum',
      }),
      1,
      2,
    );
    for (const name of FUNCTION_NAMES) {
      const fn = this.functions[name].function;
      const period = Duration.minutes(5);
      alarm(`${name}-errors`, `the ${name} function failed`, fn.metricErrors({ period, statistic: 'Sum' }));
      alarm(
        `${name}-throttles`,
        `the ${name} function was throttled`,
        fn.metricThrottles({ period, statistic: 'Sum' }),
      );
    }
  }
}

/** Counted from the two webhooks' logs: deliveries refused with 401 (platform/http-errors.ts). */
export const SIGNATURE_FAILURE_METRIC = 'WebhookSignatureFailures';
export const SIGNATURE_FAILURE_PATTERN = FilterPattern.all(
  FilterPattern.stringValue('$.message', '=', REQUEST_REFUSED),
  FilterPattern.numberValue('$.status', '=', 401),
);

/**
 * Reserved concurrency does two things: it keeps capacity for a function whatever the others do,
 * and it caps the function at that number. Revoke and the sweeper get the first (expiry must work
 * while the account is busy), the two public webhooks the second (a flood on their URLs is answered
 * 429, which Jira and PagerDuty retry, instead of taking the account's whole concurrency).
 */
function reservedConcurrencyOf(
  setting: StageConfig['reservedConcurrency'],
): Partial<Record<FunctionName, number>> {
  if (setting === false) return {};
  return {
    'jira-webhook': setting.webhooks,
    'pagerduty-webhook': setting.webhooks,
    revoke: setting.revoke,
    sweeper: setting.sweeper,
  };
}

/**
 * The revoke queue's pollers stay below the revoke function's reservation, leaving 2 for the
 * expiry schedules (EventBridge Scheduler invokes it directly): an SQS invocation throttled by the
 * reservation would count as a receive and bring a revoke closer to its dead-letter queue.
 * Lambda's floor for an event source's maximum concurrency is 2.
 */
export function revokeQueueConcurrency(reservedForRevoke: number): number {
  return Math.max(2, reservedForRevoke - 2);
}

/**
 * The request store's item and index operations (lambdas/connectors/dynamodb/request-store.ts).
 * DeleteItem only where code deletes: a delivery claim given back (the webhooks' and decide's),
 * a follow-up delivered (decide, provision, revoke, sweeper), a holding released. Triage deletes nothing.
 */
function grantTable(fn: LoopgateFunction, stateful: StatefulStack, deletes: boolean) {
  const table = stateful.table.tableArn;
  fn.role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'RequestStore',
      // Transactions need the rights of each item operation in them; no Scan, no batch writes.
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        ...(deletes ? ['dynamodb:DeleteItem'] : []),
        'dynamodb:ConditionCheckItem',
        'dynamodb:Query',
      ],
      resources: [table, ...Object.values(INDEXES).map((index) => `${table}/index/${index.name}`)],
    }),
  );
}

function optional(name: string, value: string | number | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: String(value) };
}

function titleOf(name: string): string {
  return name
    .split('-')
    .map((part) => `${part[0]?.toUpperCase() ?? ''}${part.slice(1)}`)
    .join('');
}
