/**
 * A job's events as the console shows them. EventBridge keeps no history that
 * can be queried, so a deployed job's events are derived from what the job
 * item itself records: its history of applied deliveries. The stack publishes
 * one event per status change of the item (design 6.1), and each status change
 * is an `applied` history entry whose event moves the status; the event's
 * deterministic id is `<jobId>#<status>`. Pure.
 */
import type { EventType } from '../../lambda/core/contract';
import type { HistoryEntry, JobItem, JobStatus } from '../../lambda/core/job-state';

const STATUS_OF_EVENT: Readonly<Record<EventType, JobStatus>> = {
  'job.started': 'started',
  'job.completed': 'completed',
  'job.failed': 'failed',
};

export const DETAIL_TYPES: Readonly<Record<JobStatus, string>> = {
  started: 'Job Started',
  completed: 'Job Completed',
  failed: 'Job Failed',
};

export interface DerivedJobEvent {
  readonly eventId: string;
  readonly detailType: string;
  readonly status: JobStatus;
  readonly previousStatus?: JobStatus;
  /** When the worker applied the transition. */
  readonly at: string;
  /** The provider's time of the event. */
  readonly eventAt: string;
  readonly deliveryId: string;
  readonly replay?: boolean;
}

export function jobEventId(jobId: string, status: string): string {
  return `${jobId}#${status}`;
}

/** One event per status change recorded in the history, in the order applied. */
export function eventsFromHistory(item: Pick<JobItem, 'jobId' | 'history'>): DerivedJobEvent[] {
  const events: DerivedJobEvent[] = [];
  let status: JobStatus | undefined;
  for (const entry of (item.history ?? []) as readonly HistoryEntry[]) {
    if (entry.outcome !== 'applied') continue;
    const next = STATUS_OF_EVENT[entry.event];
    if (next === undefined || next === status) continue;
    events.push({
      eventId: jobEventId(item.jobId, next),
      detailType: DETAIL_TYPES[next],
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
