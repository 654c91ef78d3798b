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
      const recorded = ports(bus, { remainingMs: () => 5_000 });

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
