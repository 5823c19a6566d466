// The SQS stand-in through the real @aws-sdk/client-sqs, and Lambda's SQS
// event source mapping driven by the sandbox clock.

import { createHash } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { LambdaHost } from '../../sandbox/lambda-host';

const clock = new SandboxClock({ start: new Date('2026-11-21T09:00:00.000Z'), frozen: true });
const received: SQSEvent[] = [];
/** Bodies the consumer reports as failed; `throw` makes it throw. */
let failBodies = new Set<string>();
let throwAll = false;

const host = new LambdaHost({
  clock,
  functions: [
    {
      name: 'consumer',
      handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        received.push(event);
        if (throwAll) throw new Error('downstream unavailable');
        return {
          batchItemFailures: event.Records.filter((r) => failBodies.has(r.body)).map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    },
  ],
  queues: [
    { name: 'work-dlq' },
    {
      name: 'work',
      visibilityTimeoutSeconds: 30,
      redrivePolicy: { deadLetterQueue: 'work-dlq', maxReceiveCount: 3 },
    },
    { name: 'plain' },
  ],
  eventSourceMappings: [{ queue: 'work', functionName: 'consumer', batchSize: 10 }],
});

let sqs: SQSClient;
let workUrl: string;

beforeAll(async () => {
  const urls = await host.start({ background: false });
  sqs = new SQSClient({
    endpoint: urls.sqs,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'x' },
  });
  workUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'work' }))).QueueUrl ?? '';
});
afterAll(async () => {
  sqs.destroy();
  await host.stop();
});
beforeEach(async () => {
  // Leave nothing in flight from an earlier test: let the consumer succeed, then deliver what is left.
  failBodies = new Set();
  throwAll = false;
  clock.advance(3600_000);
  await host.sqs.drain();
  received.length = 0;
});

const send = (body: string, extra: Partial<ConstructorParameters<typeof SendMessageCommand>[0]> = {}) =>
  sqs.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: body, ...extra }));

const deliveredBodies = () => received.flatMap((e) => e.Records.map((r) => r.body));

async function attributes(queue: string) {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
  return Attributes ?? {};
}

describe('sending', () => {
  it('returns a message id and the MD5 of the body, which the SDK verifies', async () => {
    const sent = await send('{"requestId":"r-1"}', {
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'triage' } },
    });
    expect(sent.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.MD5OfMessageBody).toBe(createHash('md5').update('{"requestId":"r-1"}').digest('hex'));
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(workUrl).toBe(`${host.urls.sqs}/000000000000/work`);
  });

  it('answers an unknown queue with QueueDoesNotExist', async () => {
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: `${host.urls.sqs}/000000000000/missing`, MessageBody: 'x' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect((error as QueueDoesNotExist).message).toBe('The specified queue does not exist.');

    const byName = await sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' })).catch((e: unknown) => e);
    expect(byName).toBeInstanceOf(QueueDoesNotExist);
  });

  it('validates DelaySeconds and the message size with InvalidParameterValue', async () => {
    const delay = await send('x', { DelaySeconds: 901 }).catch((e: unknown) => e);
    expect(delay).toBeInstanceOf(SQSServiceException);
    expect((delay as SQSServiceException).name).toBe('InvalidParameterValue');
    expect((delay as SQSServiceException).$metadata.httpStatusCode).toBe(400);

    const big = await send('x'.repeat(262_145)).catch((e: unknown) => e);
    expect((big as SQSServiceException).name).toBe('InvalidParameterValue');
    expect((big as SQSServiceException).message).toContain('Message must be shorter than 262144 bytes');
  });

  it('reports per-entry failures of SendMessageBatch and stores the valid entries', async () => {
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: workUrl,
        Entries: [
          { Id: 'ok-1', MessageBody: 'batch one' },
          { Id: 'too-late', MessageBody: 'batch two', DelaySeconds: 1000 },
          { Id: 'ok-2', MessageBody: 'batch three' },
        ],
      }),
    );
    expect(result.Successful?.map((s) => s.Id)).toEqual(['ok-1', 'ok-2']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'too-late', SenderFault: true, Code: 'InvalidParameterValue' }),
    ]);

    const duplicate = await sqs
      .send(
        new SendMessageBatchCommand({
          QueueUrl: workUrl,
          Entries: [
            { Id: 'same', MessageBody: 'a' },
            { Id: 'same', MessageBody: 'b' },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect((duplicate as Error).name).toBe('BatchEntryIdsNotDistinct');
  });

  it('refuses an unsigned request with MissingAuthenticationToken', async () => {
    const response = await fetch(host.urls.sqs, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.GetQueueUrl' },
      body: JSON.stringify({ QueueName: 'work' }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-query-error')).toBe('MissingAuthenticationToken;Sender');
  });

  it('lets the SDK receive a message and verify its MD5', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'plain' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'for a poller' }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(Messages?.map((m) => m.Body)).toEqual(['for a poller']);
    expect(Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
  });
});

describe('the event source mapping', () => {
  it('delivers an SQSEvent record with the message, its attributes and its source', async () => {
    const sent = await send('{"requestId":"r-2"}', {
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'triage' } },
    });
    await host.sqs.drain();

    const record = received[0]?.Records[0];
    expect(record).toMatchObject({
      messageId: sent.MessageId,
      body: '{"requestId":"r-2"}',
      md5OfBody: sent.MD5OfMessageBody,
      md5OfMessageAttributes: sent.MD5OfMessageAttributes,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:work',
      awsRegion: 'us-east-1',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(clock.now().getTime()),
        SenderId: 'AKIASANDBOX',
        ApproximateFirstReceiveTimestamp: String(clock.now().getTime()),
      },
      messageAttributes: {
        kind: { stringValue: 'triage', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
    });
    expect(record?.receiptHandle).toBeTruthy();
    expect(await attributes('work')).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('retries the records in batchItemFailures only after the visibility timeout, when the clock moves', async () => {
    failBodies = new Set(['fails']);
    await send('succeeds');
    await send('fails');
    await host.sqs.drain();
    expect(deliveredBodies().sort()).toEqual(['fails', 'succeeds']);
    expect(await attributes('work')).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });

    received.length = 0;
    await host.sqs.drain();
    clock.advance(29_000);
    await host.sqs.drain();
    expect(received).toEqual([]);

    clock.advance(1_000);
    await host.sqs.drain();
    expect(deliveredBodies()).toEqual(['fails']);
    expect(received[0]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('retries the whole batch when the handler throws', async () => {
    throwAll = true;
    await send('first');
    await send('second');
    await host.sqs.drain();
    expect(deliveredBodies().sort()).toEqual(['first', 'second']);

    throwAll = false;
    received.length = 0;
    clock.advance(30_000);
    await host.sqs.drain();
    expect(deliveredBodies().sort()).toEqual(['first', 'second']);
    expect(await attributes('work')).toMatchObject({ ApproximateNumberOfMessagesNotVisible: '0' });
    expect(host.sqs.batches.at(-2)).toMatchObject({
      outcome: 'error',
      error: 'Error: downstream unavailable',
    });
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    failBodies = new Set(['poison']);
    const sent = await send('poison');
    for (let i = 0; i < 3; i++) {
      await host.sqs.drain();
      clock.advance(30_000);
    }
    received.length = 0;
    await host.sqs.drain();

    expect(received).toEqual([]);
    const dlq = host.sqs.state().queues.find((q) => q.name === 'work-dlq');
    expect(dlq?.visible).toEqual([
      expect.objectContaining({ messageId: sent.MessageId, body: 'poison', receiveCount: 3 }),
    ]);
    expect(await attributes('work-dlq')).toMatchObject({ ApproximateNumberOfMessages: '1' });
    expect(JSON.parse((await attributes('work')).RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:work-dlq',
      maxReceiveCount: 3,
    });
  });

  it('holds a delayed message until its delay has passed on the clock', async () => {
    await send('later', { DelaySeconds: 60 });
    await host.sqs.drain();
    expect(received).toEqual([]);
    expect(await attributes('work')).toMatchObject({ ApproximateNumberOfMessagesDelayed: '1' });

    clock.advance(60_000);
    await host.sqs.drain();
    expect(deliveredBodies()).toEqual(['later']);
  });

  it('can deliver a message twice, with the same message id, to exercise idempotency', async () => {
    host.sqs.deliverTwice('work');
    const sent = await send('once, twice');
    await host.sqs.drain();
    const ids = received.flatMap((e) => e.Records.map((r) => r.messageId));
    expect(ids).toEqual([sent.MessageId, sent.MessageId]);
  });

  it('delivers in the background when polling, reacting to the clock', async () => {
    failBodies = new Set(['background']);
    host.sqs.startPolling(20);
    try {
      await send('background');
      await expect.poll(() => deliveredBodies().length).toBe(1);
      failBodies = new Set();
      clock.advance(30_000);
      await expect.poll(() => deliveredBodies().length).toBe(2);
    } finally {
      await host.sqs.stopPolling();
    }
  });
});
