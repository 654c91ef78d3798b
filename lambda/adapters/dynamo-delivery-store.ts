/**
 * The deliveries table as a DeliveryStore. Each operation is one conditional
 * UpdateItem; a failed condition on claim comes back with the existing item
 * (ReturnValuesOnConditionCheckFailure), so no second read is needed.
 */
import {
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS } from '../core/contract';
import { DeliveryLeaseLostError, DeliveryStoreError } from '../core/errors';
import type { ClaimRequest, ClaimResult, DeliveryRecord, DeliveryStore } from '../core/ports';

type Item = Record<string, AttributeValue>;

const PK = TABLE_KEYS.deliveries.partitionKey;
const TTL = TABLE_KEYS.deliveries.ttlAttribute;
const NAMES = {
  '#pk': PK,
  '#ttl': TTL,
  '#status': 'status',
  '#lease': 'leaseExpiresAt',
  '#attempt': 'attemptId',
  '#hash': 'bodySha256',
  '#receivedAt': 'receivedAt',
} as const;

/**
 * Who may take the id in the first write:
 * - nobody holds it;
 * - an in-progress attempt whose lease lapsed (it crashed, timed out or was
 *   released), while its record lives, whatever its body: it was never
 *   accepted, so it belongs to nobody. The record keeps its receivedAt, so every
 *   attempt of one delivery id archives under the same key (the bucket is
 *   versioned: an object an earlier attempt left there stays as a noncurrent
 *   version). Only an accepted record is final for its body.
 */
const CLAIM_CONDITION = 'attribute_not_exists(#pk) OR (#ttl >= :nowSeconds AND #status = :inProgress AND #lease < :nowMs)';
const CLAIM_UPDATE =
  'SET #status = :inProgress, #lease = :lease, #attempt = :attempt, #hash = :hash, #ttl = :expiresAt, #receivedAt = if_not_exists(#receivedAt, :now)';

/**
 * A record past its TTL (checked here: DynamoDB deletes expired items only
 * eventually, up to days later) belongs to an old delivery: it is taken over as
 * new, with this receipt time, so the archive key lands in the current hour
 * instead of overwriting the old delivery's object. A second write, only on
 * this rare path; the condition fails if another attempt renewed it first.
 */
const RECLAIM_EXPIRED_CONDITION = '#ttl < :nowSeconds';
const RECLAIM_EXPIRED_UPDATE =
  'SET #status = :inProgress, #lease = :lease, #attempt = :attempt, #hash = :hash, #ttl = :expiresAt, #receivedAt = :now';

function s(value: string): AttributeValue {
  return { S: value };
}

function n(value: number): AttributeValue {
  return { N: String(value) };
}

function names<K extends keyof typeof NAMES>(...keys: K[]): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key, NAMES[key]]));
}

// Built once: every claim sends one of these (DynamoDB refuses names an expression does not use).
const CLAIM_NAMES = names('#pk', '#ttl', '#status', '#lease', '#attempt', '#hash', '#receivedAt');
const RECLAIM_NAMES = names('#ttl', '#status', '#lease', '#attempt', '#hash', '#receivedAt');
const MARK_NAMES = names('#status', '#attempt');
const RELEASE_NAMES = names('#lease', '#attempt', '#status');

export function recordFromItem(item: Item): DeliveryRecord {
  const text = (name: string): string => {
    const value = item[name]?.S;
    if (value === undefined) throw new DeliveryStoreError(`delivery item lacks string attribute ${name}`);
    return value;
  };
  const number = (name: string): number => {
    const value = Number(item[name]?.N);
    if (!Number.isFinite(value)) throw new DeliveryStoreError(`delivery item lacks number attribute ${name}`);
    return value;
  };
  const status = text('status');
  if (status !== 'in_progress' && status !== 'accepted') throw new DeliveryStoreError(`delivery item has unknown status ${status}`);
  return {
    deliveryId: text(PK),
    status,
    bodySha256: text('bodySha256'),
    leaseExpiresAt: number('leaseExpiresAt'),
    receivedAt: text('receivedAt'),
    expiresAt: number(TTL),
    attemptId: text('attemptId'),
  };
}

export class DynamoDeliveryStore implements DeliveryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const first = await this.conditionalClaim(request, CLAIM_UPDATE, CLAIM_CONDITION);
    const nowSeconds = Math.floor(request.now.getTime() / 1000);
    if (first.kind === 'exists' && first.record.expiresAt < nowSeconds) {
      return this.conditionalClaim(request, RECLAIM_EXPIRED_UPDATE, RECLAIM_EXPIRED_CONDITION);
    }
    return first;
  }

  private async conditionalClaim(request: ClaimRequest, update: string, condition: string): Promise<ClaimResult> {
    const nowMs = request.now.getTime();
    const nowSeconds = Math.floor(nowMs / 1000);
    const values: Record<string, AttributeValue> = {
      ':inProgress': s('in_progress'),
      ':lease': n(nowMs + request.leaseSeconds * 1000),
      ':attempt': s(request.attemptId),
      ':hash': s(request.bodySha256),
      ':expiresAt': n(nowSeconds + request.ttlSeconds),
      ':now': s(request.now.toISOString()),
      ':nowSeconds': n(nowSeconds),
    };
    // DynamoDB refuses values an expression does not use.
    if (condition.includes(':nowMs')) values[':nowMs'] = n(nowMs);
    try {
      const output = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: s(request.deliveryId) },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: condition.includes('#pk') ? CLAIM_NAMES : RECLAIM_NAMES,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!output.Attributes) throw new DeliveryStoreError('claim returned no attributes');
      return { kind: 'claimed', record: recordFromItem(output.Attributes) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if (!error.Item) throw new DeliveryStoreError('claim condition failed without the existing item', { cause: error });
        const record = recordFromItem(error.Item);
        // The SDK retried our own claim after its first try was applied but the
        // answer was lost: the record the condition met is the one we wrote.
        if (record.attemptId === request.attemptId && record.status === 'in_progress') return { kind: 'claimed', record };
        return { kind: 'exists', record };
      }
      throw asStoreError('claim', error);
    }
  }

  async markAccepted(deliveryId: string, attemptId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: s(deliveryId) },
          UpdateExpression: 'SET #status = :accepted',
          // Idempotent: a repeated mark by the same attempt, or a record another
          // attempt already accepted, is the outcome we want.
          ConditionExpression: '#attempt = :mine OR #status = :accepted',
          ExpressionAttributeNames: MARK_NAMES,
          ExpressionAttributeValues: { ':accepted': s('accepted'), ':mine': s(attemptId) },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new DeliveryLeaseLostError(`delivery ${deliveryId} was taken over by another attempt`, { cause: error });
      }
      throw asStoreError('markAccepted', error);
    }
  }

  async release(deliveryId: string, attemptId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: s(deliveryId) },
          UpdateExpression: 'SET #lease = :zero',
          ConditionExpression: '#attempt = :mine AND #status = :inProgress',
          ExpressionAttributeNames: RELEASE_NAMES,
          ExpressionAttributeValues: { ':zero': n(0), ':mine': s(attemptId), ':inProgress': s('in_progress') },
        }),
      );
    } catch (error) {
      // Someone else holds the record now: there is nothing of ours to release.
      if (error instanceof ConditionalCheckFailedException) return;
      throw asStoreError('release', error);
    }
  }
}

function asStoreError(operation: string, error: unknown): DeliveryStoreError {
  if (error instanceof DeliveryStoreError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  return new DeliveryStoreError(`deliveries table ${operation} failed (${name})`, { cause: error });
}
