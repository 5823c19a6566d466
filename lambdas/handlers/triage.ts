// The triage function, fed by the triage SQS queue: one request id per message.
// A message that fails is reported back (partial batch failure) and retried
// after the visibility timeout; after the queue's maxReceiveCount it goes to the DLQ.

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type TriageDeps, type TriageSettings, triageRequest } from '../core/triage/triage';
import type { Logger } from '../platform/logger';
import { builtOnFirstCall } from '../platform/cold-start';
import { sqsBatchHandler } from '../platform/sqs-batch';

export function createTriageHandler(deps: TriageDeps, settings: TriageSettings, logger: Logger) {
  // Records are independent requests: gather them side by side, so a batch costs one time budget, not five.
  return sqsBatchHandler(logger, 'triage', async ({ requestId }) => {
    const outcome = await triageRequest(deps, settings, requestId);
    return {
      outcome: outcome.kind,
      ...(outcome.kind === 'paged' || outcome.kind === 'approved'
        ? {
            facts: outcome.bundle.evidence.length,
            signals: outcome.bundle.signals.map((s) => s.id),
            advice:
              outcome.advice.status === 'advised'
                ? outcome.advice.advice.recommendation
                : outcome.advice.failure,
            incidentId: outcome.request.incidentId,
            urgency: outcome.page.urgency,
            ...(outcome.kind === 'approved' ? { rule: outcome.rule } : {}),
          }
        : { reason: outcome.reason }),
    };
  });
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<SQSEvent, SQSBatchResponse>(async () => {
  const { readTriageConfig } = await import('../platform/env');
  const { wireTriage } = await import('../wiring/triage');
  const { deps, settings, logger } = wireTriage(readTriageConfig());
  return createTriageHandler(deps, settings, logger);
});
