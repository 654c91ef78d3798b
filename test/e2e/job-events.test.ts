/**
 * Job events on the local stack: DynamoDB Local's stream of the jobs table,
 * the job-events handler, the EventBridge stand-in with the template's rules,
 * and the catch-all tap queue, all started by the e2e setup like `npm start`.
 */
import { DescribeTableCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { RECORDING_ENV } from '../../local/iam/recording';
import { LOCAL_CREDENTIALS } from '../../ops/lib/clients';
import { JOB_EVENTS, QUALITY_REVIEW, type EventType } from '../../lambda/core/contract';
import { mapWithConcurrency } from '../../ops/lib/concurrency';
import type { Delivery } from '../../ops/lib/provider';
import { prng } from '../../reliability/lib/seeded';
import { runTool } from './support/cli';
import { connect, getJob, inspectQueue, sendUntilSettled, signedDelivery, uniqueId, waitFor, type E2eStack } from './support/stack';

jest.setTimeout(120_000);

interface Envelope {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  readonly detail: { readonly jobId: string; readonly status: string; readonly previousStatus?: string; readonly eventId: string; readonly product: Record<string, unknown>; readonly [key: string]: unknown };
}

/** The events a queue holds for some jobs, read without receiving them. */
async function eventsOn(stack: E2eStack, queueUrl: string | undefined, jobIds: ReadonlySet<string>): Promise<Envelope[]> {
  if (queueUrl === undefined) throw new Error('the outputs name no such queue');
  const messages = await inspectQueue(stack, queueUrl);
  return messages.map((message) => JSON.parse(message.body) as Envelope).filter((envelope) => jobIds.has(envelope.detail?.jobId));
}

function tap(stack: E2eStack, jobIds: ReadonlySet<string>): Promise<Envelope[]> {
  return eventsOn(stack, stack.outputs.JobEventsTapQueueUrl, jobIds);
}

async function waitForStatus(stack: E2eStack, jobId: string, status: string): Promise<void> {
  await waitFor(async () => ((await getJob(stack, jobId))?.status === status ? true : undefined), `${jobId} to be ${status}`);
}

/**
 * Waits until a fresh job's event reaches the tap: the stream is read in
 * order, so anything written before it has been published (or never will be).
 */
async function settleStream(stack: E2eStack): Promise<void> {
  const jobId = uniqueId('sentinel');
  await sendUntilSettled(stack, signedDelivery(stack, 'job.started', { jobId }));
  await waitFor(async () => ((await tap(stack, new Set([jobId]))).length > 0 ? true : undefined), 'the sentinel event');
}

async function setProductAttributes(stack: E2eStack, jobId: string, attributes: Record<string, { S: string } | { L: Array<{ S: string }> }>): Promise<void> {
  const names = Object.keys(attributes);
  await stack.clients.dynamodb.send(
    new UpdateItemCommand({
      TableName: stack.outputs.JobsTableName,
      Key: { jobId: { S: jobId } },
      UpdateExpression: `SET ${names.map((_name, index) => `#a${index} = :v${index}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, index) => [`#a${index}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, index) => [`:v${index}`, attributes[name]])),
    }),
  );
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

describe('job events on the local stack', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  it('writes the bus name and the tap queue to the outputs', () => {
    expect(stack.outputs.JobEventsBusName).toEqual(expect.any(String));
    expect(stack.outputs.JobEventsTapQueueUrl).toMatch(/webhook-job-events-tap$/);
    expect(stack.outputs.QualityReviewQueueUrl).toMatch(/webhook-quality-review$/);
    expect(stack.outputs.JobEventsFailureQueueUrl).toMatch(/webhook-job-events-failures$/);
  });

  it('turns a burst of N jobs, each started then completed, with duplicates and reordering, into exactly 2N events', async () => {
    // Prepare: 40 jobs; every delivery re-sent by the provider now and then, all jobs shuffled together,
    // and late job.started deliveries (stale by then) mixed into the completions.
    const random = prng(20261202);
    const N = 40;
    const base = Date.now();
    const jobs = Array.from({ length: N }, (_, index) => {
      const jobId = uniqueId(`evburst${index}`);
      const terminal: EventType = index % 4 === 0 ? 'job.failed' : 'job.completed';
      return {
        jobId,
        terminal,
        started: signedDelivery(stack, 'job.started', { jobId, timestamp: new Date(base - 60_000 + index).toISOString() }),
        finished: signedDelivery(stack, terminal, { jobId, timestamp: new Date(base - 10_000 + index).toISOString() }),
        late: signedDelivery(stack, 'job.started', { jobId, timestamp: new Date(base - 30_000 + index).toISOString() }),
      };
    });
    const ids = new Set(jobs.map((job) => job.jobId));
    const withRetries = (deliveries: Delivery[]): Delivery[] => shuffled([...deliveries, ...deliveries.filter(() => random() < 0.3)], random);

    // Act: the starts (and their retries) first, so every job is started before it completes...
    await mapWithConcurrency(withRetries(jobs.map((job) => job.started)), 8, (delivery) => sendUntilSettled(stack, delivery));
    await Promise.all(jobs.map((job) => waitForStatus(stack, job.jobId, 'started')));
    // ...then the endings, their retries, late starts and re-sent starts, all shuffled together.
    const second = withRetries([...jobs.map((job) => job.finished), ...jobs.filter(() => random() < 0.5).flatMap((job) => [job.late, job.started])]);
    await mapWithConcurrency(second, 8, (delivery) => sendUntilSettled(stack, delivery));
    await Promise.all(jobs.map((job) => waitForStatus(stack, job.jobId, job.terminal === 'job.failed' ? 'failed' : 'completed')));
    await waitFor(async () => ((await tap(stack, ids)).length >= 2 * N ? true : undefined), `${2 * N} events on the tap`);
    await settleStream(stack);

    // Assess
    const events = await tap(stack, ids);
    expect(events).toHaveLength(2 * N);
    expect(new Set(events.map((event) => event.detail.eventId)).size).toBe(2 * N);
    for (const job of jobs) {
      const mine = events.filter((event) => event.detail.jobId === job.jobId);
      const ending = job.terminal === 'job.failed' ? 'failed' : 'completed';
      expect(mine.map((event) => [event['detail-type'], event.detail.status, event.detail.previousStatus ?? null]).sort()).toEqual(
        [
          [JOB_EVENTS.detailTypes.started, 'started', null],
          [ending === 'failed' ? JOB_EVENTS.detailTypes.failed : JOB_EVENTS.detailTypes.completed, ending, 'started'],
        ].sort(),
      );
      const finishing = mine.find((event) => event.detail.status === ending)!;
      expect(finishing.detail).toMatchObject({ eventId: `${job.jobId}#${ending}`, deliveryId: job.finished.deliveryId, origin: 'webhook' });
      expect(finishing.source).toBe(JOB_EVENTS.source);
    }
  });

  it("carries the product's own attributes, and sends completed jobs of difficult scenes to the review queue only", async () => {
    // Prepare: the product creates its items with scene tags before the provider's events arrive.
    const hair = uniqueId('review_hair');
    const sky = uniqueId('review_sky');
    const failedHair = uniqueId('review_failed');
    await setProductAttributes(stack, hair, { userId: { S: 'u_42' }, [QUALITY_REVIEW.sceneTagsAttribute]: { L: [{ S: 'sky' }, { S: 'hair' }] } });
    await setProductAttributes(stack, sky, { userId: { S: 'u_43' }, [QUALITY_REVIEW.sceneTagsAttribute]: { L: [{ S: 'sky' }] } });
    await setProductAttributes(stack, failedHair, { [QUALITY_REVIEW.sceneTagsAttribute]: { L: [{ S: 'hair' }] } });
    const ids = new Set([hair, sky, failedHair]);

    // Act
    for (const jobId of ids) await sendUntilSettled(stack, signedDelivery(stack, 'job.started', { jobId }));
    for (const jobId of ids) await waitForStatus(stack, jobId, 'started');
    await sendUntilSettled(stack, signedDelivery(stack, 'job.completed', { jobId: hair }));
    await sendUntilSettled(stack, signedDelivery(stack, 'job.completed', { jobId: sky }));
    await sendUntilSettled(stack, signedDelivery(stack, 'job.failed', { jobId: failedHair }));
    await waitFor(async () => ((await tap(stack, ids)).length >= 6 ? true : undefined), 'six events on the tap');
    await settleStream(stack);

    // Assess
    const reviewed = await eventsOn(stack, stack.outputs.QualityReviewQueueUrl, ids);
    expect(reviewed.map((event) => [event.detail.jobId, event['detail-type']])).toEqual([[hair, JOB_EVENTS.detailTypes.completed]]);
    expect(reviewed[0].detail.product).toEqual({ userId: 'u_42', [QUALITY_REVIEW.sceneTagsAttribute]: ['sky', 'hair'] });
    const started = (await tap(stack, new Set([sky]))).find((event) => event.detail.status === 'started');
    expect(started?.detail.product).toEqual({ userId: 'u_43', [QUALITY_REVIEW.sceneTagsAttribute]: ['sky'] });
  });

  it('publishes nothing for a write that changes no status', async () => {
    const jobId = uniqueId('no_change');
    await sendUntilSettled(stack, signedDelivery(stack, 'job.started', { jobId }));
    await sendUntilSettled(stack, signedDelivery(stack, 'job.completed', { jobId }));
    await waitForStatus(stack, jobId, 'completed');

    await setProductAttributes(stack, jobId, { reviewedBy: { S: 'ops@example.com' } });
    await sendUntilSettled(stack, signedDelivery(stack, 'job.failed', { jobId }));
    await waitFor(async () => ((await getJob(stack, jobId))?.history?.length === 3 ? true : undefined), 'the conflict to be recorded');
    await settleStream(stack);

    const events = await tap(stack, new Set([jobId]));
    expect(events.map((event) => event.detail.status).sort()).toEqual(['completed', 'started']);
  });

  it('prints the events of a queue, one line each, with npm run events', async () => {
    // Its own queue: the tap is shared by every test, and the tool takes what it prints off the queue.
    const { QueueUrl } = await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueId('events-cli').replace(/[^A-Za-z0-9_-]/g, '-') }));
    const envelope = {
      version: '0',
      id: 'e-1',
      'detail-type': 'Job Completed',
      source: JOB_EVENTS.source,
      time: '2026-11-27T10:05:01Z',
      detail: { jobId: 'job_cli', status: 'completed', previousStatus: 'started', origin: 'replay', eventId: 'job_cli#completed', deliveryId: 'd-9' },
    };
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(envelope) }));

    // The tap and this queue are the local stack's own, outside the template: no role of the stack is meant to read them.
    const run = await runTool('events', ['--outputs', stack.context.outputsFile, '--queue', QueueUrl!], { [RECORDING_ENV.dir]: '' });

    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('2026-11-27T10:05:01Z Job Completed job_cli started -> completed origin=replay eventId=job_cli#completed delivery=d-9');
    expect(run.stderr).toContain('events: 1 printed');
  });

  it('publishes again, with npm run events -- --redrive, a batch Lambda gave up on, and clears it from the failure queue', async () => {
    // Prepare: a job's completion, then the failure record Lambda would write had it given up on that one record.
    const jobId = uniqueId('redrive');
    await sendUntilSettled(stack, signedDelivery(stack, 'job.started', { jobId }));
    await waitForStatus(stack, jobId, 'started');
    await sendUntilSettled(stack, signedDelivery(stack, 'job.completed', { jobId }));
    await waitFor(async () => ((await tap(stack, new Set([jobId]))).length === 2 ? true : undefined), 'both events');
    const endpoints = stack.outputs.Endpoints!;
    const streams = new DynamoDBStreamsClient({ region: endpoints.region, credentials: LOCAL_CREDENTIALS, endpoint: endpoints.dynamodb });
    let position: { streamArn: string; shardId: string; sequenceNumber: string } | undefined;
    try {
      const { Table } = await stack.clients.dynamodb.send(new DescribeTableCommand({ TableName: stack.outputs.JobsTableName }));
      const streamArn = Table!.LatestStreamArn!;
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      for (const shard of StreamDescription?.Shards ?? []) {
        let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
        for (let page = 0; iterator && page < 200; page += 1) {
          const read = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
          if ((read.Records ?? []).length === 0) break;
          for (const record of read.Records ?? []) {
            if (record.dynamodb?.NewImage?.jobId?.S === jobId && record.dynamodb.NewImage.status?.S === 'completed' && record.dynamodb.OldImage?.status?.S === 'started') {
              position = { streamArn, shardId: shard.ShardId!, sequenceNumber: record.dynamodb.SequenceNumber! };
            }
          }
          iterator = read.NextShardIterator;
        }
      }
    } finally {
      streams.destroy();
    }
    expect(position).toBeDefined();
    await stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.outputs.JobEventsFailureQueueUrl,
        MessageBody: JSON.stringify({
          requestContext: { requestId: 'e2e', functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:job-events', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 101 },
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          version: '1.0',
          timestamp: new Date().toISOString(),
          DDBStreamBatchInfo: {
            shardId: position!.shardId,
            startSequenceNumber: position!.sequenceNumber,
            endSequenceNumber: position!.sequenceNumber,
            approximateArrivalOfFirstRecord: new Date().toISOString(),
            approximateArrivalOfLastRecord: new Date().toISOString(),
            batchSize: 1,
            streamArn: position!.streamArn,
          },
        }),
      }),
    );

    // Act
    const run = await runTool('events', ['--redrive', '--outputs', stack.context.outputsFile]);

    // Assess: the same event once more (same eventId and detail), and the failure queue is empty.
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^events redrive: 1 batch\(es\), 1 redriven, 1 event\(s\) published, 0 left over, 0 unreadable$/m);
    await waitFor(async () => ((await tap(stack, new Set([jobId]))).length === 3 ? true : undefined), 'the republished event');
    const completed = (await tap(stack, new Set([jobId]))).filter((event) => event.detail.status === 'completed');
    expect(completed).toHaveLength(2);
    expect(completed[1].detail).toEqual(completed[0].detail);
    expect(await inspectQueue(stack, stack.outputs.JobEventsFailureQueueUrl!)).toEqual([]);
  });
});
