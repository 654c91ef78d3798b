/**
 * A delivery id whose dedupe record is past its TTL but not yet deleted (real
 * DynamoDB deletes expired items only eventually) is a new delivery: accepted,
 * archived under this hour's key, never under the old delivery's.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { batchFolder } from '../../lambda/core/archive-key';
import { waitForArchived, connect, getDeliveryRecord, send, signedDelivery, uniqueId, type E2eStack } from './support/stack';

jest.setTimeout(120_000);

describe('a delivery id whose dedupe record has expired', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  it('is accepted as new and archived under the current hour', async () => {
    // Prepare: an accepted record of an old delivery with the same id, 31 days old.
    const deliveryId = uniqueId('dlv_expired');
    const oldReceivedAt = new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString();
    await stack.clients.dynamodb.send(
      new PutItemCommand({
        TableName: stack.outputs.DeliveriesTableName,
        Item: {
          deliveryId: { S: deliveryId },
          status: { S: 'accepted' },
          bodySha256: { S: 'f'.repeat(64) },
          leaseExpiresAt: { N: '0' },
          receivedAt: { S: oldReceivedAt },
          expiresAt: { N: String(Math.floor(Date.now() / 1000) - 3600) },
          attemptId: { S: 'old-attempt' },
        },
      }),
    );
    const delivery = signedDelivery(stack, 'job.started', { deliveryId, jobId: uniqueId('job_expired') });

    // Act
    const answer = await send(stack, delivery);

    // Assess
    expect(answer.status).toBe(202);
    const record = await getDeliveryRecord(stack, deliveryId);
    expect(record).toMatchObject({ status: 'accepted' });
    expect(record?.receivedAt).not.toBe(oldReceivedAt);
    const entries = await waitForArchived(stack, deliveryId);
    expect(entries.map((entry) => entry.delivery.receivedAt)).toEqual([record?.receivedAt]);
    expect(entries[0].key.startsWith(batchFolder(String(record?.receivedAt)))).toBe(true);
  });
});
