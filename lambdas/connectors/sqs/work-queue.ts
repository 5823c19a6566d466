// WorkQueue on Amazon SQS: each stage's queue URL comes from configuration.

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfigurationError } from '../../core/errors';
import type { QueueName, WorkQueue } from '../../core/ports';

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    /** Only the queues this function sends to. */
    private readonly queueUrls: Partial<Record<QueueName, string>>,
  ) {}

  async send(queue: QueueName, message: { requestId: string }): Promise<void> {
    const url = this.queueUrls[queue];
    if (!url) throw new ConfigurationError(`no URL is configured for the ${queue} queue`);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { requestId: { DataType: 'String', StringValue: message.requestId } },
      }),
    );
  }
}
