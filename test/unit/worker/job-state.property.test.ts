/**
 * The job rules under any order, duplication and interleaving SQS and the
 * provider's retries produce. A job's realistic deliveries (started events and
 * at most one terminal event) always end in the same item. When terminal
 * events conflict, the first one to arrive wins for good, and every other one
 * is recorded, never applied.
 */
import fc from 'fast-check';
import type { EventType } from '../../../lambda/core/contract';
import {
  applyToItem,
  compareStrings,
  DESCRIPTIVE_FIELDS,
  type JobEvent,
  type JobItem,
  rankOf,
  TERMINAL_FIELDS,
} from '../../../lambda/core/job-state';
import { NOW } from './factories';

const options = { force: false };
const BASE = Date.parse('2026-11-27T10:00:00.000Z');

interface JobCase {
  readonly jobId: string;
  readonly seed: JobItem | undefined;
  /** In provider order, each delivery once. */
  readonly events: readonly JobEvent[];
}

/** How many terminal deliveries a generated job has. */
interface TerminalCount {
  readonly min: number;
  readonly max: number;
}

/** Realistic: one or two started deliveries and at most one terminal one. */
const REALISTIC: TerminalCount = { min: 0, max: 1 };
/** Several terminal deliveries, of the same or different statuses. */
const CONFLICTING: TerminalCount = { min: 2, max: 3 };

const idChars = fc.constantFrom(...'abAB09._:-'.split(''));
const deliveryIds = (count: number) =>
  fc.uniqueArray(fc.string({ unit: idChars, minLength: 1, maxLength: 4 }), { minLength: count, maxLength: count });

const eventSpec = fc.record({
  // Few distinct instants, so equal event times (and the delivery-id tie-break) are common.
  minute: fc.integer({ min: 0, max: 4 }),
  carries: fc.array(fc.boolean(), { minLength: DESCRIPTIVE_FIELDS.length, maxLength: DESCRIPTIVE_FIELDS.length }),
  creditsUsed: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
  withOutcome: fc.boolean(),
  status: fc.constantFrom('completed' as const, 'failed' as const),
});

type EventSpec = typeof eventSpec extends fc.Arbitrary<infer T> ? T : never;

function jobCase(jobId: string, terminalCount: TerminalCount = REALISTIC): fc.Arbitrary<JobCase> {
  return fc
    .record({
      // The provider's description of a job does not change between its events; each event may omit any of it.
      description: fc.record({
        model: fc.option(fc.constantFrom('original', 'light', 'pro', 'human', 'future-model'), { nil: undefined }),
        outputFormat: fc.option(fc.constantFrom('webm', 'mov', 'png_sequence'), { nil: undefined }),
        background: fc.option(fc.constantFrom('transparent', 'green', 'custom'), { nil: undefined }),
        inputRef: fc.option(fc.constant(`https://in.example.com/${jobId}.mp4`), { nil: undefined }),
      }),
      started: fc.array(eventSpec, { minLength: 1, maxLength: 2 }),
      terminal: fc.array(eventSpec, { minLength: terminalCount.min, maxLength: terminalCount.max }),
      seeded: fc.boolean(),
    })
    .chain((spec) =>
      deliveryIds(spec.started.length + spec.terminal.length).map((ids): JobCase => {
        const build = (s: EventSpec, index: number, terminal: boolean): JobEvent => {
          const description: Record<string, string | undefined> = {};
          DESCRIPTIVE_FIELDS.forEach((field, i) => {
            if (s.carries[i]) description[field] = spec.description[field];
          });
          const status = terminal ? s.status : 'started';
          return {
            jobId,
            deliveryId: `${jobId}/${ids[index]}`,
            event: `job.${status}` as EventType,
            eventAt: new Date(BASE + (terminal ? 10 + s.minute : s.minute) * 60_000).toISOString(),
            ...description,
            creditsUsed: s.creditsUsed,
            outputUrl: status === 'completed' && s.withOutcome ? `https://cdn.example.com/${ids[index]}.webm` : undefined,
            error: status === 'failed' && s.withOutcome ? { code: `code_${ids[index]}`, message: 'failed' } : undefined,
          };
        };
        const started = spec.started.map((s, i) => build(s, i, false));
        const terminal = spec.terminal.map((s, i) => build(s, spec.started.length + i, true));
        const events = [...started, ...terminal].sort((a, b) => compareStrings(a.eventAt, b.eventAt));
        const seed = spec.seeded ? { jobId, userId: `user_${jobId}`, projectId: 'proj_1', status: 'submitted' } : undefined;
        return { jobId, seed, events };
      }),
    );
}

/** Each delivery at least once, some several times, in any order. */
function arrivals(events: readonly JobEvent[]): fc.Arbitrary<JobEvent[]> {
  return fc
    .array(fc.constantFrom(...events), { maxLength: events.length * 2 })
    .chain((repeats) => fc.shuffledSubarray([...events, ...repeats], { minLength: events.length + repeats.length }));
}

function fold(seed: JobItem | undefined, events: readonly JobEvent[], opts = options): JobItem | undefined {
  return events.reduce<JobItem | undefined>((item, event) => applyToItem(item, event, opts, NOW), seed);
}

const isTerminal = (event: JobEvent) => event.event !== 'job.started';

const STATE_FIELDS = ['jobId', 'status', 'lastEventAt', 'lastDeliveryId', 'userId', 'projectId', ...DESCRIPTIVE_FIELDS, ...TERMINAL_FIELDS];

/** Everything but the history's order and arrival times, which legitimately follow arrival order. */
function state(item: JobItem | undefined): Record<string, unknown> {
  return Object.fromEntries(STATE_FIELDS.map((field) => [field, item?.[field]]));
}

/**
 * An independent statement of the rules: the first terminal delivery to ARRIVE
 * (whatever its event time), else the latest started one by (eventAt, deliveryId).
 */
function expectedWinner(arrived: readonly JobEvent[]): JobEvent {
  const byKey = (a: JobEvent, b: JobEvent) => compareStrings(a.eventAt, b.eventAt) || compareStrings(a.deliveryId, b.deliveryId);
  return arrived.find(isTerminal) ?? [...arrived].sort(byKey).at(-1)!;
}

const terminalFields = (item: JobItem | undefined) => Object.fromEntries(TERMINAL_FIELDS.map((field) => [field, item?.[field]]));

describe('job state properties', () => {
  it('ends in the same item whatever the order and duplication of deliveries', () => {
    fc.assert(
      fc.property(
        jobCase('job_a').chain((job) => fc.tuple(fc.constant(job), arrivals(job.events))),
        ([job, arrived]) => {
          // Act
          const reference = fold(job.seed, job.events);
          const actual = fold(job.seed, arrived);

          // Assess
          expect(state(actual)).toEqual(state(reference));
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['realistic', REALISTIC],
    ['conflicting', CONFLICTING],
  ])('keeps the first terminal delivery to arrive (or the latest started one) with exactly its terminal fields (%s)', (_, count) => {
    fc.assert(
      fc.property(
        jobCase('job_a', count).chain((job) => fc.tuple(fc.constant(job), arrivals(job.events))),
        ([job, arrived]) => {
          // Prepare
          const winner = expectedWinner(arrived);

          // Act
          const item = fold(job.seed, arrived);

          // Assess
          expect(item).toMatchObject({ status: winner.event.slice(4), lastEventAt: winner.eventAt, lastDeliveryId: winner.deliveryId });
          // `started` never writes the terminal fields, so a job without a terminal event has none.
          for (const field of TERMINAL_FIELDS) expect(item?.[field]).toEqual(isTerminal(winner) ? winner[field] : undefined);
          for (const field of DESCRIPTIVE_FIELDS) {
            expect(item?.[field]).toEqual(job.events.find((e) => e[field] !== undefined)?.[field]);
          }
          expect(item?.userId).toBe(job.seed?.userId);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['realistic', REALISTIC],
    ['conflicting', CONFLICTING],
  ])('records every distinct delivery exactly once in history and in the delivery ids (%s)', (_, count) => {
    fc.assert(
      fc.property(
        jobCase('job_a', count).chain((job) => fc.tuple(fc.constant(job), arrivals(job.events))),
        ([job, arrived]) => {
          // Prepare
          const distinct = [...new Set(job.events.map((e) => e.deliveryId))].sort();

          // Act
          const item = fold(job.seed, arrived);

          // Assess
          const historyIds = (item?.history ?? []).map((entry) => entry.deliveryId);
          expect([...historyIds].sort()).toEqual(distinct);
          expect([...(item?.deliveryIds ?? [])].sort()).toEqual(distinct);
          expect(item?.history?.filter((entry) => entry.outcome === 'applied').at(-1)?.deliveryId).toBe(item?.lastDeliveryId);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['realistic', REALISTIC],
    ['conflicting', CONFLICTING],
  ])('never regresses the status, never changes a finished job, and only moves a started winner forward, along any prefix (%s)', (_, count) => {
    fc.assert(
      fc.property(
        jobCase('job_a', count).chain((job) => fc.tuple(fc.constant(job), arrivals(job.events))),
        ([job, arrived]) => {
          let item = job.seed;
          for (const event of arrived) {
            // Act
            const next = applyToItem(item, event, options, NOW);

            // Assess
            const before = rankOf(item?.status);
            const after = rankOf(next.status);
            expect(after).toBeGreaterThanOrEqual(before);
            if (before === 2) {
              expect(next).toMatchObject({ status: item?.status, lastEventAt: item?.lastEventAt, lastDeliveryId: item?.lastDeliveryId });
              expect(terminalFields(next)).toEqual(terminalFields(item));
            }
            if (after === before && after === 1) {
              expect(compareStrings(next.lastEventAt as string, item?.lastEventAt as string)).toBeGreaterThanOrEqual(0);
            }
            item = next;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ends a job with conflicting terminal deliveries on the first to arrive, with every other one recorded once as conflict or stale', () => {
    fc.assert(
      fc.property(
        jobCase('job_a', CONFLICTING).chain((job) => fc.tuple(fc.constant(job), arrivals(job.events))),
        ([job, arrived]) => {
          // Prepare
          const winner = arrived.find(isTerminal)!;
          const losers = new Map(arrived.filter((e) => isTerminal(e) && e.deliveryId !== winner.deliveryId).map((e) => [e.deliveryId, e]));
          let item = job.seed;
          let finished: JobItem | undefined;

          for (const event of arrived) {
            // Act
            item = applyToItem(item, event, options, NOW);

            // Assess: once terminal, the status and the terminal fields are the winner's on every prefix.
            if (event === winner || finished !== undefined) {
              expect(item).toMatchObject({ status: winner.event.slice(4), lastDeliveryId: winner.deliveryId, lastEventAt: winner.eventAt });
              expect(terminalFields(item)).toEqual(terminalFields(finished ?? item));
              finished ??= item;
            } else {
              expect(rankOf(item.status)).toBeLessThan(2);
            }
          }

          // Assess
          expect(item?.status).toBe(winner.event.slice(4));
          for (const field of TERMINAL_FIELDS) expect(item?.[field]).toEqual(winner[field]);
          const history = item?.history ?? [];
          expect(history.filter((entry) => entry.deliveryId === winner.deliveryId)).toMatchObject([{ outcome: 'applied' }]);
          for (const loser of losers.values()) {
            const entries = history.filter((entry) => entry.deliveryId === loser.deliveryId);
            expect(entries).toMatchObject([{ event: loser.event, outcome: loser.event === winner.event ? 'stale' : 'conflict' }]);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never changes a finished job on a forced replay of any of its deliveries', () => {
    fc.assert(
      fc.property(
        jobCase('job_a', CONFLICTING).chain((job) =>
          fc.tuple(fc.constant(job), arrivals(job.events), fc.array(fc.constantFrom(...job.events), { minLength: 1, maxLength: 6 })),
        ),
        ([job, arrived, replays]) => {
          // Prepare
          const finished = fold(job.seed, arrived);

          // Act
          const replayed = fold(finished, replays.map((event) => ({ ...event, replay: true })), { force: true });

          // Assess
          expect(state(replayed)).toEqual(state(finished));
          expect(replayed?.history).toHaveLength((finished?.history?.length ?? 0) + replays.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps interleaved jobs independent of each other', () => {
    const jobs = fc.tuple(jobCase('job_a'), jobCase('job_b'), jobCase('job_c'));
    fc.assert(
      fc.property(
        jobs.chain((cases) => fc.tuple(fc.constant(cases), arrivals(cases.flatMap((job) => job.events)))),
        ([cases, arrived]) => {
          // Act
          const items = new Map<string, JobItem | undefined>(cases.map((job) => [job.jobId, job.seed]));
          for (const event of arrived) items.set(event.jobId, applyToItem(items.get(event.jobId), event, options, NOW));

          // Assess
          for (const job of cases) {
            expect(state(items.get(job.jobId))).toEqual(state(fold(job.seed, job.events)));
            expect(new Set(items.get(job.jobId)?.deliveryIds)).toEqual(new Set(job.events.map((e) => e.deliveryId)));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
