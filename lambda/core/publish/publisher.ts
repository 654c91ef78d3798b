/**
 * The job-events publisher's core: a batch of stream records (one shard, in
 * order) becomes the job events it means, put on the bus in order, each job's
 * events one after another. Failed entries (throttling, EventBridge's partial
 * failures) are retried with backoff while the invocation's budget lasts; after
 * that the first record whose event is not on the bus is reported, and Lambda
 * retries the batch from there. Events after it that did get out are sent
 * again: delivery is at least once, and a repeat carries the same `eventId`.
 */
import { METRIC } from '../contract';
import { type BusEntry, planCalls, prepareEntry } from './entries';
import { EventBusError } from './errors';
import { type JobChange, type JobEventMessage, jobEventOf } from './job-event';
import type { EventBus, PublishLogger, PutOutcome } from './ports';

export type PublishMetricName =
  | typeof METRIC.jobEventPublished
  | typeof METRIC.jobEventPublishRetried
  | typeof METRIC.jobEventPublishFailed
  | typeof METRIC.jobEventProductOmitted;

export interface PublisherPorts {
  readonly bus: EventBus;
  readonly logger: PublishLogger;
  readonly count: (metric: PublishMetricName, value?: number) => void;
  /** Milliseconds left before the invocation must have answered. */
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** [0, 1), for the backoff's jitter. */
  readonly random: () => number;
}

export interface RetryPolicy {
  /** First backoff ceiling; doubles per retry of the same call (full jitter). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * Kept free for one more PutEvents call (its client timeouts) and the answer:
   * a retry starts only if this much time is left after its backoff.
   */
  readonly reserveMs: number;
}

/**
 * The client gives a call at most 2 attempts × (1 s connect + 3 s answer); one
 * second more lets the handler answer before Lambda's own timeout.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 100, maxDelayMs: 5_000, reserveMs: 9_000 };

export interface PublishResult {
  /** Events EventBridge accepted (repeats of an earlier attempt included). */
  readonly published: number;
  /** Records that mean no event (no status change). */
  readonly unchanged: number;
  /** Entries put again after a failed attempt. */
  readonly retried: number;
  /** The first record whose event is not on the bus; Lambda retries from it. */
  readonly failedSequenceNumber?: string;
}

interface Pending {
  readonly record: number;
  readonly change: JobChange;
  readonly message: JobEventMessage;
  readonly entry: BusEntry;
  readonly size: number;
}

/** The events a batch means, in record order: pure, and what the property tests check. */
export function jobEventsOf(changes: readonly JobChange[]): { readonly record: number; readonly message: JobEventMessage }[] {
  return changes.flatMap((change, record) => {
    const message = jobEventOf(change);
    return message === undefined ? [] : [{ record, message }];
  });
}

export async function publishChanges(
  changes: readonly JobChange[],
  ports: PublisherPorts,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<PublishResult> {
  const events = jobEventsOf(changes);
  const pending: Pending[] = events.map(({ record, message }) => {
    const prepared = prepareEntry(message);
    if (prepared.productOmitted) {
      ports.count(METRIC.jobEventProductOmitted);
      ports.logger.warn('Job event published without product attributes (too large)', keysOf(message, changes[record]));
    }
    return { record, change: changes[record], message, entry: prepared.entry, size: prepared.size };
  });
  const calls = planCalls(pending.map((item) => ({ key: item.message.detail.jobId, size: item.size })));

  let published = 0;
  let retried = 0;
  const unchanged = changes.length - events.length;
  for (const call of calls) {
    let batch = call.map((index) => pending[index]);
    // Stryker disable next-line BlockStatement: an empty body spins forever without awaiting, which a runner can only time out
    for (let attempt = 1; ; attempt += 1) {
      const outcomes = await putOnce(ports, batch);
      const failed: Pending[] = [];
      const failures: Extract<PutOutcome, { ok: false }>[] = [];
      outcomes.forEach((outcome, index) => {
        if (outcome.ok) published += 1;
        else {
          failed.push(batch[index]);
          failures.push(outcome);
        }
      });
      if (outcomes.length > failed.length) ports.count(METRIC.jobEventPublished, outcomes.length - failed.length);
      if (failed.length === 0) break;

      const codes = countBy(failures.map((failure) => failure.code));
      const delay = Math.floor(ports.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
      const permanent = failures.some((failure) => !failure.retryable);
      if (permanent || ports.remainingMs() - delay < policy.reserveMs) {
        // Earlier calls all succeeded and `failed` keeps the call's record order, so its first is the batch's first.
        const first = failed[0];
        ports.count(METRIC.jobEventPublishFailed);
        ports.logger.error('Job events not published; the stream retries from the first one', {
          ...keysOf(first.message, first.change),
          failedEntries: failed.length,
          codes,
          attempts: attempt,
          reason: permanent ? 'permanent_error' : 'budget_exhausted',
        });
        return { published, unchanged, retried, failedSequenceNumber: first.change.sequenceNumber };
      }
      ports.logger.warn('PutEvents partly failed; retrying the failed entries', { failedEntries: failed.length, entries: batch.length, codes, attempt, delayMs: delay });
      ports.count(METRIC.jobEventPublishRetried, failed.length);
      retried += failed.length;
      await ports.sleep(delay);
      batch = failed;
    }
  }
  if (events.length > 0) ports.logger.info('Job events published', { records: changes.length, events: events.length, published, retried });
  return { published, unchanged, retried };
}

/** One call; a whole-call failure counts as every entry failing with its code. */
async function putOnce(ports: PublisherPorts, batch: readonly Pending[]): Promise<readonly PutOutcome[]> {
  try {
    const outcomes = await ports.bus.put(batch.map((item) => item.entry));
    if (outcomes.length !== batch.length) {
      return batch.map(() => ({ ok: false, code: 'MalformedResponse', retryable: true }));
    }
    return outcomes;
  } catch (error) {
    const code = error instanceof EventBusError ? error.code : error instanceof Error ? error.name : 'Error';
    const retryable = error instanceof EventBusError ? error.transient : true;
    return batch.map(() => ({ ok: false, code, retryable, message: error instanceof Error ? error.message : undefined }));
  }
}

function keysOf(message: JobEventMessage, change: JobChange): Record<string, unknown> {
  return {
    jobId: message.detail.jobId,
    eventId: message.detail.eventId,
    status: message.detail.status,
    deliveryId: message.detail.deliveryId,
    sequenceNumber: change.sequenceNumber,
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
