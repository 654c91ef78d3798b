/**
 * Worker Lambda: SQS batch -> worker core -> partial batch failures. Thin on
 * purpose; the rules live in `lambda/core/worker.ts` and `lambda/core/job-state.ts`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { WORKER_TIMEOUTS, clientOptions } from '../adapters/client-config';
import { DynamoJobStore } from '../adapters/dynamo-job-store';
import { createLogger, createMetrics, type Logger, type Metrics, MetricUnit } from '../adapters/observability';
import { S3Archive } from '../adapters/s3-archive';
import { SqsDeadLetters } from '../adapters/sqs-queue';
import { ENV, SERVICE_NAMES } from '../core/contract';
import type { Archive, JobStore } from '../core/ports';
import { processBatch, WorkerConfigurationError, type DeadLetters, type WorkerLogger, type WorkerPorts } from '../core/worker';

export const SERVICE_NAME = SERVICE_NAMES.worker;

export interface WorkerDependencies {
  readonly jobStore: JobStore;
  readonly archive: Archive;
  /** Where records that can never succeed go at once; without it they wait out the queue's receive count. */
  readonly deadLetters?: DeadLetters;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
  /** Jobs of one batch processed at the same time (records of one job always run in order). */
  readonly maxConcurrency?: number;
}

export interface WorkerDependencyOverrides {
  readonly dynamodb?: DynamoDBClient;
  readonly s3?: S3Client;
  readonly sqs?: SQSClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
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
  const problems = [
    ...(tableName ? [] : [`${ENV.jobsTable} is not set`]),
    ...(bucketName ? [] : [`${ENV.archiveBucket} is not set`]),
  ];
  if (problems.length > 0 || !tableName || !bucketName) throw new WorkerConfigurationError(problems);
  return {
    jobStore: new DynamoJobStore({ client: overrides.dynamodb ?? new DynamoDBClient(clientOptions(WORKER_TIMEOUTS)), tableName }),
    // Claim checks read the bucket named in each message; this one is only the adapter's default.
    archive: new S3Archive(overrides.s3 ?? new S3Client(clientOptions(WORKER_TIMEOUTS)), bucketName),
    deadLetters: deadLetterQueueUrl
      ? new SqsDeadLetters(overrides.sqs ?? new SQSClient(clientOptions(WORKER_TIMEOUTS)), deadLetterQueueUrl)
      : undefined,
    logger: overrides.logger ?? createLogger(SERVICE_NAME),
    metrics: overrides.metrics ?? createMetrics(SERVICE_NAME),
    now: overrides.now,
  };
}

export function createWorkerHandler(deps: WorkerDependencies): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const { logger, metrics } = deps;
  const ports: WorkerPorts = {
    jobStore: deps.jobStore,
    archive: deps.archive,
    deadLetters: deps.deadLetters,
    // Records of a batch run concurrently, so each gets its own child logger
    // rather than racing on one shared correlation id.
    loggerFor: (correlationId) => {
      if (correlationId === undefined) return asWorkerLogger(logger);
      const child = logger.createChild();
      child.setCorrelationId(correlationId);
      return asWorkerLogger(child);
    },
    count: (metric) => {
      metrics.addMetric(metric, MetricUnit.Count, 1);
    },
    now: deps.now ?? (() => new Date()),
    maxConcurrency: deps.maxConcurrency,
  };

  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      const results = await processBatch(
        event.Records.map((record) => ({ messageId: record.messageId, body: record.body })),
        ports,
      );
      // A record the worker moved to the DLQ itself is done here.
      const failures = results.filter((result) => !result.ok && result.deadLettered !== true);
      if (failures.length > 0) {
        logger.warn('Batch had failed records', { records: results.length, failed: failures.length });
      }
      return { batchItemFailures: failures.map((result) => ({ itemIdentifier: result.messageId })) };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
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
