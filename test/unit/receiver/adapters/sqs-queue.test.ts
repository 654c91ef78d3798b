import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { issuesThatFit, SqsQueue } from '../../../../lambda/adapters/sqs-queue';
import { SERVICE_LIMITS } from '../../../../lambda/core/contract';
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

describe('issuesThatFit (a dead letter\'s issues attribute)', () => {
  it('keeps short issues whole and caps long ones at 1024 characters', () => {
    expect(issuesThatFit('payload.data.job_id is required', '{}')).toBe('payload.data.job_id is required');
    expect(issuesThatFit('x'.repeat(5000), '{}')).toHaveLength(1024);
  });

  it('leaves the room a body near the 1 MiB limit still has, counted in UTF-8 bytes, so the dead-letter send is not refused as too large', () => {
    // Arrange: 300 bytes of room remain after the body and the other attributes.
    const body = 'b'.repeat(SERVICE_LIMITS.sqsMaxMessageBytes - 400 - 300);
    // Act
    const fitted = issuesThatFit('é'.repeat(1000), body);
    // Assess
    expect(Buffer.byteLength(fitted, 'utf8')).toBeLessThanOrEqual(300);
    expect(fitted.length).toBe(150);
    expect(issuesThatFit('anything', 'b'.repeat(SERVICE_LIMITS.sqsMaxMessageBytes))).toBe('');
  });
});
