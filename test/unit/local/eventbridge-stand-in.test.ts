/**
 * The local EventBridge stand-in, called through the real SDK client (so over
 * the AWS JSON 1.1 wire protocol), against the PutEvents API reference:
 * per-entry results in order, FailedEntryCount, entry and call errors, and
 * envelope delivery to the rules' SQS targets.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type LocalEventBus, startLocalEventBus } from '../../../local/stand-ins/eventbridge';
import { UnsupportedPatternError } from '../../../local/stand-ins/event-pattern';

const BUS = 'job-events-local';

/** An SQS client that keeps what is sent, and fails sends to queues listed in `down`. */
class FakeSqs {
  readonly sent: { queueUrl: string; body: unknown }[] = [];
  readonly down = new Set<string>();
  async send(command: { input: { QueueUrl: string; MessageBody: string } }): Promise<unknown> {
    if (this.down.has(command.input.QueueUrl)) throw Object.assign(new Error('unreachable'), { name: 'ECONNREFUSED' });
    this.sent.push({ queueUrl: command.input.QueueUrl, body: JSON.parse(command.input.MessageBody) });
    return {};
  }
  to(queueUrl: string): unknown[] {
    return this.sent.filter((each) => each.queueUrl === queueUrl).map((each) => each.body);
  }
}

const entry = (detail: Record<string, unknown>, detailType = 'Job Completed'): PutEventsRequestEntry => ({
  EventBusName: BUS,
  Source: 'webhook-ingestion.jobs',
  DetailType: detailType,
  Detail: JSON.stringify(detail),
  Time: new Date('2026-11-27T10:05:01.250Z'),
});

let bus: LocalEventBus;
let sqs: FakeSqs;
let client: EventBridgeClient;

beforeEach(async () => {
  sqs = new FakeSqs();
  bus = await startLocalEventBus({
    busName: BUS,
    region: 'us-east-1',
    sqs: sqs as never,
    deliveryAttempts: 2,
    deliveryRetryMs: 1,
    rules: [
      {
        name: 'review',
        pattern: { source: ['webhook-ingestion.jobs'], 'detail-type': ['Job Completed'], detail: { product: { sceneTags: ['hair'] } } },
        targets: [{ id: 't', queueUrl: 'review', deadLetterQueueUrl: 'review-dlq' }],
      },
      { name: 'tap', pattern: { source: [{ prefix: '' }] }, targets: [{ id: 'tap', queueUrl: 'tap' }] },
    ],
  });
  client = new EventBridgeClient({ region: 'us-east-1', endpoint: bus.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});

afterEach(async () => {
  client.destroy();
  await bus.stop();
});

describe('the local EventBridge stand-in', () => {
  it('accepts entries with an EventId each, in request order, and delivers envelopes to every matching rule', async () => {
    const answer = await client.send(new PutEventsCommand({ Entries: [entry({ jobId: 'a', product: { sceneTags: ['hair', 'sky'] } }), entry({ jobId: 'b', product: {} })] }));
    await bus.idle();

    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries?.map((each) => typeof each.EventId)).toEqual(['string', 'string']);
    expect(sqs.to('review')).toEqual([
      {
        version: '0',
        id: answer.Entries![0].EventId,
        'detail-type': 'Job Completed',
        source: 'webhook-ingestion.jobs',
        account: '000000000000',
        time: '2026-11-27T10:05:01Z',
        region: 'us-east-1',
        resources: [],
        detail: { jobId: 'a', product: { sceneTags: ['hair', 'sky'] } },
      },
    ]);
    expect(sqs.to('tap')).toHaveLength(2);
    expect(bus.stats()).toMatchObject({ putCalls: 1, entriesAccepted: 2, delivered: 3, matched: { review: 1, tap: 2 } });
  });

  it('fails malformed entries one by one and counts them in FailedEntryCount', async () => {
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ jobId: 'ok' }),
          { ...entry({}), Detail: '{not json' },
          { ...entry({}), Detail: '[1,2]' },
          { ...entry({}), Source: undefined },
          { ...entry({}), EventBusName: 'another-bus' },
          { ...entry({}), Source: 'aws.s3' },
        ],
      }),
    );

    expect(answer.FailedEntryCount).toBe(5);
    expect(answer.Entries?.map((each) => each.ErrorCode ?? 'ok')).toEqual(['ok', 'MalformedDetail', 'MalformedDetail', 'InvalidArgument', 'InvalidArgument', 'NotAuthorizedForSourceException']);
  });

  it('refuses a call with more than 10 entries, or over 256 KiB, as a ValidationException', async () => {
    const eleven = Array.from({ length: 11 }, (_, index) => entry({ index }));
    await expect(client.send(new PutEventsCommand({ Entries: eleven }))).rejects.toMatchObject({ name: 'ValidationException' });
    const big = [entry({ notes: 'x'.repeat(200 * 1024) }), entry({ notes: 'x'.repeat(100 * 1024) })];
    await expect(client.send(new PutEventsCommand({ Entries: big }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('throttles whole calls and fails single entries with the retryable codes when a fault plan says so', async () => {
    bus.setFaults(() => ({ throttleCall: true }));
    await expect(client.send(new PutEventsCommand({ Entries: [entry({})] }))).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

    bus.setFaults(() => ({ failEntries: [undefined, 'ThrottlingException', 'InternalFailure'] }));
    const answer = await client.send(new PutEventsCommand({ Entries: [entry({ n: 1 }), entry({ n: 2 }), entry({ n: 3 })] }));
    await bus.idle();
    expect(answer.FailedEntryCount).toBe(2);
    expect(answer.Entries?.map((each) => each.ErrorCode ?? 'ok')).toEqual(['ok', 'ThrottlingException', 'InternalFailure']);
    expect(sqs.to('tap')).toEqual([expect.objectContaining({ detail: { n: 1 } })]);
  });

  it("sends an event it cannot deliver to the target's dead-letter queue", async () => {
    sqs.down.add('review');

    await client.send(new PutEventsCommand({ Entries: [entry({ product: { sceneTags: ['hair'] } })] }));
    await bus.idle();

    expect(sqs.to('review-dlq')).toHaveLength(1);
    expect(bus.stats().deadLettered).toBe(1);
  });

  it('refuses to start with a rule whose pattern it cannot evaluate', async () => {
    await expect(
      startLocalEventBus({ busName: BUS, region: 'us-east-1', sqs: sqs as never, rules: [{ name: 'x', pattern: { a: [{ wildcard: '*' }] }, targets: [] }] }),
    ).rejects.toThrow(UnsupportedPatternError);
  });
});
