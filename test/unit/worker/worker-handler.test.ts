import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ARCHIVE_METADATA, DEAD_LETTER_ATTRIBUTES, ENV, METRIC, SERVICE_NAMES } from '../../../lambda/core/contract';
import type { QueueMessage } from '../../../lambda/core/ports';
import { WorkerConfigurationError } from '../../../lambda/core/worker';
import { createWorkerHandler, workerDependenciesFromEnv } from '../../../lambda/handlers/worker';
import { NOW, payloadFor, queueMessage } from './factories';

const dynamo = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const ENVIRONMENT = { [ENV.jobsTable]: 'jobs-table', [ENV.archiveBucket]: 'archive-bucket' };

function sqsRecord(messageId: string, message: QueueMessage | string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof message === 'string' ? message : JSON.stringify(message),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1795000000000',
      SenderId: 'receiver',
      ApproximateFirstReceiveTimestamp: '1795000000000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:webhook-queue',
    awsRegion: 'eu-west-1',
  };
}

function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** The handler under test, wired exactly as the Lambda and the local stack wire it. */
function workerHandler() {
  const deps = workerDependenciesFromEnv(ENVIRONMENT, {
    dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
    now: () => NOW,
  });
  return createWorkerHandler(deps);
}

/** Powertools writes JSON lines (logs and EMF metrics) to stdout and stderr. */
function captureOutput(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

function emittedMetrics(lines: Record<string, unknown>[]): Record<string, unknown> {
  return Object.assign({}, ...lines.filter((line) => '_aws' in line));
}

describe('worker handler', () => {
  let output: ReturnType<typeof captureOutput>;

  beforeEach(() => {
    dynamo.reset();
    s3.reset();
    sqs.reset();
    output = captureOutput();
  });

  afterEach(() => output.restore());

  it('moves a record the jobs table refuses for good to the DLQ with its reason, and does not hand it back', async () => {
    // Prepare
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
    dynamo.on(UpdateItemCommand).rejects(Object.assign(new Error('An operand in the update expression has an incorrect data type'), { name: 'ValidationException' }));
    const record = sqsRecord('msg-1', queueMessage({ deliveryId: 'dlv_refused', payload: payloadFor('job.started', 'job_8f3a') }));
    const handler = createWorkerHandler(
      workerDependenciesFromEnv(
        { ...ENVIRONMENT, [ENV.deadLetterQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhook-dlq' },
        { dynamodb: new DynamoDBClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }), sqs: new SQSClient({ region: 'eu-west-1' }), now: () => NOW },
      ),
    );

    // Act
    const response = await handler(sqsEvent(record));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const sent = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(sent).toEqual([
      expect.objectContaining({
        QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhook-dlq',
        MessageBody: record.body,
        MessageAttributes: expect.objectContaining({
          [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: 'String', StringValue: 'store_refused' },
          [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: 'String', StringValue: 'msg-1' },
          deliveryId: { DataType: 'String', StringValue: 'dlv_refused' },
        }),
      }),
    ]);
    expect(emittedMetrics(output.lines())).toMatchObject({ [METRIC.permanentFailure]: 1 });
    sqs.restore();
  });

  it('reports exactly the record whose job write was throttled', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({});
    dynamo
      .on(UpdateItemCommand, { Key: { jobId: { S: 'job_b' } } })
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const records = ['job_a', 'job_b', 'job_c'].map((jobId) =>
      sqsRecord(`msg-${jobId}`, queueMessage({ jobId, deliveryId: `dlv_${jobId}`, payload: payloadFor('job.started', jobId) })),
    );

    // Act
    const response = await workerHandler()(sqsEvent(...records));

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-job_b' }] });
    expect(emittedMetrics(output.lines())).toMatchObject({ [METRIC.applied]: 2, [METRIC.workerRecordFailure]: 1 });
    expect(output.lines()).toContainEqual(
      expect.objectContaining({ level: 'ERROR', correlation_id: 'dlv_job_b', causeName: 'ProvisionedThroughputExceededException' }),
    );
  });

  it('reads a payload that was too large for the message from the archive', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({});
    const message = queueMessage({ event: 'job.completed', deliveryId: 'dlv_big', payload: undefined });
    const rawBody = new TextEncoder().encode(JSON.stringify(payloadFor('job.completed', 'job_8f3a', { notes: 'x'.repeat(100_000) })));
    s3.on(GetObjectCommand, { Bucket: message.archive.bucket, Key: message.archive.key }).resolves({
      Body: { transformToByteArray: async () => rawBody } as never,
      Metadata: {
        [ARCHIVE_METADATA.event]: 'job.completed',
        [ARCHIVE_METADATA.deliveryId]: 'dlv_big',
        [ARCHIVE_METADATA.timestamp]: message.timestamp,
        [ARCHIVE_METADATA.receivedAt]: message.receivedAt,
        [ARCHIVE_METADATA.bodySha256]: '0'.repeat(64),
      },
    });

    // Act
    const response = await workerHandler()(sqsEvent(sqsRecord('msg-1', message)));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const update = dynamo.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':status': { S: 'completed' },
      ':outputUrl': { S: 'https://cdn.example.com/out/job_8f3a.webm' },
    });
  });

  it('reports a poison message as failed and logs it with its delivery id', async () => {
    // Prepare
    const poison = { ...queueMessage({ deliveryId: 'dlv_poison' }), v: 99 };

    // Act
    const response = await workerHandler()(sqsEvent(sqsRecord('msg-poison', JSON.stringify(poison))));

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-poison' }] });
    expect(output.lines()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'Poison message',
        deliveryId: 'dlv_poison',
        correlation_id: 'dlv_poison',
        reason: 'unsupported_version',
      }),
    );
    expect(emittedMetrics(output.lines())).toMatchObject({ [METRIC.poisonMessage]: 1 });
    expect(dynamo.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  it('treats duplicate and stale deliveries as successes', async () => {
    // Prepare
    const finished = {
      jobId: { S: 'job_8f3a' },
      status: { S: 'completed' },
      lastEventAt: { S: '2026-11-27T10:05:00.000Z' },
      lastDeliveryId: { S: 'dlv_done' },
      deliveryIds: { SS: ['dlv_done'] },
    };
    dynamo
      .on(UpdateItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {}, Item: finished }))
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {}, Item: finished }))
      .resolves({});
    const duplicate = queueMessage({ event: 'job.completed', deliveryId: 'dlv_done' });
    const lateStart = queueMessage({ deliveryId: 'dlv_late_start' });

    // Act
    const response = await workerHandler()(sqsEvent(sqsRecord('msg-dup', duplicate), sqsRecord('msg-stale', lateStart)));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(emittedMetrics(output.lines())).toMatchObject({ [METRIC.alreadyApplied]: 1, [METRIC.staleIgnored]: 1 });
  });

  it('writes one line for a healthy batch: its metrics and the delivery ids by outcome', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({});
    const records = ['job_a', 'job_b'].map((jobId) =>
      sqsRecord(`msg-${jobId}`, queueMessage({ jobId, deliveryId: `dlv_${jobId}`, payload: payloadFor('job.started', jobId) })),
    );

    // Act
    await workerHandler()(sqsEvent(...records));

    // Assess
    expect(output.lines()).toEqual([
      expect.objectContaining({
        _aws: expect.anything(),
        level: 'INFO',
        message: 'Batch processed',
        service: SERVICE_NAMES.worker,
        records: 2,
        applied: ['dlv_job_a', 'dlv_job_b'],
        [METRIC.applied]: 2,
      }),
    ]);
  });

  it('brings a claim check whose object may still be written back in seconds (ChangeMessageVisibility), not after the visibility timeout', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const message = queueMessage({ deliveryId: 'dlv_pending', payload: undefined, archiveBy: new Date(NOW.getTime() + 3_000).toISOString() });
    const deps = workerDependenciesFromEnv(
      { ...ENVIRONMENT, [ENV.queueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhook-queue' },
      { dynamodb: new DynamoDBClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }), sqs: new SQSClient({ region: 'eu-west-1' }), now: () => NOW },
    );

    // Act
    const response = await createWorkerHandler(deps)(sqsEvent(sqsRecord('msg-pending', message)));

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-pending' }] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhook-queue', ReceiptHandle: 'rh-msg-pending', VisibilityTimeout: 4 },
    ]);
    expect(emittedMetrics(output.lines())).toMatchObject({ [METRIC.claimCheckPending]: 1 });
  });

  describe('workerDependenciesFromEnv', () => {
    it('lists every missing variable at once', () => {
      // Act
      const act = () => workerDependenciesFromEnv({});

      // Assess
      expect(act).toThrow(WorkerConfigurationError);
      expect(act).toThrow(`${ENV.jobsTable} is not set; ${ENV.archiveBucket} is not set`);
    });
  });
});
