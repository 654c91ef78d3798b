/**
 * Feeds the worker from the queue the way Lambda's SQS event source does:
 * several pollers long-poll for batches, each batch becomes one `SQSEvent`, the
 * records the handler did not report in `batchItemFailures` are deleted, and the
 * rest (or the whole batch when the handler throws or times out) stay on the
 * queue, to be received again and moved to the DLQ after `maxReceiveCount`.
 *
 * With a batching window, a poller gathers up to `batchSize` records over
 * several receives (each returns at most 10), and invokes once the batch is
 * full, the window has passed since its first record, or its bodies reach the
 * 6 MB invocation payload, as Lambda's event source does. Deletes and
 * visibility changes go out in batches of 10 (the SQS limit per call).
 *
 * One deliberate difference: a failed record is made visible again after
 * `retryDelaySeconds` (default 2 s) through ChangeMessageVisibility, instead of
 * after the queue's full visibility timeout (six times the worker timeout, about
 * three minutes). The retry path is the same; a poison message just reaches the
 * DLQ in seconds instead of a quarter of an hour, which keeps local runs and the
 * end-to-end tests fast.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { localLambdaContext, withTimeout } from './lambda-context';
import { sleep } from './net';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface QueueRunnerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly handler: SqsHandler;
  /** The event source mapping's BatchSize (SQS caps one receive at 10; more need a batching window). */
  readonly batchSize?: number;
  /** The mapping's MaximumBatchingWindowInSeconds. @default 0 */
  readonly maxBatchingWindowSeconds?: number;
  /** Parallel pollers, like concurrent Lambda invocations. */
  readonly pollers?: number;
  /** The mapping's FunctionResponseTypes includes ReportBatchItemFailures. */
  readonly reportBatchItemFailures?: boolean;
  readonly retryDelaySeconds?: number;
  readonly functionTimeoutSeconds?: number;
  readonly functionName?: string;
  /** Long-poll wait; short enough that stop() never waits long for a poll to return. */
  readonly waitTimeSeconds?: number;
  readonly log?: (message: string) => void;
}

export interface QueueRunnerStats {
  readonly batches: number;
  readonly received: number;
  readonly deleted: number;
  readonly failedRecords: number;
  readonly failedBatches: number;
}

export interface QueueRunner {
  readonly stats: () => QueueRunnerStats;
  stop(): Promise<void>;
}

/** SDK message attributes -> the Lambda event's camel-cased shape (binary values in base64). */
export function toLambdaMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const converted: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    converted[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
    };
  }
  return converted;
}

export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = (message.Attributes ?? {}) as Record<string, string>;
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: attributes as unknown as SQSRecordAttributes,
    messageAttributes: toLambdaMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which records of a batch failed, as Lambda reads a handler's answer: with
 * ReportBatchItemFailures, the listed ids; an id that is empty or not in the
 * batch makes Lambda treat the whole batch as failed.
 */
export function failedMessageIds(
  records: readonly SQSRecord[],
  response: SQSBatchResponse | void,
  reportBatchItemFailures: boolean,
): ReadonlySet<string> {
  const all = new Set(records.map((record) => record.messageId));
  if (!reportBatchItemFailures || response === undefined || response === null) return new Set();
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return all;
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

/** SQS's most messages per ReceiveMessage, DeleteMessageBatch or ChangeMessageVisibilityBatch. */
const SQS_BATCH_MAX = 10;
/** Lambda's synchronous invocation payload: a batch stops growing before its bodies reach it. */
const INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

export function startQueueRunner(options: QueueRunnerOptions): QueueRunner {
  const windowMs = Math.max(0, options.maxBatchingWindowSeconds ?? 0) * 1000;
  // Lambda allows more than 10 per batch only with a batching window.
  const batchSize = Math.max(1, Math.min(windowMs > 0 ? 10_000 : SQS_BATCH_MAX, options.batchSize ?? SQS_BATCH_MAX));
  const pollers = Math.max(1, options.pollers ?? 3);
  const reportBatchItemFailures = options.reportBatchItemFailures ?? true;
  const retryDelaySeconds = options.retryDelaySeconds ?? 2;
  const timeoutMs = (options.functionTimeoutSeconds ?? 30) * 1000;
  const waitTimeSeconds = options.waitTimeSeconds ?? 2;
  const functionName = options.functionName ?? 'webhook-worker-local';
  const log = options.log ?? (() => undefined);
  const { sqs, queueUrl } = options;

  const abort = new AbortController();
  let stopping = false;
  const stats = { batches: 0, received: 0, deleted: 0, failedRecords: 0, failedBatches: 0 };

  const handleBatch = async (messages: Message[]): Promise<void> => {
    const records = messages.map((message) => toSqsRecord(message, options.queueArn, options.region));
    const event: SQSEvent = { Records: records };
    const context = localLambdaContext({ functionName, region: options.region, timeoutMs });
    let failed: ReadonlySet<string>;
    try {
      const outcome = await withTimeout(options.handler(event, context), timeoutMs);
      if (outcome.timedOut) {
        log(`worker timed out after ${timeoutMs} ms; the batch of ${records.length} returns to the queue`);
        failed = new Set(records.map((record) => record.messageId));
      } else {
        failed = failedMessageIds(records, outcome.value, reportBatchItemFailures);
      }
    } catch (error) {
      log(`worker threw; the batch of ${records.length} returns to the queue: ${error instanceof Error ? error.message : String(error)}`);
      failed = new Set(records.map((record) => record.messageId));
    }
    stats.batches += 1;
    if (failed.size === records.length) stats.failedBatches += 1;
    stats.failedRecords += failed.size;

    const succeeded = records.filter((record) => !failed.has(record.messageId));
    const retried = records.filter((record) => failed.has(record.messageId));
    await Promise.all([
      ...chunks(succeeded, SQS_BATCH_MAX).map((part) =>
        sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: part.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
            }),
          )
          .then((result) => {
            stats.deleted += result.Successful?.length ?? 0;
            if (result.Failed && result.Failed.length > 0) log(`could not delete ${result.Failed.length} processed messages; they will be redelivered`);
          }),
      ),
      ...chunks(retried, SQS_BATCH_MAX).map((part) =>
        sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: part.map((record, index) => ({
              Id: String(index),
              ReceiptHandle: record.receiptHandle,
              VisibilityTimeout: retryDelaySeconds,
            })),
          }),
        ),
      ),
    ]);
  };

  const receive = (max: number, waitSeconds: number): Promise<Message[]> =>
    sqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(SQS_BATCH_MAX, max),
          WaitTimeSeconds: waitSeconds,
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: abort.signal },
      )
      .then((received) => received.Messages ?? []);

  /** One batch: a first receive, then (with a window) more until full, out of time or out of payload room. */
  const gather = async (): Promise<Message[]> => {
    const batch = await receive(batchSize, waitTimeSeconds);
    if (batch.length === 0 || windowMs === 0) return batch;
    const deadline = Date.now() + windowMs;
    let bytes = batch.reduce((sum, message) => sum + Buffer.byteLength(message.Body ?? ''), 0);
    while (!stopping && batch.length < batchSize && bytes < INVOCATION_PAYLOAD_BYTES) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let more: Message[];
      try {
        more = await receive(batchSize - batch.length, Math.min(waitTimeSeconds, Math.floor(left / 1000)));
      } catch {
        // The batch so far is invoked; the poll loop reports a failing receive on its next turn.
        break;
      }
      batch.push(...more);
      bytes += more.reduce((sum, message) => sum + Buffer.byteLength(message.Body ?? ''), 0);
      // A short poll that found nothing: wait out a little of the window rather than spin.
      if (more.length === 0 && left < 1000) await sleep(Math.min(left, 100));
    }
    return batch;
  };

  const poll = async (poller: number): Promise<void> => {
    while (!stopping) {
      let messages: Message[];
      try {
        messages = await gather();
      } catch (error) {
        if (stopping) return;
        log(`poller ${poller}: receive failed (${error instanceof Error ? error.message : String(error)}); retrying`);
        await sleep(500);
        continue;
      }
      if (messages.length === 0) continue;
      stats.received += messages.length;
      try {
        await handleBatch(messages);
      } catch (error) {
        // Deleting or re-timing failed: the messages come back after their visibility timeout.
        log(`poller ${poller}: settling a batch failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  const running = Promise.all(Array.from({ length: pollers }, (_, index) => poll(index + 1)));

  return {
    stats: () => ({ ...stats }),
    stop: async () => {
      stopping = true;
      // In-flight long polls are cut short; batches being handled finish first.
      abort.abort();
      await running;
    },
  };
}
