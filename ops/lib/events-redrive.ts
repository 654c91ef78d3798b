/**
 * `npm run events -- --redrive`: publishes the job events of the stream
 * batches the publisher gave up on. Each message of the on-failure queue names
 * a batch by shard and sequence numbers (Lambda sends positions, not records);
 * the records are read back from the stream, which keeps them 24 hours, and
 * put through the same publisher core as the Lambda (the same transitions,
 * the same `eventId`s, so a consumer that already has some dedupes them). A
 * message is deleted only once every event of its batch is on the bus; one
 * whose records the stream no longer holds is left in place and reported.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { toJobChange, toLambdaRecord } from '../../lambda/adapters/stream-records';
import type { JobChange } from '../../lambda/core/publish/job-event';
import type { EventBus } from '../../lambda/core/publish/ports';
import { publishChanges } from '../../lambda/core/publish/publisher';

export interface FailedBatch {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly streamArn: string;
}

export interface EventsRedriveOptions {
  readonly sqs: SQSClient;
  readonly streams: DynamoDBStreamsClient;
  readonly bus: EventBus;
  readonly failureQueueUrl: string;
  readonly region: string;
  readonly max?: number;
  readonly log?: (line: string) => void;
}

export interface EventsRedriveResult {
  readonly batches: number;
  readonly redriven: number;
  readonly published: number;
  /** Batches left on the queue: the stream no longer holds them, or publishing failed again. */
  readonly leftOver: number;
  readonly unreadable: number;
}

/** The batch a failure-destination message names, or `undefined` when it is not one. */
export function failedBatchOf(body: string | undefined): FailedBatch | undefined {
  try {
    const info = (JSON.parse(body ?? '') as { DDBStreamBatchInfo?: Partial<FailedBatch> }).DDBStreamBatchInfo;
    if (info && typeof info.shardId === 'string' && typeof info.startSequenceNumber === 'string' && typeof info.endSequenceNumber === 'string' && typeof info.streamArn === 'string') {
      return { shardId: info.shardId, startSequenceNumber: info.startSequenceNumber, endSequenceNumber: info.endSequenceNumber, streamArn: info.streamArn };
    }
  } catch {
    // Not JSON: reported as unreadable.
  }
  return undefined;
}

/** The batch's records, from its first sequence number to its last, read back from the stream. */
export async function readBatch(streams: DynamoDBStreamsClient, batch: FailedBatch, region: string): Promise<JobChange[]> {
  const last = BigInt(batch.endSequenceNumber);
  const found: _Record[] = [];
  let iterator = (
    await streams.send(
      new GetShardIteratorCommand({ StreamArn: batch.streamArn, ShardId: batch.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: batch.startSequenceNumber }),
    )
  ).ShardIterator;
  let emptyReads = 0;
  while (iterator !== undefined && iterator !== null) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    const records = page.Records ?? [];
    for (const record of records) {
      const sequence = record.dynamodb?.SequenceNumber;
      if (sequence === undefined) continue;
      if (BigInt(sequence) > last) return found.map((each) => toJobChange(toLambdaRecord(each, batch.streamArn, region)));
      found.push(record);
    }
    // An open shard answers empty pages while it waits for writes; the batch's end is behind us by then.
    emptyReads = records.length === 0 ? emptyReads + 1 : 0;
    if (emptyReads >= 3) break;
    iterator = page.NextShardIterator;
  }
  return found.map((each) => toJobChange(toLambdaRecord(each, batch.streamArn, region)));
}

export async function redriveJobEvents(options: EventsRedriveOptions): Promise<EventsRedriveResult> {
  const log = options.log ?? (() => undefined);
  const result = { batches: 0, redriven: 0, published: 0, leftOver: 0, unreadable: 0 };
  const seen = new Set<string>();
  for (;;) {
    if (options.max !== undefined && result.batches >= options.max) break;
    const received = await options.sqs.send(
      // Hidden while it is worked on; one left over shows up again after the timeout, for the next run.
      new ReceiveMessageCommand({ QueueUrl: options.failureQueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 300 }),
    );
    const message = received.Messages?.[0];
    if (message === undefined || seen.has(message.MessageId ?? '')) break;
    seen.add(message.MessageId ?? '');
    result.batches += 1;
    const batch = failedBatchOf(message.Body);
    if (batch === undefined) {
      result.unreadable += 1;
      log(`events redrive: message ${message.MessageId} is not a stream batch record; left on the queue`);
      continue;
    }
    const label = `${batch.shardId} ${batch.startSequenceNumber}..${batch.endSequenceNumber}`;
    let changes: JobChange[];
    try {
      changes = await readBatch(options.streams, batch, options.region);
    } catch (error) {
      result.leftOver += 1;
      const name = error instanceof Error ? error.name : String(error);
      log(`events redrive: ${label}: the stream no longer holds it (${name}); left on the queue: read those jobs' items instead`);
      continue;
    }
    const published = await publishChanges(changes, {
      bus: options.bus,
      logger: { info: () => undefined, warn: () => undefined, error: (text, keys) => log(`events redrive: ${text} ${JSON.stringify(keys)}`) },
      count: () => undefined,
      remainingMs: () => 60_000,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
    });
    result.published += published.published;
    if (published.failedSequenceNumber !== undefined) {
      result.leftOver += 1;
      log(`events redrive: ${label}: publishing failed again at ${published.failedSequenceNumber}; left on the queue`);
      continue;
    }
    await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.failureQueueUrl, ReceiptHandle: message.ReceiptHandle }));
    result.redriven += 1;
    log(`events redrive: ${label}: ${changes.length} record(s), ${published.published} event(s) published`);
  }
  return result;
}
