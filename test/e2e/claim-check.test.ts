/**
 * A claim-checked message whose object is missing (finding 3 of issue 10): the
 * worker is allowed to list the archive, so it reads NoSuchKey, never
 * AccessDenied. A message that may still see its object written (one from a
 * receiver that enqueued beside the write, before the delay existed) comes back
 * in seconds rather than after the visibility timeout; one whose object can no
 * longer appear (its attempt failed before answering 2xx) is dropped, never
 * retried into the DLQ.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { archiveKey } from '../../lambda/core/archive-key';
import { ARCHIVE_METADATA, QUEUE_MESSAGE_VERSION } from '../../lambda/core/contract';
import { bodySha256 } from '../../lambda/core/body-hash';
import type { QueueMessage } from '../../lambda/core/ports';
import { buildPayload } from '../../ops/lib/provider';
import { connect, getJob, inspectQueue, sleep, uniqueId, waitFor, waitForQueueDrained, type E2eStack } from './support/stack';

jest.setTimeout(120_000);

describe('a claim-checked message whose archive object is missing', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  function claimCheck(jobId: string, overrides: Partial<QueueMessage> = {}): { message: QueueMessage; body: string } {
    const now = new Date().toISOString();
    const deliveryId = uniqueId('dlv_cc');
    const body = JSON.stringify(buildPayload('job.started', { jobId, createdAt: now }));
    return {
      body,
      message: {
        v: QUEUE_MESSAGE_VERSION,
        deliveryId,
        event: 'job.started',
        jobId,
        timestamp: now,
        receivedAt: now,
        archive: { bucket: stack.outputs.ArchiveBucketName, key: archiveKey(now, deliveryId) },
        ...overrides,
      },
    };
  }

  const enqueue = (message: QueueMessage): Promise<unknown> =>
    stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.outputs.QueueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { deliveryId: { DataType: 'String', StringValue: message.deliveryId } },
      }),
    );

  it('is retried in seconds while its object may still come, and applied once it does', async () => {
    // Prepare: an older receiver's message, sent beside its PutObject (no archiveBy), read before the object lands.
    const jobId = uniqueId('job_cc_late');
    const { message, body } = claimCheck(jobId);

    // Act
    await enqueue(message);
    await sleep(3000);
    const before = await getJob(stack, jobId);
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket: message.archive.bucket,
        Key: message.archive.key,
        Body: body,
        Metadata: {
          [ARCHIVE_METADATA.event]: message.event,
          [ARCHIVE_METADATA.deliveryId]: message.deliveryId,
          [ARCHIVE_METADATA.timestamp]: message.timestamp,
          [ARCHIVE_METADATA.receivedAt]: message.receivedAt,
          [ARCHIVE_METADATA.bodySha256]: bodySha256(Buffer.from(body)),
        },
      }),
    );
    const job = await waitFor(async () => getJob(stack, jobId), 'the job to be applied once its object exists', 30_000, 250);

    // Assess: the object did not exist for the first reads; the queue's 182 s visibility never had to pass.
    expect(before).toBeUndefined();
    expect(job).toMatchObject({ status: 'started', lastDeliveryId: message.deliveryId });
  });

  it('is dropped, not retried into the DLQ, once its archiveBy has passed without the object', async () => {
    // Prepare: its attempt promised the object by a time now past, and answered 5xx.
    const jobId = uniqueId('job_cc_orphan');
    const { message } = claimCheck(jobId, { archiveBy: new Date(Date.now() - 60_000).toISOString() });

    // Act
    await enqueue(message);
    await waitForQueueDrained(stack);

    // Assess
    expect(await getJob(stack, jobId)).toBeUndefined();
    const dead = await inspectQueue(stack, stack.outputs.DeadLetterQueueUrl);
    expect(dead.filter((entry) => entry.body.includes(message.deliveryId))).toEqual([]);
  });
});
