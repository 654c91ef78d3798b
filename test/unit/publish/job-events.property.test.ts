/**
 * Exactly one event per transition. Any set of deliveries of a few jobs, in
 * any order, with duplicates, forced replays and the product's own writes in
 * between, is applied through the real job-state rules; every write becomes a
 * stream record. Then:
 *
 * 1. the events those records mean are exactly each job's distinct status
 *    transitions, in order, one each, described by an oracle that knows only
 *    the domain (the first delivery to arrive sets the first status, the first
 *    terminal delivery to arrive finishes the job);
 * 2. published through a flaky bus (throttled calls, partial failures, a
 *    publisher that dies mid-batch, budgets that run out) by a stream source
 *    that retries from the reported record, every transition reaches the bus
 *    at least once, in order, no other event does, and every repeat is the
 *    same event with the same `eventId`.
 */
import fc from 'fast-check';
import type { EventType } from '../../../lambda/core/contract';
import { applyToItem, type JobEvent, type JobItem, type JobStatus, statusOf } from '../../../lambda/core/job-state';
import type { JobChange } from '../../../lambda/core/publish/job-event';
import type { BusEntry } from '../../../lambda/core/publish/entries';
import { EventBusError } from '../../../lambda/core/publish/errors';
import type { EventBus, PutOutcome } from '../../../lambda/core/publish/ports';
import { jobEventsOf, publishChanges } from '../../../lambda/core/publish/publisher';
import { ports } from './factories';

const BASE = Date.parse('2026-11-27T10:00:00.000Z');
const NOW = new Date('2026-11-27T12:00:00.000Z');

type Action =
  | { readonly kind: 'deliver'; readonly jobId: string; readonly delivery: number; readonly force: boolean }
  | { readonly kind: 'product'; readonly jobId: string; readonly attributes: Record<string, unknown> };

interface JobPlan {
  readonly jobId: string;
  readonly deliveries: readonly JobEvent[];
  /** The product created the item first (its own attributes, perhaps its own status). */
  readonly seed?: Record<string, unknown>;
}

interface Scenario {
  readonly jobs: readonly JobPlan[];
  readonly actions: readonly Action[];
}

const EVENTS: Record<JobStatus, EventType> = { started: 'job.started', completed: 'job.completed', failed: 'job.failed' };

function jobPlan(jobId: string): fc.Arbitrary<JobPlan> {
  return fc
    .record({
      started: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 2 }),
      terminal: fc.array(fc.record({ minute: fc.integer({ min: 0, max: 5 }), status: fc.constantFrom<JobStatus>('completed', 'failed') }), { maxLength: 3 }),
      seed: fc.option(
        fc.record({ userId: fc.constantFrom('u_1', 'u_2'), sceneTags: fc.subarray(['hair', 'glass', 'motion_blur']), status: fc.constantFrom(undefined, 'queued') }),
        { nil: undefined },
      ),
    })
    .filter((spec) => spec.started.length + spec.terminal.length > 0)
    .map((spec): JobPlan => {
      const deliveries: JobEvent[] = [
        ...spec.started.map((minute, index) => delivery(jobId, `s${index}`, 'started', minute)),
        ...spec.terminal.map((terminal, index) => delivery(jobId, `t${index}`, terminal.status, terminal.minute)),
      ];
      const seed = spec.seed ? Object.fromEntries(Object.entries({ jobId, ...spec.seed }).filter(([, value]) => value !== undefined)) : undefined;
      return { jobId, deliveries, ...(seed ? { seed } : {}) };
    });
}

function delivery(jobId: string, id: string, status: JobStatus, minute: number): JobEvent {
  return {
    jobId,
    deliveryId: `${jobId}-${id}`,
    event: EVENTS[status],
    eventAt: new Date(BASE + minute * 60_000).toISOString(),
    model: 'pro',
    ...(status === 'completed' ? { outputUrl: `https://cdn.example.com/${jobId}.webm`, creditsUsed: 3 } : {}),
    ...(status === 'failed' ? { error: { code: 'model_error', message: 'failed' } } : {}),
  };
}

/** Every delivery at least once, in any order, plus duplicates, forced replays and product writes anywhere. */
function scenario(): fc.Arbitrary<Scenario> {
  return fc
    .uniqueArray(fc.constantFrom('job_a', 'job_b', 'job_c'), { minLength: 1, maxLength: 3 })
    .chain((ids) => fc.tuple(...ids.map(jobPlan)))
    .chain((jobs) => {
      const firstArrivals: Action[] = jobs.flatMap((job) => job.deliveries.map((_, index): Action => ({ kind: 'deliver', jobId: job.jobId, delivery: index, force: false })));
      const extra = fc.array(
        fc.oneof(
          fc.integer({ min: 0, max: jobs.length - 1 }).chain((j) =>
            fc.record({
              kind: fc.constant('deliver' as const),
              jobId: fc.constant(jobs[j].jobId),
              delivery: fc.integer({ min: 0, max: jobs[j].deliveries.length - 1 }),
              force: fc.boolean(),
            }),
          ),
          fc.integer({ min: 0, max: jobs.length - 1 }).chain((j) =>
            fc.record({ kind: fc.constant('product' as const), jobId: fc.constant(jobs[j].jobId), attributes: fc.record({ reviewNote: fc.constantFrom('ok', 'check edges') }) }),
          ),
        ),
        { maxLength: 8 },
      );
      return fc.tuple(fc.shuffledSubarray(firstArrivals, { minLength: firstArrivals.length }), extra).chain(([ordered, more]) =>
        fc.shuffledSubarray([...ordered, ...more], { minLength: ordered.length + more.length }).map((actions): Scenario => ({ jobs, actions })),
      );
    });
}

/** Applies the actions through the real rules; each write that changes the item is one stream record. */
function streamOf(plan: Scenario): JobChange[] {
  const items = new Map<string, JobItem>();
  const records: JobChange[] = [];
  const write = (jobId: string, next: JobItem): void => {
    const old = items.get(jobId);
    items.set(jobId, next);
    records.push({
      sequenceNumber: String(records.length + 1).padStart(21, '0'),
      eventName: old === undefined ? 'INSERT' : 'MODIFY',
      ...(old ? { oldImage: old } : {}),
      newImage: next,
      changedAt: BASE + records.length * 1000,
    });
  };
  for (const job of plan.jobs) if (job.seed) write(job.jobId, job.seed as JobItem);
  for (const action of plan.actions) {
    const current = items.get(action.jobId);
    if (action.kind === 'product') {
      write(action.jobId, { ...(current ?? { jobId: action.jobId }), ...action.attributes } as JobItem);
      continue;
    }
    const job = plan.jobs.find((j) => j.jobId === action.jobId)!;
    const event: JobEvent = { ...job.deliveries[action.delivery], ...(action.force ? { replay: true } : {}) };
    const next = applyToItem(current, event, { force: action.force }, NOW);
    // A duplicate is no write at all (the conditional update fails), hence no record.
    if (next !== current && next !== (current ?? undefined)) write(action.jobId, next);
  }
  return records;
}

interface Expected {
  readonly eventId: string;
  readonly status: JobStatus;
  readonly previousStatus?: JobStatus;
  readonly deliveryId: string;
  readonly origin: 'webhook' | 'replay';
}

/** The oracle: from the domain rules alone, what each job's events must be. */
function expectedEvents(plan: Scenario): Map<string, Expected[]> {
  const expected = new Map<string, Expected[]>();
  for (const job of plan.jobs) {
    const arrivals = plan.actions.filter((a): a is Extract<Action, { kind: 'deliver' }> => a.kind === 'deliver' && a.jobId === job.jobId);
    const first = arrivals[0];
    const firstStatus = statusOf(job.deliveries[first.delivery].event);
    const firstTerminal = arrivals.find((a) => statusOf(job.deliveries[a.delivery].event) !== 'started');
    const events: Expected[] = [];
    const origin = (a: Extract<Action, { kind: 'deliver' }>) => (a.force ? ('replay' as const) : ('webhook' as const));
    if (firstStatus === 'started') {
      events.push({ eventId: `${job.jobId}#started`, status: 'started', deliveryId: job.deliveries[first.delivery].deliveryId, origin: origin(first) });
    }
    if (firstTerminal) {
      const status = statusOf(job.deliveries[firstTerminal.delivery].event);
      events.push({
        eventId: `${job.jobId}#${status}`,
        status,
        ...(firstStatus === 'started' ? { previousStatus: 'started' as const } : {}),
        deliveryId: job.deliveries[firstTerminal.delivery].deliveryId,
        origin: origin(firstTerminal),
      });
    }
    expected.set(job.jobId, events);
  }
  return expected;
}

/** A bus that fails calls and entries from a seeded plan, and can make the publisher "die" after a call. */
class FlakyBus implements EventBus {
  readonly accepted: BusEntry[] = [];
  private calls = 0;

  constructor(
    private readonly random: () => number,
    private readonly calm: () => boolean,
  ) {}

  async put(entries: readonly BusEntry[]): Promise<readonly PutOutcome[]> {
    this.calls += 1;
    if (!this.calm() && this.random() < 0.15) throw new EventBusError('throttled', { transient: true, code: 'ThrottlingException' });
    return entries.map((entry): PutOutcome => {
      if (!this.calm() && this.random() < 0.25) return { ok: false, code: this.random() < 0.5 ? 'ThrottlingException' : 'InternalFailure', retryable: true };
      this.accepted.push(entry);
      return { ok: true, eventId: `eb-${this.calls}` };
    });
  }
}

function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

class Crash extends Error {}

/**
 * The stream event source, reduced to what matters here: batches from the
 * checkpoint, a reported record moves the checkpoint to it, a crash retries
 * the whole batch. After a while the faults stop (Lambda's retries outlast them).
 */
async function drainThroughFlakyBus(records: readonly JobChange[], seed: number, maxBatch: number): Promise<BusEntry[]> {
  const random = prng(seed);
  let invocations = 0;
  const calm = () => invocations > 40;
  const bus = new FlakyBus(random, calm);
  let checkpoint = 0;
  while (checkpoint < records.length) {
    invocations += 1;
    const batch = records.slice(checkpoint, checkpoint + 1 + Math.floor(random() * maxBatch));
    const dies = !calm() && random() < 0.2;
    let putsLeft = 1 + Math.floor(random() * 2);
    const crashingBus: EventBus = {
      put: async (entries) => {
        const outcomes = await bus.put(entries);
        putsLeft -= 1;
        // The publisher dies right after a call went through: the events are out, the answer never comes.
        if (dies && putsLeft === 0) throw new Crash('publisher died mid-batch');
        return outcomes;
      },
    };
    const budget = calm() ? 30_000 : 5_000 + random() * 20_000;
    const recorded = ports(crashingBus, { budgetMs: budget });
    let result;
    try {
      result = await publishChanges(batch, { ...recorded, random });
    } catch (error) {
      if (error instanceof Crash) continue;
      throw error;
    }
    if (result.failedSequenceNumber === undefined) checkpoint += batch.length;
    else checkpoint = records.findIndex((record) => record.sequenceNumber === result.failedSequenceNumber);
  }
  return bus.accepted;
}

describe('job events: exactly one per transition', () => {
  it("are exactly each job's distinct status transitions, in order, one each", () => {
    fc.assert(
      fc.property(scenario(), (plan) => {
        // Act
        const events = jobEventsOf(streamOf(plan)).map(({ message }) => message.detail);

        // Assess
        const expected = expectedEvents(plan);
        for (const job of plan.jobs) {
          const mine = events.filter((detail) => detail.jobId === job.jobId);
          expect(
            mine.map((detail) => ({
              eventId: detail.eventId,
              status: detail.status,
              ...(detail.previousStatus ? { previousStatus: detail.previousStatus } : {}),
              deliveryId: detail.deliveryId,
              origin: detail.origin,
            })),
          ).toEqual(expected.get(job.jobId));
        }
        expect(events).toHaveLength([...expected.values()].flat().length);
      }),
      { numRuns: 300 },
    );
  });

  it("carry the product's attributes as they were when the status changed", () => {
    fc.assert(
      fc.property(scenario(), (plan) => {
        const records = streamOf(plan);
        for (const { record, message } of jobEventsOf(records)) {
          const image = records[record].newImage!;
          const own = Object.fromEntries(Object.entries(image).filter(([name]) => ['userId', 'sceneTags', 'reviewNote'].includes(name)));
          expect(message.detail.product).toEqual(own);
        }
      }),
    );
  });

  it('reach the bus at least once each, in order, whatever fails, and a repeat is the same event', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 12 }), async (plan, seed, maxBatch) => {
        // Prepare
        const records = streamOf(plan);
        const expected = expectedEvents(plan);

        // Act
        const accepted = await drainThroughFlakyBus(records, seed, maxBatch);

        // Assess
        const byId = new Map<string, string>();
        for (const entry of accepted) {
          const detail = JSON.parse(entry.detail) as { eventId: string };
          const first = byId.get(detail.eventId);
          if (first === undefined) byId.set(detail.eventId, entry.detail);
          else expect(entry.detail).toBe(first);
        }
        for (const job of plan.jobs) {
          const firstSeen = [...byId.keys()].filter((id) => id.startsWith(`${job.jobId}#`));
          expect(firstSeen).toEqual(expected.get(job.jobId)!.map((event) => event.eventId));
        }
        expect(byId.size).toBe([...expected.values()].flat().length);
      }),
      { numRuns: 150 },
    );
  });
});
