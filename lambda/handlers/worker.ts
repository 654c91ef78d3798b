/**
 * Worker Lambda: SQS batch -> worker core -> partial batch failures. Thin on
 * purpose; the rules live in `lambda/core/worker.ts` and `lambda/core/job-state.ts`.
 *
 * One line per batch carries the batch's metrics (EMF) and the delivery ids by
 * outcome; records get a line of their own only when something needs a look
 * (a conflict, a failure, poison, a dropped claim check).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { WORKER_TIMEOUTS, clientOptions, worstCaseMs } from '../adapters/client-config';
import { DynamoJobStore } from '../adapters/dynamo-job-store';
import { createLogger, createMetrics, type Logger, type StackMetrics } from '../adapters/observability';
import { powertoolsMetrics } from '../adapters/powertools-ports';
import { S3Archive } from '../adapters/s3-archive';
import { SqsDeadLetters, SqsMessageVisibility } from '../adapters/sqs-queue';
import { ENV, SERVICE_NAMES } from '../core/contract';
import type { Archive, JobStore, MessageVisibility } from '../core/ports';
import {
  processBatch,
  WorkerConfigurationError,
  type DeadLetters,
  type RecordOutcome,
  type RecordResult,
  type WorkerLogger,
  type WorkerPorts,
} from '../core/worker';

export const SERVICE_NAME = SERVICE_NAMES.worker;

/** A record makes up to three calls in a row (claim-check read, update, record-ignored write), each with its retries. */
const RECORD_BUDGET_MS = worstCaseMs(WORKER_TIMEOUTS, 3);

export interface WorkerDependencies {
  readonly jobStore: JobStore;
  readonly archive: Archive;
  /** Where records that can never succeed go at once; without it they wait out the queue's receive count. */
  readonly deadLetters?: DeadLetters;
  /** Absent: records to retry soon wait for the queue's visibility timeout instead. */
  readonly visibility?: MessageVisibility;
  readonly logger: Logger;
  readonly metrics: StackMetrics;
  readonly now?: () => Date;
  /** Jobs of one batch processed at the same time (records of one job always run in order). */
  readonly maxConcurrency?: number;
}

export interface WorkerDependencyOverrides {
  readonly dynamodb?: DynamoDBClient;
  readonly s3?: S3Client;
  readonly sqs?: SQSClient;
  readonly logger?: Logger;
  readonly metrics?: StackMetrics;
  readonly now?: () => Date;
}

/** Builds the worker's dependencies from its environment; every missing variable is reported at once. */
export function workerDependenciesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  overrides: WorkerDependencyOverrides = {},
): WorkerDependencies {
  const tableName = env[ENV.jobsTable];
  const bucketName = env[ENV.archiveBucket];
  const deadLetterQueueUrl = env[ENV.deadLetterQueueUrl];
  const queueUrl = env[ENV.queueUrl];
  const problems = [
    ...(tableName ? [] : [`${ENV.jobsTable} is not set`]),
    ...(bucketName ? [] : [`${ENV.archiveBucket} is not set`]),
  ];
  if (problems.length > 0 || !tableName || !bucketName) throw new WorkerConfigurationError(problems);
  // One SQS client for the dead-letter sends and the early retries, made only when either is configured.
  let sqsClient: SQSClient | undefined = overrides.sqs;
  const sqs = (): SQSClient => (sqsClient ??= new SQSClient(clientOptions(WORKER_TIMEOUTS)));
  return {
    jobStore: new DynamoJobStore({ client: overrides.dynamodb ?? new DynamoDBClient(clientOptions(WORKER_TIMEOUTS)), tableName }),
    // Claim checks read the bucket named in each message; this one is only the adapter's default.
    archive: new S3Archive(overrides.s3 ?? new S3Client(clientOptions(WORKER_TIMEOUTS)), bucketName),
    deadLetters: deadLetterQueueUrl ? new SqsDeadLetters(sqs(), deadLetterQueueUrl) : undefined,
    visibility: queueUrl ? new SqsMessageVisibility(sqs(), queueUrl) : undefined,
    logger: overrides.logger ?? createLogger(SERVICE_NAME),
    metrics: overrides.metrics ?? createMetrics(SERVICE_NAME),
    now: overrides.now,
  };
}

/** The batch line's keys: counts, and the delivery ids of each outcome (failures have lines of their own). */
function batchLine(results: readonly RecordResult[]): Record<string, unknown> {
  const byOutcome = new Map<RecordOutcome, string[]>();
  let failed = 0;
  let deadLettered = 0;
  let retrySoon = 0;
  let unstarted = 0;
  for (const result of results) {
    if (result.ok) byOutcome.set(result.outcome, [...(byOutcome.get(result.outcome) ?? []), result.deliveryId]);
    else if (result.deadLettered) deadLettered += 1;
    else {
      failed += 1;
      if (result.retryInSeconds !== undefined) retrySoon += 1;
      if (result.unstarted) unstarted += 1;
    }
  }
  return {
    records: results.length,
    ...Object.fromEntries(byOutcome),
    ...(failed > 0 ? { failed } : {}),
    ...(deadLettered > 0 ? { deadLettered } : {}),
    ...(retrySoon > 0 ? { retrySoon } : {}),
    ...(unstarted > 0 ? { unstarted } : {}),
  };
}

export function createWorkerHandler(deps: WorkerDependencies): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const { logger, metrics } = deps;
  // Records of a batch run concurrently, so each gets its own child logger
  // rather than racing on one shared correlation id.
  const loggerFor = (correlationId: string | undefined): WorkerLogger => {
    if (correlationId === undefined) return asWorkerLogger(logger);
    const child = logger.createChild();
    child.setCorrelationId(correlationId);
    return asWorkerLogger(child);
  };

  return async (event, context) => {
    if (context) logger.addContext(context);
    // Per invocation: the local stack runs several at once in one process.
    const line = powertoolsMetrics(metrics, asWorkerLogger(logger));
    line.beginInvocation?.(context);
    const remainingMs =
      typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : () => Number.POSITIVE_INFINITY;
    const ports: WorkerPorts = {
      jobStore: deps.jobStore,
      archive: deps.archive,
      deadLetters: deps.deadLetters,
      loggerFor,
      // Summed by the line, so it says `EventApplied: 57`, not 57 ones.
      count: (metric) => line.count(metric),
      now: deps.now ?? (() => new Date()),
      maxConcurrency: deps.maxConcurrency,
      remainingMs,
      // Half the invocation at most, so a short timeout still starts the first records.
      recordBudgetMs: Math.min(RECORD_BUDGET_MS, remainingMs() / 2),
    };
    const results = await processBatch(
      event.Records.map((record) => {
        const sent = Number(record.attributes?.SentTimestamp);
        return { messageId: record.messageId, body: record.body, sentAt: Number.isFinite(sent) ? new Date(sent) : undefined };
      }),
      ports,
    );
    await retrySoon(results, event, deps, logger);
    line.publishWith('Batch processed', batchLine(results));
    // A record the worker moved to the DLQ itself is done here.
    const failures = results.filter((result) => !result.ok && result.deadLettered !== true);
    return { batchItemFailures: failures.map((result) => ({ itemIdentifier: result.messageId })) };
  };
}

/** Records that asked for it come back in seconds; without a visibility port (or if the call fails) after the visibility timeout. */
async function retrySoon(results: readonly RecordResult[], event: SQSEvent, deps: WorkerDependencies, logger: Logger): Promise<void> {
  const { visibility } = deps;
  if (visibility === undefined) return;
  const receipts = new Map(event.Records.map((record) => [record.messageId, record.receiptHandle]));
  await Promise.all(
    results.map(async (result) => {
      const receipt = receipts.get(result.messageId);
      if (result.ok || result.retryInSeconds === undefined || receipt === undefined) return;
      try {
        await visibility.retryIn(receipt, result.retryInSeconds);
      } catch (error) {
        logger.warn('Could not bring a record back early; it returns after the visibility timeout', {
          messageId: result.messageId,
          errorName: error instanceof Error ? error.name : 'Error',
        });
      }
    }),
  );
}

function asWorkerLogger(logger: Logger): WorkerLogger {
  return {
    info: (message, attributes) => logger.info(message, attributes),
    warn: (message, attributes) => logger.warn(message, attributes),
    error: (message, attributes) => logger.error(message, attributes),
  };
}

let cached: ((event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>) | undefined;

/** The Lambda entry point; clients are created once per execution environment, on first use. */
export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  cached ??= createWorkerHandler(workerDependenciesFromEnv(process.env));
  return cached(event, context);
};
