/**
 * The queue message of a replayed delivery. The receiver builds its message
 * inside `createReceiver` (lambda/core/receive.ts) and exports no builder, so
 * this mirrors it field for field: same version, ids, timestamps, archive
 * location, the payload inline when the whole message fits one SQS chunk (else
 * the worker reads the archive), plus `replay` and, on request, `force`.
 * If the receiver's builder is ever exported, this should call it instead.
 */
import { DEFAULTS, QUEUE_MESSAGE_VERSION, type EventType } from '../../lambda/core/contract';
import { toAsciiJson } from '../../lambda/core/ascii-json';
import type { ArchiveLocation, QueueMessage } from '../../lambda/core/ports';

export interface ReplayMessageInput {
  readonly deliveryId: string;
  readonly event: EventType;
  readonly jobId: string;
  readonly timestamp: string;
  readonly receivedAt: string;
  readonly archive: ArchiveLocation;
  readonly payload: unknown;
  readonly force: boolean;
  /** @default DEFAULTS.inlinePayloadMaxBytes, the receiver's default */
  readonly inlinePayloadMaxBytes?: number;
}

export function buildReplayMessage(input: ReplayMessageInput): QueueMessage {
  const message: QueueMessage = {
    v: QUEUE_MESSAGE_VERSION,
    deliveryId: input.deliveryId,
    event: input.event,
    jobId: input.jobId,
    timestamp: input.timestamp,
    receivedAt: input.receivedAt,
    archive: input.archive,
    payload: input.payload,
    replay: true,
    ...(input.force ? { force: true } : {}),
  };
  if (toAsciiJson(message).length <= (input.inlinePayloadMaxBytes ?? DEFAULTS.inlinePayloadMaxBytes)) return message;
  return { ...message, payload: undefined };
}
