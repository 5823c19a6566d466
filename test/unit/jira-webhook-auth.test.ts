// The jira-webhook's authentication for Jira Automation, whose "Send web request" is unsigned:
// a delivery passes with the configured header and secret, and only then.

import { describe, expect, it } from 'vitest';
import type { IntakeDeps } from '../../lambdas/core/intake/intake';
import { createJiraWebhookHandler, MAX_JIRA_BODY_BYTES } from '../../lambdas/handlers/jira-webhook';
import { Logger } from '../../lambdas/platform/logger';

const settings = {
  secrets: ['webhook-secret'],
  automation: { header: 'X-Loopgate-Secret', secret: 'automation-secret' },
  projects: ['ACCESS'],
  issueTypes: ['Access Request'],
  fields: {},
  breakGlass: { label: 'break-glass' },
  identity: {},
  maxBodyBytes: MAX_JIRA_BODY_BYTES,
};
// A ticket of another project: authenticated deliveries of it are ignored before any dependency is used.
const body = JSON.stringify({
  id: 1,
  key: 'OPS-1',
  fields: { project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary: 'x' },
});
const handler = createJiraWebhookHandler(
  {} as IntakeDeps,
  settings,
  new Logger({ service: 'test', write: () => {} }),
);
const deliver = (headers: Record<string, string>) =>
  handler({ body, isBase64Encoded: false, headers } as never);

describe('Jira Automation deliveries', () => {
  it('are accepted with the configured secret header (names are lower-cased by Function URLs)', async () => {
    expect((await deliver({ 'x-loopgate-secret': 'automation-secret' })).statusCode).toBe(204);
  });

  it.each([
    ['a wrong secret', { 'x-loopgate-secret': 'guess' }],
    ['the secret under another header', { 'x-other': 'automation-secret' }],
    ['no header at all', {}],
    [
      'a signature header with the automation secret',
      { 'x-hub-signature': 'sha256=00', 'x-loopgate-secret': 'automation-secret' },
    ],
  ])('are refused with %s', async (_, headers) => {
    const response = await deliver(headers);
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'unauthenticated', message: expect.any(String) },
    });
  });
});
