// The triage function, fed by the triage SQS queue: one request id per message.
// A message that fails is reported back (partial batch failure) and retried
// after the visibility timeout; after the queue's maxReceiveCount it goes to the DLQ.

import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { type TriageDeps, type TriageSettings, triageRequest } from '../core/triage/triage';
import type { Logger } from '../platform/logger';
import { builtOnFirstCall } from '../platform/cold-start';

const message = z.strictObject({ requestId: z.string().min(1) });

export function createTriageHandler(deps: TriageDeps, settings: TriageSettings, logger: Logger) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    // Records are independent requests: gather them side by side, so a batch costs one time budget, not five.
    const triageOne = async (record: SQSRecord) => {
      const log = logger.child({
        messageId: record.messageId,
        receiveCount: record.attributes.ApproximateReceiveCount,
      });
      try {
        const { requestId } = message.parse(JSON.parse(record.body));
        const outcome = await triageRequest(deps, settings, requestId);
        log.info('triage done', {
          requestId,
          outcome: outcome.kind,
          ...(outcome.kind === 'paged'
            ? {
                facts: outcome.bundle.evidence.length,
                signals: outcome.bundle.signals.map((s) => s.id),
                advice:
                  outcome.advice.status === 'advised'
                    ? outcome.advice.advice.recommendation
                    : outcome.advice.failure,
                incidentId: outcome.request.incidentId,
                urgency: outcome.page.urgency,
              }
            : { reason: outcome.reason }),
        });
      } catch (error) {
        log.error('triage failed; the message will be retried', { error });
        failures.push({ itemIdentifier: record.messageId });
      }
    };
    await Promise.all(event.Records.map(triageOne));
    return { batchItemFailures: failures };
  };
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<SQSEvent, SQSBatchResponse>(async () => {
  const { readTriageConfig } = await import('../platform/env');
  const { wireTriage } = await import('../wiring/triage');
  const { deps, settings, logger } = wireTriage(readTriageConfig());
  return createTriageHandler(deps, settings, logger);
});
