/**
 * A replay over ports: list the window's hour prefixes (and their neighbours),
 * read each per-delivery object and each batched object once, examine every
 * entry (replay-plan.ts), keep the latest attempt of each delivery, then either
 * enqueue its message or, for a dry run, plan it against the job's current
 * item. No AWS types here: the CLI wires the S3, SQS and DynamoDB adapters,
 * the unit tests wire in-memory ones.
 */
import { classifyArchiveKey } from '../../lambda/core/archive-key';
import type { DecodedLine } from '../../lambda/core/archive/record';
import type { ArchivedDelivery, Archive, ArchiveLocation, JobStore, Queue } from '../../lambda/core/ports';
import type { JobItem } from '../../lambda/core/job-state';
import { mapWithConcurrency } from './concurrency';
import { describeError } from './cli-usage';
import type { Progress } from './cli-progress';
import { createRateLimiter, type RateLimiterOptions } from './cli-rate-limit';
import type { ReplayArgs } from './replay-args';
import { latestAttempt } from '../../lambda/core/archive/record';
import {
  examineArchived,
  formatJobPlan,
  keyMayMatch,
  planJob,
  replayPrefixes,
  type Examination,
  type JobPlan,
  type PlannedDelivery,
  type SignatureKeys,
} from './replay-plan';

export interface ReplayDeps {
  readonly bucket: string;
  /** Every key under one prefix (the adapter pages through ListObjectsV2). */
  listKeys(prefix: string): AsyncIterable<string>;
  readonly archive: Pick<Archive, 'get'>;
  /** The lines of one batched object, decoded (the adapter reads and decompresses it). */
  readBatch(key: string): Promise<readonly DecodedLine[]>;
  readonly queue: Queue;
  readonly jobs: Pick<JobStore, 'get'>;
  /** Present with --verify. */
  readonly signatureKeys?: SignatureKeys;
  /** The record on stdout: per-delivery lines, the plan, the summary. */
  readonly out: (line: string) => void;
  readonly progress: (total: number) => Progress;
  readonly rateLimiter?: RateLimiterOptions;
  readonly now?: () => number;
}

export interface ReplaySummary {
  readonly dryRun: boolean;
  /** Archive entries found under the hour prefixes: per-delivery objects, and the lines of batched objects. */
  readonly listed: number;
  /** In the window, passing the filters. */
  readonly matched: number;
  /** Sent to the queue (0 on a dry run). */
  readonly enqueued: number;
  /** Dry run only: what a real run would send. */
  readonly planned: number;
  /** Listed but outside the window, filtered out, or an earlier attempt of a delivery listed again. */
  readonly skipped: number;
  /** Matched but unreadable, altered, unverifiable or invalid: never sent. */
  readonly refused: number;
  /** Could not be sent (queue errors). */
  readonly failed: number;
  readonly millis: number;
  readonly plans: readonly JobPlan[];
}

export function formatSummary(summary: ReplaySummary): string {
  const sent = summary.dryRun ? `would enqueue ${summary.planned}` : `enqueued ${summary.enqueued}`;
  const failed = summary.failed > 0 ? `, failed ${summary.failed}` : '';
  const prefix = summary.dryRun ? 'replay (dry run, nothing changed)' : 'replay';
  return `${prefix}: listed ${summary.listed}, matched ${summary.matched}, ${sent}, skipped ${summary.skipped}, refused ${summary.refused}${failed} in ${summary.millis} ms`;
}

/** Something was refused or could not be sent: the CLI exits 1, the console says so. */
export function replayFailed(summary: Pick<ReplaySummary, 'refused' | 'failed'>): boolean {
  return summary.refused > 0 || summary.failed > 0;
}

export async function runReplay(args: ReplayArgs, deps: ReplayDeps): Promise<ReplaySummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const window = { from: args.from, to: args.to };
  const filters = { event: args.event, jobId: args.jobId, deliveryId: args.deliveryId };

  const keys: string[] = [];
  for (const prefix of replayPrefixes(window)) {
    for await (const key of deps.listKeys(prefix)) if (classifyArchiveKey(key).kind !== 'other') keys.push(key);
  }

  const progress = deps.progress(keys.length);
  const rate = createRateLimiter(args.rate, deps.rateLimiter);
  const counts = { listed: 0, matched: 0, enqueued: 0, skipped: 0, refused: 0, failed: 0, done: 0 };
  const planned: PlannedDelivery[] = [];
  /** The entry to replay per delivery id: its latest attempt (failed attempts may have archived too). */
  const chosen = new Map<string, { delivery: ArchivedDelivery; examination: Extract<Examination, { kind: 'matched' }> }>();
  const say = (line: string): void => {
    progress.clear();
    deps.out(line);
  };
  const status = (): string =>
    `${args.dryRun ? `planned ${planned.length}` : `enqueued ${counts.enqueued}`}, skipped ${counts.skipped}, refused ${counts.refused}` +
    (counts.failed > 0 ? `, failed ${counts.failed}` : '');

  const examine = (delivery: ArchivedDelivery, location: ArchiveLocation, where: string): void => {
    const examination = examineArchived(delivery, location, { window, filters, force: args.force, signatureKeys: deps.signatureKeys });
    if (examination.kind === 'skipped') {
      counts.skipped += 1;
      return;
    }
    counts.matched += 1;
    if (examination.kind === 'refused') {
      counts.refused += 1;
      say(`refused ${where}: ${examination.reason}`);
      return;
    }
    const previous = chosen.get(delivery.deliveryId);
    // The same delivery archived again is not a second match: one of the two is skipped.
    if (previous !== undefined) {
      counts.matched -= 1;
      counts.skipped += 1;
      if (latestAttempt(previous.delivery, delivery) === previous.delivery) return;
    }
    chosen.set(delivery.deliveryId, { delivery, examination });
  };

  // Phase 1: read and examine every entry once.
  await mapWithConcurrency(keys, args.concurrency, async (key) => {
    try {
      await readOne(key);
    } finally {
      counts.done += 1;
      progress.update(counts.done, status());
    }
  });

  async function readOne(key: string): Promise<void> {
    const location = { bucket: deps.bucket, key };
    if (classifyArchiveKey(key).kind === 'batch') {
      let lines: readonly DecodedLine[];
      try {
        lines = await deps.readBatch(key);
      } catch (error) {
        counts.listed += 1;
        counts.matched += 1;
        counts.refused += 1;
        say(`refused ${key}: could not read it (${describeError(error)})`);
        return;
      }
      for (const line of lines) {
        counts.listed += 1;
        if (!line.ok) {
          counts.matched += 1;
          counts.refused += 1;
          say(`refused ${key} line ${line.line}: ${line.reason}`);
          continue;
        }
        examine(line.delivery, { ...location, batched: true }, `${key} line ${line.line}`);
      }
      return;
    }
    counts.listed += 1;
    if (!keyMayMatch(key, filters)) {
      counts.skipped += 1;
      return;
    }
    let archived: ArchivedDelivery;
    try {
      archived = await deps.archive.get(location);
    } catch (error) {
      // Unreadable (deleted meanwhile, metadata missing, access denied): it was
      // listed in the window, so it counts as matched and refused, never silently skipped.
      counts.matched += 1;
      counts.refused += 1;
      say(`refused ${key}: could not read it (${describeError(error)})`);
      return;
    }
    examine(archived, location, key);
  }

  // Phase 2: one message per delivery, in receipt order.
  const winners = [...chosen.values()].sort(
    (a, b) => a.delivery.receivedAt.localeCompare(b.delivery.receivedAt) || a.delivery.deliveryId.localeCompare(b.delivery.deliveryId),
  );
  await mapWithConcurrency(winners, args.concurrency, async ({ examination }) => {
    const { message } = examination;
    if (args.dryRun) {
      // The plan needs ids and times only: dropping the payload keeps a dry run over a long window small.
      planned.push({ message: { ...message, payload: undefined }, jobEvent: examination.jobEvent });
      return;
    }
    await rate.acquire();
    try {
      await deps.queue.send(message);
      counts.enqueued += 1;
      if (!args.quiet) say(`enqueued ${message.deliveryId} ${message.event} job ${message.jobId} received ${message.receivedAt}`);
    } catch (error) {
      counts.failed += 1;
      say(`failed ${message.deliveryId}: ${describeError(error)}`);
    }
  });
  progress.finish(counts.done, status());

  const plans = args.dryRun ? await planJobs(planned, args, deps) : [];
  return {
    dryRun: args.dryRun,
    listed: counts.listed,
    matched: counts.matched,
    enqueued: counts.enqueued,
    planned: planned.length,
    skipped: counts.skipped,
    refused: counts.refused,
    failed: counts.failed,
    millis: now() - started,
    plans,
  };
}

/** One read of each job's current item (strongly consistent), then the pure plan. */
async function planJobs(planned: readonly PlannedDelivery[], args: ReplayArgs, deps: ReplayDeps): Promise<JobPlan[]> {
  const byJob = new Map<string, PlannedDelivery[]>();
  for (const delivery of planned) {
    const list = byJob.get(delivery.message.jobId) ?? [];
    list.push(delivery);
    byJob.set(delivery.message.jobId, list);
  }
  const jobIds = [...byJob.keys()].sort();
  const items = await mapWithConcurrency(jobIds, args.concurrency, (jobId): Promise<JobItem | undefined> => deps.jobs.get(jobId));
  const plans = jobIds.map((jobId, index) => planJob(jobId, items[index], byJob.get(jobId) ?? [], args.force));
  for (const plan of plans) for (const line of formatJobPlan(plan)) deps.out(line);
  return plans;
}
