// The jira-webhook function, behind a Function URL: verify the delivery, read
// the ticket (or the comment on one), hand it to intake, answer fast. Jira retries 5xx and timeouts,
// so only a failure worth retrying becomes a 5xx.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PayloadTooLargeError, UnauthenticatedError, ValidationError } from '../core/errors';
import {
  type IntakeDeps,
  type IntakeOutcome,
  type IntakeSettings,
  intakeTicket,
} from '../core/intake/intake';
import { parseTicketEvent } from '../core/intake/ticket';
import { errorResponse, type HttpResponse, jsonResponse } from '../platform/http-errors';
import type { Logger } from '../platform/logger';
import { hubSignatureDigests, secretsEqual, verifyHmacSha256 } from '../platform/signatures';
import { builtOnFirstCall } from '../platform/cold-start';

export interface JiraWebhookSettings extends IntakeSettings {
  /** Webhook secrets; two while rotating. */
  secrets: readonly string[];
  /** Jira Automation's "Send web request" is unsigned: it must carry this header and secret instead. */
  automation?: { header: string; secret: string };
  maxBodyBytes: number;
}

export { MAX_JIRA_BODY_BYTES } from '../platform/webhook-limits';

export function createJiraWebhookHandler(deps: IntakeDeps, settings: JiraWebhookSettings, logger: Logger) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResponse> => {
    const headers = event.headers ?? {};
    const deliveryId = headers['x-atlassian-webhook-identifier'];
    const log = logger.child({ jiraDeliveryId: deliveryId, jiraRetry: headers['x-atlassian-webhook-retry'] });
    try {
      const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      if (raw.length > settings.maxBodyBytes) {
        throw new PayloadTooLargeError(
          `the body is ${raw.length} bytes; the limit is ${settings.maxBodyBytes}`,
        );
      }
      authenticate(raw, headers, settings);
      const outcome = await intakeTicket(deps, settings, parseTicketEvent(parseJson(raw)), deliveryId);
      log.info('jira delivery handled', describe(outcome));
      return respond(outcome);
    } catch (error) {
      return errorResponse(error, log);
    }
  };
}

function authenticate(
  raw: Buffer,
  headers: Record<string, string | undefined>,
  settings: JiraWebhookSettings,
) {
  const signature = headers['x-hub-signature'];
  if (signature !== undefined) {
    if (!verifyHmacSha256(raw, hubSignatureDigests(signature), settings.secrets)) {
      throw new UnauthenticatedError('the X-Hub-Signature does not match the body');
    }
    return;
  }
  const automation = settings.automation;
  const presented = automation ? headers[automation.header.toLowerCase()] : undefined;
  if (automation && presented !== undefined && secretsEqual(presented, automation.secret)) return;
  throw new UnauthenticatedError('the delivery is not signed');
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('the body is not valid JSON');
  }
}

function respond(outcome: IntakeOutcome): HttpResponse {
  switch (outcome.kind) {
    case 'ignored':
      return { statusCode: 204, headers: {}, body: '' };
    case 'duplicate-delivery':
      return jsonResponse(200, { status: 'duplicate delivery: already handled' });
    case 'delivery-in-progress':
      // Jira retries 409: by then the first attempt has either completed or given the claim back.
      return jsonResponse(409, {
        error: { code: 'in_progress', message: 'this delivery is being handled; retry later' },
      });
    case 'accepted':
    case 'rejected':
      return jsonResponse(202, { requestId: outcome.request.id, state: outcome.request.state });
    case 'answered':
      return jsonResponse(200, { requestId: outcome.requestId, result: outcome.result });
  }
}

function describe(outcome: IntakeOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'ignored':
      return { outcome: 'ignored', reason: outcome.reason };
    case 'duplicate-delivery':
      return { outcome: 'duplicate' };
    case 'delivery-in-progress':
      return { outcome: 'in progress elsewhere' };
    case 'accepted':
      return { outcome: 'accepted', requestId: outcome.request.id, created: outcome.created };
    case 'answered':
      return {
        outcome: 'answered',
        requestId: outcome.requestId,
        result: outcome.result,
        ...(outcome.problems ? { followUpProblems: outcome.problems } : {}),
      };
    case 'rejected':
      return {
        outcome: 'rejected',
        requestId: outcome.request.id,
        problems: outcome.problems.map((p) => p.field),
      };
  }
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<APIGatewayProxyEventV2, HttpResponse>(async () => {
  const { readIntakeConfig } = await import('../platform/env');
  const { wireIntake } = await import('../wiring/intake');
  const { deps, settings, logger } = wireIntake(readIntakeConfig());
  return createJiraWebhookHandler(deps, settings, logger);
});
