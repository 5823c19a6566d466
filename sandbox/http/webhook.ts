// Outbound webhook delivery for the Jira and PagerDuty stand-ins: one POST with
// a timeout, reporting what happened so each vendor can apply its own retry rules.

import { createHmac } from 'node:crypto';

export interface DeliveryAttempt {
  at: string;
  /** HTTP status, or undefined when the call timed out or could not connect. */
  status?: number;
  error?: string;
}

export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  at: Date,
): Promise<DeliveryAttempt> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return { at: at.toISOString(), status: response.status };
  } catch (error) {
    const name = (error as Error).name;
    return { at: at.toISOString(), error: name === 'TimeoutError' ? 'timeout' : (error as Error).message };
  }
}

/** Hex HMAC-SHA256 of the raw body, as Jira (`sha256=`) and PagerDuty (`v1=`) sign. */
export function hmacHex(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}
