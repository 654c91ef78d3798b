/** Factories and in-memory ports for the job-events publisher tests. */
import type { JobChange } from '../../../lambda/core/publish/job-event';
import type { BusEntry } from '../../../lambda/core/publish/entries';
import type { EventBus, PublishLogger, PutOutcome } from '../../../lambda/core/publish/ports';
import type { PublisherPorts, PublishMetricName } from '../../../lambda/core/publish/publisher';

export const CHANGED_AT = Date.parse('2026-11-27T10:05:01.000Z');

export function startedItem(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jobId: 'job_8f3a',
    status: 'started',
    model: 'pro',
    outputFormat: 'webm',
    background: 'transparent',
    inputRef: 'https://in.example.com/job_8f3a.mp4',
    lastEventAt: '2026-11-27T10:00:00.000Z',
    lastDeliveryId: 'dlv_started_1',
    lastOrigin: 'webhook',
    updatedAt: '2026-11-27T10:00:01.000Z',
    history: [{ deliveryId: 'dlv_started_1', event: 'job.started', outcome: 'applied' }],
    deliveryIds: ['dlv_started_1'],
    ...overrides,
  };
}

export function completedItem(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return startedItem({
    status: 'completed',
    outputUrl: 'https://cdn.example.com/out/job_8f3a.webm',
    creditsUsed: 12,
    lastEventAt: '2026-11-27T10:05:00.000Z',
    lastDeliveryId: 'dlv_completed_1',
    deliveryIds: ['dlv_started_1', 'dlv_completed_1'],
    ...overrides,
  });
}

let sequence = 100;
export function change(oldImage: Record<string, unknown> | undefined, newImage: Record<string, unknown> | undefined, overrides: Partial<JobChange> = {}): JobChange {
  sequence += 1;
  return {
    sequenceNumber: String(sequence).padStart(21, '0'),
    eventName: newImage === undefined ? 'REMOVE' : oldImage === undefined ? 'INSERT' : 'MODIFY',
    ...(oldImage ? { oldImage } : {}),
    ...(newImage ? { newImage } : {}),
    changedAt: CHANGED_AT,
    ...overrides,
  };
}

/** A bus that answers each call from a script (then succeeds), recording every entry it accepted. */
export class ScriptedBus implements EventBus {
  readonly calls: BusEntry[][] = [];
  readonly accepted: BusEntry[] = [];

  constructor(private readonly script: Array<(entries: readonly BusEntry[]) => readonly PutOutcome[] | Error> = []) {}

  async put(entries: readonly BusEntry[]): Promise<readonly PutOutcome[]> {
    this.calls.push([...entries]);
    const step = this.script.shift();
    const answer = step ? step(entries) : entries.map((): PutOutcome => ({ ok: true, eventId: 'ok' }));
    if (answer instanceof Error) throw answer;
    answer.forEach((outcome, index) => {
      if (outcome.ok) this.accepted.push(entries[index]);
    });
    return answer;
  }
}

export interface RecordedPorts extends PublisherPorts {
  readonly metrics: Map<PublishMetricName, number>;
  readonly logs: { level: 'info' | 'warn' | 'error'; message: string; attributes: Record<string, unknown> }[];
  readonly sleeps: number[];
}

/** `budgetMs`: the invocation's time left at the start; it shrinks as the publisher sleeps, as it would in Lambda. */
export function ports(bus: EventBus, options: { budgetMs?: number } = {}): RecordedPorts {
  const metrics = new Map<PublishMetricName, number>();
  const logs: RecordedPorts['logs'] = [];
  const sleeps: number[] = [];
  const budgetMs = options.budgetMs ?? 30_000;
  let slept = 0;
  const logger: PublishLogger = {
    info: (message, attributes) => logs.push({ level: 'info', message, attributes }),
    warn: (message, attributes) => logs.push({ level: 'warn', message, attributes }),
    error: (message, attributes) => logs.push({ level: 'error', message, attributes }),
  };
  return {
    bus,
    logger,
    count: (metric, value = 1) => metrics.set(metric, (metrics.get(metric) ?? 0) + value),
    remainingMs: () => budgetMs - slept,
    sleep: async (ms) => {
      sleeps.push(ms);
      slept += ms;
      // Lambda ends an invocation that outlives its budget: a publisher that never stops retrying fails here, not by hanging.
      if (slept > budgetMs) throw new Error('the invocation outlived its time budget');
      // And lets timers run, so even a loop of zero-length sleeps meets jest's time-out rather than hanging the runner.
      await new Promise((resolve) => setImmediate(resolve));
    },
    random: () => 0.5,
    metrics,
    logs,
    sleeps,
  };
}

export function detailOf(entry: BusEntry): Record<string, unknown> {
  return JSON.parse(entry.detail) as Record<string, unknown>;
}
