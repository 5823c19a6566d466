// The decide function, fed by the decide queue: what a verified PagerDuty event
// means (a vote, a question, a revoke, an extension, a resolve), worked out
// with Okta, PagerDuty's on-call and the request store, recorded, and followed
// up. The webhook only queued the event, so this can take the time the vendors
// take. Each event is counted once by its signed id; a source that cannot be
// asked right now fails the message, and SQS delivers it again (after the
// queue's maxReceiveCount it goes to the dead-letter queue, which alarms).

import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import {
  type DecideDeps,
  type DecideSettings,
  type EventOutcome,
  deliverQueuedFollowUps,
  handleIncidentEvent,
  handleStepUps,
} from '../core/decide/incident-event';
import { NotFoundError, ValidationError } from '../core/errors';
import type { DecideMessage } from '../core/ports';
import { builtOnFirstCall } from '../platform/cold-start';
import type { Logger } from '../platform/logger';

/** The decide queue's maxReceiveCount (lib/ sets the same). */
export const MAX_DECIDE_ATTEMPTS = 5;
/** Claims of PagerDuty events, by the event id inside the signed body. */
const EVENT_SOURCE = 'pagerduty-event';

const id = z.string().min(1).max(200);
const incidentEvent = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('annotated'),
    incidentId: id,
    noteId: id,
    content: z.string(),
    trimmed: z.boolean(),
    agentId: id.optional(),
    occurredAt: z.string(),
  }),
  z.strictObject({
    kind: z.literal('resolved'),
    incidentId: id,
    agentId: id.optional(),
    occurredAt: z.string(),
  }),
]);
const message = z.union([
  z.strictObject({ eventId: id, event: incidentEvent }),
  z.strictObject({ requestId: id }),
  z.strictObject({ followUpsOf: id }),
]);

export function createDecideHandler(deps: DecideDeps, settings: DecideSettings, logger: Logger) {
  const one = async (body: DecideMessage, log: Logger): Promise<void> => {
    if ('followUpsOf' in body) return report(log, await deliverQueuedFollowUps(deps, body.followUpsOf));
    if (!('eventId' in body)) return report(log, await handleStepUps(deps, settings, body.requestId));
    const claim = await deps.store.claimDelivery(EVENT_SOURCE, body.eventId);
    if (claim.status === 'done') return log.info('duplicate event: already handled');
    // Another delivery of the message is being handled; if it fails it gives the claim back.
    if (claim.status === 'in-progress') throw new Error('the event is being handled by another delivery');
    try {
      const outcome = await handleIncidentEvent(deps, settings, body.event);
      await deps.store.completeDelivery(EVENT_SOURCE, body.eventId, claim.token);
      report(log, outcome);
    } catch (error) {
      if (error instanceof ValidationError || error instanceof NotFoundError) {
        // Not going to work on a retry either: done, and the log says why.
        await deps.store.completeDelivery(EVENT_SOURCE, body.eventId, claim.token);
        return log.warn('event could not be used', { error });
      }
      await deps.store.releaseDelivery(EVENT_SOURCE, body.eventId, claim.token).catch(() => undefined);
      throw error;
    }
  };

  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    await Promise.all(
      event.Records.map(async (record: SQSRecord) => {
        const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
        const log = logger.child({ messageId: record.messageId, receiveCount });
        let body: DecideMessage;
        try {
          body = message.parse(JSON.parse(record.body));
        } catch (error) {
          // Only loopgate writes to the queue: a message it cannot read is a bug; retrying will not help.
          return log.error('a decide message loopgate cannot read was dropped', { error });
        }
        try {
          await one(
            body,
            log.child(
              'eventId' in body
                ? { eventId: body.eventId }
                : { requestId: 'requestId' in body ? body.requestId : body.followUpsOf },
            ),
          );
        } catch (error) {
          log.error('decide failed; the message will be retried', { error });
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}

function report(log: Logger, outcome: EventOutcome): void {
  if (outcome.kind === 'ignored') return log.info('event ignored', { reason: outcome.reason });
  if (outcome.problems) {
    log.error('decision recorded, but a follow-up failed', {
      requestId: outcome.requestId,
      problems: outcome.problems,
    });
  }
  log.info('event handled', { requestId: outcome.requestId, result: outcome.result });
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<SQSEvent, SQSBatchResponse>(async () => {
  const { readDecideConfig } = await import('../platform/env');
  const { wireDecide } = await import('../wiring/decide');
  const { deps, settings, logger } = wireDecide(readDecideConfig());
  return createDecideHandler(deps, settings, logger);
});
