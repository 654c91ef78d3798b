import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDeliveryStore } from '../../../../lambda/adapters/dynamo-delivery-store';
import { DeliveryLeaseLostError, DeliveryStoreError } from '../../../../lambda/core/errors';

const NOW = new Date('2026-11-27T10:00:00.000Z');
const NOW_MS = NOW.getTime();
const NOW_S = NOW_MS / 1000;
const HASH = 'a'.repeat(64);

const dynamo = mockClient(DynamoDBClient);
const store = new DynamoDeliveryStore(new DynamoDBClient({ region: 'eu-west-1' }), 'deliveries');

function item(overrides: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  return {
    deliveryId: { S: 'dlv_1' },
    status: { S: 'in_progress' },
    bodySha256: { S: HASH },
    leaseExpiresAt: { N: String(NOW_MS + 30_000) },
    receivedAt: { S: NOW.toISOString() },
    expiresAt: { N: String(NOW_S + 2_592_000) },
    attemptId: { S: 'attempt-1' },
    ...overrides,
  };
}

function conditionFailed(old?: Record<string, AttributeValue>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: old });
}

const claimRequest = { deliveryId: 'dlv_1', bodySha256: HASH, attemptId: 'attempt-1', now: NOW, leaseSeconds: 30, ttlSeconds: 2_592_000 };

beforeEach(() => dynamo.reset());

describe('DynamoDeliveryStore', () => {
  describe('claim', () => {
    it('sends one conditional UpdateItem that only takes a free record or a live one whose lease lapsed, whatever its body', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).resolves({ Attributes: item() });

      // Act
      await store.claim(claimRequest);

      // Assess
      const calls = dynamo.commandCalls(UpdateItemCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0].args[0].input;
      expect(input).toMatchObject({
        TableName: 'deliveries',
        Key: { deliveryId: { S: 'dlv_1' } },
        ConditionExpression: 'attribute_not_exists(#pk) OR (#ttl >= :nowSeconds AND #status = :inProgress AND #lease < :nowMs)',
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      expect(input.UpdateExpression).toContain('#receivedAt = if_not_exists(#receivedAt, :now)');
      expect(input.ExpressionAttributeNames).toMatchObject({ '#pk': 'deliveryId', '#ttl': 'expiresAt' });
      expect(input.ExpressionAttributeValues).toMatchObject({
        ':inProgress': { S: 'in_progress' },
        ':lease': { N: String(NOW_MS + 30_000) },
        ':attempt': { S: 'attempt-1' },
        ':hash': { S: HASH },
        ':expiresAt': { N: String(NOW_S + 2_592_000) },
        ':now': { S: NOW.toISOString() },
        ':nowSeconds': { N: String(NOW_S) },
        ':nowMs': { N: String(NOW_MS) },
      });
    });

    it('takes over a record past its TTL as a new delivery, with this receipt time', async () => {
      // Prepare: the first write finds an accepted record of an old delivery, expired but not yet deleted.
      const expired = item({ status: { S: 'accepted' }, bodySha256: { S: 'b'.repeat(64) }, expiresAt: { N: String(NOW_S - 60) }, receivedAt: { S: '2026-10-01T08:00:00.000Z' } });
      dynamo.on(UpdateItemCommand).rejectsOnce(conditionFailed(expired)).resolves({ Attributes: item() });

      // Act
      const result = await store.claim(claimRequest);

      // Assess
      const calls = dynamo.commandCalls(UpdateItemCommand);
      expect(calls).toHaveLength(2);
      expect(calls[1].args[0].input).toMatchObject({ ConditionExpression: '#ttl < :nowSeconds' });
      expect(calls[1].args[0].input.UpdateExpression).toContain('#receivedAt = :now');
      expect(calls[1].args[0].input.UpdateExpression).not.toContain('if_not_exists');
      expect(result).toMatchObject({ kind: 'claimed', record: { receivedAt: NOW.toISOString() } });
    });

    it('reports the record another attempt renewed while the expired one was being taken over', async () => {
      // Prepare
      const expired = item({ status: { S: 'accepted' }, expiresAt: { N: String(NOW_S - 60) } });
      const renewed = item({ attemptId: { S: 'attempt-other' } });
      dynamo.on(UpdateItemCommand).rejectsOnce(conditionFailed(expired)).rejectsOnce(conditionFailed(renewed));

      // Act
      const result = await store.claim(claimRequest);

      // Assess
      expect(result).toMatchObject({ kind: 'exists', record: { attemptId: 'attempt-other' } });
    });

    it('returns the new record when the claim succeeds', async () => {
      dynamo.on(UpdateItemCommand).resolves({ Attributes: item() });
      await expect(store.claim(claimRequest)).resolves.toEqual({
        kind: 'claimed',
        record: {
          deliveryId: 'dlv_1',
          status: 'in_progress',
          bodySha256: HASH,
          leaseExpiresAt: NOW_MS + 30_000,
          receivedAt: NOW.toISOString(),
          expiresAt: NOW_S + 2_592_000,
          attemptId: 'attempt-1',
        },
      });
    });

    it('turns a failed condition into an `exists` result carrying the old item', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).rejects(conditionFailed(item({ status: { S: 'accepted' }, attemptId: { S: 'attempt-0' } })));

      // Act
      const result = await store.claim(claimRequest);

      // Assess
      expect(result).toEqual({ kind: 'exists', record: expect.objectContaining({ status: 'accepted', attemptId: 'attempt-0' }) });
    });

    it('reads a failed condition on a record holding its own attempt id as claimed (the SDK retried an applied claim)', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).rejects(conditionFailed(item({ attemptId: { S: 'attempt-1' } })));

      // Act
      const result = await store.claim(claimRequest);

      // Assess
      expect(result).toEqual({ kind: 'claimed', record: expect.objectContaining({ status: 'in_progress', attemptId: 'attempt-1' }) });
    });

    it('reads a live record of another attempt as exists', async () => {
      dynamo.on(UpdateItemCommand).rejects(conditionFailed(item({ attemptId: { S: 'attempt-9' } })));
      const result = await store.claim(claimRequest);
      expect(result).toEqual({ kind: 'exists', record: expect.objectContaining({ status: 'in_progress', attemptId: 'attempt-9' }) });
    });

    it('calls a failed condition without the old item a store error', async () => {
      dynamo.on(UpdateItemCommand).rejects(conditionFailed());
      await expect(store.claim(claimRequest)).rejects.toBeInstanceOf(DeliveryStoreError);
    });

    it('wraps any other error in a transient DeliveryStoreError that keeps the cause', async () => {
      // Prepare
      const cause = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
      dynamo.on(UpdateItemCommand).rejects(cause);

      // Act
      const error = await store.claim(claimRequest).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(DeliveryStoreError);
      expect(error).toMatchObject({ name: 'DeliveryStoreError', transient: true, cause });
      expect((error as Error).message).toContain('ProvisionedThroughputExceededException');
    });

    it('refuses an item with an unknown status rather than guess', async () => {
      dynamo.on(UpdateItemCommand).resolves({ Attributes: item({ status: { S: 'weird' } }) });
      await expect(store.claim(claimRequest)).rejects.toThrow(/unknown status/);
    });
  });

  describe('markAccepted', () => {
    it('accepts only for the owning attempt, or idempotently when already accepted', async () => {
      dynamo.on(UpdateItemCommand).resolves({});
      await store.markAccepted('dlv_1', 'attempt-1');
      expect(dynamo.commandCalls(UpdateItemCommand)[0].args[0].input).toMatchObject({
        UpdateExpression: 'SET #status = :accepted',
        ConditionExpression: '#attempt = :mine OR #status = :accepted',
        ExpressionAttributeValues: { ':accepted': { S: 'accepted' }, ':mine': { S: 'attempt-1' } },
      });
    });

    it('reports a lost lease when the condition fails', async () => {
      dynamo.on(UpdateItemCommand).rejects(conditionFailed());
      await expect(store.markAccepted('dlv_1', 'attempt-1')).rejects.toBeInstanceOf(DeliveryLeaseLostError);
    });

    it('wraps other errors as transient store errors', async () => {
      dynamo.on(UpdateItemCommand).rejects(new Error('socket hang up'));
      await expect(store.markAccepted('dlv_1', 'attempt-1')).rejects.toMatchObject({ name: 'DeliveryStoreError', transient: true });
    });
  });

  describe('release', () => {
    it('lets the lease lapse now, only for the owning in-progress attempt', async () => {
      dynamo.on(UpdateItemCommand).resolves({});
      await store.release('dlv_1', 'attempt-1');
      expect(dynamo.commandCalls(UpdateItemCommand)[0].args[0].input).toMatchObject({
        UpdateExpression: 'SET #lease = :zero',
        ConditionExpression: '#attempt = :mine AND #status = :inProgress',
        ExpressionAttributeValues: { ':zero': { N: '0' }, ':mine': { S: 'attempt-1' } },
      });
    });

    it('does nothing when another attempt owns the record', async () => {
      dynamo.on(UpdateItemCommand).rejects(conditionFailed());
      await expect(store.release('dlv_1', 'attempt-1')).resolves.toBeUndefined();
    });

    it('wraps other errors as transient store errors', async () => {
      dynamo.on(UpdateItemCommand).rejects(new Error('timeout'));
      await expect(store.release('dlv_1', 'attempt-1')).rejects.toBeInstanceOf(DeliveryStoreError);
    });
  });
});
