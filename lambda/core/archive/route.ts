/**
 * Size decides how a delivery is archived:
 *
 * - `batch`: one line in Firehose's batched, compressed objects, and the
 *   parsed payload inline in the queue message, so the worker never reads the
 *   archive. Every delivery whose line fits Firehose's record limit and whose
 *   message fits SQS takes it: that is every realistic webhook.
 * - `object`: its own S3 object, which the worker reads by key (claim check).
 *   Only for what does not fit both: a body close to 1 MiB, or a larger
 *   `maxBodyBytes`.
 *
 * The cost of each route per size is in bench section 5.
 */
import { SERVICE_LIMITS } from '../contract';

export type ArchiveRoute = 'batch' | 'object';

export interface RouteInput {
  /** A batched archive is configured (the stack's Firehose stream). */
  readonly batchArchive: boolean;
  /** Bytes of the encoded archive line. */
  readonly lineBytes: number;
  /** The queue message could carry the payload inline. */
  readonly payloadInline: boolean;
}

export function chooseArchiveRoute(input: RouteInput): ArchiveRoute {
  return input.batchArchive && input.payloadInline && input.lineBytes <= SERVICE_LIMITS.firehoseMaxRecordBytes ? 'batch' : 'object';
}
