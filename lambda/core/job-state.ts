/**
 * Job state transitions: the pure rules the worker applies to a job item.
 * (Types first; the transition functions live below them.)
 */
import type { EventType } from './contract';

export type JobStatus = 'started' | 'completed' | 'failed';

/** One provider event, normalised for the job item. */
export interface JobEvent {
  readonly jobId: string;
  readonly deliveryId: string;
  readonly event: EventType;
  /** Normalised UTC ISO-8601 (`toISOString()`), so string order is time order. */
  readonly eventAt: string;
  readonly model?: string;
  readonly outputFormat?: string;
  readonly background?: string;
  readonly inputRef?: string;
  readonly outputUrl?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly creditsUsed?: number;
  readonly replay?: boolean;
}

export interface HistoryEntry {
  readonly deliveryId: string;
  readonly event: EventType;
  readonly eventAt: string;
  readonly outcome: 'applied' | 'stale' | 'conflict';
  readonly at: string;
  readonly replay?: boolean;
}

/** The job item as the worker sees it; other attributes (the product's own) are kept untouched. */
export interface JobItem {
  readonly jobId: string;
  readonly status?: string;
  readonly model?: string;
  readonly outputFormat?: string;
  readonly background?: string;
  readonly inputRef?: string;
  readonly outputUrl?: string;
  readonly error?: { readonly code: string; readonly message: string };
  readonly creditsUsed?: number;
  readonly lastEventAt?: string;
  readonly lastDeliveryId?: string;
  readonly updatedAt?: string;
  readonly history?: readonly HistoryEntry[];
  readonly deliveryIds?: readonly string[];
  readonly [other: string]: unknown;
}
