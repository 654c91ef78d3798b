/** In-memory ports for the reconciler tests: one jobs table behind the index, the marks and the worker's store. */
import { applyToItem, decide, type JobEvent, type JobItem } from '../../../lambda/core/job-state';
import type { ApplyOutcome, JobStore, QueueMessage } from '../../../lambda/core/ports';
import { openJobAttributes } from '../../../lambda/core/reconcile/open-jobs';
import type { FlagReason, JobMarks, MarkResult, OpenJobEntry, OpenJobIndex, ProviderJobApi, ProviderLookup } from '../../../lambda/core/reconcile/ports';
import type { SweepConfig, SweepLogger, SweepPorts, ReconcileMetricName } from '../../../lambda/core/reconcile/sweep';
import { InMemoryArchive } from '../worker/factories';

export const T0 = new Date('2026-11-27T12:00:00.000Z');
const HOUR = 60 * 60 * 1000;

/** The jobs table as the index, the marks and the worker see it. */
export class InMemoryJobsTable implements OpenJobIndex, JobMarks, JobStore {
  readonly items = new Map<string, Record<string, unknown>>();
  readonly queries: { shard: number; openedBefore: string; pages: number }[] = [];
  writes = 0;

  constructor(private readonly pageSize = 2) {}

  /** An open job, opened `hoursAgo` before T0. */
  open(jobId: string, hoursAgo: number, extra: Record<string, unknown> = {}): void {
    this.items.set(jobId, { jobId, status: 'started', ...openJobAttributes(jobId, new Date(T0.getTime() - hoursAgo * HOUR)), ...extra });
  }

  async *query(shard: number, openedBefore: string): AsyncIterable<OpenJobEntry> {
    const matching = [...this.items.values()]
      .filter((item) => item.openShard === shard && typeof item.openedAt === 'string' && item.openedAt < openedBefore)
      .sort((a, b) => String(a.openedAt).localeCompare(String(b.openedAt)));
    const record = { shard, openedBefore, pages: 0 };
    this.queries.push(record);
    for (let start = 0; start === 0 || start < matching.length; start += this.pageSize) {
      record.pages += 1;
      for (const item of matching.slice(start, start + this.pageSize)) {
        yield {
          jobId: String(item.jobId),
          openedAt: String(item.openedAt),
          ...(typeof item.reconcileCheckedAt === 'string' ? { checkedAt: item.reconcileCheckedAt } : {}),
          ...(typeof item.reconcileFlag === 'string' ? { flag: item.reconcileFlag } : {}),
        };
      }
    }
  }

  private mark(jobId: string, fields: Record<string, unknown>): MarkResult {
    const item = this.items.get(jobId);
    if (item === undefined || item.openShard === undefined) return 'closed';
    this.items.set(jobId, { ...item, ...fields });
    this.writes += 1;
    return 'marked';
  }

  async markChecked(jobId: string, at: Date, providerStatus: string): Promise<MarkResult> {
    return this.mark(jobId, { reconcileCheckedAt: at.toISOString(), reconcileProviderStatus: providerStatus });
  }

  async flag(jobId: string, reason: FlagReason, at: Date, providerStatus?: string): Promise<MarkResult> {
    return this.mark(jobId, { reconcileFlag: reason, reconcileCheckedAt: at.toISOString(), ...(providerStatus ? { reconcileProviderStatus: providerStatus } : {}) });
  }

  async apply(event: JobEvent, options: { readonly force: boolean; readonly now: Date }): Promise<ApplyOutcome> {
    const current = this.items.get(event.jobId) as JobItem | undefined;
    const decision = decide(current, event, options);
    this.items.set(event.jobId, applyToItem(current, event, options, options.now) as Record<string, unknown>);
    return decision === 'apply' ? 'applied' : decision;
  }

  async get(jobId: string): Promise<JobItem | undefined> {
    return this.items.get(jobId) as JobItem | undefined;
  }

  snapshot(): string {
    return JSON.stringify([...this.items.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

export function answer(jobId: string, status: string, extra: Record<string, unknown> = {}): ProviderLookup {
  const fields: Record<string, unknown> = { id: jobId, status, progress: status === 'completed' ? 100 : 40, ...extra };
  if (status === 'completed' && !('output_url' in extra)) fields.output_url = `https://cdn.example.com/out/${jobId}.webm`;
  if (status === 'failed' && !('error' in extra)) fields.error = { code: 'processing_error', message: 'could not decode' };
  return { kind: 'answer', text: JSON.stringify(fields) };
}

/** The provider's job API, scripted per job (a function may change its answer over calls). */
export class FakeJobApi implements ProviderJobApi {
  readonly calls: { jobId: string; at: number }[] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly script: (jobId: string, call: number) => ProviderLookup,
  ) {}

  async getJob(jobId: string): Promise<ProviderLookup> {
    const call = this.calls.filter((c) => c.jobId === jobId).length;
    this.calls.push({ jobId, at: this.clock.now().getTime() });
    return this.script(jobId, call);
  }
}

export class FakeClock {
  private millis: number;
  readonly sleeps: number[] = [];

  constructor(start: Date = T0) {
    this.millis = start.getTime();
  }

  now = (): Date => new Date(this.millis);

  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.millis += ms;
  };

  advance(ms: number): void {
    this.millis += ms;
  }
}

export interface Recorded {
  readonly messages: QueueMessage[];
  readonly archive: InMemoryArchive;
  readonly metrics: Partial<Record<ReconcileMetricName, number>>;
  readonly logs: { level: string; message: string; attributes: Record<string, unknown> }[];
}

export function sweepPorts(table: InMemoryJobsTable, clock: FakeClock, api?: ProviderJobApi): { ports: SweepPorts; recorded: Recorded } {
  const recorded: Recorded = { messages: [], archive: new InMemoryArchive(), metrics: {}, logs: [] };
  const log = (level: string): SweepLogger[keyof SweepLogger] => (message, attributes) => recorded.logs.push({ level, message, attributes });
  return {
    ports: {
      index: table,
      api,
      marks: table,
      queue: { send: async (message) => void recorded.messages.push(message) },
      archive: recorded.archive,
      now: clock.now,
      sleep: clock.sleep,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      metric: (name, value) => {
        recorded.metrics[name] = value;
      },
    },
    recorded,
  };
}

export function sweepConfig(overrides: Partial<SweepConfig> = {}): SweepConfig {
  return {
    stuckAfterMs: 2 * HOUR,
    giveUpAfterMs: 7 * 24 * HOUR,
    recheckAfterMs: HOUR,
    maxJobs: 100,
    requestsPerSecond: 0.5,
    backoffMs: 5000,
    maxBackoffMs: 10_000,
    maxConsecutiveFailures: 3,
    deadline: T0.getTime() + 250_000,
    archiveBucket: 'archive-bucket',
    ...overrides,
  };
}
