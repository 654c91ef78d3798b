/** A job's events, derived from its item's history: one per status change, id `<jobId>#<status>`. */
import type { HistoryEntry } from '../../../lambda/core/job-state';
import { eventsFromHistory, jobEventId } from '../../../ops/lib/job-history-events';

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
});
