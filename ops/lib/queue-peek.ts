/**
 * A look at a queue's messages without taking them: ReceiveMessage with a zero
 * visibility timeout, so every message stays visible to the worker or a
 * redrive, repeated until no new message id comes back. SQS samples its
 * servers on a short poll, so a look at a large queue is a sample (the depth
 * from GetQueueAttributes is the count). Used for the DLQ, never for the work
 * queue, where each receive would count towards its messages' maximum receives.
 */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface PeekedMessage {
  readonly messageId: string;
  readonly receiveCount?: number;
  /** When it was sent to this queue (ISO). */
  readonly sentAt?: string;
  readonly body: string;
  /** The message's own attributes (a dead-letter reason, when the worker gave one), string values only. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The queue message's fields, when the body is one. */
  readonly fields?: {
    readonly deliveryId?: string;
    readonly event?: string;
    readonly jobId?: string;
    readonly receivedAt?: string;
    readonly origin?: string;
    readonly replay?: boolean;
  };
}

export interface PeekOptions {
  /** @default 50 */
  readonly max?: number;
  /** Receives at most. @default 6 */
  readonly rounds?: number;
}

function fieldsOf(body: string): PeekedMessage['fields'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  const text = (name: string): string | undefined => (typeof record[name] === 'string' ? (record[name] as string) : undefined);
  return {
    deliveryId: text('deliveryId'),
    event: text('event'),
    jobId: text('jobId'),
    receivedAt: text('receivedAt'),
    origin: text('origin'),
    replay: record.replay === true ? true : undefined,
  };
}

export async function peekQueue(sqs: SQSClient, queueUrl: string, options: PeekOptions = {}): Promise<PeekedMessage[]> {
  const max = options.max ?? 50;
  const found = new Map<string, PeekedMessage>();
  for (let round = 0; round < (options.rounds ?? 6) && found.size < max; round += 1) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    let fresh = 0;
    for (const message of messages) {
      if (message.MessageId === undefined || found.has(message.MessageId) || found.size >= max) continue;
      fresh += 1;
      const body = message.Body ?? '';
      const sent = Number(message.Attributes?.SentTimestamp);
      const count = Number(message.Attributes?.ApproximateReceiveCount);
      const attributes: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
        if (value.StringValue !== undefined) attributes[name] = value.StringValue;
      }
      found.set(message.MessageId, {
        messageId: message.MessageId,
        ...(Number.isFinite(count) ? { receiveCount: count } : {}),
        ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
        body,
        attributes,
        fields: fieldsOf(body),
      });
    }
    if (fresh === 0) break;
  }
  return [...found.values()].sort((a, b) => (a.sentAt ?? '').localeCompare(b.sentAt ?? ''));
}
