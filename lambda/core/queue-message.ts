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

export function buildQueueMessage(fields: QueueMessageFields, payload: unknown, inlinePayloadMaxBytes: number): QueueMessage {
  const withPayload: QueueMessage = { v: QUEUE_MESSAGE_VERSION, ...fields, payload };
  // Measured as sent: the SQS adapter sends ASCII-safe JSON.
  if (toAsciiJson(withPayload).length <= inlinePayloadMaxBytes) return withPayload;
  return { v: QUEUE_MESSAGE_VERSION, ...fields };
}
