// The LambdaHost wiring as the sandbox runs it: a webhook reaches a function
// URL, its handler enqueues with the real SQS client, the consumer schedules
// an expiry with the real Scheduler client, and the clock fires it; all in the
// background, and stop() leaves nothing running.

import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent, SQSEvent } from 'aws-lambda';
import { afterAll, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { LambdaHost } from '../../sandbox/lambda-host';

const clock = new SandboxClock({ start: new Date('2026-11-21T09:00:00.000Z'), frozen: true });
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const revoked: unknown[] = [];
let sqs: SQSClient | undefined;
let scheduler: SchedulerClient | undefined;

const host = new LambdaHost({
  clock,
  functions: [
    {
      name: 'webhook',
      handler: async (event: LambdaFunctionURLEvent) => {
        const client = sqs;
        if (!client) throw new Error('the SQS client is not ready');
        const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'grants' }));
        await client.send(new SendMessageCommand({ QueueUrl, MessageBody: event.body ?? '' }));
        return { statusCode: 202, body: '' };
      },
    },
    {
      name: 'provision',
      handler: async (event: SQSEvent) => {
        for (const record of event.Records) {
          const { requestId } = JSON.parse(record.body) as { requestId: string };
          await scheduler?.send(
            new CreateScheduleCommand({
              Name: `expire-${requestId}`,
              ScheduleExpression: 'at(2026-11-21T17:00:00)',
              FlexibleTimeWindow: { Mode: 'OFF' },
              ActionAfterCompletion: 'DELETE',
              Target: {
                Arn: 'arn:aws:lambda:us-east-1:000000000000:function:revoke',
                RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
                Input: JSON.stringify({ requestId }),
              },
            }),
          );
        }
      },
    },
    { name: 'revoke', handler: async (event: unknown) => void revoked.push(event) },
  ],
  queues: [{ name: 'grants' }],
  eventSourceMappings: [{ queue: 'grants', functionName: 'provision' }],
});

afterAll(() => host.stop());

it('runs the handlers end to end in the background, then stops cleanly', async () => {
  const urls = await host.start();
  sqs = new SQSClient({ region: 'us-east-1', endpoint: urls.sqs, credentials });
  scheduler = new SchedulerClient({ region: 'us-east-1', endpoint: urls.scheduler, credentials });

  const response = await fetch(`${urls.functionUrls}/webhook/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ requestId: 'r-42' }),
  });
  expect(response.status).toBe(202);

  await expect.poll(() => host.scheduler.state().schedules.map((s) => s.Name)).toEqual(['expire-r-42']);
  clock.advance(8 * 3600_000);
  await expect.poll(() => revoked).toEqual([{ requestId: 'r-42' }]);
  expect(host.invoker.invocations.map((i) => [i.functionName, i.source, i.outcome])).toEqual([
    ['webhook', 'function-url', 'success'],
    ['provision', 'sqs', 'success'],
    ['revoke', 'scheduler', 'success'],
  ]);

  sqs.destroy();
  scheduler.destroy();
  await host.stop();
  await expect(fetch(`${urls.functionUrls}/webhook/`)).rejects.toThrow();
  await expect(fetch(urls.sqs)).rejects.toThrow();
  await expect(fetch(urls.scheduler)).rejects.toThrow();
});
