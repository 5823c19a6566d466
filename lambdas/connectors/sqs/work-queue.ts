// WorkQueue on Amazon SQS: each stage's queue URL comes from configuration.

import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueName, WorkQueue } from '../../core/ports';

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrls: Record<QueueName, string>,
  ) {}

  async send(queue: QueueName, message: { requestId: string }): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrls[queue],
        MessageBody: JSON.stringify(message),
        MessageAttributes: { requestId: { DataType: 'String', StringValue: message.requestId } },
      }),
    );
  }
}
