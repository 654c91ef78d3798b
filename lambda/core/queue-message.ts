/**
 * The queue message, built in one place for the receiver and the replay tool:
 * the parsed payload rides inline when the whole message fits the inline limit
 * (one SQS 64 KiB billing chunk by default); otherwise it is left out and the
 * worker reads the archived body (claim check).
 */
import { toAsciiJson } from './ascii-json';
import { QUEUE_MESSAGE_VERSION } from './contract';
import type { QueueMessage } from './ports';

export type QueueMessageFields = Omit<QueueMessage, 'v' | 'payload'>;

/** Bodies already serialized while measuring, so the hot path serializes a message once. */
const serialized = new WeakMap<QueueMessage, string>();

export function buildQueueMessage(fields: QueueMessageFields, payload: unknown, inlinePayloadMaxBytes: number): QueueMessage {
  const withPayload: QueueMessage = { v: QUEUE_MESSAGE_VERSION, ...fields, payload };
  // Measured as sent: the SQS adapter sends ASCII-safe JSON.
  const body = toAsciiJson(withPayload);
  if (body.length <= inlinePayloadMaxBytes) {
    // Stryker disable next-line CallExpression: without the memo, queueMessageBody serializes the same text again
    serialized.set(withPayload, body);
    return withPayload;
  }
  return { v: QUEUE_MESSAGE_VERSION, ...fields };
}

/** The message as the queue carries it: ASCII-safe JSON (reused when `buildQueueMessage` made it). */
export function queueMessageBody(message: QueueMessage): string {
  return serialized.get(message) ?? toAsciiJson(message);
}
