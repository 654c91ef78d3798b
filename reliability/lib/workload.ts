/**
 * What the provider has to say in a scenario: jobs, each with a `job.started`
 * and (mostly) a terminal event, some with two disagreeing terminal events,
 * sent in a shuffled order (so many terminal events arrive before their
 * `started`), plus re-sends of deliveries the provider already had answered
 * (the duplicate a provider sends when it never saw our 2xx).
 *
 * Every body carries a canary string so the log scan can prove no body ever
 * reached a log line.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EventType } from '../../lambda/core/contract';
import { buildPayload } from '../../ops/lib/provider';
import { shuffle } from './seeded';

export const CANARY_PREFIX = 'rlb-canary-';

export interface PlannedDelivery {
  readonly deliveryId: string;
  readonly jobId: string;
  readonly event: EventType;
  /** The payload's created_at: the worker's event time. */
  readonly eventAt: string;
  readonly body: string;
  readonly bodySha256: string;
}

export interface Workload {
  readonly prefix: string;
  readonly deliveries: readonly PlannedDelivery[];
  /** The order the provider sends in; re-sends appear twice. */
  readonly sends: readonly PlannedDelivery[];
  readonly jobs: number;
  readonly resends: number;
  /** Jobs whose terminal event is sent before their started event. */
  readonly outOfOrderJobs: number;
  readonly conflictingJobs: number;
}

export interface WorkloadOptions {
  readonly prefix: string;
  readonly deliveries: number;
  readonly random: () => number;
  /** Share of sends repeated after their first answer. */
  readonly resendRate?: number;
  /** Share of jobs with both a completed and a failed event. */
  readonly conflictRate?: number;
  /** Share of jobs that only ever start. */
  readonly startedOnlyRate?: number;
  /** Bytes of padding in each body's unknown `data.padding` field (claim-check scenarios). */
  readonly paddingBytes?: number;
}

const TERMINALS: readonly EventType[] = ['job.completed', 'job.failed'];
const SHORT: Record<EventType, string> = { 'job.started': 's', 'job.completed': 'c', 'job.failed': 'f' };

function planned(prefix: string, jobId: string, event: EventType, eventAt: Date, index: number, padding: number): PlannedDelivery {
  const extraData: Record<string, unknown> = { note: `${CANARY_PREFIX}${randomBytes(6).toString('hex')}` };
  if (padding > 0) extraData.padding = 'p'.repeat(padding);
  const body = JSON.stringify(buildPayload(event, { jobId, createdAt: eventAt.toISOString(), extraData }));
  return {
    deliveryId: `${prefix}${index}-${SHORT[event]}`,
    jobId,
    event,
    eventAt: eventAt.toISOString(),
    body,
    bodySha256: createHash('sha256').update(body).digest('hex'),
  };
}

export function buildWorkload(options: WorkloadOptions): Workload {
  const { prefix, random } = options;
  const deliveries: PlannedDelivery[] = [];
  const base = Date.now() - 3_600_000;
  let job = 0;
  let conflictingJobs = 0;
  while (deliveries.length < options.deliveries) {
    const jobId = `${prefix}job-${job}`;
    const startedAt = new Date(base + job * 1000);
    const padding = options.paddingBytes ?? 0;
    deliveries.push(planned(prefix, jobId, 'job.started', startedAt, deliveries.length, padding));
    const roll = random();
    if (roll >= (options.startedOnlyRate ?? 0.1)) {
      const terminal = TERMINALS[Math.floor(random() * 2)];
      deliveries.push(planned(prefix, jobId, terminal, new Date(startedAt.getTime() + 1000 + Math.floor(random() * 60_000)), deliveries.length, padding));
      if (random() < (options.conflictRate ?? 0)) {
        const other = terminal === 'job.completed' ? 'job.failed' : 'job.completed';
        deliveries.push(planned(prefix, jobId, other, new Date(startedAt.getTime() + 1000 + Math.floor(random() * 60_000)), deliveries.length, padding));
        conflictingJobs += 1;
      }
    }
    job += 1;
  }
  const order = shuffle(deliveries, random);
  const sends = [...order];
  let resends = 0;
  for (const delivery of order) {
    if (random() < (options.resendRate ?? 0.1)) {
      // Later than the first send, so usually after its answer: a true duplicate, not a race.
      const at = Math.min(sends.length, sends.indexOf(delivery) + 1 + Math.floor(random() * 50));
      sends.splice(at, 0, delivery);
      resends += 1;
    }
  }
  const firstIndex = new Map<string, number>();
  sends.forEach((delivery, index) => {
    if (!firstIndex.has(delivery.deliveryId)) firstIndex.set(delivery.deliveryId, index);
  });
  const byJob = new Map<string, PlannedDelivery[]>();
  for (const delivery of deliveries) byJob.set(delivery.jobId, [...(byJob.get(delivery.jobId) ?? []), delivery]);
  let outOfOrderJobs = 0;
  for (const list of byJob.values()) {
    const started = list.find((delivery) => delivery.event === 'job.started');
    const terminals = list.filter((delivery) => delivery.event !== 'job.started');
    if (started && terminals.some((terminal) => (firstIndex.get(terminal.deliveryId) ?? 0) < (firstIndex.get(started.deliveryId) ?? 0))) outOfOrderJobs += 1;
  }
  return { prefix, deliveries, sends, jobs: job, resends, outOfOrderJobs, conflictingJobs };
}
