/**
 * The job events on the local stack: the same `job-events` handler the Lambda
 * runs, fed from DynamoDB Local's stream of the jobs table by the stream
 * runner, publishing to the EventBridge stand-in, which evaluates the stack's
 * own rules from the template and delivers to fauxqs queues. A catch-all tap
 * queue (`JobEventsTapQueueUrl` in the outputs) receives every event as its
 * envelope, for `npm run events` and the tests.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PUBLISHER_TIMEOUTS, clientOptions } from '../lambda/adapters/client-config';
import { DEFAULTS, ENV } from '../lambda/core/contract';
import { createJobEventsHandler, jobEventsDependenciesFromEnv } from '../lambda/handlers/job-events';
import { LOCAL_CREDENTIALS, localClients } from '../ops/lib/clients';
import type { LocalEndpoints } from '../ops/lib/outputs';
import type { RetryPolicy } from '../lambda/core/publish/publisher';
import type { JobEventsShape } from './events-shape';
import { createQueue, queueAttributes } from './resources';
import { startStreamRunner, type StreamHandler, type StreamRunner } from './runners/stream-runner';
import { type LocalBusRule, type LocalEventBus, startLocalEventBus } from './stand-ins/eventbridge';

export const LOCAL_EVENT_NAMES = {
  bus: 'webhook-job-events',
  failureQueue: 'webhook-job-events-failures',
  reviewQueue: 'webhook-quality-review',
  reviewDeadLetterQueue: 'webhook-quality-review-dlq',
  tapQueue: 'webhook-job-events-tap',
  tapRule: 'local-catch-all-tap',
} as const;

/** The `via` of a call Lambda's event source mapping makes with the function's role. */
export const LAMBDA_EVENT_SOURCE = 'lambda-event-source-mapping';

/** Every event on the bus: any source is a string with the empty prefix. */
export const TAP_PATTERN = { source: [{ prefix: '' }] } as const;

export interface LocalJobEventsOptions {
  readonly shape: JobEventsShape;
  readonly region: string;
  readonly jobsTableName: string;
  readonly dynamodbEndpoint: string;
  /** The emulators, for the clients of each principal (the publisher, Lambda's poller, EventBridge's deliveries). */
  readonly endpoints: LocalEndpoints;
  /** Creates the resources, as CloudFormation would (the deployer's clients). */
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly log: (message: string) => void;
  /**
   * Records a client's calls as the job-events role's, for the IAM check: the
   * handler's (`via` absent) and Lambda's stream poller's (`lambda-event-source-mapping`).
   */
  readonly recordAs?: (client: object, via?: string) => void;
  /** Records the bus stand-in's deliveries as EventBridge's own (no role of the stack makes them). */
  readonly recordAsService?: (client: object) => void;
  /** The stream reads go through this client (a harness may route it through a fault proxy). */
  readonly streams?: DynamoDBStreamsClient;
  /** Builds the publisher's EventBridge client for the stand-in's endpoint (a harness may add faults). */
  readonly eventBridgeFor?: (endpoint: string) => EventBridgeClient;
  /** Wraps the handler as the runner calls it (a harness may crash it mid-batch). */
  readonly wrapHandler?: (handler: StreamHandler) => StreamHandler;
  /** The publisher's backoff and reserve (a harness scales them down with its clock). */
  readonly retryPolicy?: RetryPolicy;
  readonly retryDelayMs?: number;
  readonly pollIntervalMs?: number;
}

export interface LocalJobEventsOutputs {
  readonly JobEventsBusName: string;
  readonly JobEventsFailureQueueUrl?: string;
  readonly QualityReviewQueueUrl?: string;
  readonly JobEventsTapQueueUrl: string;
}

export interface LocalJobEvents {
  readonly bus: LocalEventBus;
  readonly outputs: LocalJobEventsOutputs;
  readonly streamArn: string;
  /** Local value of each template resource the job events stand in for (bus, queues), as `resources.ts` gives the others. */
  readonly byLogicalId: ReadonlyMap<string, { readonly ref: string; readonly attributes: Readonly<Record<string, string>> }>;
  runner(): StreamRunner;
  /** A new poller resuming from the checkpoints, as after a poller host restart; the batch in flight is redone. */
  restartRunner(): Promise<void>;
  caughtUp(): boolean;
  stop(): Promise<void>;
}

function localQueueName(shape: JobEventsShape, logicalId: string): string {
  const review = shape.outputQueues.reviewQueue;
  if (logicalId === shape.outputQueues.failureQueue) return LOCAL_EVENT_NAMES.failureQueue;
  if (logicalId === review) return LOCAL_EVENT_NAMES.reviewQueue;
  if (review !== undefined && logicalId === shape.queues.get(review)?.deadLetterQueueLogicalId) return LOCAL_EVENT_NAMES.reviewDeadLetterQueue;
  return `webhook-${logicalId.toLowerCase()}`.slice(0, 80);
}

async function createEventQueues(shape: JobEventsShape, sqs: SQSClient): Promise<Map<string, { url: string; arn: string }>> {
  const created = new Map<string, { url: string; arn: string }>();
  const create = async (logicalId: string): Promise<{ url: string; arn: string }> => {
    const existing = created.get(logicalId);
    if (existing) return existing;
    const queue = shape.queues.get(logicalId)!;
    const attributes = queueAttributes(queue);
    // Dead-letter queues first: a redrive policy names its target's ARN.
    if (queue.deadLetterQueueLogicalId !== undefined) {
      const target = await create(queue.deadLetterQueueLogicalId);
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target.arn, maxReceiveCount: queue.maxReceiveCount ?? DEFAULTS.maxReceiveCount });
    }
    const made = await createQueue(sqs, localQueueName(shape, logicalId), attributes);
    created.set(logicalId, made);
    return made;
  };
  for (const logicalId of shape.queues.keys()) await create(logicalId);
  return created;
}

export async function startLocalJobEvents(options: LocalJobEventsOptions): Promise<LocalJobEvents> {
  const { shape, region, log } = options;
  const described = await options.dynamodb.send(new DescribeTableCommand({ TableName: options.jobsTableName }));
  const streamArn = described.Table?.LatestStreamArn;
  if (streamArn === undefined || described.Table?.StreamSpecification?.StreamViewType !== 'NEW_AND_OLD_IMAGES') {
    throw new Error(`the local jobs table ${options.jobsTableName} has no NEW_AND_OLD_IMAGES stream: the template's jobs table must have one`);
  }

  const queues = await createEventQueues(shape, options.sqs);
  const tap = await createQueue(options.sqs, LOCAL_EVENT_NAMES.tapQueue, {});
  const urlOf = (logicalId: string | undefined): string | undefined => (logicalId === undefined ? undefined : queues.get(logicalId)?.url);

  const rules: LocalBusRule[] = shape.rules.map((rule) => {
    for (const note of rule.unsupported) log(`job events: rule ${rule.logicalId}: ${note}; the local bus leaves it out`);
    return {
      name: rule.logicalId,
      pattern: rule.pattern,
      targets: rule.targets.map((target) => ({ id: target.id, queueUrl: urlOf(target.queueLogicalId)!, deadLetterQueueUrl: urlOf(target.deadLetterQueueLogicalId) })),
    };
  });
  rules.push({ name: LOCAL_EVENT_NAMES.tapRule, pattern: TAP_PATTERN, targets: [{ id: 'tap', queueUrl: tap.url }] });

  const busName = shape.bus.name ?? LOCAL_EVENT_NAMES.bus;
  // EventBridge delivers with its own service principal, never a role of the stack: a client of its own.
  const deliveries = localClients(options.endpoints);
  options.recordAsService?.(deliveries.sqs);
  const bus = await startLocalEventBus({ busName, region, rules, sqs: deliveries.sqs, log });

  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(shape.publisher.environment)) if (value.kind === 'literal') environment[name] = value.value;
  environment[ENV.jobEventsBusName] = busName;
  const eventBridge =
    options.eventBridgeFor?.(bus.endpoint) ??
    new EventBridgeClient({ region, credentials: LOCAL_CREDENTIALS, endpoint: bus.endpoint, ...clientOptions(PUBLISHER_TIMEOUTS) });
  options.recordAs?.(eventBridge);
  const handler: StreamHandler = createJobEventsHandler(jobEventsDependenciesFromEnv(environment, { eventBridge, retryPolicy: options.retryPolicy }));
  const invoked = options.wrapHandler ? options.wrapHandler(handler) : handler;

  const streams =
    options.streams ?? new DynamoDBStreamsClient({ region, credentials: LOCAL_CREDENTIALS, endpoint: options.dynamodbEndpoint });
  // Lambda's poller reads the stream and sends the on-failure records with the function's role.
  const poller = localClients(options.endpoints);
  options.recordAs?.(streams, LAMBDA_EVENT_SOURCE);
  options.recordAs?.(poller.sqs, LAMBDA_EVENT_SOURCE);
  const failureQueueUrl = urlOf(shape.eventSource.onFailureQueueLogicalId);
  const checkpoints = new Map<string, string>();
  const source = shape.eventSource;
  const newRunner = (): StreamRunner =>
    startStreamRunner({
      streams,
      streamArn,
      region,
      handler: invoked,
      batchSize: source.batchSize,
      maxBatchingWindowMs: source.maxBatchingWindowSeconds * 1000,
      filters: source.filters,
      bisectBatchOnFunctionError: source.bisectBatchOnFunctionError,
      maximumRetryAttempts: source.maximumRetryAttempts,
      maximumRecordAgeSeconds: source.maximumRecordAgeSeconds,
      reportBatchItemFailures: source.reportBatchItemFailures,
      functionTimeoutSeconds: shape.publisher.timeoutSeconds ?? DEFAULTS.jobEventsTimeoutSeconds,
      functionName: 'job-events-local',
      retryDelayMs: options.retryDelayMs,
      pollIntervalMs: options.pollIntervalMs,
      checkpoints,
      onFailure: failureQueueUrl
        ? async (record) => {
            await poller.sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(record) }));
          }
        : undefined,
      log,
    });
  let runner = newRunner();
  log(`job events: stream ${streamArn} -> job-events handler -> bus ${busName} (tap ${tap.url})`);

  const byLogicalId = new Map<string, { ref: string; attributes: Record<string, string> }>();
  byLogicalId.set(shape.bus.logicalId, { ref: busName, attributes: { Arn: bus.busArn, Name: busName } });
  for (const [logicalId, queue] of queues) {
    byLogicalId.set(logicalId, { ref: queue.url, attributes: { Arn: queue.arn, QueueName: queue.url.slice(queue.url.lastIndexOf('/') + 1), QueueUrl: queue.url } });
  }

  return {
    bus,
    streamArn,
    byLogicalId,
    outputs: {
      JobEventsBusName: busName,
      ...(failureQueueUrl ? { JobEventsFailureQueueUrl: failureQueueUrl } : {}),
      ...(urlOf(shape.outputQueues.reviewQueue) ? { QualityReviewQueueUrl: urlOf(shape.outputQueues.reviewQueue) } : {}),
      JobEventsTapQueueUrl: tap.url,
    },
    runner: () => runner,
    restartRunner: async () => {
      const old = runner;
      await old.stop();
      runner = newRunner();
    },
    caughtUp: () => runner.caughtUp(),
    stop: async () => {
      await runner.stop();
      await bus.stop();
      eventBridge.destroy();
      deliveries.destroy();
      poller.destroy();
      if (options.streams === undefined) streams.destroy();
    },
  };
}
