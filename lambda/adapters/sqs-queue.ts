/** The work queue (one SendMessage per accepted delivery) and the worker's dead-letter sends. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../core/contract';
import { QueueError } from '../core/errors';
import type { Queue, QueueMessage } from '../core/ports';
import type { DeadLetter, DeadLetters } from '../core/worker';
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

/** SQS caps a message attribute's value with the whole message (256 KiB); issues are only for a reader, so keep them short. */
const MAX_ISSUES_CHARS = 1024;

/**
 * The dead-letter queue, written by the worker for a record that can never
 * succeed: the original body unchanged (a redrive sends it back as it was) and
 * the reason beside it, as message attributes a reader sees in the console or
 * with `aws sqs receive-message --message-attribute-names All`.
 */
export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    const issues = letter.issues.join('; ');
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: letter.body,
          MessageAttributes: {
            [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: letter.reason },
            [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: 'String', StringValue: letter.messageId },
            ...(issues === '' ? {} : { [DEAD_LETTER_ATTRIBUTES.issues]: { DataType: 'String', StringValue: issues.slice(0, MAX_ISSUES_CHARS) } }),
            ...(letter.deliveryId ? { deliveryId: { DataType: 'String', StringValue: letter.deliveryId } } : {}),
          },
        }),
      );
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new QueueError(`dead-letter send failed (${name})`, { cause: error });
    }
  }
}
