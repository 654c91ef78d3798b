/**
 * A replay over ports: list the window's hour prefixes, read each object once,
 * examine it (replay-plan.ts), then either enqueue its message or, for a dry
 * run, plan it against the job's current item. No AWS types here: the CLI wires
 * the S3, SQS and DynamoDB adapters, the unit tests wire in-memory ones.
 */
import type { Archive, JobStore, Queue } from '../../lambda/core/ports';
import type { JobItem } from '../../lambda/core/job-state';
import { mapWithConcurrency } from './concurrency';
import { describeError } from './cli-usage';
import type { Progress } from './cli-progress';
import { createRateLimiter, type RateLimiterOptions } from './cli-rate-limit';
import type { ReplayArgs } from './replay-args';
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
  /** Objects listed under the window's hour prefixes. */
  readonly listed: number;
  /** In the window, passing the filters. */
  readonly matched: number;
  /** Sent to the queue (0 on a dry run). */
  readonly enqueued: number;
  /** Dry run only: what a real run would send. */
  readonly planned: number;
  /** Listed but outside the window or filtered out. */
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

export async function runReplay(args: ReplayArgs, deps: ReplayDeps): Promise<ReplaySummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const window = { from: args.from, to: args.to };
  const filters = { event: args.event, jobId: args.jobId, deliveryId: args.deliveryId };

  const keys: string[] = [];
  for (const prefix of replayPrefixes(window)) {
    for await (const key of deps.listKeys(prefix)) keys.push(key);
  }

  const progress = deps.progress(keys.length);
  const rate = createRateLimiter(args.rate, deps.rateLimiter);
  const counts = { matched: 0, enqueued: 0, skipped: 0, refused: 0, failed: 0, done: 0 };
  const planned: PlannedDelivery[] = [];
  const say = (line: string): void => {
    progress.clear();
    deps.out(line);
  };
  const status = (): string =>
    `${args.dryRun ? `planned ${planned.length}` : `enqueued ${counts.enqueued}`}, skipped ${counts.skipped}, refused ${counts.refused}` +
    (counts.failed > 0 ? `, failed ${counts.failed}` : '');

  await mapWithConcurrency(keys, args.concurrency, async (key) => {
    try {
      await replayOne(key);
    } finally {
      counts.done += 1;
      progress.update(counts.done, status());
    }
  });
  progress.finish(counts.done, status());

  async function replayOne(key: string): Promise<void> {
    if (!keyMayMatch(key, filters)) {
      counts.skipped += 1;
      return;
    }
    const location = { bucket: deps.bucket, key };
    let examination: Examination;
    try {
      const archived = await deps.archive.get(location);
      examination = examineArchived(archived, location, { window, filters, force: args.force, signatureKeys: deps.signatureKeys });
    } catch (error) {
      // Unreadable (deleted meanwhile, metadata missing, access denied): it was
      // listed in the window, so it counts as matched and refused, never silently skipped.
      counts.matched += 1;
      counts.refused += 1;
      say(`refused ${key}: could not read it (${describeError(error)})`);
      return;
    }
    if (examination.kind === 'skipped') {
      counts.skipped += 1;
      return;
    }
    counts.matched += 1;
    if (examination.kind === 'refused') {
      counts.refused += 1;
      say(`refused ${key}: ${examination.reason}`);
      return;
    }
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
  }

  const plans = args.dryRun ? await planJobs(planned, args, deps) : [];
  return {
    dryRun: args.dryRun,
    listed: keys.length,
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
