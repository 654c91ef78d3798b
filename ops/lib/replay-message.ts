/**
 * The queue message of a replayed delivery: built by the receiver's own builder,
 * so a replay goes down exactly the worker path the original did, plus `replay`
 * and, on request, `force`.
 */
import { DEFAULTS } from '../../lambda/core/contract';
import type { QueueMessage } from '../../lambda/core/ports';
import { buildQueueMessage, type QueueMessageFields } from '../../lambda/core/queue-message';

export interface ReplayMessageInput extends Omit<QueueMessageFields, 'replay' | 'force'> {
  readonly payload: unknown;
  readonly force: boolean;
  /** @default DEFAULTS.inlinePayloadMaxBytes, the receiver's default */
  readonly inlinePayloadMaxBytes?: number;
}

export function buildReplayMessage(input: ReplayMessageInput): QueueMessage {
  const { payload, force, inlinePayloadMaxBytes, ...fields } = input;
  return buildQueueMessage(
    { ...fields, replay: true, origin: 'replay', ...(force ? { force: true } : {}) },
    payload,
    inlinePayloadMaxBytes ?? DEFAULTS.inlinePayloadMaxBytes,
  );
}
