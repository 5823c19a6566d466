// Builds the pagerduty-webhook function's dependencies: only the decide queue. The webhook verifies
// and queues; everything that talks to PagerDuty, Okta or Jira runs in decide, so none of those SDKs
// is in this bundle (or its cold start).

import type { WorkQueue } from '../core/ports';
import type { PagerDutyWebhookSettings } from '../handlers/pagerduty-webhook';
import type { PagerDutyWebhookConfig } from '../platform/env';
import { Logger } from '../platform/logger';
import { MAX_PAGERDUTY_BODY_BYTES } from '../platform/webhook-limits';
import { sqsWorkQueue, type WireOptions } from './shared';

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
