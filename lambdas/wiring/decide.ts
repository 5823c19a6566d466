// Builds the pagerduty-webhook and decide functions' dependencies from their configuration, once per cold start.

import { JiraTracker } from '../connectors/jira/tracker';
import { createOktaClient, OktaDirectory, OktaStepUp } from '../connectors/okta';
import { createPagerDutyClient } from '../connectors/pagerduty/client';
import { PagerDutyOnCall } from '../connectors/pagerduty/on-call';
import { PagerDutyPager } from '../connectors/pagerduty/pager';
import type { DecideDeps, DecideSettings } from '../core/decide/incident-event';
import type { WorkQueue } from '../core/ports';
import { MAX_PAGERDUTY_BODY_BYTES, type PagerDutyWebhookSettings } from '../handlers/pagerduty-webhook';
import { loadCatalogFile } from '../platform/catalog-file';
import { type DecideConfig, type PagerDutyWebhookConfig, PROVISION_DUE_MS } from '../platform/env';
import { Logger } from '../platform/logger';
import { clockOf, functionRequestStore, jiraClient, sqsWorkQueue, type WireOptions } from './shared';

export function wireDecide(
  config: DecideConfig,
  options: WireOptions = {},
): { deps: DecideDeps; settings: DecideSettings; logger: Logger } {
  const { timeoutMs } = config;
  const pagerDuty = createPagerDutyClient({
    token: config.pagerduty.token,
    ...(config.pagerduty.baseUrl ? { baseUrl: config.pagerduty.baseUrl } : {}),
    from: config.pagerduty.from,
    timeoutMs,
  });
  const okta = createOktaClient({
    orgUrl: config.okta.orgUrl,
    token: config.okta.token,
    timeoutMs,
    maxRetries: 1,
  });
  const jira = jiraClient(config.jira, timeoutMs);
  const catalog = loadCatalogFile(config.catalogFile);
  const store = functionRequestStore(config, 'decide', catalog, options, timeoutMs);
  return {
    deps: {
      store,
      outbox: store,
      pager: new PagerDutyPager(pagerDuty),
      tracker: new JiraTracker(jira),
      directory: new OktaDirectory({ client: okta, maxSignIns: 1 }),
      onCall: new PagerDutyOnCall(pagerDuty),
      queue: sqsWorkQueue(config, timeoutMs, {
        provision: config.provisionQueueUrl,
        revoke: config.revokeQueueUrl,
        decide: config.decideQueueUrl,
      }),
      catalog,
      clock: clockOf(options),
      stepUp: new OktaStepUp({ client: okta }),
    },
    settings: {
      loopgateEmail: config.pagerduty.from,
      identity: config.identity,
      cancelOnResolve: config.cancelOnResolve,
      provisionDueMs: PROVISION_DUE_MS,
      jiraStatuses: config.jiraStatuses,
    },
    logger: new Logger({
      service: 'decide',
      level: config.logLevel,
      ...(options.log ? { write: options.log } : {}),
    }),
  };
}

/** The webhook: the signing secrets and the decide queue, nothing else. */
export function wirePagerDutyWebhook(
  config: PagerDutyWebhookConfig,
  options: WireOptions = {},
): { deps: { queue: WorkQueue }; settings: PagerDutyWebhookSettings; logger: Logger } {
  return {
    deps: { queue: sqsWorkQueue(config, config.timeoutMs, { decide: config.decideQueueUrl }) },
    settings: { secrets: config.webhookSecrets, maxBodyBytes: MAX_PAGERDUTY_BODY_BYTES },
    // The stage on every line: the stack counts refused signatures by it (a metric filter).
    logger: new Logger({
      service: 'pagerduty-webhook',
      level: config.logLevel,
      ...(options.log ? { write: options.log } : {}),
    }).child({ stage: config.stage }),
  };
}
