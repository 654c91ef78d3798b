/**
 * The job events on the harness stack: the local stack's own pieces
 * (`local/job-events.ts`) on the harness's scaled-down clock, with the hooks
 * the events scenarios need: faults on the EventBridge stand-in's PutEvents,
 * a publisher that can die mid-batch, a stream poller that can be restarted,
 * and the redrive of given-up batches.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent, Context, DynamoDBBatchResponse } from 'aws-lambda';
import { EventBridgeBus } from '../../lambda/adapters/eventbridge-bus';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../ops/lib/clients';
import { redriveJobEvents, type EventsRedriveResult } from '../../ops/lib/events-redrive';
import { readJobEventsShape } from '../../local/events-shape';
import { startLocalJobEvents, type LocalJobEvents } from '../../local/job-events';
import type { LocalResources } from '../../local/resources';
import type { LocalEndpoints } from '../../ops/lib/outputs';
import type { StreamHandler } from '../../local/runners/stream-runner';
import type { CfnTemplate } from '../../local/stack-shape';
import type { FaultPlan } from '../../local/stand-ins/eventbridge';
import { queueDepth } from './state';
import type { HarnessClients } from './harness-stack';

/** The publisher on the harness clock: its client fails within 2 × 2 s, its function within 8 s. */
export const EVENTS_TIMING = {
  functionTimeoutSeconds: 8,
  clientRequestTimeoutMs: 1500,
  clientConnectionTimeoutMs: 500,
  /** Room for one more call (2 attempts × 2 s) and the answer. */
  retryPolicy: { baseDelayMs: 50, maxDelayMs: 1000, reserveMs: 4500 },
  /** Lambda's retries of a failing batch before it goes to the on-failure queue (the stack's 100, scaled down). */
  maximumRetryAttempts: 3,
  streamRetryDelayMs: 200,
  /** Lambda's own rate (4 polls a second): faster would only load DynamoDB Local, which the worker shares. */
  pollIntervalMs: 250,
} as const;

export type EventsWrapper = (real: StreamHandler, event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void>;

export interface Envelope {
  readonly id: string;
  readonly 'detail-type': string;
  readonly detail: { readonly jobId: string; readonly status: string; readonly eventId: string; readonly [key: string]: unknown };
}

export interface HarnessJobEvents {
  readonly local: LocalJobEvents;
  setFaults(plan: FaultPlan | undefined): void;
  setWrapper(wrapper: EventsWrapper | undefined): void;
  restartRunner(): Promise<void>;
  restarts(): number;
  /** Waits until the stream is read to its end and the bus has delivered everything, twice in a row. */
  waitForQuiet(timeoutMs: number): Promise<boolean>;
  /** Takes every envelope off the tap queue. */
  drainTap(): Promise<Envelope[]>;
  failureQueueDepth(): Promise<number>;
  redrive(): Promise<EventsRedriveResult>;
  stop(): Promise<void>;
}

export interface HarnessJobEventsOptions {
  readonly template: CfnTemplate;
  readonly resources: LocalResources;
  readonly endpoints: LocalEndpoints;
  readonly direct: HarnessClients;
  readonly log: (message: string) => void;
  /** Records the publisher's and its poller's calls as the job-events role's (the IAM check). */
  readonly recordAs?: (client: object, via?: string) => void;
  /** Records the bus stand-in's deliveries as EventBridge's own. */
  readonly recordAsService?: (client: object) => void;
  /** Records the redrive's calls as the operator's, as `npm run events -- --redrive` would make them. */
  readonly recordAsOperator?: (client: object) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startHarnessJobEvents(options: HarnessJobEventsOptions): Promise<HarnessJobEvents> {
  const synthesized = readJobEventsShape(options.template);
  if (synthesized === undefined) throw new Error('the template has no job events');
  const shape = {
    ...synthesized,
    publisher: { ...synthesized.publisher, timeoutSeconds: EVENTS_TIMING.functionTimeoutSeconds },
    eventSource: { ...synthesized.eventSource, maximumRetryAttempts: EVENTS_TIMING.maximumRetryAttempts },
  };
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const clients: EventBridgeClient[] = [];
  const eventBridgeFor = (endpoint: string): EventBridgeClient => {
    const client = new EventBridgeClient({
      ...common,
      endpoint,
      // Two attempts, like the Lambda's client: throttling is retried once by the SDK, then by the publisher.
      maxAttempts: 2,
      requestHandler: { requestTimeout: EVENTS_TIMING.clientRequestTimeoutMs, connectionTimeout: EVENTS_TIMING.clientConnectionTimeoutMs, throwOnRequestTimeout: true },
    });
    clients.push(client);
    return client;
  };
  let wrapper: EventsWrapper | undefined;
  let restarts = 0;
  const local = await startLocalJobEvents({
    shape,
    region: LOCAL_REGION,
    jobsTableName: options.resources.jobsTableName,
    dynamodbEndpoint: options.endpoints.dynamodb,
    endpoints: options.endpoints,
    dynamodb: options.direct.dynamodb,
    recordAs: options.recordAs,
    recordAsService: options.recordAsService,
    sqs: options.direct.sqs,
    log: options.log,
    eventBridgeFor,
    wrapHandler: (real) => (event, context) => (wrapper ? wrapper(real, event, context) : real(event, context)),
    retryPolicy: EVENTS_TIMING.retryPolicy,
    retryDelayMs: EVENTS_TIMING.streamRetryDelayMs,
    pollIntervalMs: EVENTS_TIMING.pollIntervalMs,
  });
  const tapUrl = local.outputs.JobEventsTapQueueUrl;
  const failureUrl = local.outputs.JobEventsFailureQueueUrl;
  const streams = new DynamoDBStreamsClient({ ...common, endpoint: options.endpoints.dynamodb });
  options.recordAsOperator?.(streams);

  return {
    local,
    setFaults: (plan) => local.bus.setFaults(plan),
    setWrapper: (next) => {
      wrapper = next;
    },
    restartRunner: async () => {
      restarts += 1;
      await local.restartRunner();
    },
    restarts: () => restarts,
    waitForQuiet: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let quietInARow = 0;
      while (Date.now() < deadline) {
        await local.bus.idle();
        quietInARow = local.caughtUp() ? quietInARow + 1 : 0;
        if (quietInARow >= 3) return true;
        await sleep(EVENTS_TIMING.pollIntervalMs * 2);
      }
      return false;
    },
    drainTap: async () => {
      const envelopes: Envelope[] = [];
      for (let empty = 0; empty < 2; ) {
        const received = await options.direct.sqs.send(new ReceiveMessageCommand({ QueueUrl: tapUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        const messages = received.Messages ?? [];
        if (messages.length === 0) {
          empty += 1;
          continue;
        }
        empty = 0;
        for (const message of messages) envelopes.push(JSON.parse(message.Body ?? '{}') as Envelope);
        await options.direct.sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: tapUrl, Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })) }),
        );
      }
      return envelopes;
    },
    failureQueueDepth: () => (failureUrl ? queueDepth(options.direct, failureUrl) : Promise.resolve(0)),
    redrive: async () => {
      if (failureUrl === undefined) throw new Error('no failure queue');
      const client = eventBridgeFor(local.bus.endpoint);
      options.recordAsOperator?.(client);
      return redriveJobEvents({
        sqs: options.direct.sqs,
        streams,
        bus: new EventBridgeBus(client, local.bus.busName),
        failureQueueUrl: failureUrl,
        region: LOCAL_REGION,
        log: options.log,
      });
    },
    stop: async () => {
      await local.stop();
      streams.destroy();
      for (const client of clients) client.destroy();
    },
  };
}
