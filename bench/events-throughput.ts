/**
 * Section 6: job events. On DynamoDB Local and fauxqs, started here as
 * `npm start` starts them, with resources and the events side from the
 * synthesized template, each round writes N job transitions through the
 * worker's own job store, then reads them back twice from the stream, in
 * alternating order:
 *
 * - the stream read alone: GetRecords pages decoded into job changes and
 *   classified (which ones are transitions), nothing published;
 * - through the publisher: the local stream runner (the template's batching,
 *   filters and partial failures) into the same `job-events` handler as the
 *   Lambda, PutEvents to the EventBridge stand-in, which evaluates the stack's
 *   rules and delivers every event to the tap queue.
 *
 * The ratio of the two rates is what the publisher path costs on top of
 * reading the stream. Also measured: the handler's CPU per stream record with
 * the bus stubbed (feeding the cost model's job-events duration).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { PUBLISHER_TIMEOUTS, clientOptions } from '../lambda/adapters/client-config';
import { DynamoJobStore } from '../lambda/adapters/dynamo-job-store';
import { createLogger, createMetrics } from '../lambda/adapters/observability';
import { toJobChange, toLambdaRecord } from '../lambda/adapters/stream-records';
import { ENV, SERVICE_NAMES } from '../lambda/core/contract';
import type { JobEvent } from '../lambda/core/job-state';
import { jobEventOf } from '../lambda/core/publish/job-event';
import type { EventBus } from '../lambda/core/publish/ports';
import { createJobEventsHandler, jobEventsDependenciesFromEnv } from '../lambda/handlers/job-events';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localClients } from '../ops/lib/clients';
import { mapWithConcurrency } from '../ops/lib/concurrency';
import { startDynamoDbLocal } from '../local/dynamodb-local';
import { readJobEventsShape } from '../local/events-shape';
import { startFauxqs } from '../local/fauxqs';
import { LOCAL_EVENT_NAMES, TAP_PATTERN } from '../local/job-events';
import { localLambdaContext } from '../local/lambda-context';
import { createLocalResources, createQueue } from '../local/resources';
import { startStreamRunner } from '../local/runners/stream-runner';
import { readStackShape } from '../local/stack-shape';
import { startLocalEventBus } from '../local/stand-ins/eventbridge';
import { loadStackTemplate } from '../local/synth';
import { cpuMicros, median, pairedRatio, sleep } from './stats';

export interface EventsThroughputOptions {
  readonly cacheDir: string;
  readonly rounds: number;
  /** Jobs per round; each is started then completed: two transitions. */
  readonly jobsPerRound: number;
  readonly cpuIterations: number;
  readonly log: (message: string) => void;
}

export interface EventsThroughputResult {
  readonly rounds: number;
  readonly eventsPerRound: number;
  /** Stream records read and classified per second, median over rounds. */
  readonly streamReadPerSecond: number;
  /** Events through the publisher onto the bus (PutEvents accepted), per second, median over rounds. */
  readonly publishedPerSecond: number;
  /** The same until the stand-in has delivered every one to the tap queue (its SQS sends included). */
  readonly deliveredPerSecond: number;
  /** Published ÷ stream read, median of per-round ratios. */
  readonly ratio: number;
  readonly batchSize: number;
  readonly putEventsCalls: number;
  /** The handler's CPU per stream record, bus stubbed (decode, compare, build entries, one log line per batch). */
  readonly publisherCpuMicrosPerRecord: number;
  readonly wallSeconds: number;
}

async function writeTransitions(store: DynamoJobStore, round: number, jobs: number): Promise<void> {
  const base = Date.now();
  const event = (jobId: string, kind: 'job.started' | 'job.completed', offset: number): JobEvent => ({
    jobId,
    deliveryId: `${jobId}-${kind === 'job.started' ? 's' : 'c'}`,
    event: kind,
    eventAt: new Date(base + offset).toISOString(),
    model: 'original',
    outputFormat: 'webm',
    ...(kind === 'job.completed' ? { outputUrl: `https://cdn.example.com/out/${jobId}.webm`, creditsUsed: 12 } : {}),
  });
  const ids = Array.from({ length: jobs }, (_, index) => `bench-events-${round}-${index}`);
  await mapWithConcurrency(ids, 16, (jobId) => store.apply(event(jobId, 'job.started', 0), { force: false, now: new Date() }));
  await mapWithConcurrency(ids, 16, (jobId) => store.apply(event(jobId, 'job.completed', 1000), { force: false, now: new Date() }));
}

export async function runEventsThroughput(options: EventsThroughputOptions): Promise<EventsThroughputResult> {
  const started = performance.now();
  const { log } = options;
  const [dynamodbLocal, fauxqs, loaded] = await Promise.all([
    startDynamoDbLocal({ port: 0, cacheDir: options.cacheDir, log }),
    startFauxqs({ port: 0, region: LOCAL_REGION }),
    loadStackTemplate({ cacheDir: options.cacheDir }),
  ]);
  const endpoints = { region: LOCAL_REGION, dynamodb: dynamodbLocal.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint };
  const clients = localClients(endpoints);
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: dynamodbLocal.endpoint };
  const dynamodb = new DynamoDBClient(common);
  const streams = new DynamoDBStreamsClient(common);
  // The handler logs and flushes EMF metrics to stdout as in Lambda (part of its cost): kept off the bench's output.
  const stdoutWrite = process.stdout.write;
  process.stdout.write = ((_chunk: unknown, ...rest: unknown[]) => {
    (rest.find((arg) => typeof arg === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    const template = loaded.template;
    const shape = readJobEventsShape(template);
    if (shape === undefined) throw new Error('the template has no job events');
    const resources = await createLocalResources(readStackShape(template), clients, LOCAL_REGION);
    const table = await dynamodb.send(new DescribeTableCommand({ TableName: resources.jobsTableName }));
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: table.Table!.LatestStreamArn! }));
    const streamArn = described.StreamDescription!.StreamArn!;
    const shardId = described.StreamDescription!.Shards![0].ShardId!;
    const tap = await createQueue(clients.sqs, LOCAL_EVENT_NAMES.tapQueue, {});
    const bus = await startLocalEventBus({
      busName: LOCAL_EVENT_NAMES.bus,
      region: LOCAL_REGION,
      sqs: clients.sqs,
      // The template's rules with targets the bench does not create are left to the tap.
      rules: [{ name: LOCAL_EVENT_NAMES.tapRule, pattern: TAP_PATTERN, targets: [{ id: 'tap', queueUrl: tap.url }] }],
    });
    const eventBridge = new EventBridgeClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: bus.endpoint, ...clientOptions(PUBLISHER_TIMEOUTS) });
    let putCalls = 0;
    eventBridge.middlewareStack.add((next) => async (args) => {
      putCalls += 1;
      return next(args);
    }, { step: 'initialize', name: 'benchPutEventsCounter' });
    const handler = createJobEventsHandler(jobEventsDependenciesFromEnv({ [ENV.jobEventsBusName]: LOCAL_EVENT_NAMES.bus }, { eventBridge }));
    const store = new DynamoJobStore({ client: dynamodb, tableName: resources.jobsTableName });
    const source = shape.eventSource;

    const readRates: number[] = [];
    const publishRates: number[] = [];
    const deliverRates: number[] = [];
    let checkpoint: string | undefined;
    let lastRecords: DynamoDBRecord[] = [];
    const eventsPerRound = 2 * options.jobsPerRound;
    for (let round = 0; round < options.rounds; round += 1) {
      await writeTransitions(store, round, options.jobsPerRound);
      const from = checkpoint;

      const readAlone = async (): Promise<number> => {
        const t0 = performance.now();
        let iterator = (
          await streams.send(
            new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...(from ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: from } : { ShardIteratorType: 'TRIM_HORIZON' }) }),
          )
        ).ShardIterator;
        const records: DynamoDBRecord[] = [];
        let transitions = 0;
        while (records.length < eventsPerRound && iterator) {
          const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
          for (const raw of page.Records ?? []) {
            const record = toLambdaRecord(raw, streamArn, LOCAL_REGION);
            records.push(record);
            if (jobEventOf(toJobChange(record)) !== undefined) transitions += 1;
          }
          iterator = page.NextShardIterator;
        }
        if (transitions !== eventsPerRound) throw new Error(`stream read found ${transitions} transitions, expected ${eventsPerRound}`);
        lastRecords = records;
        checkpoint = records[records.length - 1].dynamodb!.SequenceNumber;
        return (records.length * 1000) / (performance.now() - t0);
      };

      const throughPublisher = async (): Promise<number> => {
        const accepted = bus.stats().entriesAccepted;
        const t0 = performance.now();
        const runner = startStreamRunner({
          streams,
          streamArn,
          region: LOCAL_REGION,
          handler,
          batchSize: source.batchSize,
          maxBatchingWindowMs: source.maxBatchingWindowSeconds * 1000,
          filters: source.filters,
          reportBatchItemFailures: source.reportBatchItemFailures,
          bisectBatchOnFunctionError: source.bisectBatchOnFunctionError,
          checkpoints: new Map(from ? [[shardId, from]] : []),
          pollIntervalMs: 250,
        });
        let onBusMs: number;
        try {
          while (bus.stats().entriesAccepted - accepted < eventsPerRound) await sleep(5);
          onBusMs = performance.now() - t0;
          await bus.idle();
        } finally {
          await runner.stop();
        }
        deliverRates.push((eventsPerRound * 1000) / (performance.now() - t0));
        return (eventsPerRound * 1000) / onBusMs;
      };

      // Alternate which goes first: DynamoDB Local's page cache and our JIT favour the second.
      const order = round % 2 === 0 ? ([readAlone, throughPublisher] as const) : ([throughPublisher, readAlone] as const);
      const rates = [] as number[];
      for (const run of order) rates.push(await run());
      const [read, published] = round % 2 === 0 ? rates : [rates[1], rates[0]];
      readRates.push(read);
      publishRates.push(published);
      log(`events round ${round + 1}/${options.rounds}: stream read ${read.toFixed(0)} records/s, through the publisher ${published.toFixed(0)} events/s`);
    }

    // The handler's CPU per record with the bus stubbed: what the Lambda spends besides waiting for PutEvents.
    const stubbedBus: EventBus = { put: async (entries) => entries.map(() => ({ ok: true as const, eventId: 'stub' })) };
    const quietLogger = createLogger(SERVICE_NAMES.jobEvents);
    const cpuHandler = createJobEventsHandler({ bus: stubbedBus, logger: quietLogger, metrics: createMetrics(SERVICE_NAMES.jobEvents) });
    const batch = { Records: lastRecords.slice(0, source.batchSize) };
    const invoke = () => cpuHandler(batch, localLambdaContext({ functionName: 'bench', region: LOCAL_REGION, timeoutMs: 30_000 }));
    for (let index = 0; index < 50; index += 1) await invoke();
    const c0 = cpuMicros();
    for (let index = 0; index < options.cpuIterations; index += 1) await invoke();
    const cpu = (cpuMicros() - c0) / (options.cpuIterations * batch.Records.length);

    await bus.stop();
    eventBridge.destroy();
    return {
      rounds: options.rounds,
      eventsPerRound,
      streamReadPerSecond: median(readRates),
      publishedPerSecond: median(publishRates),
      deliveredPerSecond: median(deliverRates),
      ratio: pairedRatio(publishRates, readRates),
      batchSize: source.batchSize,
      putEventsCalls: putCalls,
      publisherCpuMicrosPerRecord: cpu,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    process.stdout.write = stdoutWrite;
    dynamodb.destroy();
    streams.destroy();
    clients.destroy();
    await Promise.all([dynamodbLocal.stop(), fauxqs.stop()]);
  }
}
