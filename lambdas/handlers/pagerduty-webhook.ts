// The pagerduty-webhook function, behind a Function URL: verify the v3
// signature, claim the delivery, turn the event into a decision (or ignore it),
// answer. PagerDuty's rules shape the status codes: 401 only for a bad
// signature; every verified event gets a 2xx, even one loopgate ignores,
// because repeated 4xx disable the subscription; 5xx only for a transient
// failure that should be retried. Provisioning and other slow work is queued.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import {
  type DecideDeps,
  type DecideSettings,
  type EventOutcome,
  handleIncidentEvent,
  type IncidentEvent,
} from '../core/decide/incident-event';
import { NotFoundError, PayloadTooLargeError, UnauthenticatedError, ValidationError } from '../core/errors';
import { builtOnFirstCall } from '../platform/cold-start';
import { errorResponse, type HttpResponse, jsonResponse } from '../platform/http-errors';
import type { Logger } from '../platform/logger';
import { pagerDutySignatureDigests, verifyHmacSha256 } from '../platform/signatures';

export interface PagerDutyWebhookSettings extends DecideSettings {
  /** Signing secrets of the subscription; two while rotating. */
  secrets: readonly string[];
  maxBodyBytes: number;
}

/** PagerDuty's events are a few KB; anything near this is not from PagerDuty. */
export const MAX_PAGERDUTY_BODY_BYTES = 128 * 1024;
const DELIVERY_SOURCE = 'pagerduty';

const envelope = z.object({
  event: z.object({
    id: z.string().min(1),
    event_type: z.string(),
    occurred_at: z.string(),
    agent: z.object({ id: z.string(), type: z.string() }).nullish(),
    data: z.record(z.string(), z.unknown()),
  }),
});
const noteData = z.object({
  id: z.string().min(1),
  content: z.string(),
  trimmed: z.boolean().optional(),
  incident: z.object({ id: z.string().min(1) }),
});
const incidentData = z.object({ id: z.string().min(1) });

export function createPagerDutyWebhookHandler(
  deps: DecideDeps,
  settings: PagerDutyWebhookSettings,
  logger: Logger,
) {
  return async (request: APIGatewayProxyEventV2): Promise<HttpResponse> => {
    const headers = request.headers ?? {};
    let log = logger.child({ pagerDutyWebhookId: headers['x-webhook-id'] });
    let parsed: ReturnType<typeof readEvent>;
    try {
      const raw = Buffer.from(request.body ?? '', request.isBase64Encoded ? 'base64' : 'utf8');
      if (raw.length > settings.maxBodyBytes) {
        throw new PayloadTooLargeError(
          `the body is ${raw.length} bytes; the limit is ${settings.maxBodyBytes}`,
        );
      }
      if (
        !verifyHmacSha256(raw, pagerDutySignatureDigests(headers['x-pagerduty-signature']), settings.secrets)
      ) {
        throw new UnauthenticatedError('the X-PagerDuty-Signature does not match the body');
      }
      parsed = readEvent(raw, headers['x-webhook-id']);
    } catch (error) {
      return errorResponse(error, log);
    }

    // From here on the event is PagerDuty's: answer 2xx unless a retry would help.
    if (parsed.kind === 'ignored') return ignored(log, parsed.reason);
    const { event, deliveryId } = parsed;
    log = log.child({ eventType: parsed.type, incidentId: event.incidentId });
    let claim: Awaited<ReturnType<typeof deps.store.claimDelivery>>;
    try {
      claim = await deps.store.claimDelivery(DELIVERY_SOURCE, deliveryId);
    } catch (error) {
      // The store is unreachable: PagerDuty should retry, not drop the event.
      return errorResponse(error, log);
    }
    if (claim.status === 'done') return ignored(log, 'duplicate delivery: already handled');
    if (claim.status === 'in-progress') {
      // Another attempt holds it; if that attempt fails it gives the claim back, and this retry is needed.
      log.info('delivery in progress elsewhere; asking PagerDuty to retry');
      return {
        ...jsonResponse(503, { error: { code: 'in_progress', message: 'retry later' } }),
        headers: { 'retry-after': '30' },
      };
    }
    let outcome: EventOutcome;
    try {
      outcome = await handleIncidentEvent(deps, settings, event);
    } catch (error) {
      if (error instanceof ValidationError || error instanceof NotFoundError) {
        // Not going to work on a retry either: acknowledge, and say why in the log.
        await deps.store.completeDelivery(DELIVERY_SOURCE, deliveryId, claim.token);
        log.warn('event could not be used', { error });
        return jsonResponse(202, { status: 'ignored', reason: error.message });
      }
      await deps.store.releaseDelivery(DELIVERY_SOURCE, deliveryId, claim.token).catch(() => undefined);
      log.error('event failed; PagerDuty will retry', { error });
      return jsonResponse(503, {
        error: { code: 'retry', message: 'could not handle the event now; retry later' },
      });
    }
    await deps.store.completeDelivery(DELIVERY_SOURCE, deliveryId, claim.token);
    if (outcome.kind === 'ignored') return ignored(log, outcome.reason);
    if (outcome.problems) {
      log.error('decision recorded, but a follow-up failed', {
        requestId: outcome.requestId,
        problems: outcome.problems,
      });
    }
    log.info('event handled', { requestId: outcome.requestId, result: outcome.result });
    return jsonResponse(200, { status: 'handled', requestId: outcome.requestId, result: outcome.result });
  };
}

function ignored(log: Logger, reason: string): HttpResponse {
  log.info('event ignored', { reason });
  return jsonResponse(202, { status: 'ignored', reason });
}

/** The event as loopgate uses it, or why it is ignored. Malformed-but-signed bodies are ignored, not refused. */
function readEvent(
  raw: Buffer,
  webhookId: string | undefined,
):
  | { kind: 'event'; event: IncidentEvent; type: string; deliveryId: string }
  | { kind: 'ignored'; reason: string } {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { kind: 'ignored', reason: 'the body is not JSON' };
  }
  const outer = envelope.safeParse(body);
  if (!outer.success) return { kind: 'ignored', reason: 'not a v3 webhook event' };
  const { id, event_type: type, occurred_at: occurredAt, agent, data } = outer.data.event;
  const agentId = agent?.type === 'user_reference' ? { agentId: agent.id } : {};
  // Retries of one delivery carry the same X-Webhook-Id; the event id stands in when it is missing.
  const deliveryId = webhookId?.trim() || id;
  if (type === 'incident.annotated') {
    const note = noteData.safeParse(data);
    if (!note.success) return { kind: 'ignored', reason: 'an annotation without a note' };
    const event: IncidentEvent = {
      kind: 'annotated',
      incidentId: note.data.incident.id,
      noteId: note.data.id,
      content: note.data.content,
      trimmed: note.data.trimmed ?? false,
      occurredAt,
      ...agentId,
    };
    return { kind: 'event', event, type, deliveryId };
  }
  if (type === 'incident.resolved') {
    const incident = incidentData.safeParse(data);
    if (!incident.success) return { kind: 'ignored', reason: 'a resolution without an incident' };
    return {
      kind: 'event',
      event: { kind: 'resolved', incidentId: incident.data.id, occurredAt, ...agentId },
      type,
      deliveryId,
    };
  }
  return { kind: 'ignored', reason: `${type} is not an event loopgate acts on` };
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<APIGatewayProxyEventV2, HttpResponse>(async () => {
  const { readDecideConfig } = await import('../platform/env');
  const { wireDecide } = await import('../wiring/decide');
  const { deps, settings, logger } = wireDecide(readDecideConfig());
  return createPagerDutyWebhookHandler(deps, settings, logger);
});
