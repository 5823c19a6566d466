// The pagerduty-webhook function, behind a Function URL: verify the v3
// signature, queue the event for the decide function, answer. Nothing here
// waits on Okta, Jira or PagerDuty: PagerDuty expects a 2xx within 5 seconds
// and queues later events for the incident behind a delivery it retries, so the
// answer must not depend on how fast the vendors are. PagerDuty's rules shape
// the status codes: 401 only for a bad signature; every verified event gets a
// 2xx, even one loopgate ignores, because repeated 4xx disable the
// subscription; 503 only when the queue cannot take the event (a retry helps).
// The function holds the webhook secret and may send to one queue: nothing else.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import type { IncidentEvent } from '../core/decide/deps';
import { PayloadTooLargeError, UnauthenticatedError } from '../core/errors';
import type { WorkQueue } from '../core/ports';
import { builtOnFirstCall } from '../platform/cold-start';
import { errorResponse, type HttpResponse, jsonResponse } from '../platform/http-errors';
import type { Logger } from '../platform/logger';
import { pagerDutySignatureDigests, verifyHmacSha256 } from '../platform/signatures';

export interface PagerDutyWebhookSettings {
  /** Signing secrets of the subscription; two while rotating. */
  secrets: readonly string[];
  maxBodyBytes: number;
}
export { MAX_PAGERDUTY_BODY_BYTES } from '../platform/webhook-limits';

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
  deps: { queue: Pick<WorkQueue, 'send'> },
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
      parsed = readEvent(raw);
    } catch (error) {
      return errorResponse(error, log);
    }

    // From here on the event is PagerDuty's: answer 2xx unless a retry would help.
    if (parsed.kind === 'ignored') return ignored(log, parsed.reason);
    const { event, eventId } = parsed;
    log = log.child({ eventType: parsed.type, eventId, incidentId: event.incidentId });
    try {
      await deps.queue.send('decide', { eventId, event });
    } catch (error) {
      log.error('could not queue the event; PagerDuty will retry', { error });
      return jsonResponse(503, {
        error: { code: 'retry', message: 'could not take the event now; retry later' },
      });
    }
    log.info('event queued for the decide function');
    return jsonResponse(202, { status: 'queued', eventId });
  };
}

function ignored(log: Logger, reason: string): HttpResponse {
  log.info('event ignored', { reason });
  return jsonResponse(202, { status: 'ignored', reason });
}

/** The event as loopgate uses it, or why it is ignored. Malformed-but-signed bodies are ignored, not refused. */
function readEvent(
  raw: Buffer,
):
  | { kind: 'event'; event: IncidentEvent; type: string; eventId: string }
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
  // The event id is inside the signed body: a delivery retried, or replayed under a new
  // X-Webhook-Id, keeps it, so the decide function counts the event once.
  const eventId = id;
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
    return { kind: 'event', event, type, eventId };
  }
  if (type === 'incident.resolved') {
    const incident = incidentData.safeParse(data);
    if (!incident.success) return { kind: 'ignored', reason: 'a resolution without an incident' };
    return {
      kind: 'event',
      event: { kind: 'resolved', incidentId: incident.data.id, occurredAt, ...agentId },
      type,
      eventId,
    };
  }
  return { kind: 'ignored', reason: `${type} is not an event loopgate acts on` };
}

/** The Lambda entry point: configuration is read and the queue client built on the first invocation. */
export const handler = builtOnFirstCall<APIGatewayProxyEventV2, HttpResponse>(async () => {
  const { readPagerDutyWebhookConfig } = await import('../platform/env');
  const { wirePagerDutyWebhook } = await import('../wiring/pagerduty-webhook');
  const { deps, settings, logger } = wirePagerDutyWebhook(readPagerDutyWebhookConfig());
  return createPagerDutyWebhookHandler(deps, settings, logger);
});
