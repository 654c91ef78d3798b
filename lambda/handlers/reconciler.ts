/**
 * Reconciler Lambda, invoked by EventBridge Scheduler: one sweep of the
 * open-jobs index (lambda/core/reconcile/sweep.ts). Thin on purpose: it reads
 * its environment, wires the adapters, and publishes the sweep's metrics.
 * The event may carry `{ "stuckAfterSeconds": N, "jobIds": [...] }` to
 * override the configured value, or sweep only those jobs, for one sweep (ops
 * and tests); nothing else in it is read.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { SecretsManagerApiKeySource } from '../adapters/api-key-source';
import { WORKER_TIMEOUTS, clientOptions } from '../adapters/client-config';
import { DynamoOpenJobs } from '../adapters/dynamo-open-jobs';
import { createLogger, createMetrics, type Logger, type Metrics, MetricUnit } from '../adapters/observability';
import { HttpProviderJobApi, providerOrigin, type FetchLike } from '../adapters/provider-job-api';
import { S3Archive } from '../adapters/s3-archive';
import { SqsQueue } from '../adapters/sqs-queue';
import { DEFAULTS, ENV, METRIC, SERVICE_NAMES } from '../core/contract';
import type { Archive, Queue } from '../core/ports';
import type { JobMarks, OpenJobIndex, ProviderJobApi } from '../core/reconcile/ports';
import { runSweep, type SweepConfig, type SweepSummary } from '../core/reconcile/sweep';

export const SERVICE_NAME = SERVICE_NAMES.reconciler;
const RESERVE_MS = DEFAULTS.reconcilerReserveSeconds * 1000;

export class ReconcilerConfigurationError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid reconciler configuration: ${problems.join('; ')}`);
    this.name = 'ReconcilerConfigurationError';
    this.problems = problems;
  }
}

export interface ReconcilerSettings {
  readonly tableName: string;
  readonly queueUrl: string;
  readonly archiveBucket: string;
  readonly providerApiUrl: string;
  readonly apiKeySecretArn?: string;
  readonly stuckAfterSeconds: number;
  readonly giveUpAfterSeconds: number;
  readonly recheckAfterSeconds: number;
  readonly maxJobsPerSweep: number;
  readonly providerRequestsPerSecond: number;
}

/** Every problem at once, like the other handlers. */
export function reconcilerSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): ReconcilerSettings {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') problems.push(`${name} is not set`);
    return value ?? '';
  };
  const number = (name: string, fallback: number, integer: boolean): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0 || (integer && !Number.isInteger(parsed))) problems.push(`${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}`);
    return parsed;
  };
  const providerApiUrl = env[ENV.providerApiUrl] || DEFAULTS.providerApiUrl;
  try {
    providerOrigin(providerApiUrl);
  } catch (error) {
    problems.push(`${ENV.providerApiUrl}: ${(error as Error).message}`);
  }
  const settings: ReconcilerSettings = {
    tableName: required(ENV.jobsTable),
    queueUrl: required(ENV.queueUrl),
    archiveBucket: required(ENV.archiveBucket),
    providerApiUrl,
    apiKeySecretArn: env[ENV.providerApiKeySecretArn] || undefined,
    stuckAfterSeconds: number(ENV.stuckAfterSeconds, DEFAULTS.stuckAfterSeconds, true),
    giveUpAfterSeconds: number(ENV.giveUpAfterSeconds, DEFAULTS.giveUpAfterSeconds, true),
    recheckAfterSeconds: number(ENV.recheckAfterSeconds, DEFAULTS.recheckAfterSeconds, true),
    maxJobsPerSweep: number(ENV.maxJobsPerSweep, DEFAULTS.maxJobsPerSweep, true),
    providerRequestsPerSecond: number(ENV.providerRequestsPerSecond, DEFAULTS.providerRequestsPerSecond, false),
  };
  if (settings.providerRequestsPerSecond <= 0) problems.push(`${ENV.providerRequestsPerSecond} must be greater than 0`);
  if (problems.length > 0) throw new ReconcilerConfigurationError(problems);
  return settings;
}

export interface ReconcilerDependencies {
  readonly settings: ReconcilerSettings;
  readonly index: OpenJobIndex;
  readonly marks: JobMarks;
  readonly queue: Queue;
  readonly archive: Archive;
  /** Absent without a configured key. */
  readonly apiKey?: () => Promise<string>;
  readonly fetch?: FetchLike;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ReconcilerOverrides {
  readonly dynamodb?: DynamoDBClient;
  readonly s3?: S3Client;
  readonly sqs?: SQSClient;
  readonly secretsManager?: SecretsManagerClient;
  /** Replaces the Secrets Manager read (the local stack hands its simulator's key). */
  readonly apiKey?: () => Promise<string>;
  readonly fetch?: FetchLike;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function reconcilerDependenciesFromEnv(env: Readonly<Record<string, string | undefined>>, overrides: ReconcilerOverrides = {}): ReconcilerDependencies {
  const settings = reconcilerSettingsFromEnv(env);
  const dynamodb = overrides.dynamodb ?? new DynamoDBClient(clientOptions(WORKER_TIMEOUTS));
  const store = new DynamoOpenJobs({ client: dynamodb, tableName: settings.tableName });
  let apiKey = overrides.apiKey;
  if (apiKey === undefined && settings.apiKeySecretArn !== undefined) {
    const source = new SecretsManagerApiKeySource(overrides.secretsManager ?? new SecretsManagerClient(clientOptions(WORKER_TIMEOUTS)), settings.apiKeySecretArn);
    apiKey = () => source.get();
  }
  return {
    settings,
    index: store,
    marks: store,
    queue: new SqsQueue(overrides.sqs ?? new SQSClient(clientOptions(WORKER_TIMEOUTS)), settings.queueUrl),
    archive: new S3Archive(overrides.s3 ?? new S3Client(clientOptions(WORKER_TIMEOUTS)), settings.archiveBucket),
    apiKey,
    fetch: overrides.fetch,
    logger: overrides.logger ?? createLogger(SERVICE_NAME),
    metrics: overrides.metrics ?? createMetrics(SERVICE_NAME),
    now: overrides.now,
    sleep: overrides.sleep,
  };
}

/** What an invocation may ask for; anything else in the event is ignored. */
export interface ReconcileRequest {
  readonly stuckAfterSeconds?: number;
  /** Sweep only these jobs. */
  readonly jobIds?: readonly string[];
}

export type ReconcilerHandler = (event?: ReconcileRequest | null, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SweepSummary>;

export function createReconcilerHandler(deps: ReconcilerDependencies): ReconcilerHandler {
  const { settings, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  return async (event, context) => {
    const override = event?.stuckAfterSeconds;
    const stuckAfterSeconds = typeof override === 'number' && Number.isFinite(override) && override >= 0 ? override : settings.stuckAfterSeconds;
    const budgetMs = context?.getRemainingTimeInMillis?.() ?? DEFAULTS.reconcilerTimeoutSeconds * 1000;
    try {
      let api: ProviderJobApi | undefined;
      let apiUnavailable: string | undefined;
      if (deps.apiKey !== undefined) {
        try {
          // Read once per sweep, before the first call: a wrong secret is one clear error, not one per job.
          const key = await deps.apiKey();
          api = new HttpProviderJobApi({ baseUrl: settings.providerApiUrl, apiKey: async () => key, fetch: deps.fetch });
        } catch (error) {
          apiUnavailable = error instanceof Error ? error.message : 'provider API key could not be read';
          logger.error('Provider API key unavailable; this sweep only detects', { errorName: error instanceof Error ? error.name : 'Error' });
        }
      }
      const config: SweepConfig = {
        stuckAfterMs: stuckAfterSeconds * 1000,
        giveUpAfterMs: settings.giveUpAfterSeconds * 1000,
        recheckAfterMs: settings.recheckAfterSeconds * 1000,
        maxJobs: settings.maxJobsPerSweep,
        requestsPerSecond: settings.providerRequestsPerSecond,
        backoffMs: DEFAULTS.providerBackoffMs,
        maxBackoffMs: DEFAULTS.providerMaxBackoffMs,
        maxConsecutiveFailures: 3,
        deadline: now().getTime() + budgetMs - RESERVE_MS,
        archiveBucket: settings.archiveBucket,
        ...(apiUnavailable !== undefined ? { apiUnavailable } : {}),
        ...(Array.isArray(event?.jobIds) ? { onlyJobIds: new Set(event.jobIds.filter((id): id is string => typeof id === 'string')) } : {}),
      };
      return await runSweep(config, {
        index: deps.index,
        api,
        marks: deps.marks,
        queue: deps.queue,
        archive: deps.archive,
        now,
        sleep,
        logger: {
          info: (message, attributes) => logger.info(message, attributes),
          warn: (message, attributes) => logger.warn(message, attributes),
          error: (message, attributes) => logger.error(message, attributes),
        },
        metric: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
      });
    } catch (error) {
      // The index could not be read: the whole sweep failed, which the errors alarm must see.
      metrics.addMetric(METRIC.reconcileErrors, MetricUnit.Count, 1);
      logger.error('Sweep failed', { errorName: error instanceof Error ? error.name : 'Error', errorMessage: error instanceof Error ? error.message : undefined });
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let cached: ReconcilerHandler | undefined;

/** The Lambda entry point; clients are created once per execution environment, on first use. */
export const handler: ReconcilerHandler = async (event, context) => {
  cached ??= createReconcilerHandler(reconcilerDependenciesFromEnv(process.env));
  return cached(event, context);
};
