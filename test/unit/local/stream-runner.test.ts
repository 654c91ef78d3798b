/**
 * The local stream runner behaves like Lambda's DynamoDB stream event source,
 * against an in-memory stream that can trim, expire iterators and split shards
 * the way DynamoDB Local does.
 */
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { startStreamRunner, type StreamFailureRecord, type StreamRunner, type StreamRunnerOptions } from '../../../local/runners/stream-runner';

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/jobs/stream/2026-11-27T00:00:00.000';
const FILTER = { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { status: { S: ['started', 'completed', 'failed'] } } } };

interface FakeShard {
  readonly id: string;
  readonly parent?: string;
  readonly records: _Record[];
  closed: boolean;
  /** Records before this index are gone (trimmed). */
  trimmedBefore: number;
}

/** An in-memory DynamoDB Streams API: DescribeStream, GetShardIterator, GetRecords. */
class FakeStreams {
  readonly shards: FakeShard[] = [{ id: 'shard-1', records: [], closed: false, trimmedBefore: 0 }];
  /** Errors to throw on the next calls of a command, by name. */
  readonly failNext: Record<string, string[]> = {};
  private sequence = 0;
  readonly calls: string[] = [];

  put(status: string | undefined, options: { eventName?: 'INSERT' | 'MODIFY' | 'REMOVE'; shard?: string; createdAt?: Date; bytes?: Uint8Array } = {}): string {
    this.sequence += 1;
    const sequenceNumber = String(this.sequence).padStart(21, '0');
    const shard = this.shards.find((each) => each.id === (options.shard ?? this.shards[this.shards.length - 1].id))!;
    shard.records.push({
      eventID: `e${this.sequence}`,
      eventName: options.eventName ?? 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: options.createdAt ?? new Date(),
        Keys: { jobId: { S: `job_${this.sequence}` } },
        NewImage: {
          jobId: { S: `job_${this.sequence}` },
          ...(status ? { status: { S: status } } : {}),
          ...(options.bytes ? { thumbnail: { B: options.bytes } } : {}),
        },
        SequenceNumber: sequenceNumber,
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    return sequenceNumber;
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    this.calls.push(name);
    const fault = this.failNext[name]?.shift();
    if (fault) throw Object.assign(new Error(fault), { name: fault });
    const input = command.input;
    if (name === 'DescribeStream') {
      return { StreamDescription: { Shards: this.shards.map((shard) => ({ ShardId: shard.id, ...(shard.parent ? { ParentShardId: shard.parent } : {}) })) } };
    }
    if (name === 'GetShardIterator') {
      const shard = this.shards.find((each) => each.id === input.ShardId)!;
      let position = shard.trimmedBefore;
      if (input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER') {
        const index = shard.records.findIndex((record) => record.dynamodb?.SequenceNumber === input.SequenceNumber);
        if (index < shard.trimmedBefore) throw Object.assign(new Error('trimmed'), { name: 'TrimmedDataAccessException' });
        position = index + 1;
      }
      return { ShardIterator: JSON.stringify({ shard: shard.id, position }) };
    }
    if (name === 'GetRecords') {
      const { shard: id, position } = JSON.parse(String(input.ShardIterator)) as { shard: string; position: number };
      const shard = this.shards.find((each) => each.id === id)!;
      if (position < shard.trimmedBefore) throw Object.assign(new Error('trimmed'), { name: 'TrimmedDataAccessException' });
      const records = shard.records.slice(position, position + Number(input.Limit ?? 1000));
      const next = position + records.length;
      const finished = shard.closed && next >= shard.records.length;
      return { Records: records, ...(finished ? {} : { NextShardIterator: JSON.stringify({ shard: id, position: next }) }) };
    }
    throw new Error(`unexpected ${name}`);
  }
}

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
