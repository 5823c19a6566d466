// Every log line a handler writes carries its Lambda invocation: the request id,
// whether it is the cold start, the function's name and version, and the X-Ray
// trace id from _X_AMZN_TRACE_ID. Here the PagerDuty webhook, wired as in Lambda
// and entered through builtOnFirstCall as the runtime enters it, refuses a
// forged delivery (no network needed) and its lines are read back.

import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createPagerDutyWebhookHandler } from '../../lambdas/handlers/pagerduty-webhook';
import { builtOnFirstCall } from '../../lambdas/platform/cold-start';
import { Env, readPagerDutyWebhookConfig } from '../../lambdas/platform/env';
import { invocationKeys, invocationScope, traceIdOf } from '../../lambdas/platform/lambda-context';
import { Logger } from '../../lambdas/platform/logger';
import { wirePagerDutyWebhook } from '../../lambdas/wiring/pagerduty-webhook';

const SECRET = 'the-real-webhook-secret';
const TRACE_ROOT = '1-6754a1b2-5f0c3d2e1a9b8c7d6e5f4a3b';

const contextOf = (awsRequestId: string): Context =>
  ({
    awsRequestId,
    functionName: 'loopgate-prod-pagerduty-webhook',
    functionVersion: '7',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:loopgate-prod-pagerduty-webhook',
  }) as Context;

const forged = (): APIGatewayProxyEventV2 =>
  ({
    headers: { 'x-pagerduty-signature': `v1=${'0'.repeat(64)}`, authorization: `Bearer ${SECRET}` },
    body: '{"event":{"id":"01ABC","event_type":"incident.annotated"}}',
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEventV2;

/** The webhook as the runtime calls it, its lines collected; `traceHeader` stands in for the variable. */
function webhook(traceHeader: () => string | undefined) {
  const lines: string[] = [];
  const handler = builtOnFirstCall(
    async () => {
      const wired = wirePagerDutyWebhook(
        readPagerDutyWebhookConfig(
          new Env({
            LOOPGATE_STAGE: 'prod',
            LOOPGATE_TABLE_NAME: 'loopgate-requests',
            AWS_REGION: 'eu-west-1',
            LOOPGATE_DECIDE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/q',
            LOOPGATE_PAGERDUTY_WEBHOOK_SECRETS: SECRET,
          }),
        ),
        { log: (line) => lines.push(line) },
      );
      return createPagerDutyWebhookHandler(wired.deps, wired.settings, wired.logger);
    },
    async () => {},
    invocationScope(traceHeader),
  );
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { handler, lines, parsed };
}

describe("a handler's log lines carry the Lambda context", () => {
  it('request id, cold start on the first invocation only, function name and version, trace id', async () => {
    const { handler, parsed } = webhook(() => `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`);

    expect((await handler(forged(), contextOf('req-1'))).statusCode).toBe(401);
    expect((await handler(forged(), contextOf('req-2'))).statusCode).toBe(401);

    const lines = parsed();
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const context = {
      functionName: 'loopgate-prod-pagerduty-webhook',
      functionVersion: '7',
      xrayTraceId: TRACE_ROOT,
    };
    const first = lines.filter((l) => l.awsRequestId === 'req-1');
    const second = lines.filter((l) => l.awsRequestId === 'req-2');
    expect(first.length + second.length).toBe(lines.length);
    expect(first).not.toEqual([]);
    expect(second).not.toEqual([]);
    for (const line of first) expect(line).toMatchObject({ ...context, coldStart: true, stage: 'prod' });
    for (const line of second) expect(line).toMatchObject({ ...context, coldStart: false, stage: 'prod' });
  });

  it('leaves the trace id out when tracing is off (no _X_AMZN_TRACE_ID), and never logs the secret', async () => {
    const { handler, lines, parsed } = webhook(() => undefined);

    await handler(forged(), contextOf('req-3'));

    expect(parsed()).not.toEqual([]);
    for (const line of parsed()) {
      expect(line).toMatchObject({ awsRequestId: 'req-3', coldStart: true });
      expect(line).not.toHaveProperty('xrayTraceId');
    }
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('keeps invocations handled at once apart', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new Logger({ service: 'test', write: (l) => lines.push(JSON.parse(l)) });
    const scope = invocationScope(() => undefined);
    const slow = (id: string, ms: number) =>
      scope(contextOf(id), async () => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        logger.info('done', { id });
      });

    await Promise.all([slow('a', 20), slow('b', 1)]);

    expect(lines.map((l) => [l.id, l.awsRequestId])).toEqual([
      ['b', 'b'],
      ['a', 'a'],
    ]);
    // Outside an invocation (the CLI, tests) there is nothing to add.
    expect(invocationKeys()).toBeUndefined();
  });

  it("reads the trace id from the header's Root", () => {
    expect(traceIdOf(`Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=0`)).toBe(TRACE_ROOT);
    expect(traceIdOf(`Parent=53995c3f42cd8ad8;Root=${TRACE_ROOT}`)).toBe(TRACE_ROOT);
    expect(traceIdOf(undefined)).toBeUndefined();
    expect(traceIdOf('')).toBeUndefined();
  });
});
