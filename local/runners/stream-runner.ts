/**
 * Feeds a handler from a DynamoDB stream the way Lambda's stream event source
 * does ("Using AWS Lambda with Amazon DynamoDB", "Lambda parameters for Amazon
 * DynamoDB event source mappings", "Configuring partial batch response with
 * DynamoDB and Lambda", "Retain discarded records for a DynamoDB event
 * source"), with the mapping's settings read from the synthesized template:
 *
 * - each shard is read in order, parents before children, polled about four
 *   times a second, from TRIM_HORIZON (or after the last checkpoint);
 * - records the mapping's filters reject never reach the handler (Lambda's
 *   event filtering: the same patterns, the Lambda-shaped record);
 * - a batch holds up to `BatchSize` records, gathered for up to
 *   `MaximumBatchingWindowInSeconds`, shaped as Lambda's `DynamoDBStreamEvent`
 *   (epoch-second creation time, base64 binary values);
 * - with `ReportBatchItemFailures`, the lowest reported sequence number is the
 *   checkpoint: records before it are done, the rest is retried; an empty,
 *   missing or unknown identifier fails the whole batch;
 * - a function error (throw or timeout) halves the batch when
 *   `BisectBatchOnFunctionError` is set, without using a retry;
 * - after `MaximumRetryAttempts` retries, or once the first record is older
 *   than `MaximumRecordAgeInSeconds`, the batch is discarded and its position
 *   sent to the on-failure destination (shard, first and last sequence
 *   numbers: not the records, as Lambda does for SQS destinations).
 *
 * DynamoDB Local is known to throw TrimmedDataAccessException and
 * expired or invalid iterator errors: on any read error the runner lists the
 * shards again and takes fresh iterators from its checkpoints.
 *
 * Differences, on purpose: retries wait `retryDelayMs` (Lambda's own retry
 * pacing is not documented); DynamoDB Local rounds a record's creation time
 * down to the minute, so record ages are up to a minute older than in AWS.
 */
import { randomUUID } from 'node:crypto';
import { DescribeStreamCommand, type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type Shard } from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { toLambdaRecord } from '../../lambda/adapters/stream-records';
import { localLambdaContext, withTimeout } from '../lambda-context';
import { sleep } from '../net';
import { compilePattern } from '../stand-ins/event-pattern';

export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void>;

/** What Lambda sends an on-failure destination for a discarded stream batch. */
export interface StreamFailureRecord {
  readonly requestContext: { readonly requestId: string; readonly functionArn: string; readonly condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded'; readonly approximateInvokeCount: number };
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: string; readonly functionError?: string };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

export interface StreamRunnerOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly region: string;
  readonly handler: StreamHandler;
  /** The mapping's BatchSize (Lambda's default for DynamoDB is 100). */
  readonly batchSize?: number;
  readonly maxBatchingWindowMs?: number;
  /** FilterCriteria patterns; a record passes when any matches. */
  readonly filters?: readonly unknown[];
  readonly bisectBatchOnFunctionError?: boolean;
  /** -1 (Lambda's default) retries until the record expires. */
  readonly maximumRetryAttempts?: number;
  /** -1 (Lambda's default) means no limit. */
  readonly maximumRecordAgeSeconds?: number;
  readonly reportBatchItemFailures?: boolean;
  readonly onFailure?: (record: StreamFailureRecord) => Promise<void>;
  readonly functionTimeoutSeconds?: number;
  readonly functionName?: string;
  readonly pollIntervalMs?: number;
  readonly retryDelayMs?: number;
  /** Last completed sequence number per shard; pass the same map to a new runner to resume like a restarted poller. */
  readonly checkpoints?: Map<string, string>;
  readonly log?: (message: string) => void;
}

export interface StreamRunnerStats {
  readonly invocations: number;
  readonly recordsRead: number;
  readonly recordsFiltered: number;
  readonly functionErrors: number;
  readonly partialFailures: number;
  readonly invalidResponses: number;
  readonly bisections: number;
  readonly retries: number;
  readonly discardedBatches: number;
  readonly discardedRecords: number;
  readonly relists: number;
  readonly readErrors: number;
  readonly shards: number;
}

export interface StreamRunner {
  stats(): StreamRunnerStats;
  /** True when every open shard has been read to its end and nothing waits for the handler. */
  caughtUp(): boolean;
  /** Stops polling; a batch being handled finishes, but is not checkpointed (as when a poller dies). */
  stop(): Promise<void>;
}

interface Pending {
  readonly record: DynamoDBRecord;
  readonly sequenceNumber: string;
  readonly createdAt: number;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId?: string;
  iterator?: string;
  readonly buffer: Pending[];
  /** GetRecords returned no next iterator: nothing more will come. */
  closed: boolean;
  /** Closed and every record done. */
  done: boolean;
  /** The last read returned nothing. */
  drained: boolean;
  busy: boolean;
}

type Outcome = { readonly kind: 'ok' } | { readonly kind: 'partial'; readonly index: number } | { readonly kind: 'error'; readonly reason: string } | { readonly kind: 'invalid' };

const RELIST_ERRORS = new Set(['TrimmedDataAccessException', 'ExpiredIteratorException', 'ResourceNotFoundException', 'ValidationException']);

/** Lambda's reading of a partial batch response. */
export function batchOutcome(records: readonly Pending[], response: DynamoDBBatchResponse | void, reportBatchItemFailures: boolean): Outcome {
  if (!reportBatchItemFailures || response === undefined || response === null) return { kind: 'ok' };
  const failures = (response as Partial<DynamoDBBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'ok' };
  if (!Array.isArray(failures)) return { kind: 'invalid' };
  if (failures.length === 0) return { kind: 'ok' };
  let lowest: number | undefined;
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index = typeof id === 'string' && id !== '' ? records.findIndex((record) => record.sequenceNumber === id) : -1;
    if (index === -1) return { kind: 'invalid' };
    lowest = lowest === undefined ? index : Math.min(lowest, index);
  }
  return { kind: 'partial', index: lowest ?? 0 };
}

export function startStreamRunner(options: StreamRunnerOptions): StreamRunner {
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const windowMs = options.maxBatchingWindowMs ?? 0;
  const pollMs = options.pollIntervalMs ?? 250;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const maxRetries = options.maximumRetryAttempts ?? -1;
  const maxAgeMs = (options.maximumRecordAgeSeconds ?? -1) * 1000;
  const timeoutMs = (options.functionTimeoutSeconds ?? 30) * 1000;
  const functionName = options.functionName ?? 'job-events-local';
  const functionArn = `arn:aws:lambda:${options.region}:000000000000:function:${functionName}`;
  const reportFailures = options.reportBatchItemFailures ?? false;
  const bisect = options.bisectBatchOnFunctionError ?? false;
  const checkpoints = options.checkpoints ?? new Map<string, string>();
  const filters = (options.filters ?? []).map((pattern) => compilePattern(pattern));
  const passes = (record: DynamoDBRecord): boolean => filters.length === 0 || filters.some((matches) => matches(record));
  const log = options.log ?? (() => undefined);
  const { streams, streamArn } = options;

  const shards = new Map<string, ShardState>();
  let stopping = false;
  let busy = 0;
  const stats = {
    invocations: 0,
    recordsRead: 0,
    recordsFiltered: 0,
    functionErrors: 0,
    partialFailures: 0,
    invalidResponses: 0,
    bisections: 0,
    retries: 0,
    discardedBatches: 0,
    discardedRecords: 0,
    relists: 0,
    readErrors: 0,
  };

  const listShards = async (): Promise<void> => {
    let start: string | undefined;
    do {
      const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      for (const shard of described.StreamDescription?.Shards ?? ([] as Shard[])) {
        if (shard.ShardId === undefined || shards.has(shard.ShardId)) continue;
        const state: ShardState = { shardId: shard.ShardId, parentShardId: shard.ParentShardId, buffer: [], closed: false, done: false, drained: false, busy: false };
        shards.set(shard.ShardId, state);
        void runShard(state);
      }
      start = described.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined && !stopping);
  };

  const relist = async (shard: ShardState, reason: string): Promise<void> => {
    stats.relists += 1;
    shard.iterator = undefined;
    log(`stream runner: ${reason} on ${shard.shardId}; listing the shards again`);
    try {
      await listShards();
    } catch (error) {
      log(`stream runner: DescribeStream failed (${error instanceof Error ? error.name : String(error)})`);
    }
  };

  const iteratorFor = async (shard: ShardState): Promise<string | undefined> => {
    const checkpoint = checkpoints.get(shard.shardId);
    if (checkpoint !== undefined) {
      try {
        const after = await streams.send(
          new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: checkpoint }),
        );
        return after.ShardIterator;
      } catch (error) {
        if (!(error instanceof Error && error.name === 'TrimmedDataAccessException')) throw error;
        log(`stream runner: records after ${checkpoint} on ${shard.shardId} were trimmed; reading from the trim horizon`);
      }
    }
    const horizon = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    return horizon.ShardIterator;
  };

  const read = async (shard: ShardState): Promise<void> => {
    shard.iterator ??= await iteratorFor(shard);
    if (shard.iterator === undefined) {
      shard.closed = true;
      return;
    }
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    const records = page.Records ?? [];
    shard.drained = records.length === 0;
    for (const raw of records) {
      const record = toLambdaRecord(raw, streamArn, options.region);
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      if (sequenceNumber === undefined) continue;
      stats.recordsRead += 1;
      if (!passes(record)) {
        stats.recordsFiltered += 1;
        // Filtered records are done; with nothing pending before one, the checkpoint moves past it.
        if (shard.buffer.length === 0) checkpoints.set(shard.shardId, sequenceNumber);
        continue;
      }
      shard.buffer.push({ record, sequenceNumber, createdAt: raw.dynamodb?.ApproximateCreationDateTime?.getTime() ?? Date.now() });
    }
    shard.iterator = page.NextShardIterator;
    if (shard.iterator === undefined || shard.iterator === null) shard.closed = true;
  };

  const invoke = async (records: readonly Pending[]): Promise<Outcome> => {
    stats.invocations += 1;
    const context = localLambdaContext({ functionName, region: options.region, timeoutMs });
    try {
      const result = await withTimeout(options.handler({ Records: records.map((each) => each.record) }, context), timeoutMs);
      if (result.timedOut) return { kind: 'error', reason: `timed out after ${timeoutMs} ms` };
      return batchOutcome(records, result.value, reportFailures);
    } catch (error) {
      return { kind: 'error', reason: error instanceof Error ? error.message : String(error) };
    }
  };

  const discard = async (shard: ShardState, records: readonly Pending[], condition: StreamFailureRecord['requestContext']['condition'], invokes: number): Promise<void> => {
    stats.discardedBatches += 1;
    stats.discardedRecords += records.length;
    const first = records[0];
    const last = records[records.length - 1];
    log(`stream runner: ${condition}: discarding ${records.length} record(s) ${first.sequenceNumber}..${last.sequenceNumber} of ${shard.shardId}`);
    const failure: StreamFailureRecord = {
      requestContext: { requestId: randomUUID(), functionArn, condition, approximateInvokeCount: invokes },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: shard.shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: last.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(first.createdAt).toISOString(),
        approximateArrivalOfLastRecord: new Date(last.createdAt).toISOString(),
        batchSize: records.length,
        streamArn,
      },
    };
    if (options.onFailure) await options.onFailure(failure);
  };

  /** Runs one batch to its end (success, or given up); returns how many leading records are done, fewer only when stopping. */
  const runBatch = async (shard: ShardState, records: readonly Pending[], retriesUsed: number): Promise<number> => {
    let pending = records;
    let done = 0;
    let retries = retriesUsed;
    let invokes = 0;
    while (pending.length > 0) {
      if (maxAgeMs >= 0 && Date.now() - pending[0].createdAt > maxAgeMs) {
        await discard(shard, pending, 'RecordAgeExceeded', invokes);
        return done + pending.length;
      }
      const outcome = await invoke(pending);
      invokes += 1;
      if (stopping) return done;
      if (outcome.kind === 'ok') return done + pending.length;
      if (outcome.kind === 'partial') {
        stats.partialFailures += 1;
        done += outcome.index;
        pending = pending.slice(outcome.index);
      } else if (outcome.kind === 'invalid') {
        stats.invalidResponses += 1;
      } else {
        stats.functionErrors += 1;
        log(`stream runner: handler failed on ${pending.length} record(s): ${outcome.reason}`);
        if (bisect && pending.length > 1) {
          stats.bisections += 1;
          const half = Math.ceil(pending.length / 2);
          const first = await runBatch(shard, pending.slice(0, half), retries);
          if (first < half) return done + first;
          const second = await runBatch(shard, pending.slice(half), retries);
          return done + first + second;
        }
      }
      retries += 1;
      stats.retries += 1;
      if (maxRetries >= 0 && retries > maxRetries) {
        await discard(shard, pending, 'RetryAttemptsExhausted', invokes);
        return done + pending.length;
      }
      await sleep(Math.min(retryDelayMs * retries, 5_000));
      if (stopping) return done;
    }
    return done;
  };

  const parentDone = (shard: ShardState): boolean => {
    if (shard.parentShardId === undefined) return true;
    const parent = shards.get(shard.parentShardId);
    // A parent no longer listed was trimmed away: nothing of it is left to read.
    return parent === undefined || parent.done;
  };

  const runShard = async (shard: ShardState): Promise<void> => {
    let firstBuffered = 0;
    while (!stopping && !shard.done) {
      if (!parentDone(shard)) {
        await sleep(pollMs);
        continue;
      }
      if (shard.buffer.length < batchSize && !shard.closed) {
        try {
          const before = shard.buffer.length;
          await read(shard);
          if (before === 0 && shard.buffer.length > 0) firstBuffered = Date.now();
        } catch (error) {
          stats.readErrors += 1;
          const name = error instanceof Error ? error.name : 'Error';
          // The known ones (trimmed data, expired or invalid iterators) and anything else alike: fresh shards, fresh iterators.
          await relist(shard, RELIST_ERRORS.has(name) ? name : `read error ${name}`);
          await sleep(pollMs);
          continue;
        }
      }
      if (shard.buffer.length === 0) {
        if (shard.closed) {
          shard.done = true;
          break;
        }
        await sleep(pollMs);
        continue;
      }
      // As Lambda: a full batch, the end of a closed shard, or the batching window since the first record.
      const full = shard.buffer.length >= batchSize || shard.closed;
      if (!full && Date.now() - firstBuffered < windowMs) {
        await sleep(Math.min(pollMs, windowMs));
        continue;
      }
      const batch = shard.buffer.slice(0, batchSize);
      busy += 1;
      shard.busy = true;
      let done: number;
      try {
        done = await runBatch(shard, batch, 0);
      } finally {
        busy -= 1;
        shard.busy = false;
      }
      if (stopping) return;
      shard.buffer.splice(0, done);
      if (done > 0) checkpoints.set(shard.shardId, batch[done - 1].sequenceNumber);
      if (shard.buffer.length > 0) firstBuffered = Date.now();
    }
  };

  const running = (async () => {
    while (!stopping) {
      try {
        await listShards();
      } catch (error) {
        stats.readErrors += 1;
        log(`stream runner: DescribeStream failed (${error instanceof Error ? error.name : String(error)}); retrying`);
      }
      // New shards appear as the stream rolls over: look again now and then.
      for (let waited = 0; waited < 10_000 && !stopping; waited += pollMs) await sleep(pollMs);
    }
  })();

  return {
    stats: () => ({ ...stats, shards: shards.size }),
    caughtUp: () => busy === 0 && [...shards.values()].every((shard) => shard.done || (shard.buffer.length === 0 && shard.drained && !shard.busy)),
    stop: async () => {
      stopping = true;
      await running;
      while (busy > 0) await sleep(20);
    },
  };
}
