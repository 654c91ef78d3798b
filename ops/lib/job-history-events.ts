/**
 * A job's events as the console shows them. EventBridge keeps no history that
 * can be queried, so a deployed job's events are derived from what the job
 * item itself records: its history of applied deliveries. The stack publishes
 * one event per status change of the item (design 6.1), and each status change
 * is an `applied` history entry whose event moves the status; the id and
 * detail-type are the publisher's own (lambda/core/publish/job-event.ts). Pure.
 */
import { JOB_EVENTS, type JobEventDetailType } from '../../lambda/core/contract';
import { isEventType } from '../../lambda/core/payload';
import { statusOf, type HistoryEntry, type JobItem, type JobStatus } from '../../lambda/core/job-state';
import { jobEventId } from '../../lambda/core/publish/job-event';

export { jobEventId };

export interface DerivedJobEvent {
  readonly eventId: string;
  readonly detailType: JobEventDetailType;
  readonly status: JobStatus;
  readonly previousStatus?: JobStatus;
  /** When the worker applied the transition. */
  readonly at: string;
  /** The provider's time of the event. */
  readonly eventAt: string;
  readonly deliveryId: string;
  readonly replay?: boolean;
}

/** One event per status change recorded in the history, in the order applied. */
export function eventsFromHistory(item: Pick<JobItem, 'jobId' | 'history'>): DerivedJobEvent[] {
  const events: DerivedJobEvent[] = [];
  let status: JobStatus | undefined;
  for (const entry of (item.history ?? []) as readonly HistoryEntry[]) {
    if (entry.outcome !== 'applied') continue;
    if (!isEventType(entry.event)) continue;
    const next = statusOf(entry.event);
    if (next === status) continue;
    events.push({
      eventId: jobEventId(item.jobId, next),
      detailType: JOB_EVENTS.detailTypes[next],
      status: next,
      ...(status !== undefined ? { previousStatus: status } : {}),
      at: entry.at,
      eventAt: entry.eventAt,
      deliveryId: entry.deliveryId,
      ...(entry.replay ? { replay: true } : {}),
    });
    status = next;
  }
  return events;
}
