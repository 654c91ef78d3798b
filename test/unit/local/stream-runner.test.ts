/**
 * The local stream runner behaves like Lambda's DynamoDB stream event source,
 * against an in-memory stream that can trim, expire iterators and split shards
 * the way DynamoDB Local does.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { startStreamRunner, type StreamFailureRecord, type StreamRunner, type StreamRunnerOptions } from '../../../local/runners/stream-runner';
import { FakeStreams, STREAM_ARN } from '../support/fake-streams';
const FILTER = { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { status: { S: ['started', 'completed', 'failed'] } } } };

type Handler = StreamRunnerOptions['handler'];

function sequenceNumbers(event: DynamoDBStreamEvent): string[] {
  return event.Records.map((record) => record.dynamodb!.SequenceNumber!);
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let runners: StreamRunner[] = [];
function start(streams: FakeStreams, handler: Handler, options: Partial<StreamRunnerOptions> = {}): StreamRunner {
  const runner = startStreamRunner({
    streams: streams as never,
    streamArn: STREAM_ARN,
    region: 'us-east-1',
    handler,
    batchSize: 100,
    filters: [FILTER],
    reportBatchItemFailures: true,
    bisectBatchOnFunctionError: true,
    maximumRetryAttempts: 3,
    maximumRecordAgeSeconds: 3600,
    pollIntervalMs: 5,
    retryDelayMs: 1,
    ...options,
  });
  runners.push(runner);
  return runner;
}

afterEach(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
  runners = [];
});

/** Records every batch and answers from a script (then success). */
function recorder(script: Array<(event: DynamoDBStreamEvent) => DynamoDBBatchResponse | Error> = []) {
  const batches: string[][] = [];
  const handler: Handler = async (event) => {
    batches.push(sequenceNumbers(event));
    const step = script.shift();
    const answer = step ? step(event) : { batchItemFailures: [] };
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { batches, handler, delivered: () => new Set(batches.flat()) };
}

describe('the local stream runner', () => {
  it('hands the handler Lambda-shaped batches of the records the filters admit, in order', async () => {
    const streams = new FakeStreams();
    const admitted = [streams.put('started', { eventName: 'INSERT', bytes: new Uint8Array([1, 2, 3]) }), streams.put('completed')];
    streams.put(undefined, { eventName: 'INSERT' });
    streams.put('completed', { eventName: 'REMOVE' });
    const events: DynamoDBStreamEvent[] = [];
    const runner = start(streams, async (event) => {
      events.push(event);
      return { batchItemFailures: [] };
    });

    await until(() => runner.caughtUp() && events.length > 0, 'the batch');

    expect(events.flatMap(sequenceNumbers)).toEqual(admitted);
    const [first] = events[0].Records;
    expect(first).toMatchObject({ eventSource: 'aws:dynamodb', eventName: 'INSERT', awsRegion: 'us-east-1', eventSourceARN: STREAM_ARN });
    expect(first.dynamodb?.NewImage?.thumbnail).toEqual({ B: 'AQID' });
    expect(typeof first.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(runner.stats().recordsFiltered).toBe(2);
  });

  it('never puts more than the batch size in one invocation', async () => {
    const streams = new FakeStreams();
    for (let index = 0; index < 7; index += 1) streams.put('started');
    const { batches, handler } = recorder();
    const runner = start(streams, handler, { batchSize: 3 });

    await until(() => runner.caughtUp() && batches.flat().length === 7, 'all records');

    expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(3);
  });

  describe('partial batch failures', () => {
    it('retries from the lowest reported record, and never redelivers the ones before it', async () => {
      const streams = new FakeStreams();
      const seqs = [streams.put('started'), streams.put('started'), streams.put('started'), streams.put('started')];
      const { batches, handler } = recorder([() => ({ batchItemFailures: [{ itemIdentifier: seqs[3] }, { itemIdentifier: seqs[2] }] })]);
      const runner = start(streams, handler);

      await until(() => batches.length === 2 && runner.caughtUp(), 'the retry');

      expect(batches).toEqual([seqs, seqs.slice(2)]);
    });

    it('retries the whole batch when an identifier is empty or unknown', async () => {
      const streams = new FakeStreams();
      const seqs = [streams.put('started'), streams.put('started')];
      const { batches, handler } = recorder([() => ({ batchItemFailures: [{ itemIdentifier: '' }] }), () => ({ batchItemFailures: [{ itemIdentifier: 'nope' }] })]);
      const runner = start(streams, handler);

      await until(() => batches.length === 3 && runner.caughtUp(), 'two retries');

      expect(batches).toEqual([seqs, seqs, seqs]);
      expect(runner.stats().invalidResponses).toBe(2);
    });
  });

  describe('function errors', () => {
    it('halve the batch with bisect on, without using a retry', async () => {
      const streams = new FakeStreams();
      const seqs = [streams.put('started'), streams.put('started'), streams.put('started'), streams.put('started')];
      const { batches, handler } = recorder([() => new Error('crashed')]);
      const runner = start(streams, handler, { maximumRetryAttempts: 0 });

      await until(() => runner.caughtUp() && batches.length === 3, 'both halves');

      expect(batches).toEqual([seqs, seqs.slice(0, 2), seqs.slice(2)]);
      expect(runner.stats()).toMatchObject({ bisections: 1, discardedBatches: 0 });
    });

    it('retry the whole batch with bisect off', async () => {
      const streams = new FakeStreams();
      const seqs = [streams.put('started'), streams.put('started')];
      const { batches, handler } = recorder([() => new Error('crashed')]);
      const runner = start(streams, handler, { bisectBatchOnFunctionError: false });

      await until(() => runner.caughtUp() && batches.length === 2, 'the retry');

      expect(batches).toEqual([seqs, seqs]);
    });

    it('count a time-out as an error', async () => {
      const streams = new FakeStreams();
      streams.put('started');
      let calls = 0;
      const runner = start(
        streams,
        async () => {
          calls += 1;
          if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 200));
          return { batchItemFailures: [] };
        },
        { functionTimeoutSeconds: 0.05 },
      );

      await until(() => runner.caughtUp() && calls === 2, 'the retry after the time-out');

      expect(runner.stats().functionErrors).toBe(1);
    });
  });

  describe('giving up', () => {
    it('sends the batch position to the on-failure destination after the last retry, and moves on', async () => {
      const streams = new FakeStreams();
      const bad = [streams.put('started'), streams.put('started')];
      const failures: StreamFailureRecord[] = [];
      const { batches, handler } = recorder(Array.from({ length: 3 }, () => () => ({ batchItemFailures: [{ itemIdentifier: bad[0] }] })));
      const runner = start(streams, handler, { maximumRetryAttempts: 2, onFailure: async (record) => void failures.push(record) });

      await until(() => failures.length === 1, 'the failure record');
      const after = streams.put('completed');
      await until(() => batches.flat().includes(after), 'the next record');

      expect(batches.slice(0, 3)).toEqual([bad, bad, bad]);
      expect(failures[0]).toMatchObject({
        version: '1.0',
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
        DDBStreamBatchInfo: { shardId: 'shard-1', startSequenceNumber: bad[0], endSequenceNumber: bad[1], batchSize: 2, streamArn: STREAM_ARN },
      });
      expect(runner.stats().discardedRecords).toBe(2);
    });

    it('gives up on records older than the maximum record age without invoking', async () => {
      const streams = new FakeStreams();
      streams.put('started', { createdAt: new Date(Date.now() - 2 * 3600_000) });
      const failures: StreamFailureRecord[] = [];
      const { batches, handler } = recorder();
      const runner = start(streams, handler, { onFailure: async (record) => void failures.push(record) });

      await until(() => failures.length === 1 && runner.caughtUp(), 'the failure record');

      expect(failures[0].requestContext.condition).toBe('RecordAgeExceeded');
      expect(batches).toEqual([]);
    });
  });

  describe('DynamoDB Local quirks', () => {
    it.each(['TrimmedDataAccessException', 'ExpiredIteratorException', 'ValidationException'])(
      'lists the shards again after %s and loses nothing',
      async (error) => {
        const streams = new FakeStreams();
        const first = streams.put('started');
        const { handler, delivered } = recorder();
        const runner = start(streams, handler);
        await until(() => delivered().has(first), 'the first record');

        streams.failNext.GetRecords = [error];
        const second = streams.put('completed');
        await until(() => delivered().has(second) && runner.caughtUp(), 'the record after the error');

        expect(runner.stats().relists).toBe(1);
        expect(streams.calls.filter((call) => call === 'DescribeStream').length).toBeGreaterThanOrEqual(2);
      },
    );

    it('reads a child shard only after its parent is done', async () => {
      const streams = new FakeStreams();
      const parent = streams.put('started');
      streams.shards.push({ id: 'shard-2', parent: 'shard-1', records: [], closed: false, trimmedBefore: 0 });
      const child = streams.put('completed', { shard: 'shard-2' });
      const { batches, handler } = recorder();
      const runner = start(streams, handler);
      await until(() => batches.length === 1, 'the parent record');
      expect(batches.flat()).toEqual([parent]);

      streams.shards[0].closed = true;
      await until(() => batches.flat().includes(child) && runner.caughtUp(), 'the child record');

      expect(batches.flat()).toEqual([parent, child]);
    });
  });

  it('resumes after a restart from its checkpoints, redoing the batch that was in flight', async () => {
    // Prepare: a first poller dies while its handler still works on a batch.
    const streams = new FakeStreams();
    const done = streams.put('started');
    const checkpoints = new Map<string, string>();
    const seen: string[][] = [];
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const first = start(
      streams,
      async (event) => {
        seen.push(sequenceNumbers(event));
        if (seen.length > 1) await blocked;
        return { batchItemFailures: [] };
      },
      { checkpoints },
    );
    await until(() => seen.length === 1 && first.caughtUp(), 'the first batch');
    const inFlight = streams.put('completed');
    await until(() => seen.length === 2, 'the second batch to start');

    // Act
    const stopping = first.stop();
    release();
    await stopping;
    const { batches, handler } = recorder();
    const second = start(streams, handler, { checkpoints });
    await until(() => second.caughtUp() && batches.length > 0, 'the new poller');

    // Assess: the finished batch is not redone, the interrupted one is.
    expect(batches.flat()).toEqual([inFlight]);
    expect(seen.flat()).toEqual([done, inFlight]);
  });
});

describe('the batching window', () => {
  afterEach(async () => {
    await Promise.all(runners.map((runner) => runner.stop()));
    runners = [];
  });

  it('gathers the records written within the window into one invocation', async () => {
    const streams = new FakeStreams();
    const { batches, handler } = recorder();
    const runner = start(streams, handler, { maxBatchingWindowMs: 300 });
    const seqs = [streams.put('started')];
    await new Promise((resolve) => setTimeout(resolve, 100));
    seqs.push(streams.put('started'));

    await until(() => batches.length > 0 && runner.caughtUp(), 'the batch', 5_000);

    expect(batches).toEqual([seqs]);
  });
});
