// Builds the jira-webhook function's dependencies from its configuration, once per cold start.
// Only what intake needs is imported, so the webhook's bundle (and its cold start) stays small.

import { JiraTracker } from '../connectors/jira/tracker';
import { createOktaClient, OktaDirectory } from '../connectors/okta';
import type { IntakeDeps } from '../core/intake/intake';
import type { JiraWebhookSettings } from '../handlers/jira-webhook';
import { MAX_JIRA_BODY_BYTES } from '../platform/webhook-limits';
import { loadCatalogFile } from '../platform/catalog-file';
import type { IntakeConfig } from '../platform/env';
import { Logger } from '../platform/logger';
import { clockOf, functionRequestStore, jiraClient, sqsWorkQueue, type WireOptions } from './shared';

export function wireIntake(
  config: IntakeConfig,
  options: WireOptions = {},
): { deps: IntakeDeps; settings: JiraWebhookSettings; logger: Logger } {
  const jira = jiraClient(config.jira, config.timeoutMs);
  const okta = createOktaClient({
    orgUrl: config.okta.orgUrl,
    token: config.okta.token,
    timeoutMs: config.timeoutMs,
    maxRetries: 1,
  });
  const catalog = loadCatalogFile(config.catalogFile);
  return {
    deps: {
      store: functionRequestStore(config, 'jira-webhook', catalog, options, config.timeoutMs),
      tracker: new JiraTracker(jira),
      directory: new OktaDirectory({ client: okta, maxSignIns: 50 }),
      queue: sqsWorkQueue(config, config.timeoutMs, {
        triage: config.triageQueueUrl,
        revoke: config.revokeQueueUrl,
        decide: config.decideQueueUrl,
      }),
      catalog,
      clock: clockOf(options),
    },
    settings: {
      secrets: config.jira.webhookSecrets,
      ...(config.jira.automation ? { automation: config.jira.automation } : {}),
      projects: config.jira.projects,
      issueTypes: config.jira.issueTypes,
      fields: config.jira.fields,
      breakGlass: config.jira.breakGlass,
      closing: config.jira.closing,
      identity: config.identity,
      maxBodyBytes: MAX_JIRA_BODY_BYTES,
    },
    // The stage on every line: the stack counts refused signatures by it (a metric filter).
    logger: new Logger({
      service: 'jira-webhook',
      level: config.logLevel,
      ...(options.log ? { write: options.log } : {}),
    }).child({ stage: config.stage }),
  };
}
