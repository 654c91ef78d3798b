/**
 * Job state transitions: the pure rules the worker applies to a job item.
 * (Types first; the transition functions live below them.)
 */
import { DEFAULTS, JOB_ATTRIBUTES, type EventType, type Origin } from './contract';
import { openJobShard } from './reconcile/open-jobs';

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
  /** Where the event came from; `webhook` when not given. */
  readonly origin?: Origin;
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
  readonly lastOrigin?: string;
  readonly updatedAt?: string;
  readonly history?: readonly HistoryEntry[];
  readonly historyDropped?: number;
  readonly deliveryIds?: readonly string[];
  readonly openShard?: number;
  readonly openedAt?: string;
  readonly reconcileCheckedAt?: string;
  readonly reconcileProviderStatus?: string;
  readonly reconcileFlag?: string;
  readonly [other: string]: unknown;
}

/** What applying one event to the current item does. */
export type Decision = 'apply' | 'duplicate' | 'stale' | 'conflict';

export interface ApplyOptions {
  /**
   * Forced replay: skip the delivery-id guard and allow re-applying the current
   * winner itself (same delivery id); never another delivery over a finished job.
   */
  readonly force: boolean;
}

/** Every status the worker writes (the job-events stream filter passes exactly these). */
export const JOB_STATUSES: readonly JobStatus[] = ['started', 'completed', 'failed'];

/**
 * Fields describing the job (not its outcome): an applied event overwrites them,
 * ignored events only fill gaps (`if_not_exists`). The final item is
 * order-independent as long as the provider describes a job the same way in all
 * its events (any event may omit a field).
 */
export const DESCRIPTIVE_FIELDS = ['model', 'outputFormat', 'background', 'inputRef'] as const;
/**
 * Fields owned by the terminal winner: written only by the terminal event that
 * applies (set when it carries them), untouched by `started` and by every
 * ignored event. Nothing else writes them, so once a job is terminal they are
 * exactly the winner's; they are never removed (a value present before the
 * first terminal event is the product's own, which the worker keeps).
 */
export const TERMINAL_FIELDS = ['outputUrl', 'error', 'creditsUsed'] as const;

/** The open-jobs index keys: set (if absent) by the update that opens a job, removed by the one that closes it. */
export const OPEN_INDEX_FIELDS = [JOB_ATTRIBUTES.openShard, JOB_ATTRIBUTES.openedAt] as const;
/**
 * Removed with the index keys when a job closes: the reconciler's ops flag
 * belongs to an open job only. The last-checked time and the provider's last
 * answer stay, as a record of the last look.
 */
export const CLOSE_REMOVES = [...OPEN_INDEX_FIELDS, JOB_ATTRIBUTES.reconcileFlag] as const;

export function statusOf(event: EventType): JobStatus {
  switch (event) {
    case 'job.started':
      return 'started';
    case 'job.completed':
      return 'completed';
    case 'job.failed':
      return 'failed';
  }
}

/** 0 = no winner yet (absent, or a status the product wrote that is not ours), 1 = started, 2 = terminal. */
export function rankOf(status: unknown): 0 | 1 | 2 {
  if (status === 'started') return 1;
  if (status === 'completed' || status === 'failed') return 2;
  return 0;
}

/**
 * Byte order of the UTF-8 encodings, which is how DynamoDB compares strings; the
 * pure model must order exactly as the condition expression does.
 */
export function compareStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Compares a `started` event's (eventAt, deliveryId) with the current `started`
 * winner's. A missing or non-string key on the item compares as "unknown",
 * reported as `undefined`: the caller lets the event win then, so a
 * product-written `started` without our bookkeeping never blocks the provider's.
 */
function compareKeys(event: JobEvent, current: JobItem): number | undefined {
  if (typeof current.lastEventAt !== 'string') return undefined;
  const byTime = compareStrings(event.eventAt, current.lastEventAt);
  if (byTime !== 0) return byTime;
  if (typeof current.lastDeliveryId !== 'string') return undefined;
  return compareStrings(event.deliveryId, current.lastDeliveryId);
}

/**
 * Whether the event replaces the current winner.
 * - No winner yet (no item, no status, or a status that is not ours): it does.
 * - A terminal job (`completed` / `failed`) is final: the first terminal event
 *   to be applied wins, and no other delivery ever applies again, whatever its
 *   event time. Only a forced replay of the winner itself (same delivery id)
 *   re-applies. A late `started` never applies.
 * - A terminal event beats `started`.
 * - Among `started` events the later (eventAt, deliveryId) wins; the winner
 *   itself (equal keys) re-applies only on a forced replay.
 */
export function beats(current: JobItem | undefined, event: JobEvent, options: ApplyOptions): boolean {
  const currentRank = rankOf(current?.status);
  if (current === undefined || currentRank === 0) return true;
  if (currentRank === 2) return options.force && current.lastDeliveryId === event.deliveryId && rankOf(statusOf(event.event)) === 2;
  // The job is `started`.
  if (rankOf(statusOf(event.event)) === 2) return true;
  const order = compareKeys(event, current);
  if (order === undefined) return true;
  return order > 0 || (order === 0 && options.force);
}

/** The event's origin, `webhook` unless told otherwise. */
export function originOf(event: JobEvent): Origin {
  return event.origin ?? (event.replay ? 'replay' : 'webhook');
}

export function hasDelivery(current: JobItem | undefined, deliveryId: string): boolean {
  return current?.deliveryIds?.includes(deliveryId) ?? false;
}

/** Classifies one event against the current item; the DynamoDB adapter uses it on the item a failed condition returns. */
export function decide(current: JobItem | undefined, event: JobEvent, options: ApplyOptions): Decision {
  if (!options.force && hasDelivery(current, event.deliveryId)) return 'duplicate';
  if (beats(current, event, options)) return 'apply';
  // A terminal event loses only to a terminal winner (it beats `started`), so here both are terminal.
  const status = statusOf(event.event);
  return rankOf(status) === 2 && current?.status !== status ? 'conflict' : 'stale';
}

/** A full history takes no more entries; the write counts the one it drops in `historyDropped`. */
export function historyIsFull(item: JobItem | undefined, max: number = DEFAULTS.historyMaxEntries): boolean {
  return Array.isArray(item?.history) && item.history.length >= max;
}

export function historyEntry(event: JobEvent, outcome: HistoryEntry['outcome'], now: Date): HistoryEntry {
  return {
    deliveryId: event.deliveryId,
    event: event.event,
    eventAt: event.eventAt,
    outcome,
    at: now.toISOString(),
    ...(event.replay ? { replay: true } : {}),
  };
}

/**
 * The in-memory reference of what one event does to the job item. The DynamoDB
 * adapter implements exactly this with one conditional UpdateItem (plus one
 * record-only UpdateItem for ignored events).
 *
 * An applied event sets status, bookkeeping and the descriptive fields it
 * carries, and a terminal one the terminal fields it carries. An applied
 * `started` opens the job (the open-jobs index keys, where absent); an applied
 * terminal event closes it (removes them, and any ops flag). An ignored event
 * (stale or conflict) only fills missing descriptive fields and is recorded.
 */
export function applyToItem(current: JobItem | undefined, event: JobEvent, options: ApplyOptions, now: Date): JobItem {
  const decision = decide(current, event, options);
  const base: JobItem = current ?? { jobId: event.jobId };
  if (decision === 'duplicate') return base;

  const next: Record<string, unknown> = { ...base };
  if (decision === 'apply') {
    const status = statusOf(event.event);
    next.status = status;
    next.lastEventAt = event.eventAt;
    next.lastDeliveryId = event.deliveryId;
    next.lastOrigin = originOf(event);
    next.updatedAt = now.toISOString();
    for (const field of DESCRIPTIVE_FIELDS) {
      if (event[field] !== undefined) next[field] = event[field];
    }
    if (rankOf(status) === 2) {
      for (const field of TERMINAL_FIELDS) {
        if (event[field] !== undefined) next[field] = event[field];
      }
      for (const field of CLOSE_REMOVES) delete next[field];
    } else {
      // A job opened by the product (opt-in) keeps its own time; a later `started` keeps the first.
      // (`=== undefined`, not `??`: DynamoDB's if_not_exists keeps a NULL too.)
      if (next[JOB_ATTRIBUTES.openShard] === undefined) next[JOB_ATTRIBUTES.openShard] = openJobShard(event.jobId);
      if (next[JOB_ATTRIBUTES.openedAt] === undefined) next[JOB_ATTRIBUTES.openedAt] = event.eventAt;
    }
  } else {
    for (const field of DESCRIPTIVE_FIELDS) {
      if (event[field] !== undefined && next[field] === undefined) next[field] = event[field];
    }
  }
  const outcome = decision === 'apply' ? 'applied' : decision;
  if (historyIsFull(base)) next.historyDropped = (typeof base.historyDropped === 'number' ? base.historyDropped : 0) + 1;
  else next.history = [...(base.history ?? []), historyEntry(event, outcome, now)];
  const ids = base.deliveryIds ?? [];
  next.deliveryIds = ids.includes(event.deliveryId) ? [...ids] : [...ids, event.deliveryId];
  return next as JobItem;
}
