/**
 * The numbers behind the console's charts: delivery attempts per bucket by
 * outcome, and the work queue's oldest message age.
 *
 * - Deployed: CloudWatch GetMetricData, the receiver's own metrics (the
 *   dashboard's) and SQS's ApproximateAgeOfOldestMessage.
 * - Locally, where no CloudWatch exists: the attempts counted from the
 *   receiver's log file (the same lines the deliveries view lists), and the
 *   queue's oldest message age sampled from what the queue holds (fauxqs's
 *   non-destructive inspection: nothing is received, so the worker is never
 *   disturbed) every few seconds while the console runs, as CloudWatch samples
 *   SQS once a minute.
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAMES } from '../../lambda/core/contract';
import { ATTEMPT_OUTCOMES, type AttemptOutcome, type ReceiverAttempt } from './receiver-log';
import type { ReceiverLogSource } from './receiver-logs';

export interface DeliverySeries {
  readonly buckets: readonly string[];
  readonly bucketSeconds: number;
  readonly counts: Readonly<Record<AttemptOutcome, readonly number[]>>;
}

export interface AgeSeries {
  readonly buckets: readonly string[];
  readonly bucketSeconds: number;
  readonly oldestAgeSeconds: readonly (number | null)[];
}

export interface ChartSource {
  /** Where the numbers come from, said on the page. */
  readonly deliveriesSource: string;
  readonly queueAgeSource: string;
  deliveries(from: Date, to: Date): Promise<DeliverySeries>;
  queueAge(from: Date, to: Date): Promise<AgeSeries>;
}

/** Bucket width for a window: about 60 to 150 bars on screen. */
export function bucketSecondsFor(from: Date, to: Date): number {
  const hours = (to.getTime() - from.getTime()) / 3_600_000;
  if (hours <= 2) return 60;
  if (hours <= 12) return 300;
  if (hours <= 48) return 900;
  return 3600;
}

/** Bucket starts covering [from, to), aligned to the bucket width in UTC (as CloudWatch aligns periods). */
export function bucketStarts(from: Date, to: Date, seconds: number): string[] {
  const width = seconds * 1000;
  const starts: string[] = [];
  for (let at = Math.floor(from.getTime() / width) * width; at < to.getTime(); at += width) starts.push(new Date(at).toISOString());
  return starts;
}

function bucketIndex(instant: number, first: number, width: number, count: number): number | undefined {
  const index = Math.floor((instant - first) / width);
  return index >= 0 && index < count ? index : undefined;
}

export function countAttempts(attempts: readonly ReceiverAttempt[], from: Date, to: Date, seconds: number): DeliverySeries {
  const buckets = bucketStarts(from, to, seconds);
  const counts = Object.fromEntries(ATTEMPT_OUTCOMES.map((outcome) => [outcome, buckets.map(() => 0)])) as Record<AttemptOutcome, number[]>;
  const first = buckets.length > 0 ? Date.parse(buckets[0]) : 0;
  for (const attempt of attempts) {
    const index = bucketIndex(Date.parse(attempt.at), first, seconds * 1000, buckets.length);
    if (index !== undefined) counts[attempt.outcome][index] += 1;
  }
  return { buckets, bucketSeconds: seconds, counts };
}

/** Which of the receiver's metrics make each outcome (the receiver counts one of these per answer). */
export const OUTCOME_METRICS: Readonly<Record<AttemptOutcome, readonly string[]>> = {
  accepted: [METRIC.accepted],
  duplicate: [METRIC.duplicate],
  refused: [METRIC.rejected],
  // A live lease answers 503 in_progress: counted as DeliveryInProgress only.
  retryable: [METRIC.transientFailure, METRIC.secretUnset, METRIC.inProgress],
};

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` -> `<name>`, SQS's metric dimension. */
export function queueNameOf(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
}

function metricQuery(id: string, namespace: string, metricName: string, dimensions: Record<string, string>, period: number, stat: string): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: namespace, MetricName: metricName, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) },
      Period: period,
      Stat: stat,
    },
    ReturnData: true,
  };
}

/** Values by bucket from one GetMetricData result (timestamps come back in any order, missing buckets absent). */
function byBucket(buckets: readonly string[], timestamps: readonly Date[] | undefined, values: readonly number[] | undefined): Map<number, number> {
  const found = new Map<number, number>();
  (timestamps ?? []).forEach((timestamp, index) => {
    const value = values?.[index];
    if (value !== undefined) found.set(timestamp.getTime(), value);
  });
  return new Map(buckets.map((bucket) => [Date.parse(bucket), found.get(Date.parse(bucket)) ?? Number.NaN]));
}

export function cloudWatchCharts(client: CloudWatchClient, queueUrl: string): ChartSource {
  const receiver = { service: SERVICE_NAMES.receiver };
  async function fetch(queries: MetricDataQuery[], from: Date, to: Date, seconds: number) {
    const buckets = bucketStarts(from, to, seconds);
    const start = buckets.length > 0 ? new Date(buckets[0]) : from;
    const results = new Map<string, { timestamps: Date[]; values: number[] }>();
    let nextToken: string | undefined;
    do {
      const page = await client.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: to, NextToken: nextToken }));
      for (const result of page.MetricDataResults ?? []) {
        if (result.Id === undefined) continue;
        const entry = results.get(result.Id) ?? { timestamps: [], values: [] };
        entry.timestamps.push(...(result.Timestamps ?? []));
        entry.values.push(...(result.Values ?? []));
        results.set(result.Id, entry);
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return { buckets, results };
  }
  return {
    deliveriesSource: `CloudWatch metrics ${METRICS_NAMESPACE} (service ${SERVICE_NAMES.receiver})`,
    queueAgeSource: `CloudWatch AWS/SQS ApproximateAgeOfOldestMessage of ${queueNameOf(queueUrl)}`,
    async deliveries(from, to) {
      const seconds = bucketSecondsFor(from, to);
      const names = [...new Set(Object.values(OUTCOME_METRICS).flat())];
      const queries = names.map((name, index) => metricQuery(`m${index}`, METRICS_NAMESPACE, name, receiver, seconds, 'Sum'));
      const { buckets, results } = await fetch(queries, from, to, seconds);
      const series = (name: string): Map<number, number> => {
        const result = results.get(`m${names.indexOf(name)}`);
        return byBucket(buckets, result?.timestamps, result?.values);
      };
      const counts = Object.fromEntries(
        ATTEMPT_OUTCOMES.map((outcome) => {
          const parts = OUTCOME_METRICS[outcome].map(series);
          return [outcome, buckets.map((bucket) => parts.reduce((sum, part) => sum + (part.get(Date.parse(bucket)) || 0), 0))];
        }),
      ) as Record<AttemptOutcome, number[]>;
      return { buckets, bucketSeconds: seconds, counts };
    },
    async queueAge(from, to) {
      const seconds = bucketSecondsFor(from, to);
      const query = metricQuery('age', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', { QueueName: queueNameOf(queueUrl) }, seconds, 'Maximum');
      const { buckets, results } = await fetch([query], from, to, seconds);
      const values = byBucket(buckets, results.get('age')?.timestamps, results.get('age')?.values);
      return {
        buckets,
        bucketSeconds: seconds,
        oldestAgeSeconds: buckets.map((bucket) => {
          const value = values.get(Date.parse(bucket));
          return value === undefined || Number.isNaN(value) ? null : value;
        }),
      };
    },
  };
}

/** One sample: the oldest message's age in seconds (0 for an empty queue), or null when it could not be read. */
export type OldestAgeProbe = () => Promise<number | null>;

/**
 * Samples a queue's oldest message age every `intervalMs`, keeping the largest
 * sample per minute for a day. The series starts when the console does.
 */
export class QueueAgeSampler {
  private readonly byMinute = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly probe: OldestAgeProbe,
    private readonly intervalMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  async sample(): Promise<void> {
    const age = await this.probe().catch(() => null);
    if (age === null) return;
    const minute = Math.floor(this.now() / 60_000) * 60_000;
    this.byMinute.set(minute, Math.max(age, this.byMinute.get(minute) ?? 0));
    const dayAgo = minute - 86_400_000;
    for (const key of this.byMinute.keys()) if (key < dayAgo) this.byMinute.delete(key);
  }

  series(from: Date, to: Date, seconds: number): AgeSeries {
    const buckets = bucketStarts(from, to, seconds);
    const width = seconds * 1000;
    const oldest = buckets.map(() => null as number | null);
    const first = buckets.length > 0 ? Date.parse(buckets[0]) : 0;
    for (const [minute, age] of this.byMinute) {
      const index = bucketIndex(minute, first, width, buckets.length);
      if (index !== undefined) oldest[index] = Math.max(age, oldest[index] ?? 0);
    }
    return { buckets, bucketSeconds: seconds, oldestAgeSeconds: oldest };
  }
}

interface InspectedMessage {
  readonly sentTimestamp?: number;
}

/**
 * The local queue's oldest message age from fauxqs's inspection endpoint
 * (`GET /_fauxqs/queues/<name>`): every message ready, delayed or in flight,
 * read without receiving it.
 */
export function fauxqsOldestAge(sqsEndpoint: string, queueUrl: string, now: () => number = Date.now): OldestAgeProbe {
  const url = `${sqsEndpoint.replace(/\/$/, '')}/_fauxqs/queues/${encodeURIComponent(queueNameOf(queueUrl))}`;
  return async () => {
    const response = await fetch(url);
    if (!response.ok) return null;
    const inspected = (await response.json()) as {
      messages?: { ready?: InspectedMessage[]; delayed?: InspectedMessage[]; inflight?: Array<{ message?: InspectedMessage }> };
    };
    const messages = [
      ...(inspected.messages?.ready ?? []),
      ...(inspected.messages?.delayed ?? []),
      ...(inspected.messages?.inflight ?? []).map((entry) => entry.message ?? {}),
    ];
    const sent = messages.map((message) => message.sentTimestamp).filter((value): value is number => typeof value === 'number');
    return sent.length === 0 ? 0 : Math.max(0, (now() - Math.min(...sent)) / 1000);
  };
}

export function localCharts(logs: ReceiverLogSource | undefined, sampler: QueueAgeSampler, intervalMs: number): ChartSource {
  return {
    deliveriesSource: logs === undefined ? 'no receiver log file in the outputs' : `counted from the ${logs.description}`,
    queueAgeSource: `sampled from the local queue every ${intervalMs / 1000} s since the console started`,
    async deliveries(from, to) {
      const seconds = bucketSecondsFor(from, to);
      const read = logs === undefined ? { attempts: [] } : await logs.read({ from, to, limit: Number.MAX_SAFE_INTEGER });
      return countAttempts(read.attempts, from, to, seconds);
    },
    async queueAge(from, to) {
      return sampler.series(from, to, bucketSecondsFor(from, to));
    },
  };
}
