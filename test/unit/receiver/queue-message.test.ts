import { QUEUE_MESSAGE_VERSION } from '../../../lambda/core/contract';
import { buildQueueMessage, queueMessageBody, type QueueMessageFields } from '../../../lambda/core/queue-message';

const fields: QueueMessageFields = {
  deliveryId: 'dlv_1',
  event: 'job.completed',
  jobId: 'job_1',
  timestamp: '2026-11-27T10:00:00.000Z',
  receivedAt: '2026-11-27T10:00:00.120Z',
  archive: { bucket: 'archive', key: 'raw/2026/11/27/10/dlv_1.json' },
};

describe('buildQueueMessage', () => {
  it('carries the payload inline when the whole message fits the limit', () => {
    // Prepare
    const payload = { data: { job_id: 'job_1' } };

    // Act
    const message = buildQueueMessage(fields, payload, 64 * 1024);

    // Assess
    expect(message).toEqual({ v: QUEUE_MESSAGE_VERSION, ...fields, payload });
  });

  it('leaves the payload out (claim check) when the message would exceed the limit', () => {
    // Prepare
    const payload = { data: { job_id: 'job_1', note: 'x'.repeat(2000) } };

    // Act
    const message = buildQueueMessage(fields, payload, 1024);

    // Assess
    expect(message).toEqual({ v: QUEUE_MESSAGE_VERSION, ...fields });
    expect('payload' in message).toBe(false);
  });

  it('keeps the payload inline for a message of exactly the limit, and not one byte more', () => {
    // Prepare
    const payload = { data: { job_id: 'job_1', note: 'x'.repeat(500) } };
    const size = JSON.stringify({ v: QUEUE_MESSAGE_VERSION, ...fields, payload }).length;

    // Act
    const atLimit = buildQueueMessage(fields, payload, size);
    const overLimit = buildQueueMessage(fields, payload, size - 1);

    // Assess
    expect(atLimit.payload).toEqual(payload);
    expect(overLimit.payload).toBeUndefined();
  });

  it('measures the message as sent, with non-ASCII characters escaped', () => {
    // Prepare: 100 emoji are 100 × 12 escaped bytes on the wire, though only 200 UTF-16 units.
    const payload = { data: { job_id: 'job_1', note: '🎬'.repeat(100) } };
    const withoutNote = JSON.stringify({ v: QUEUE_MESSAGE_VERSION, ...fields, payload: { data: { job_id: 'job_1', note: '' } } }).length;

    // Act
    const message = buildQueueMessage(fields, payload, withoutNote + 600);

    // Assess
    expect(message.payload).toBeUndefined();
  });
});

describe('queueMessageBody', () => {
  it('is the ASCII-safe JSON of the message, whether or not buildQueueMessage made it', () => {
    // Prepare
    const built = buildQueueMessage(fields, { data: { job_id: 'job_1', note: 'é' } }, 64 * 1024);
    const literal = { ...built };

    // Act
    const fromBuild = queueMessageBody(built);
    const fromLiteral = queueMessageBody(literal);

    // Assess
    expect(fromBuild).toBe(fromLiteral);
    expect(fromBuild).toContain('\\u00e9');
    expect(JSON.parse(fromBuild)).toEqual(built);
  });
});
