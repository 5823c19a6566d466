// The stack counts refused webhook signatures with a CloudWatch metric filter on each webhook's
// log group (lib/app-stack.ts: `{ $.message = "request refused" && $.status = 401 }`, dimension
// Stage from `$.stage`). Here the webhooks, wired as in Lambda, refuse a forged delivery, and the
// line they log has exactly the fields the filter reads.

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createJiraWebhookHandler } from '../../lambdas/handlers/jira-webhook';
import { createPagerDutyWebhookHandler } from '../../lambdas/handlers/pagerduty-webhook';
import { Env, readIntakeConfig, readPagerDutyWebhookConfig } from '../../lambdas/platform/env';
import { REQUEST_REFUSED } from '../../lambdas/platform/http-errors';
import { wirePagerDutyWebhook } from '../../lambdas/wiring/pagerduty-webhook';
import { wireIntake } from '../../lambdas/wiring/intake';
import { SIGNATURE_FAILURE_PATTERN } from '../../lib/app-stack';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111122223333/q';
const COMMON = {
  LOOPGATE_STAGE: 'prod',
  LOOPGATE_TABLE_NAME: 'loopgate-requests',
  AWS_REGION: 'eu-west-1',
  LOOPGATE_DECIDE_QUEUE_URL: QUEUE,
};

/** A delivery whose signature was made with another secret. */
const forged = (header: string, signature: string): APIGatewayProxyEventV2 =>
  ({
    headers: { [header]: signature },
    body: '{"webhookEvent":"jira:issue_created"}',
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEventV2;

function refusedLines(lines: string[]) {
  return lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.message === REQUEST_REFUSED && l.status === 401);
}

describe('a refused webhook signature is logged as the metric filter counts it', () => {
  it('jira-webhook: message, status 401 and the stage', async () => {
    const lines: string[] = [];
    const wired = wireIntake(
      readIntakeConfig(
        new Env({
          ...COMMON,
          LOOPGATE_CATALOG_FILE: 'config/catalog.yaml',
          LOOPGATE_TRIAGE_QUEUE_URL: QUEUE,
          LOOPGATE_REVOKE_QUEUE_URL: QUEUE,
          LOOPGATE_JIRA_BASE_URL: 'https://example.atlassian.net',
          LOOPGATE_JIRA_EMAIL: 'loopgate@example.com',
          LOOPGATE_JIRA_API_TOKEN: 'token',
          LOOPGATE_JIRA_WEBHOOK_SECRETS: 'the-real-secret',
          LOOPGATE_JIRA_PROJECTS: 'ACCESS',
          LOOPGATE_JIRA_ISSUE_TYPES: 'Access Request',
          LOOPGATE_OKTA_ORG_URL: 'https://example.okta.com',
          LOOPGATE_OKTA_TOKEN: 'token',
        }),
      ),
      { log: (line) => lines.push(line) },
    );
    const handler = createJiraWebhookHandler(wired.deps, wired.settings, wired.logger);
    const response = await handler(forged('x-hub-signature', `sha256=${'0'.repeat(64)}`));
    expect(response.statusCode).toBe(401);
    expect(refusedLines(lines)).toEqual([
      expect.objectContaining({ level: 'warn', service: 'jira-webhook', stage: 'prod' }),
    ]);
  });

  it('pagerduty-webhook: message, status 401 and the stage', async () => {
    const lines: string[] = [];
    const wired = wirePagerDutyWebhook(
      readPagerDutyWebhookConfig(
        new Env({ ...COMMON, LOOPGATE_PAGERDUTY_WEBHOOK_SECRETS: 'the-real-secret' }),
      ),
      { log: (line) => lines.push(line) },
    );
    const handler = createPagerDutyWebhookHandler(wired.deps, wired.settings, wired.logger);
    const response = await handler(forged('x-pagerduty-signature', `v1=${'0'.repeat(64)}`));
    expect(response.statusCode).toBe(401);
    expect(refusedLines(lines)).toEqual([
      expect.objectContaining({ level: 'warn', service: 'pagerduty-webhook', stage: 'prod' }),
    ]);
  });

  it('the filter reads those fields', () => {
    expect(SIGNATURE_FAILURE_PATTERN.logPatternString).toBe(
      `{ ($.message = "${REQUEST_REFUSED}") && ($.status = 401) }`,
    );
  });
});
