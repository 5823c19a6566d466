// WorkQueue on Amazon SQS: each stage's queue URL comes from configuration.

import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ConfigurationError } from '../../core/errors';
import type { DecideMessage, QueueName, WorkQueue } from '../../core/ports';

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    /** Only the queues this function sends to. */
    private readonly queueUrls: Partial<Record<QueueName, string>>,
  ) {}

  async send(
    queue: QueueName,
    message: { requestId: string } | DecideMessage,
    options: { delaySeconds?: number } = {},
  ): Promise<void> {
    const url = this.queueUrls[queue];
    if (!url) throw new ConfigurationError(`no URL is configured for the ${queue} queue`);
    // Attributes name the message in SQS's console and logs without opening the body.
    const [name, value] =
      'requestId' in message
        ? ['requestId', message.requestId]
        : 'followUpsOf' in message
          ? ['requestId', message.followUpsOf]
          : ['eventId', message.eventId];
    const attributes: Record<string, MessageAttributeValue> = {
      [name]: { DataType: 'String', StringValue: value },
    };
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify(message),
        MessageAttributes: attributes,
        ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}),
      }),
    );
  }
}
