// The revoke function: a grant's one-shot schedule fires at expiry (EventBridge
// Scheduler invokes it with `{requestId}`), or an early revoke arrives on the
// revoke queue. From the queue, the last delivery records FAILED; from the
// schedule, a throw is retried and the sweeper records FAILED if it never works.

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { type ProvisionDeps, type ProvisionSettings, revokeRequest } from '../core/provision/provision';
import { builtOnFirstCall } from '../platform/cold-start';
import type { Logger } from '../platform/logger';
import { type MetricsWriter, REVOKE_HEARTBEAT_METRIC } from '../platform/metrics';
import { sqsBatchHandler } from '../platform/sqs-batch';
import { describe, MAX_ATTEMPTS } from './provision';

/** The schedule's own event, when Scheduler invokes the function directly. */
const scheduled = z.strictObject({ requestId: z.string().min(1) });

export function createRevokeHandler(
  deps: ProvisionDeps,
  settings: ProvisionSettings,
  logger: Logger,
  metrics: MetricsWriter,
) {
  const batch = sqsBatchHandler(logger, 'revoke', async ({ requestId, receiveCount }) => {
    const outcome = await revokeRequest(deps, settings, requestId, {
      finalAttempt: receiveCount >= MAX_ATTEMPTS,
    });
    return describe(outcome, logger, requestId);
  });
  return async (
    event: SQSEvent | { requestId: string },
  ): Promise<SQSBatchResponse | Record<string, unknown>> => {
    if ('Records' in event) {
      const response = await batch(event);
      metrics.emit({ [REVOKE_HEARTBEAT_METRIC]: 1 });
      return response;
    }
    // Scheduler and Lambda retry a throw; the sweeper records FAILED if it never succeeds.
    const { requestId } = scheduled.parse(event);
    const outcome = describe(
      await revokeRequest(deps, settings, requestId, { finalAttempt: false }),
      logger,
      requestId,
    );
    logger.info('revoke done', { requestId, ...outcome });
    metrics.emit({ [REVOKE_HEARTBEAT_METRIC]: 1 });
    return outcome;
  };
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<
  SQSEvent | { requestId: string },
  SQSBatchResponse | Record<string, unknown>
>(async () => {
  const { readProvisionConfig } = await import('../platform/env');
  const { wireProvision } = await import('../wiring/provision');
  const { deps, settings, logger, metrics } = wireProvision(readProvisionConfig(), 'revoke');
  return createRevokeHandler(deps, settings, logger, metrics);
});
