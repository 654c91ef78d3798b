import { failedBatchOf, redriveJobEvents } from '../../../ops/lib/events-redrive';
import { FakeStreams, STREAM_ARN } from '../support/fake-streams';
import { detailOf, ScriptedBus } from '../publish/factories';

/** An on-failure queue: receive one at a time (hidden once received), delete by receipt handle. */
class FakeFailureQueue {
  readonly messages: { id: string; body: string; hidden: boolean }[] = [];
  add(body: unknown): void {
    this.messages.push({ id: `m${this.messages.length + 1}`, body: typeof body === 'string' ? body : JSON.stringify(body), hidden: false });
  }
  async send(command: { constructor: { name: string }; input: { ReceiptHandle?: string } }): Promise<unknown> {
    if (command.constructor.name === 'ReceiveMessageCommand') {
      const next = this.messages.find((message) => !message.hidden);
      if (!next) return { Messages: [] };
      next.hidden = true;
      return { Messages: [{ MessageId: next.id, ReceiptHandle: next.id, Body: next.body }] };
    }
    const index = this.messages.findIndex((message) => message.id === command.input.ReceiptHandle);
    this.messages.splice(index, 1);
    return {};
  }
}

function failureRecord(start: string, end: string) {
  return {
    version: '1.0',
    requestContext: { condition: 'RetryAttemptsExhausted' },
    DDBStreamBatchInfo: { shardId: 'shard-1', startSequenceNumber: start, endSequenceNumber: end, batchSize: 2, streamArn: STREAM_ARN },
  };
}

describe('npm run events -- --redrive', () => {
  it('publishes the events of a given-up batch from the stream, and only then deletes its message', async () => {
    // Prepare: four records; the batch given up is the middle two (a start and a completion).
    const streams = new FakeStreams();
    streams.put('started', { jobId: 'before', eventName: 'INSERT' });
    const start = streams.put('started', { jobId: 'job_a', eventName: 'INSERT' });
    const end = streams.put('completed', { jobId: 'job_b', oldStatus: 'started' });
    streams.put('completed', { jobId: 'after', oldStatus: 'started' });
    const queue = new FakeFailureQueue();
    queue.add(failureRecord(start, end));
    const bus = new ScriptedBus();

    // Act
    const result = await redriveJobEvents({ sqs: queue as never, streams: streams as never, bus, failureQueueUrl: 'q', region: 'us-east-1' });

    // Assess
    expect(bus.accepted.map((entry) => detailOf(entry).eventId)).toEqual(['job_a#started', 'job_b#completed']);
    expect(result).toEqual({ batches: 1, redriven: 1, published: 2, leftOver: 0, unreadable: 0 });
    expect(queue.messages).toEqual([]);
  });

  it('leaves a batch the stream no longer holds on the queue, and says so', async () => {
    const streams = new FakeStreams();
    const start = streams.put('started', { jobId: 'job_a' });
    streams.shards[0].trimmedBefore = 1;
    const queue = new FakeFailureQueue();
    queue.add(failureRecord(start, start));
    const lines: string[] = [];

    const result = await redriveJobEvents({ sqs: queue as never, streams: streams as never, bus: new ScriptedBus(), failureQueueUrl: 'q', region: 'us-east-1', log: (line) => lines.push(line) });

    expect(result).toMatchObject({ leftOver: 1, redriven: 0 });
    expect(queue.messages).toHaveLength(1);
    expect(lines.join('\n')).toContain('the stream no longer holds it (TrimmedDataAccessException)');
  });

  it('leaves a batch whose events fail to publish again on the queue', async () => {
    const streams = new FakeStreams();
    const start = streams.put('started', { jobId: 'job_a' });
    const queue = new FakeFailureQueue();
    queue.add(failureRecord(start, start));
    const denied = new ScriptedBus([(entries) => entries.map(() => ({ ok: false as const, code: 'AccessDeniedException', retryable: false }))]);

    const result = await redriveJobEvents({ sqs: queue as never, streams: streams as never, bus: denied, failureQueueUrl: 'q', region: 'us-east-1' });

    expect(result).toMatchObject({ leftOver: 1, published: 0 });
    expect(queue.messages).toHaveLength(1);
  });

  it('reads only the stream-batch records Lambda writes, leaving anything else', () => {
    expect(failedBatchOf(JSON.stringify(failureRecord('1', '2')))).toEqual({ shardId: 'shard-1', startSequenceNumber: '1', endSequenceNumber: '2', streamArn: STREAM_ARN });
    expect(failedBatchOf('hello')).toBeUndefined();
    expect(failedBatchOf(JSON.stringify({ DDBStreamBatchInfo: { shardId: 's' } }))).toBeUndefined();
  });
});
