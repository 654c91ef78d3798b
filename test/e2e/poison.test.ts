/**
 * A message the worker can never process fails on its own: the rest of its batch
 * is applied and deleted, and the worker moves the message to the DLQ itself,
 * with its reason, on the first receive (the queue's redrive policy after five
 * receives stays the fallback for when that send fails).
 */
import { readFileSync } from 'node:fs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES, JOB_ATTRIBUTES, QUEUE_MESSAGE_VERSION } from '../../lambda/core/contract';
import type { QueueMessage } from '../../lambda/core/ports';
import { buildPayload } from '../../ops/lib/provider';
import { connect, getJob, inspectQueue, uniqueId, waitFor, waitForQueueDrained, type E2eStack } from './support/stack';

// The project's testTimeout is a global-only option in Jest, so each e2e file sets its own.
jest.setTimeout(120_000);

describe('a poison message', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  function validMessage(jobId: string): QueueMessage {
    const now = new Date().toISOString();
    const deliveryId = uniqueId('dlv');
    return {
      v: QUEUE_MESSAGE_VERSION,
      deliveryId,
      event: 'job.started',
      jobId,
      timestamp: now,
      receivedAt: now,
      // The payload travels inline, so the worker never reads this key.
      archive: { bucket: stack.outputs.ArchiveBucketName, key: `raw/e2e/${deliveryId}.json` },
      payload: buildPayload('job.started', { jobId, createdAt: now }),
    };
  }

  /** Receives (and deletes) the DLQ message with this body: the reason travels in its attributes. */
  async function takeFromDlq(body: string): Promise<Message> {
    return waitFor(
      async () => {
        const received = await stack.clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.outputs.DeadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
          }),
        );
        const mine = (received.Messages ?? []).find((message) => message.Body === body);
        if (mine?.ReceiptHandle) {
          await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.outputs.DeadLetterQueueUrl, ReceiptHandle: mine.ReceiptHandle }));
        }
        return mine;
      },
      'the message to reach the DLQ',
      30_000,
      100,
    );
  }

  it('is moved to the DLQ by the worker on its first receive, with its reason, while the rest of its batch is applied once', async () => {
    // Prepare
    const poisonBody = `not a queue message ${uniqueId('poison')}`;
    const jobIds = [uniqueId('job'), uniqueId('job'), uniqueId('job'), uniqueId('job')];
    const entries = [
      { Id: 'poison', MessageBody: poisonBody },
      ...jobIds.map((jobId, index) => ({ Id: `valid${index}`, MessageBody: JSON.stringify(validMessage(jobId)) })),
    ];

    // Act
    const sent = await stack.clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: stack.outputs.QueueUrl, Entries: entries }));
    const poisonMessageId = sent.Successful?.find((entry) => entry.Id === 'poison')?.MessageId;
    const inDlq = await takeFromDlq(poisonBody);

    // Assess
    expect(sent.Failed ?? []).toEqual([]);
    expect(inDlq.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('invalid_json');
    expect(inDlq.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.sourceMessageId]?.StringValue).toBe(poisonMessageId);
    // One receive, one poison line: no waiting out the queue's receive count.
    const poisonLines = readFileSync(stack.context.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('Poison message') && line.includes(poisonMessageId as string));
    expect(poisonLines).toHaveLength(1);
    await waitForQueueDrained(stack);
    for (const jobId of jobIds) {
      const job = await getJob(stack, jobId);
      expect(job?.status).toBe('started');
      expect(job?.history).toHaveLength(1);
    }
    expect((await inspectQueue(stack, stack.outputs.QueueUrl)).filter((message) => message.body === poisonBody)).toEqual([]);
  });

  it('moves a delivery the jobs table refuses for good (a product-written history of another type) to the DLQ at once, naming the reserved attributes', async () => {
    // Prepare: the product created the job item with its own `history` string.
    const jobId = uniqueId('job_reserved');
    await stack.clients.dynamodb.send(
      new PutItemCommand({ TableName: stack.outputs.JobsTableName, Item: { jobId: { S: jobId }, history: { S: 'the product wrote this' } } }),
    );
    const body = JSON.stringify(validMessage(jobId));

    // Act
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.outputs.QueueUrl, MessageBody: body }));
    const inDlq = await takeFromDlq(body);

    // Assess
    expect(inDlq.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('store_refused');
    expect(inDlq.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.issues]?.StringValue).toContain('ValidationException');
    expect(inDlq.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.issues]?.StringValue).toContain(JOB_ATTRIBUTES.history);
    const job = await getJob(stack, jobId);
    expect(job).toMatchObject({ history: 'the product wrote this' });
    expect(job?.status).toBeUndefined();
  });
});
