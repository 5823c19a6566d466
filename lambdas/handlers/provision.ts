// The provision function, fed by the provision queue: grants an APPROVED
// request. A failure is retried by redelivery; the last delivery the queue
// allows (its maxReceiveCount) records FAILED instead of dropping silently.

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { grantRequest, type ProvisionDeps, type ProvisionSettings } from '../core/provision/provision';
import { builtOnFirstCall } from '../platform/cold-start';
import type { Logger } from '../platform/logger';
import { sqsBatchHandler } from '../platform/sqs-batch';

/** The provision and revoke queues' maxReceiveCount (lib/ sets the same). */
export const MAX_ATTEMPTS = 5;

export function createProvisionHandler(deps: ProvisionDeps, settings: ProvisionSettings, logger: Logger) {
  return sqsBatchHandler(logger, 'provision', async ({ requestId, receiveCount }) => {
    const outcome = await grantRequest(deps, settings, requestId, {
      finalAttempt: receiveCount >= MAX_ATTEMPTS,
    });
    return describe(outcome, logger, requestId);
  });
}

export function describe(
  outcome: Awaited<ReturnType<typeof grantRequest>>,
  logger: Logger,
  requestId: string,
): Record<string, unknown> {
  if (outcome.kind === 'skipped') return { outcome: 'skipped', reason: outcome.reason };
  if (outcome.problems.length)
    logger.error('recorded, but a follow-up failed', { requestId, problems: outcome.problems });
  return { outcome: outcome.request.state, expiresAt: outcome.request.grant?.expiresAt };
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<SQSEvent, SQSBatchResponse>(async () => {
  const { readProvisionConfig } = await import('../platform/env');
  const { wireProvision } = await import('../wiring/provision');
  const { deps, settings, logger } = wireProvision(readProvisionConfig(), 'provision');
  return createProvisionHandler(deps, settings, logger);
});
