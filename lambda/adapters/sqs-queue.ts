/** The work queue (one SendMessage per accepted delivery), the worker's early retries and its dead-letter sends. */
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES, SERVICE_LIMITS } from '../core/contract';
import { QueueError } from '../core/errors';
import type { MessageVisibility, Queue, QueueMessage, SendOptions } from '../core/ports';
import type { DeadLetter, DeadLetters } from '../core/worker';
import { queueMessageBody } from '../core/queue-message';

export class SqsQueue implements Queue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: QueueMessage, options: SendOptions = {}): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          // ASCII-only JSON: valid everywhere, and accepted by emulators that
          // refuse characters outside the Basic Multilingual Plane.
          MessageBody: queueMessageBody(message),
          ...(options.delaySeconds !== undefined ? { DelaySeconds: options.delaySeconds } : {}),
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

/** SQS caps a message attribute's value with the whole message; issues are only for a reader, so keep them short. */
const MAX_ISSUES_CHARS = 1024;
/** Bytes the other attributes (names, types, reason, message and delivery ids) can take. */
const OTHER_ATTRIBUTES_BYTES = 400;

/**
 * The issues that fit beside the body: attributes count toward SQS's message
 * limit, and a body near 1 MiB (a large payload carried inline) leaves little.
 */
export function issuesThatFit(issues: string, body: string): string {
  const room = SERVICE_LIMITS.sqsMaxMessageBytes - Buffer.byteLength(body, 'utf8') - OTHER_ATTRIBUTES_BYTES;
  let text = issues.slice(0, Math.max(0, Math.min(MAX_ISSUES_CHARS, room)));
  while (text.length > 0 && Buffer.byteLength(text, 'utf8') > room) text = text.slice(0, -1);
  return text;
}

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
    const issues = issuesThatFit(letter.issues.join('; '), letter.body);
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: letter.body,
          MessageAttributes: {
            [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: letter.reason },
            [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: 'String', StringValue: letter.messageId },
            ...(issues === '' ? {} : { [DEAD_LETTER_ATTRIBUTES.issues]: { DataType: 'String', StringValue: issues } }),
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

/** ChangeMessageVisibility on the work queue: a record retried in seconds instead of the visibility timeout. */
export class SqsMessageVisibility implements MessageVisibility {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async retryIn(receiptHandle: string, seconds: number): Promise<void> {
    try {
      await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new QueueError(`visibility change failed (${name})`, { cause: error });
    }
  }
}
