/**
 * The job-events bus behind the `EventBus` port: one PutEvents call per
 * `put`. Entry-level failures come back as outcomes (EventBridge answers 200
 * with `FailedEntryCount`); a failed call becomes an `EventBusError`. The
 * retryable codes are the ones the PutEvents API reference names.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { BusEntry } from '../core/publish/entries';
import { EventBusError } from '../core/publish/errors';
import type { EventBus, PutOutcome } from '../core/publish/ports';

const RETRYABLE_ENTRY_CODES: ReadonlySet<string> = new Set(['InternalFailure', 'ThrottlingException']);
/** Whole-call errors worth retrying: throttling, server faults, and the network. */
const TRANSIENT_CALL_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'InternalException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

export class EventBridgeBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async put(entries: readonly BusEntry[]): Promise<readonly PutOutcome[]> {
    let answer;
    try {
      answer = await this.client.send(
        new PutEventsCommand({
          Entries: entries.map((entry) => ({
            EventBusName: this.busName,
            Source: entry.source,
            DetailType: entry.detailType,
            Detail: entry.detail,
            ...(entry.time ? { Time: entry.time } : {}),
          })),
        }),
      );
    } catch (error) {
      throw new EventBusError(`PutEvents failed (${nameOf(error)})`, { cause: error, transient: isTransient(error), code: nameOf(error) });
    }
    const results = answer.Entries ?? [];
    return entries.map((_, index): PutOutcome => {
      const result = results[index];
      if (result === undefined) return { ok: false, code: 'MissingResultEntry', retryable: true };
      if (result.ErrorCode === undefined && result.EventId !== undefined) return { ok: true, eventId: result.EventId };
      const code = result.ErrorCode ?? 'UnknownError';
      return { ok: false, code, message: result.ErrorMessage, retryable: RETRYABLE_ENTRY_CODES.has(code) };
    });
  }
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (TRANSIENT_CALL_ERRORS.has(error.name)) return true;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const status = metadata?.httpStatusCode;
  // No HTTP answer at all (reset, refused, DNS) or a 5xx / 429: the next attempt may get through.
  return status === undefined || status >= 500 || status === 429;
}
