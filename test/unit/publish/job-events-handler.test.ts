import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { AttributeValue, Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ENV, JOB_EVENTS } from '../../../lambda/core/contract';
import { PublisherConfigurationError } from '../../../lambda/core/publish/errors';
import { createJobEventsHandler, jobEventsDependenciesFromEnv } from '../../../lambda/handlers/job-events';
import { fromStreamImage } from '../../../lambda/adapters/stream-records';

const eventBridge = mockClient(EventBridgeClient);
const BUS = 'job-events-bus';

function image(item: Record<string, AttributeValue>): Record<string, AttributeValue> {
  return { jobId: { S: 'job_8f3a' }, ...item };
}

const STARTED = image({
  status: { S: 'started' },
  model: { S: 'pro' },
  lastEventAt: { S: '2026-11-27T10:00:00.000Z' },
  lastDeliveryId: { S: 'dlv_1' },
  lastOrigin: { S: 'webhook' },
  deliveryIds: { SS: ['dlv_1'] },
  userId: { S: 'u_42' },
});
/** Another job, so both events share one PutEvents call (one job's events never do). */
const OTHER_STARTED = { ...STARTED, jobId: { S: 'job_9b1c' } };
const COMPLETED = image({
  ...OTHER_STARTED,
  status: { S: 'completed' },
  outputUrl: { S: 'https://cdn.example.com/out/job_8f3a.webm' },
  creditsUsed: { N: '12' },
  lastDeliveryId: { S: 'dlv_2' },
  sceneTags: { L: [{ S: 'hair' }] },
});

function record(sequenceNumber: string, eventName: 'INSERT' | 'MODIFY', oldImage: Record<string, AttributeValue> | undefined, newImage: Record<string, AttributeValue>): DynamoDBRecord {
  return {
    eventID: `id-${sequenceNumber}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    eventSourceARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/jobs/stream/2026-11-27T00:00:00.000',
    dynamodb: {
      ApproximateCreationDateTime: 1795773901,
      Keys: { jobId: { S: 'job_8f3a' } },
      ...(oldImage ? { OldImage: oldImage } : {}),
      NewImage: newImage,
      SequenceNumber: sequenceNumber,
      SizeBytes: 200,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const EVENT: DynamoDBStreamEvent = {
  Records: [record('100', 'INSERT', undefined, STARTED), record('200', 'MODIFY', STARTED, { ...STARTED, updatedAt: { S: 'x' } }), record('300', 'MODIFY', OTHER_STARTED, COMPLETED)],
};

/** Time the handler spent sleeping and calling, so the invocation's budget shrinks as it would in Lambda. */
let elapsedMs = 0;

function context(remainingMs: number): Context {
  return { getRemainingTimeInMillis: () => remainingMs - elapsedMs } as unknown as Context;
}

function handler() {
  const deps = jobEventsDependenciesFromEnv({ [ENV.jobEventsBusName]: BUS }, { eventBridge: new EventBridgeClient({ region: 'eu-west-1' }) });
  const sleep = async (ms: number) => {
    // A retry costs its backoff and at least a call's round trip; yielding lets jest's timers run.
    elapsedMs += ms + 100;
    await new Promise((resolve) => setImmediate(resolve));
  };
  return createJobEventsHandler({ ...deps, sleep, random: () => 0 });
}

beforeEach(() => {
  elapsedMs = 0;
  eventBridge.reset();
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => jest.restoreAllMocks());

describe('job-events handler', () => {
  it('puts one entry per status change on the configured bus, in the documented shape', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }, { EventId: 'b' }] });

    const answer = await handler()(EVENT, context(30_000));

    expect(answer).toEqual({ batchItemFailures: [] });
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const entries = calls[0].args[0].input.Entries!;
    expect(entries.map((entry) => [entry.EventBusName, entry.Source, entry.DetailType])).toEqual([
      [BUS, JOB_EVENTS.source, 'Job Started'],
      [BUS, JOB_EVENTS.source, 'Job Completed'],
    ]);
    expect(entries[1].Time).toEqual(new Date(1795773901 * 1000));
    expect(JSON.parse(entries[1].Detail!)).toEqual({
      eventId: 'job_9b1c#completed',
      jobId: 'job_9b1c',
      status: 'completed',
      previousStatus: 'started',
      model: 'pro',
      outputUrl: 'https://cdn.example.com/out/job_8f3a.webm',
      creditsUsed: 12,
      eventAt: '2026-11-27T10:00:00.000Z',
      deliveryId: 'dlv_2',
      origin: 'webhook',
      product: { userId: 'u_42', sceneTags: ['hair'] },
    });
  });

  it('retries the entries EventBridge failed (FailedEntryCount) and answers success once all are out', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });

    const answer = await handler()(EVENT, context(30_000));

    expect(answer).toEqual({ batchItemFailures: [] });
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((call) => call.args[0].input.Entries!.map((entry) => entry.DetailType))).toEqual([['Job Started', 'Job Completed'], ['Job Completed']]);
  });

  it('reports the first unpublished record when the time left allows no retry', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'InternalFailure' }] });

    const answer = await handler()(EVENT, context(4_000));

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '300' }] });
  });

  it('reports the first record at once when EventBridge denies the call', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    eventBridge.on(PutEventsCommand).rejects(denied);

    const answer = await handler()(EVENT, context(30_000));

    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '100' }] });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('reports an unreadable record after publishing the events before it', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    const broken: DynamoDBRecord = { eventID: 'broken', dynamodb: { NewImage: STARTED } };

    const answer = await handler()({ Records: [record('100', 'INSERT', undefined, STARTED), broken] }, context(30_000));

    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
  });

  it('refuses to start without the bus name', () => {
    expect(() => jobEventsDependenciesFromEnv({})).toThrow(PublisherConfigurationError);
  });
});

describe('stream images', () => {
  it('decodes every attribute type, keeping digits a number would lose and binary as base64', () => {
    const decoded = fromStreamImage({
      s: { S: 'x' },
      n: { N: '12.5' },
      big: { N: '123456789012345678901' },
      b: { B: 'AAEC' },
      bool: { BOOL: false },
      nil: { NULL: true },
      ss: { SS: ['a', 'b'] },
      ns: { NS: ['1', '2'] },
      bs: { BS: ['AA=='] },
      l: { L: [{ S: 'y' }, { N: '3' }] },
      m: { M: { k: { S: 'v' } } },
    });

    expect(decoded).toEqual({ s: 'x', n: 12.5, big: '123456789012345678901', b: 'AAEC', bool: false, nil: null, ss: ['a', 'b'], ns: [1, 2], bs: ['AA=='], l: ['y', 3], m: { k: 'v' } });
  });
});
