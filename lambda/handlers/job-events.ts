/**
 * job-events Lambda: DynamoDB stream batch (jobs table, new and old images) ->
 * publisher core -> EventBridge, answering with the first unpublished record
 * as a partial batch failure. Thin on purpose; the rules live in
 * `lambda/core/publish/`.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { PUBLISHER_TIMEOUTS, clientOptions } from '../adapters/client-config';
import { EventBridgeBus } from '../adapters/eventbridge-bus';
import { createLogger, createMetrics, type Logger, type Metrics, MetricUnit } from '../adapters/observability';
import { StreamRecordError, toJobChange } from '../adapters/stream-records';
import { DEFAULTS, ENV, METRIC, SERVICE_NAMES } from '../core/contract';
import type { JobChange } from '../core/publish/job-event';
import { PublisherConfigurationError } from '../core/publish/errors';
import type { EventBus } from '../core/publish/ports';
import { DEFAULT_RETRY_POLICY, publishChanges, type PublisherPorts, type RetryPolicy } from '../core/publish/publisher';

export const SERVICE_NAME = SERVICE_NAMES.jobEvents;

export interface JobEventsDependencies {
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly retryPolicy?: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface JobEventsDependencyOverrides {
  readonly eventBridge?: EventBridgeClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly retryPolicy?: RetryPolicy;
}

/** Builds the publisher's dependencies from its environment; every missing variable is reported at once. */
export function jobEventsDependenciesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  overrides: JobEventsDependencyOverrides = {},
): JobEventsDependencies {
  const busName = env[ENV.jobEventsBusName];
  if (!busName) throw new PublisherConfigurationError([`${ENV.jobEventsBusName} is not set`]);
  return {
    bus: new EventBridgeBus(overrides.eventBridge ?? new EventBridgeClient(clientOptions(PUBLISHER_TIMEOUTS)), busName),
    logger: overrides.logger ?? createLogger(SERVICE_NAME),
    metrics: overrides.metrics ?? createMetrics(SERVICE_NAME),
    retryPolicy: overrides.retryPolicy,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createJobEventsHandler(
  deps: JobEventsDependencies,
): (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse> {
  const { logger, metrics } = deps;
  return async (event, context) => {
    if (context) logger.addContext(context);
    const startedAt = Date.now();
    const budgetMs = DEFAULTS.jobEventsTimeoutSeconds * 1000;
    const ports: PublisherPorts = {
      bus: deps.bus,
      logger,
      count: (metric, value = 1) => {
        metrics.addMetric(metric, MetricUnit.Count, value);
      },
      remainingMs: () => context?.getRemainingTimeInMillis() ?? budgetMs - (Date.now() - startedAt),
      sleep: deps.sleep ?? sleep,
      random: deps.random ?? Math.random,
    };
    try {
      const changes: JobChange[] = [];
      for (const record of event.Records) {
        try {
          changes.push(toJobChange(record));
        } catch (error) {
          if (!(error instanceof StreamRecordError)) throw error;
          // Unreadable: publish what comes before it and let the stream's retries (then the on-failure queue) take it.
          logger.error('Unreadable stream record', { eventID: record.eventID, reason: error.message });
          metrics.addMetric(METRIC.jobEventPublishFailed, MetricUnit.Count, 1);
          const before = await publishChanges(changes, ports, deps.retryPolicy ?? DEFAULT_RETRY_POLICY);
          const first = before.failedSequenceNumber ?? record.dynamodb?.SequenceNumber ?? '';
          return { batchItemFailures: [{ itemIdentifier: first }] };
        }
      }
      const result = await publishChanges(changes, ports, deps.retryPolicy ?? DEFAULT_RETRY_POLICY);
      return { batchItemFailures: result.failedSequenceNumber === undefined ? [] : [{ itemIdentifier: result.failedSequenceNumber }] };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let cached: ((event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>) | undefined;

/** The Lambda entry point; clients are created once per execution environment, on first use. */
export const handler = async (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> => {
  cached ??= createJobEventsHandler(jobEventsDependenciesFromEnv(process.env));
  return cached(event, context);
};
