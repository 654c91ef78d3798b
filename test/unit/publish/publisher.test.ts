import { METRIC } from '../../../lambda/core/contract';
import type { BusEntry } from '../../../lambda/core/publish/entries';
import { EventBusError } from '../../../lambda/core/publish/errors';
import type { PutOutcome } from '../../../lambda/core/publish/ports';
import { publishChanges } from '../../../lambda/core/publish/publisher';
import { change, completedItem, detailOf, ports, ScriptedBus, startedItem } from './factories';

const ok = (): PutOutcome => ({ ok: true, eventId: 'e' });
const throttled = (): PutOutcome => ({ ok: false, code: 'ThrottlingException', retryable: true });

function jobChanges(jobId: string) {
  const started = startedItem({ jobId });
  return [change(undefined, started), change(started, completedItem({ jobId }))];
}

describe('publishChanges', () => {
  it('publishes one event per status change and nothing for the other records', async () => {
    // Prepare
    const started = startedItem();
    const changes = [change(undefined, started), change(started, startedItem({ history: [{}, {}] })), change(started, completedItem())];
    const bus = new ScriptedBus();
    const recorded = ports(bus);

    // Act
    const result = await publishChanges(changes, recorded);

    // Assess
    expect(result).toEqual({ published: 2, unchanged: 1, retried: 0 });
    expect(bus.accepted.map((entry) => detailOf(entry).eventId)).toEqual(['job_8f3a#started', 'job_8f3a#completed']);
    expect(recorded.metrics.get(METRIC.jobEventPublished)).toBe(2);
  });

  it('makes no call for a batch without status changes', async () => {
    const bus = new ScriptedBus();

    const result = await publishChanges([change(startedItem(), startedItem({ note: 'x' }))], ports(bus));

    expect(result.published).toBe(0);
    expect(bus.calls).toHaveLength(0);
  });

  it('retries only the entries EventBridge failed (FailedEntryCount), after a backoff', async () => {
    const changes = [...jobChanges('a').slice(0, 1), ...jobChanges('b').slice(0, 1), ...jobChanges('c').slice(0, 1)];
    const bus = new ScriptedBus([(entries) => entries.map((_, index) => (index === 1 ? throttled() : ok()))]);
    const recorded = ports(bus);

    const result = await publishChanges(changes, recorded);

    expect(result).toMatchObject({ published: 3, retried: 1 });
    expect(result.failedSequenceNumber).toBeUndefined();
    expect(bus.calls.map((call) => call.map((entry) => detailOf(entry).jobId))).toEqual([['a', 'b', 'c'], ['b']]);
    expect(recorded.sleeps).toEqual([50]);
    expect(recorded.metrics.get(METRIC.jobEventPublishRetried)).toBe(1);
  });

  it('retries a whole call that was throttled, backing off more each time', async () => {
    const throttle = () => new EventBusError('PutEvents failed (ThrottlingException)', { transient: true, code: 'ThrottlingException' });
    const bus = new ScriptedBus([throttle, throttle, throttle]);
    const recorded = ports(bus);

    const result = await publishChanges(jobChanges('a').slice(0, 1), recorded);

    expect(result).toMatchObject({ published: 1, retried: 3 });
    expect(recorded.sleeps).toEqual([50, 100, 200]);
  });

  it('sends a job\'s later event only once its earlier one is on the bus', async () => {
    // started of job a fails in the first call; its completed must not go out before it.
    const changes = [...jobChanges('a'), ...jobChanges('b')];
    const bus = new ScriptedBus([(entries) => entries.map((entry) => (detailOf(entry).eventId === 'a#started' ? throttled() : ok()))]);

    await publishChanges(changes, ports(bus));

    const order = bus.accepted.map((entry) => detailOf(entry).eventId);
    expect(order.indexOf('a#started')).toBeLessThan(order.indexOf('a#completed'));
    expect(order.indexOf('b#started')).toBeLessThan(order.indexOf('b#completed'));
  });

  describe('when the budget runs out', () => {
    it('reports the first record whose event is not on the bus, and sends nothing after it', async () => {
      // Prepare: the first call partly fails and there is no time left for a retry.
      const [aStarted, aCompleted] = jobChanges('a');
      const [bStarted, bCompleted] = jobChanges('b');
      const changes = [aStarted, bStarted, aCompleted, bCompleted];
      const failB = (entries: readonly BusEntry[]) => entries.map((entry) => (detailOf(entry).jobId === 'b' ? throttled() : ok()));
      const bus = new ScriptedBus([failB]);
      const recorded = ports(bus, { budgetMs: 5_000 });

      // Act
      const result = await publishChanges(changes, recorded);

      // Assess: b#started (record 1) failed; the completed events are in the next call, never sent.
      expect(result.failedSequenceNumber).toBe(bStarted.sequenceNumber);
      expect(bus.calls).toHaveLength(1);
      expect(recorded.metrics.get(METRIC.jobEventPublishFailed)).toBe(1);
      expect(recorded.logs.find((log) => log.level === 'error')?.attributes).toMatchObject({ reason: 'budget_exhausted', eventId: 'b#started' });
    });
  });

  it('gives up at once on an error no retry can fix, reporting the failed record', async () => {
    const denied = () => new EventBusError('PutEvents failed (AccessDeniedException)', { transient: false, code: 'AccessDeniedException' });
    const changes = jobChanges('a');
    const bus = new ScriptedBus([denied]);
    const recorded = ports(bus);

    const result = await publishChanges(changes, recorded);

    expect(result.failedSequenceNumber).toBe(changes[0].sequenceNumber);
    expect(bus.calls).toHaveLength(1);
    expect(recorded.sleeps).toEqual([]);
    expect(recorded.logs.find((log) => log.level === 'error')?.attributes).toMatchObject({ reason: 'permanent_error', codes: { AccessDeniedException: 1 } });
  });

  it('counts an event published without its product attributes', async () => {
    const bus = new ScriptedBus();
    const recorded = ports(bus);

    await publishChanges([change(startedItem(), completedItem({ notes: 'x'.repeat(300 * 1024) }))], recorded);

    expect(recorded.metrics.get(METRIC.jobEventProductOmitted)).toBe(1);
    expect(detailOf(bus.accepted[0])).toMatchObject({ productOmitted: 'too_large' });
  });
});

describe('publishChanges, in detail', () => {
  const oneEach = (...jobIds: string[]) => jobIds.map((jobId) => jobChanges(jobId)[0]);

  it('logs what a batch published, and nothing for a batch without events', async () => {
    // Prepare
    const changes = oneEach('a', 'b');
    const recorded = ports(new ScriptedBus());
    const quiet = ports(new ScriptedBus());

    // Act
    await publishChanges([...changes, change(startedItem(), startedItem({ note: 'x' }))], recorded);
    await publishChanges([change(startedItem(), startedItem({ note: 'x' }))], quiet);

    // Assess
    expect(recorded.logs).toEqual([{ level: 'info', message: 'Job events published', attributes: { records: 3, events: 2, published: 2, retried: 0 } }]);
    expect(quiet.logs).toEqual([]);
    expect(quiet.metrics.size).toBe(0);
  });

  it('logs a partial failure with its codes before retrying, and counts only what got out', async () => {
    // Prepare
    const bus = new ScriptedBus([
      (entries) => entries.map((_, index) => (index === 0 ? ok() : index === 1 ? throttled() : { ok: false, code: 'InternalFailure', retryable: true })),
      (entries) => entries.map(() => throttled()),
    ]);
    const recorded = ports(bus);

    // Act
    const result = await publishChanges(oneEach('a', 'b', 'c'), recorded);

    // Assess
    expect(result).toEqual({ published: 3, unchanged: 0, retried: 4 });
    expect(recorded.logs.slice(0, 2)).toEqual([
      {
        level: 'warn',
        message: 'PutEvents partly failed; retrying the failed entries',
        attributes: { failedEntries: 2, entries: 3, codes: { ThrottlingException: 1, InternalFailure: 1 }, attempt: 1, delayMs: 50 },
      },
      { level: 'warn', message: 'PutEvents partly failed; retrying the failed entries', attributes: { failedEntries: 2, entries: 2, codes: { ThrottlingException: 2 }, attempt: 2, delayMs: 100 } },
    ]);
    expect(recorded.metrics.get(METRIC.jobEventPublished)).toBe(3);
    expect(recorded.metrics.get(METRIC.jobEventPublishRetried)).toBe(4);
  });

  it('caps the backoff at maxDelayMs', async () => {
    // Prepare
    const bus = new ScriptedBus([(entries) => entries.map(throttled), (entries) => entries.map(throttled), (entries) => entries.map(throttled)]);
    const recorded = ports(bus);

    // Act
    await publishChanges(oneEach('a'), recorded, { baseDelayMs: 100, maxDelayMs: 150, reserveMs: 0 });

    // Assess
    expect(recorded.sleeps).toEqual([50, 75, 75]);
  });

  it('retries while exactly the reserve is left after the backoff, and gives up below it', async () => {
    // Prepare: a 50 ms backoff with 9050 ms left leaves the 9000 ms reserve; with 9049 ms it would not
    const retrying = ports(new ScriptedBus([(entries) => entries.map(throttled)]), { budgetMs: 9050 });
    const giving = ports(new ScriptedBus([(entries) => entries.map(throttled)]), { budgetMs: 9049 });

    // Act
    const retried = await publishChanges(oneEach('a'), retrying);
    const gaveUp = await publishChanges(oneEach('a'), giving);

    // Assess
    expect(retried).toMatchObject({ published: 1, retried: 1 });
    expect(retried.failedSequenceNumber).toBeUndefined();
    expect(gaveUp.failedSequenceNumber).toBeDefined();
  });

  it('reports the lowest record of a call when several fail, with every key of the first', async () => {
    // Prepare
    const changes = oneEach('a', 'b', 'c');
    const denied = (entries: readonly BusEntry[]) => entries.map((_, index): PutOutcome => (index === 0 ? ok() : { ok: false, code: 'AccessDeniedException', retryable: false }));
    const recorded = ports(new ScriptedBus([denied]));

    // Act
    const result = await publishChanges(changes, recorded);

    // Assess
    expect(result).toEqual({ published: 1, unchanged: 0, retried: 0, failedSequenceNumber: changes[1].sequenceNumber });
    expect(recorded.logs).toEqual([
      {
        level: 'error',
        message: 'Job events not published; the stream retries from the first one',
        attributes: {
          jobId: 'b',
          eventId: 'b#started',
          status: 'started',
          deliveryId: 'dlv_started_1',
          sequenceNumber: changes[1].sequenceNumber,
          failedEntries: 2,
          codes: { AccessDeniedException: 2 },
          attempts: 1,
          reason: 'permanent_error',
        },
      },
    ]);
    expect(recorded.metrics.get(METRIC.jobEventPublishFailed)).toBe(1);
  });

  it('counts nothing published for a call of which nothing got out', async () => {
    // Prepare
    const denied = (entries: readonly BusEntry[]) => entries.map((): PutOutcome => ({ ok: false, code: 'AccessDeniedException', retryable: false }));
    const recorded = ports(new ScriptedBus([denied]));

    // Act
    const result = await publishChanges(oneEach('a', 'b'), recorded);

    // Assess
    expect(result).toMatchObject({ published: 0, failedSequenceNumber: expect.any(String) });
    expect(recorded.metrics.has(METRIC.jobEventPublished)).toBe(false);
  });

  it('gives up on a call where one failure is permanent, even when the others could be retried', async () => {
    const mixed = (entries: readonly BusEntry[]) => entries.map((_, index): PutOutcome => (index === 0 ? throttled() : { ok: false, code: 'ValidationException', retryable: false }));
    const recorded = ports(new ScriptedBus([mixed]));

    const result = await publishChanges(oneEach('a', 'b'), recorded);

    expect(result.failedSequenceNumber).toBeDefined();
    expect(recorded.sleeps).toEqual([]);
  });

  it('retries a call whose answer does not have one outcome per entry', async () => {
    // Prepare
    const recorded = ports(new ScriptedBus([() => [ok()]]));

    // Act
    const result = await publishChanges(oneEach('a', 'b'), recorded);

    // Assess
    expect(result).toMatchObject({ published: 2, retried: 2 });
    expect(recorded.logs[0].attributes).toMatchObject({ codes: { MalformedResponse: 2 } });
  });

  it.each<[string, unknown, Record<string, number>]>([
    ['an error that is not the bus error', new TypeError('socket hang up'), { TypeError: 1 }],
    ['something that is not an error', 'down', { Error: 1 }],
  ])('retries a call that threw %s, named by what it was', async (_what, thrown, codes) => {
    // Prepare
    const bus = new ScriptedBus();
    let first = true;
    const throwing = {
      put: async (entries: readonly BusEntry[]) => {
        if (first) {
          first = false;
          throw thrown;
        }
        return bus.put(entries);
      },
    };
    const recorded = ports(throwing);

    // Act
    const result = await publishChanges(oneEach('a'), recorded);

    // Assess
    expect(result).toMatchObject({ published: 1, retried: 1 });
    expect(recorded.logs[0].attributes).toMatchObject({ codes });
  });

  it('logs an event sent without its product attributes, by its keys', async () => {
    // Prepare
    const big = change(startedItem(), completedItem({ notes: 'x'.repeat(300 * 1024) }));
    const recorded = ports(new ScriptedBus());

    // Act
    await publishChanges([big], recorded);

    // Assess
    expect(recorded.logs[0]).toEqual({
      level: 'warn',
      message: 'Job event published without product attributes (too large)',
      attributes: { jobId: 'job_8f3a', eventId: 'job_8f3a#completed', status: 'completed', deliveryId: 'dlv_completed_1', sequenceNumber: big.sequenceNumber },
    });
  });
});
