// Builds the decide function's dependencies from their configuration, once per cold start.

import { JiraTracker } from '../connectors/jira/tracker';
import { createOktaClient, OktaDirectory, OktaStepUp } from '../connectors/okta';
import { createPagerDutyClient } from '../connectors/pagerduty/client';
import { PagerDutyOnCall } from '../connectors/pagerduty/on-call';
import { PagerDutyPager } from '../connectors/pagerduty/pager';
import type { DecideDeps, DecideSettings } from '../core/decide/incident-event';
import { loadCatalogFile } from '../platform/catalog-file';
import { type DecideConfig, PROVISION_DUE_MS } from '../platform/env';
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
