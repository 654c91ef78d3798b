/**
 * Reading the archive from S3, both shapes of it: per-delivery objects
 * (`raw/…/HH/<deliveryId>.json`, the bytes with the signed headers as object
 * metadata) and Firehose's batched objects (`raw/…/HH/batch/…jsonl.gz`, one
 * JSON line per delivery). Replay, the console's delivery view, the tests and
 * the reliability harness read through here; prefixes are listed page by page,
 * never the whole bucket.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { S3Archive } from '../../lambda/adapters/s3-archive';
import { classifyArchiveKey } from '../../lambda/core/archive-key';
import { decodeArchiveLines, type DecodedLine } from '../../lambda/core/archive/record';
import type { ArchivedDelivery, ArchiveLocation } from '../../lambda/core/ports';

export async function* listArchiveKeys(client: S3Client, bucket: string, prefix: string): AsyncGenerator<string> {
  for await (const page of paginateListObjectsV2({ client, pageSize: 1000 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) yield object.Key;
    }
  }
}

/** The lines of one batched object, decompressed (by its extension) and decoded. */
export async function readArchiveBatch(client: S3Client, bucket: string, key: string): Promise<DecodedLine[]> {
  const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!output.Body) throw new Error(`empty body for ${key}`);
  const bytes = Buffer.from(await output.Body.transformToByteArray());
  const raw = key.endsWith('.gz') ? gunzipSync(bytes) : bytes;
  return decodeArchiveLines(raw.toString('utf8'));
}

export type ArchiveItem =
  | { readonly ok: true; readonly location: ArchiveLocation; readonly line?: number; readonly delivery: ArchivedDelivery }
  | { readonly ok: false; readonly location: ArchiveLocation; readonly line?: number; readonly reason: string };

export interface ReadEntriesOptions {
  /** Skip per-delivery objects whose key names another delivery (no read); batched objects are read whatever they hold. */
  readonly deliveryId?: string;
}

/** Every entry under the prefixes, objects and batched lines alike, in listing order. */
export async function* readArchiveEntries(
  client: S3Client,
  bucket: string,
  prefixes: readonly string[],
  options: ReadEntriesOptions = {},
): AsyncGenerator<ArchiveItem> {
  const objects = new S3Archive(client, bucket);
  for (const prefix of prefixes) {
    for await (const key of listArchiveKeys(client, bucket, prefix)) {
      const kind = classifyArchiveKey(key);
      if (kind.kind === 'object') {
        if (options.deliveryId !== undefined && kind.deliveryId !== options.deliveryId) continue;
        const location = { bucket, key };
        try {
          yield { ok: true, location, delivery: await objects.get(location) };
        } catch (error) {
          yield { ok: false, location, reason: error instanceof Error ? error.message : String(error) };
        }
      } else if (kind.kind === 'batch') {
        const location = { bucket, key, batched: true };
        let lines: DecodedLine[];
        try {
          lines = await readArchiveBatch(client, bucket, key);
        } catch (error) {
          yield { ok: false, location, reason: error instanceof Error ? error.message : String(error) };
          continue;
        }
        for (const line of lines) {
          yield line.ok ? { ok: true, location, line: line.line, delivery: line.delivery } : { ok: false, location, line: line.line, reason: line.reason };
        }
      }
    }
  }
}
