/**
 * The batched archive on Amazon Data Firehose (Direct PUT): each delivery is
 * one record, its archive line (lambda/core/archive/record.ts); Firehose
 * concatenates them into GZIP objects under the receipt-hour prefix.
 *
 * PutRecordBatch, even for one record, because it is the call that carries
 * many (a reconciler's sweep): up to 500 records and 4 MiB per call, split
 * here. Its answer can be HTTP 200 with `FailedPutCount` > 0, each failed
 * record carrying an ErrorCode (ServiceUnavailableException when the stream
 * is throttled, InternalFailure): such a record was not accepted, so the call
 * fails with the indexes of those records and the caller answers 503. Retries
 * stay with the caller (the provider's for a delivery): the SDK already
 * retries throttled or failed calls within the receiver's time budget.
 */
import { PutRecordBatchCommand, type FirehoseClient, type PutRecordBatchResponseEntry } from '@aws-sdk/client-firehose';
import { SERVICE_LIMITS } from '../core/contract';
import { archiveLineBytes } from '../core/archive/line';
import { BatchArchiveError } from '../core/errors';
import type { ArchivedDelivery, BatchArchive } from '../core/ports';

interface Chunk {
  readonly indexes: number[];
  readonly records: { Data: Uint8Array }[];
  bytes: number;
}

/** Consecutive chunks within PutRecordBatch's limits (500 records, 4 MiB). */
function chunksOf(deliveries: readonly ArchivedDelivery[]): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk | undefined;
  deliveries.forEach((delivery, index) => {
    const data = archiveLineBytes(delivery);
    if (
      current === undefined ||
      current.records.length >= SERVICE_LIMITS.firehoseMaxBatchRecords ||
      current.bytes + data.byteLength > SERVICE_LIMITS.firehoseMaxBatchBytes
    ) {
      current = { indexes: [], records: [], bytes: 0 };
      chunks.push(current);
    }
    current.indexes.push(index);
    current.records.push({ Data: data });
    current.bytes += data.byteLength;
  });
  return chunks;
}

export class FirehoseArchive implements BatchArchive {
  constructor(
    private readonly client: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async append(deliveries: readonly ArchivedDelivery[]): Promise<void> {
    const failed: number[] = [];
    let cause: unknown;
    const tooLarge = deliveries.flatMap((delivery, index) =>
      archiveLineBytes(delivery).byteLength > SERVICE_LIMITS.firehoseMaxRecordBytes ? [index] : [],
    );
    if (tooLarge.length > 0) {
      throw new BatchArchiveError(`archive entries over Firehose's 1,000 KiB record limit: ${tooLarge.join(', ')}`, tooLarge);
    }
    for (const chunk of chunksOf(deliveries)) {
      try {
        const output = await this.client.send(new PutRecordBatchCommand({ DeliveryStreamName: this.streamName, Records: chunk.records }));
        if ((output.FailedPutCount ?? 0) > 0) {
          const responses: PutRecordBatchResponseEntry[] = output.RequestResponses ?? [];
          chunk.indexes.forEach((index, position) => {
            // A missing entry is counted as failed: only a RecordId proves acceptance.
            const entry = responses[position];
            if (entry === undefined || entry.ErrorCode !== undefined || entry.RecordId === undefined) failed.push(index);
          });
          cause ??= new Error(`FailedPutCount ${output.FailedPutCount} (${responses.find((entry) => entry.ErrorCode)?.ErrorCode ?? 'no error code'})`);
        }
      } catch (error) {
        failed.push(...chunk.indexes);
        cause ??= error;
      }
    }
    if (failed.length > 0) {
      const name = cause instanceof Error ? cause.name : 'Error';
      throw new BatchArchiveError(`archive append failed for ${failed.length} of ${deliveries.length} entries (${name})`, failed, { cause });
    }
  }
}
