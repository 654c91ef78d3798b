/**
 * A message the worker can never process fails on its own: the rest of its batch
 * is applied and deleted, and the poison message moves to the DLQ after
 * maxReceiveCount (5) receives. The local queue runner retries failed records
 * after 2 s instead of the queue's full visibility timeout, so this takes ~10 s.
 */
import { readFileSync } from 'node:fs';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DEFAULTS, QUEUE_MESSAGE_VERSION } from '../../lambda/core/contract';
import type { QueueMessage } from '../../lambda/core/ports';
import { buildPayload } from '../../ops/lib/provider';
import { connect, getJob, inspectQueue, uniqueId, waitFor, type E2eStack } from './support/stack';

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

  it('reaches the DLQ after 5 receives while the rest of its batch is applied once', async () => {
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
    const inDlq = await waitFor(
      async () => (await inspectQueue(stack, stack.outputs.DeadLetterQueueUrl)).find((message) => message.body === poisonBody),
      'the poison message to reach the DLQ',
      60_000,
      250,
    );

    // Assess
    expect(sent.Failed ?? []).toEqual([]);
    expect(inDlq.messageId).toBe(poisonMessageId);
    expect(inDlq.approximateReceiveCount).toBeGreaterThanOrEqual(DEFAULTS.maxReceiveCount);
    // The worker logged one poison failure per receive: exactly maxReceiveCount of them.
    const poisonLines = readFileSync(stack.context.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('Poison message') && line.includes(poisonMessageId as string));
    expect(poisonLines).toHaveLength(DEFAULTS.maxReceiveCount);
    for (const jobId of jobIds) {
      const job = await getJob(stack, jobId);
      expect(job?.status).toBe('started');
      expect(job?.history).toHaveLength(1);
    }
    expect((await inspectQueue(stack, stack.outputs.QueueUrl)).filter((message) => message.body === poisonBody)).toEqual([]);

    // Clean up: the burst test asserts the DLQ holds nothing of its own, and a tidy DLQ keeps that easy to read.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const received = await stack.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.outputs.DeadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const mine = (received.Messages ?? []).find((message) => message.Body === poisonBody);
      if (mine?.ReceiptHandle) {
        await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.outputs.DeadLetterQueueUrl, ReceiptHandle: mine.ReceiptHandle }));
        break;
      }
    }
  });
});
