/** A job's events, derived from its item's history: one per status change, id `<jobId>#<status>`. */
import fc from 'fast-check';
import { applyToItem, type HistoryEntry, type JobEvent, type JobItem, type JobStatus } from '../../../lambda/core/job-state';
import { jobEventOf } from '../../../lambda/core/publish/job-event';
import { eventsFromHistory, jobEventId } from '../../../ops/lib/job-history-events';

const EVENT_OF: Readonly<Record<JobStatus, JobEvent['event']>> = { started: 'job.started', completed: 'job.completed', failed: 'job.failed' };

function entry(deliveryId: string, event: HistoryEntry['event'], outcome: HistoryEntry['outcome'], at: string, replay?: boolean): HistoryEntry {
  return { deliveryId, event, eventAt: at, outcome, at, ...(replay ? { replay } : {}) };
}

describe('job events from the history', () => {
  it('gives one event per status change, with the previous status', () => {
    const events = eventsFromHistory({
      jobId: 'job_1',
      history: [entry('d1', 'job.started', 'applied', '2026-11-27T10:00:00.000Z'), entry('d2', 'job.completed', 'applied', '2026-11-27T10:05:00.000Z')],
    });

    expect(events).toEqual([
      { eventId: 'job_1#started', detailType: 'Job Started', status: 'started', at: '2026-11-27T10:00:00.000Z', eventAt: '2026-11-27T10:00:00.000Z', deliveryId: 'd1' },
      { eventId: 'job_1#completed', detailType: 'Job Completed', status: 'completed', previousStatus: 'started', at: '2026-11-27T10:05:00.000Z', eventAt: '2026-11-27T10:05:00.000Z', deliveryId: 'd2' },
    ]);
  });

  it('gives none for stale or conflicting deliveries, nor for a forced replay of the winner', () => {
    const events = eventsFromHistory({
      jobId: 'job_2',
      history: [
        entry('d1', 'job.failed', 'applied', '2026-11-27T10:00:00.000Z'),
        entry('d0', 'job.started', 'stale', '2026-11-27T10:01:00.000Z'),
        entry('d2', 'job.completed', 'conflict', '2026-11-27T10:02:00.000Z'),
        entry('d1', 'job.failed', 'applied', '2026-11-27T10:03:00.000Z', true),
      ],
    });

    expect(events.map((event) => event.eventId)).toEqual(['job_2#failed']);
  });

  it('marks a transition a replay applied', () => {
    const [event] = eventsFromHistory({ jobId: 'j', history: [entry('d1', 'job.completed', 'applied', '2026-11-27T10:00:00.000Z', true)] });

    expect(event).toMatchObject({ eventId: 'j#completed', replay: true });
    expect(event).not.toHaveProperty('previousStatus');
  });

  it('gives none for an item without history', () => {
    expect(eventsFromHistory({ jobId: 'j' })).toEqual([]);
    expect(jobEventId('j', 'started')).toBe('j#started');
  });

  it('names exactly the events the publisher puts on the bus for the same writes, whatever the deliveries, their order, duplicates and forced replays', () => {
    const delivery = fc.record({
      id: fc.constantFrom('d1', 'd2', 'd3', 'd4'),
      status: fc.constantFrom<JobStatus>('started', 'completed', 'failed'),
      minute: fc.integer({ min: 0, max: 9 }),
      force: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(delivery, { minLength: 1, maxLength: 12 }), (deliveries) => {
        // Prepare: every write of the item through the worker's rules, and what the publisher makes of each.
        let item: JobItem | undefined;
        const published: Array<{ eventId: string; detailType: string; deliveryId?: string; previousStatus?: string }> = [];
        deliveries.forEach((one, index) => {
          const event: JobEvent = {
            jobId: 'job_p',
            deliveryId: `${one.id}-${one.status}`,
            event: EVENT_OF[one.status],
            eventAt: new Date(Date.UTC(2026, 10, 27, 10, one.minute)).toISOString(),
            ...(one.force ? { replay: true } : {}),
          };
          const next = applyToItem(item, event, { force: one.force }, new Date(Date.UTC(2026, 10, 27, 11, index)));
          const message = jobEventOf({ sequenceNumber: String(index), eventName: item === undefined ? 'INSERT' : 'MODIFY', oldImage: item, newImage: next });
          if (message !== undefined) {
            const { eventId, deliveryId, previousStatus } = message.detail;
            published.push({ eventId, detailType: message.detailType, deliveryId, ...(previousStatus ? { previousStatus } : {}) });
          }
          item = next;
        });

        // Act
        const derived = eventsFromHistory(item!).map(({ eventId, detailType, deliveryId, previousStatus }) => ({ eventId, detailType, deliveryId, ...(previousStatus ? { previousStatus } : {}) }));

        // Assess
        expect(derived).toEqual(published);
      }),
      { numRuns: 300 },
    );
  });
});
