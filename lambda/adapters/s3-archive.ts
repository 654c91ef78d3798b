/**
 * The S3 archive: the exact raw bytes of each delivery, with the signed headers
 * as user metadata so a replay can re-verify the signature.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_METADATA, ORIGINS, type Origin } from '../core/contract';
import { ArchiveError, ArchiveObjectMissingError } from '../core/errors';
import type { Archive, ArchivedDelivery, ArchiveLocation } from '../core/ports';

/** Job ids come from the payload; S3 metadata must be ASCII and is capped at 2 KB in total. */
const MAX_ENCODED_JOB_ID = 512;

function metadataFor(delivery: ArchivedDelivery): Record<string, string> {
  const metadata: Record<string, string> = {
    [ARCHIVE_METADATA.event]: delivery.event,
    [ARCHIVE_METADATA.deliveryId]: delivery.deliveryId,
    [ARCHIVE_METADATA.timestamp]: delivery.timestamp,
    [ARCHIVE_METADATA.receivedAt]: delivery.receivedAt,
    [ARCHIVE_METADATA.bodySha256]: delivery.bodySha256,
  };
  if (delivery.signature !== undefined) metadata[ARCHIVE_METADATA.signature] = delivery.signature;
  if (delivery.attemptAt !== undefined) metadata[ARCHIVE_METADATA.attemptAt] = delivery.attemptAt;
  if (delivery.origin !== undefined && delivery.origin !== 'webhook') metadata[ARCHIVE_METADATA.origin] = delivery.origin;
  if (delivery.jobId !== undefined) {
    // Only the job id can hold non-ASCII characters; it is optional metadata (the
    // body carries it too), so an oversized one is left out rather than failing the put.
    const encoded = encodeURIComponent(delivery.jobId);
    if (encoded.length <= MAX_ENCODED_JOB_ID) metadata[ARCHIVE_METADATA.jobId] = encoded;
  }
  return metadata;
}

function decodeJobId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Only a known origin is believed; anything else reads as a plain delivery, so replay still asks for its signature. */
function originOf(value: string | undefined): { origin?: Origin } {
  return value !== undefined && (ORIGINS as readonly string[]).includes(value) ? { origin: value as Origin } : {};
}

export class S3Archive implements Archive {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, delivery: ArchivedDelivery): Promise<ArchiveLocation> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: delivery.rawBody,
          ContentType: 'application/json',
          Metadata: metadataFor(delivery),
          // We already hold the body's SHA-256: handing it over lets S3 verify
          // the upload without the SDK hashing the body a second time.
          ChecksumSHA256: Buffer.from(delivery.bodySha256, 'hex').toString('base64'),
        }),
      );
      return { bucket: this.bucket, key };
    } catch (error) {
      throw new ArchiveError(`archive put failed (${errorName(error)})`, { cause: error });
    }
  }

  async get(location: ArchiveLocation): Promise<ArchivedDelivery> {
    let rawBody: Uint8Array;
    let metadata: Record<string, string>;
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
      if (!output.Body) throw new Error('empty response body');
      rawBody = await output.Body.transformToByteArray();
      metadata = output.Metadata ?? {};
    } catch (error) {
      // S3 tells a missing key from a forbidden one only to a reader allowed
      // s3:ListBucket; without it both read AccessDenied.
      if (error instanceof NoSuchKey || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
        throw new ArchiveObjectMissingError(`archive object ${location.key} does not exist`, { cause: error });
      }
      throw new ArchiveError(`archive get failed (${errorName(error)})`, { cause: error });
    }
    const required = (name: string): string => {
      const value = metadata[name];
      if (value === undefined) throw new ArchiveError(`archived object ${location.key} lacks metadata ${name}`);
      return value;
    };
    return {
      rawBody,
      event: required(ARCHIVE_METADATA.event),
      deliveryId: required(ARCHIVE_METADATA.deliveryId),
      timestamp: required(ARCHIVE_METADATA.timestamp),
      signature: metadata[ARCHIVE_METADATA.signature],
      receivedAt: required(ARCHIVE_METADATA.receivedAt),
      bodySha256: required(ARCHIVE_METADATA.bodySha256),
      jobId: decodeJobId(metadata[ARCHIVE_METADATA.jobId]),
      attemptAt: metadata[ARCHIVE_METADATA.attemptAt],
      ...originOf(metadata[ARCHIVE_METADATA.origin]),
    };
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
