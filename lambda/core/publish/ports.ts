/**
 * The publisher's ports: the bus it puts events on, and the clock and budget of
 * the invocation it runs in. Adapters implement them against EventBridge and
 * Lambda; tests and the local stack implement them in memory or locally.
 */
import type { BusEntry } from './entries';

/** What EventBridge answered for one entry of a PutEvents call. */
export type PutOutcome =
  | { readonly ok: true; readonly eventId?: string }
  | { readonly ok: false; readonly code: string; readonly message?: string; readonly retryable: boolean };

export interface EventBus {
  /**
   * One PutEvents call; the outcomes are in entry order. Throws `EventBusError`
   * when the whole call failed (throttled, unreachable, denied).
   */
  put(entries: readonly BusEntry[]): Promise<readonly PutOutcome[]>;
}

export interface PublishLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}
