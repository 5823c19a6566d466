// Builds the dependencies of the provision, revoke and sweeper functions from
// their shared configuration, once per cold start. They hold the only
// credentials that can change access (Okta group membership, IAM policies,
// Identity Center account assignments).

import { DynamoHoldingStore } from '../connectors/dynamodb/holding-store';
import { createIamClient } from '../connectors/aws-iam/client';
import { companyPrincipalFor, IamPolicyProvisioner } from '../connectors/aws-iam/provisioner';
import { createIdentityCenterClients } from '../connectors/identity-center/client';
import { IdentityCenterProvisioner } from '../connectors/identity-center/provisioner';
import { JiraTracker } from '../connectors/jira/tracker';
import { createOktaClient, OktaDirectory } from '../connectors/okta';
import { PagerDutyOnCall } from '../connectors/pagerduty/on-call';
import { OktaGroupProvisioner } from '../connectors/okta/provisioner';
import { createPagerDutyClient } from '../connectors/pagerduty/client';
import { PagerDutyPager } from '../connectors/pagerduty/pager';
import { createSchedulerClient, EventBridgeExpiryScheduler } from '../connectors/scheduler/expiry-scheduler';
import type { SweepDeps, SweepSettings } from '../core/provision/sweep';
import { loadCatalogFile } from '../platform/catalog-file';
import type { ProvisionConfig } from '../platform/env';
import { Logger } from '../platform/logger';
import type { MetricsWriter } from '../platform/metrics';
import {
  awsCredentials,
  clockOf,
  dynamoDocumentClient,
  functionRequestStore,
  jiraClient,
  metricsWriter,
  sqsWorkQueue,
  type WireOptions,
} from './shared';

export function wireProvision(
  config: ProvisionConfig,
  service: 'provision' | 'revoke' | 'sweeper',
  options: WireOptions = {},
): { deps: SweepDeps; settings: SweepSettings; logger: Logger; metrics: MetricsWriter } {
  const { timeoutMs } = config;
  const okta = createOktaClient({
    orgUrl: config.okta.orgUrl,
    token: config.okta.token,
    timeoutMs,
    maxRetries: 2,
  });
  const iam = createIamClient({
    region: config.region,
    ...(config.iamEndpoint ? { endpoint: config.iamEndpoint } : {}),
    ...awsCredentials(config),
    timeoutMs,
    maxAttempts: 3,
  });
  const identityCenter = createIdentityCenterClients({
    region: config.identityCenter.region,
    ...(config.identityCenter.endpoint ? { endpoint: config.identityCenter.endpoint } : {}),
    ...awsCredentials(config),
    timeoutMs,
    maxAttempts: 3,
  });
  const scheduler = createSchedulerClient({
    region: config.region,
    ...(config.scheduler.endpoint ? { endpoint: config.scheduler.endpoint } : {}),
    ...awsCredentials(config),
    timeoutMs,
    maxAttempts: 3,
  });
  const pagerDuty = createPagerDutyClient({
    token: config.pagerduty.token,
    ...(config.pagerduty.baseUrl ? { baseUrl: config.pagerduty.baseUrl } : {}),
    from: config.pagerduty.from,
    timeoutMs,
  });
  const jira = jiraClient(config.jira, timeoutMs);
  const dynamo = dynamoDocumentClient(config, timeoutMs);
  const catalog = loadCatalogFile(config.catalogFile);
  const store = functionRequestStore(config, service, catalog, options, timeoutMs, dynamo);
  return {
    deps: {
      store,
      outbox: store,
      holdings: new DynamoHoldingStore({
        client: dynamo,
        tableName: config.tableName,
        clock: clockOf(options),
      }),
      provisioners: {
        'okta-group': new OktaGroupProvisioner({ client: okta }),
        'aws-iam-policy': new IamPolicyProvisioner({
          client: iam,
          principalFor: companyPrincipalFor(config.companyEmailDomain),
        }),
        'aws-identity-center': new IdentityCenterProvisioner({
          clients: identityCenter,
          maxWaitMs: config.identityCenter.maxWaitMs,
          pollMs: config.identityCenter.pollMs,
        }),
      },
      scheduler: new EventBridgeExpiryScheduler({
        client: scheduler,
        groupName: config.scheduler.groupName,
        target: { arn: config.scheduler.targetArn, roleArn: config.scheduler.roleArn },
      }),
      pager: new PagerDutyPager(pagerDuty),
      tracker: new JiraTracker(jira),
      queue: sqsWorkQueue(config, timeoutMs, {
        provision: config.provisionQueueUrl,
        triage: config.triageQueueUrl,
      }),
      catalog,
      clock: clockOf(options),
      shifts: {
        directory: new OktaDirectory({ client: okta, maxSignIns: 1 }),
        calendar: new PagerDutyOnCall(pagerDuty),
        identity: config.identity,
      },
    },
    settings: { jiraStatuses: config.jiraStatuses, revokeUncataloged: config.revokeUncataloged },
    logger: new Logger({ service, level: config.logLevel, ...(options.log ? { write: options.log } : {}) }),
    metrics: metricsWriter(config, service, options),
  };
}
