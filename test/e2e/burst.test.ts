/**
 * Load without loss: 500 deliveries over 150 jobs, 16 in flight, shuffled, with
 * provider retries of the same delivery and late job.started events mixed in.
 * Every delivery ends accepted exactly once, is archived once, and every job
 * reaches its expected final status with each delivery in its history once.
 */
import type { EventType } from '../../lambda/core/contract';
import { mapWithConcurrency } from '../../ops/lib/concurrency';
import type { Delivery } from '../../ops/lib/provider';
import { prng } from '../../reliability/lib/seeded';
import {
  connect,
  archivedEntries,
  getJob,
  inspectQueue,
  waitForArchiveFlushed,
  sendUntilSettled,
  signedDelivery,
  uniqueId,
  waitForQueueDrained,
  type E2eStack,
} from './support/stack';

const JOBS = 150;
const TOTAL = 500;
const CONCURRENCY = 16;
const RETRIES_OF_SAME_DELIVERY = 120;

interface PlannedJob {
  readonly jobId: string;
  readonly terminal: EventType;
  readonly deliveries: Delivery[];
}

// The project's testTimeout is a global-only option in Jest, so each e2e file sets its own.
jest.setTimeout(120_000);

describe('a burst of 500 deliveries over 150 jobs at concurrency 16', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  it('loses nothing and applies everything once', async () => {
    // Prepare
    // Seeded: the same shuffle every run, so a failure can be replayed.
    const random = prng(20261127);
    const base = Date.now();
    const at = (offsetMs: number): string => new Date(base + offsetMs).toISOString();
    const jobs: PlannedJob[] = Array.from({ length: JOBS }, (_, index) => {
      const jobId = uniqueId(`burst${index}`);
      const terminal: EventType = index % 3 === 0 ? 'job.failed' : 'job.completed';
      return {
        jobId,
        terminal,
        deliveries: [
          signedDelivery(stack, 'job.started', { jobId, timestamp: at(-30_000 + index) }),
          signedDelivery(stack, terminal, { jobId, timestamp: at(-10_000 + index) }),
        ],
      };
    });
    const sends: Delivery[] = jobs.flatMap((job) => job.deliveries);
    const lateStarts = TOTAL - sends.length - RETRIES_OF_SAME_DELIVERY;
    for (let index = 0; index < lateStarts; index += 1) {
      const job = jobs[Math.floor(random() * jobs.length)];
      const late = signedDelivery(stack, 'job.started', { jobId: job.jobId, timestamp: at(-20_000 + index) });
      job.deliveries.push(late);
      sends.push(late);
    }
    const originals = [...sends];
    for (let index = 0; index < RETRIES_OF_SAME_DELIVERY; index += 1) sends.push(originals[Math.floor(random() * originals.length)]);
    for (let index = sends.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [sends[index], sends[other]] = [sends[other], sends[index]];
    }
    expect(sends).toHaveLength(TOTAL);

    // Act
    const started = Date.now();
    const results = await mapWithConcurrency(sends, CONCURRENCY, (delivery) => sendUntilSettled(stack, delivery));
    const sentMs = Date.now() - started;
    await waitForQueueDrained(stack, 120_000);
    const drainedMs = Date.now() - started;

    // Assess
    const finalStatuses = results.map((result) => result.last.status);
    expect(finalStatuses.filter((status) => status !== 200 && status !== 202)).toEqual([]);
    const acceptedPerDelivery = new Map<string, number>();
    results.forEach((result, index) => {
      const accepted = result.first.status === 202 || result.last.status === 202 ? 1 : 0;
      const id = sends[index].deliveryId;
      acceptedPerDelivery.set(id, (acceptedPerDelivery.get(id) ?? 0) + accepted);
    });
    const uniqueDeliveries = new Set(originals.map((delivery) => delivery.deliveryId));
    expect(acceptedPerDelivery.size).toBe(uniqueDeliveries.size);
    expect([...acceptedPerDelivery.values()].filter((count) => count !== 1)).toEqual([]);

    // Each acknowledged delivery archived exactly once (a concurrent copy never got the claim, so it never archived).
    await waitForArchiveFlushed(stack);
    const archived = (await archivedEntries(stack)).map((entry) => entry.delivery.deliveryId).filter((id) => uniqueDeliveries.has(id));
    expect(archived).toHaveLength(uniqueDeliveries.size);
    expect(new Set(archived).size).toBe(uniqueDeliveries.size);

    const wrong: string[] = [];
    await mapWithConcurrency(jobs, 8, async (job) => {
      const item = await getJob(stack, job.jobId);
      const expectedStatus = job.terminal === 'job.failed' ? 'failed' : 'completed';
      const historyIds = (item?.history ?? []).map((entry) => entry.deliveryId).sort();
      const expectedIds = job.deliveries.map((delivery) => delivery.deliveryId).sort();
      if (item?.status !== expectedStatus) wrong.push(`${job.jobId}: status ${item?.status}, expected ${expectedStatus}`);
      if (JSON.stringify(historyIds) !== JSON.stringify(expectedIds)) wrong.push(`${job.jobId}: history ${historyIds.join(',')} != ${expectedIds.join(',')}`);
    });
    expect(wrong).toEqual([]);

    const jobIds = jobs.map((job) => job.jobId);
    const inDlq = (await inspectQueue(stack, stack.outputs.DeadLetterQueueUrl)).filter((message) => jobIds.some((jobId) => message.body.includes(jobId)));
    expect(inDlq).toEqual([]);

    const firstAnswers = new Map<number, number>();
    for (const result of results) firstAnswers.set(result.first.status, (firstAnswers.get(result.first.status) ?? 0) + 1);
    process.stdout.write(
      `[e2e] burst: ${TOTAL} deliveries (${uniqueDeliveries.size} unique) sent in ${sentMs} ms, queue drained at ${drainedMs} ms; ` +
        `first answers ${JSON.stringify(Object.fromEntries(firstAnswers))}\n`,
    );
  });
});
