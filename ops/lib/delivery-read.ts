/**
 * One delivery as ops look at it: its dedupe record (the deliveries table) and
 * its archived bytes and signed headers, judged exactly as a replay would judge
 * them (replay-plan.ts: body hash, signature with the given keys, payload
 * schema), so what the console says about a delivery is what a replay would do.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { recordFromItem } from '../../lambda/adapters/dynamo-delivery-store';
import { bodySha256 } from '../../lambda/core/body-hash';
import { TABLE_KEYS } from '../../lambda/core/contract';
import type { ArchivedDelivery, ArchiveLocation, DeliveryRecord } from '../../lambda/core/ports';
import { readArchiveEntries } from './archive-reader';
import { examineArchived, replayPrefixes, signatureVerifies, type Examination, type ReplayWindow, type SignatureKeys } from './replay-plan';

/** The dedupe record, read strongly consistent; undefined when there is none (never accepted, or expired and deleted). */
export async function readDeliveryRecord(client: DynamoDBClient, tableName: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
  const result = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { [TABLE_KEYS.deliveries.partitionKey]: { S: deliveryId } }, ConsistentRead: true }),
  );
  return result.Item === undefined ? undefined : recordFromItem(result.Item);
}

export type SignatureCheck = 'absent' | 'verifies' | 'does not verify' | 'not checked';

export interface ArchivedEntry {
  readonly location: ArchiveLocation;
  readonly line?: number;
  readonly delivery: ArchivedDelivery;
  /** The bytes still hash to what the receiver recorded. */
  readonly bodyIntact: boolean;
  readonly signature: SignatureCheck;
  /** Replay's verdict on this entry (matched: it would be re-enqueued; refused: why not). */
  readonly examination: Examination;
}

export interface ArchiveSearch {
  readonly window: ReplayWindow;
  readonly entries: readonly ArchivedEntry[];
  readonly unreadable: ReadonlyArray<{ readonly location: ArchiveLocation; readonly line?: number; readonly reason: string }>;
}

/** The window a delivery received at `receivedAt` is replayed with: its own millisecond. */
export function deliveryWindow(receivedAt: string): ReplayWindow {
  const from = new Date(receivedAt);
  if (Number.isNaN(from.getTime())) throw new RangeError(`not an instant: ${receivedAt}`);
  return { from, to: new Date(from.getTime() + 1) };
}

export function checkSignature(delivery: ArchivedDelivery, keys: SignatureKeys | undefined): SignatureCheck {
  if (delivery.signature === undefined) return 'absent';
  if (keys === undefined) return 'not checked';
  return signatureVerifies(delivery, keys) ? 'verifies' : 'does not verify';
}

/** Every archived entry of one delivery in the window's hour prefixes (retries may have archived it again). */
export async function findArchivedDelivery(
  s3: S3Client,
  bucket: string,
  deliveryId: string,
  window: ReplayWindow,
  signatureKeys?: SignatureKeys,
): Promise<ArchiveSearch> {
  const entries: ArchivedEntry[] = [];
  const unreadable: Array<ArchiveSearch['unreadable'][number]> = [];
  for await (const item of readArchiveEntries(s3, bucket, replayPrefixes(window), { deliveryId })) {
    if (!item.ok) {
      unreadable.push({ location: item.location, line: item.line, reason: item.reason });
      continue;
    }
    if (item.delivery.deliveryId !== deliveryId) continue;
    const { delivery, location } = item;
    entries.push({
      location,
      ...(item.line !== undefined ? { line: item.line } : {}),
      delivery,
      bodyIntact: bodySha256(delivery.rawBody) === delivery.bodySha256.toLowerCase(),
      signature: checkSignature(delivery, signatureKeys),
      examination: examineArchived(delivery, location, { window, filters: { deliveryId }, force: false, signatureKeys }),
    });
  }
  return { window, entries, unreadable };
}
