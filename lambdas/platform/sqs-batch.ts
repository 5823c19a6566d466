// One shape for every function fed by an SQS queue with one request id per
// message: records are handled side by side, and only the ones that failed are
// reported back (partial batch failure), to be retried after the visibility
// timeout and, after the queue's maxReceiveCount, moved to the dead-letter queue.

import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { Logger } from './logger';

const message = z.strictObject({ requestId: z.string().min(1) });

export interface RecordContext {
  requestId: string;
  /** 1 on the first delivery; the queue's maxReceiveCount on the last. */
  receiveCount: number;
}

/** `work` returns what to log about the outcome; a throw marks the record failed. */
export function sqsBatchHandler(
  logger: Logger,
  what: string,
  work: (record: RecordContext) => Promise<Record<string, unknown>>,
) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    const one = async (record: SQSRecord) => {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
      const log = logger.child({ messageId: record.messageId, receiveCount });
      try {
        const { requestId } = message.parse(JSON.parse(record.body));
        const outcome = await work({ requestId, receiveCount });
        log.info(`${what} done`, { requestId, ...outcome });
      } catch (error) {
        log.error(`${what} failed; the message will be retried`, { error });
        failures.push({ itemIdentifier: record.messageId });
      }
    };
    await Promise.all(event.Records.map(one));
    return { batchItemFailures: failures };
  };
}
