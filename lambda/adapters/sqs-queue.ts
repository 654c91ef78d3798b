/** The work queue: one SendMessage per accepted delivery. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueueError } from '../core/errors';
import type { Queue, QueueMessage } from '../core/ports';
import { queueMessageBody } from '../core/queue-message';

export class SqsQueue implements Queue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: QueueMessage): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          // ASCII-only JSON: valid everywhere, and accepted by emulators that
          // refuse characters outside the Basic Multilingual Plane.
          MessageBody: queueMessageBody(message),
          MessageAttributes: {
            event: { DataType: 'String', StringValue: message.event },
            deliveryId: { DataType: 'String', StringValue: message.deliveryId },
          },
        }),
      );
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new QueueError(`enqueue failed (${name})`, { cause: error });
    }
  }
}
