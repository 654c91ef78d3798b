import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsQueue } from '../../../../lambda/adapters/sqs-queue';
import { QueueError } from '../../../../lambda/core/errors';
import type { QueueMessage } from '../../../../lambda/core/ports';

const sqs = mockClient(SQSClient);
const queue = new SqsQueue(new SQSClient({ region: 'eu-west-1' }), 'https://sqs.eu-west-1.amazonaws.com/123456789012/work');
const message: QueueMessage = {
  v: 1,
  deliveryId: 'dlv_1',
  event: 'job.completed',
  jobId: 'job_1',
  timestamp: '2026-11-27T10:00:00.000Z',
  receivedAt: '2026-11-27T10:00:00.100Z',
  archive: { bucket: 'archive-bucket', key: 'raw/2026/11/27/10/dlv_1.json' },
  payload: { data: { job_id: 'job_1', note: 'fond vert 🎬' } },
};

beforeEach(() => sqs.reset());

describe('SqsQueue', () => {
  it('sends the message as ASCII-only JSON with event and delivery id attributes', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

    // Act
    await queue.send(message);

    // Assess
    const input = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(input.QueueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/work');
    expect(input.MessageBody).toContain('\\ud83c\\udfac');
    expect(/^[\x20-\x7e]*$/.test(input.MessageBody ?? '')).toBe(true);
    expect(JSON.parse(input.MessageBody ?? '')).toEqual(message);
    expect(input.MessageAttributes).toEqual({
      event: { DataType: 'String', StringValue: 'job.completed' },
      deliveryId: { DataType: 'String', StringValue: 'dlv_1' },
    });
  });

  it('wraps SQS failures in a transient QueueError with the cause', async () => {
    const cause = Object.assign(new Error('gone'), { name: 'QueueDoesNotExist' });
    sqs.on(SendMessageCommand).rejects(cause);
    const error = await queue.send(message).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueError);
    expect(error).toMatchObject({ transient: true, cause, message: 'enqueue failed (QueueDoesNotExist)' });
  });
});
