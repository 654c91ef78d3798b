/**
 * The open-jobs index keys (docs/architecture.md, "Open jobs and the reconciler"): which shard a job's index entry lives
 * on, and the two attributes that put a job in the index. The worker sets them
 * when a job opens; a product that creates its job items before the provider's
 * `job.started` arrives sets them itself with `openJobAttributes`, so a job
 * whose `job.started` never came is found by the reconciler too.
 */
import { createHash } from 'node:crypto';
import { OPEN_JOBS_INDEX } from '../contract';

/**
 * A stable shard in 0 .. OPEN_JOBS_INDEX.shards - 1: the first four bytes of the
 * job id's SHA-256, so ids that share a prefix or a sequence still spread evenly.
 */
export function openJobShard(jobId: string): number {
  return createHash('sha256').update(jobId, 'utf8').digest().readUInt32BE(0) % OPEN_JOBS_INDEX.shards;
}

/** The attributes of an open job's index entry, as plain values (marshall them for the low-level client). */
export interface OpenJobAttributes {
  readonly openShard: number;
  readonly openedAt: string;
}

/**
 * What a product writes on a job item it creates before the provider's first
 * webhook, to opt it in to reconciliation: the index keys, with the time the
 * job was submitted. The worker keeps them (`if_not_exists`) when `job.started`
 * arrives and removes them when the job finishes.
 *
 * @example
 *   // the item the product puts (DocumentClient shape; marshall it for the low-level client):
 *   const item = { jobId, userId, ...openJobAttributes(jobId, new Date()) };
 */
export function openJobAttributes(jobId: string, openedAt: Date | string): OpenJobAttributes {
  if (typeof jobId !== 'string' || jobId.length === 0) throw new RangeError('openJobAttributes: jobId must be a non-empty string');
  // A zoneless string would be read in the machine's zone: refused, like every instant the stack parses.
  const instant = typeof openedAt === 'string' ? (/(Z|[+-]\d{2}:\d{2})$/.test(openedAt) ? new Date(openedAt) : undefined) : openedAt;
  const iso = instant === undefined || Number.isNaN(instant.getTime()) ? undefined : instant.toISOString();
  if (iso === undefined) throw new RangeError('openJobAttributes: openedAt must be a valid instant (ISO 8601 with a zone, or a Date)');
  return { openShard: openJobShard(jobId), openedAt: iso };
}
