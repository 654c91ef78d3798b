/**
 * PutEvents entries and how they are grouped into calls. EventBridge takes at
 * most 10 entries per call and sizes a request by its entries (AWS's
 * "Calculating PutEvents event entry size": Time counts 14 bytes, Source,
 * DetailType, Detail and each Resource their UTF-8 bytes). 256 KiB per request
 * is the limit every bus and target has honoured for years (events grew to
 * 1 MB in 2026, but a smaller budget costs at most a few more calls).
 */
import { JOB_EVENTS } from '../contract';
import type { JobEventMessage } from './job-event';

export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_REQUEST_BYTES = 256 * 1024;
const TIME_BYTES = 14;

/** One PutEvents entry, bus name left to the adapter. */
export interface BusEntry {
  readonly source: string;
  readonly detailType: string;
  /** The detail as a JSON string, exactly as sent. */
  readonly detail: string;
  readonly time?: Date;
}

export function entrySize(entry: BusEntry): number {
  return (
    (entry.time === undefined ? 0 : TIME_BYTES) +
    Buffer.byteLength(entry.source, 'utf8') +
    Buffer.byteLength(entry.detailType, 'utf8') +
    Buffer.byteLength(entry.detail, 'utf8')
  );
}

export interface PreparedEntry {
  readonly entry: BusEntry;
  readonly size: number;
  /** True when the product's attributes were left out to fit one request. */
  readonly productOmitted: boolean;
}

/**
 * The entry for one job event. A job item may hold up to 400 KB of the
 * product's own attributes; when they would not fit one request, the event
 * goes out without them (`productOmitted`), rather than never: the stack's own
 * fields are bounded by the payload schema, so that entry always fits.
 */
export function prepareEntry(message: JobEventMessage, maxBytes = PUT_EVENTS_MAX_REQUEST_BYTES): PreparedEntry {
  const base = { source: JOB_EVENTS.source, detailType: message.detailType, ...(message.time ? { time: message.time } : {}) };
  const full: BusEntry = { ...base, detail: JSON.stringify(message.detail) };
  const fullSize = entrySize(full);
  if (fullSize <= maxBytes) return { entry: full, size: fullSize, productOmitted: false };
  const slim: BusEntry = { ...base, detail: JSON.stringify({ ...message.detail, product: {}, productOmitted: 'too_large' }) };
  return { entry: slim, size: entrySize(slim), productOmitted: true };
}

export interface PlannedEntry {
  /** Groups entries that must stay in order (one job's events). */
  readonly key: string;
  readonly size: number;
}

/**
 * Splits entries, in order, into calls of at most 10 entries and `maxBytes`.
 * A call never holds two entries of one job: if a call partly fails, its
 * failed entries are retried before any later event of the same job is sent,
 * so each job's events go out in stream order.
 */
export function planCalls(entries: readonly PlannedEntry[], maxBytes = PUT_EVENTS_MAX_REQUEST_BYTES): number[][] {
  const calls: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  let keys = new Set<string>();
  entries.forEach((entry, index) => {
    const full = current.length >= PUT_EVENTS_MAX_ENTRIES || bytes + entry.size > maxBytes || keys.has(entry.key);
    if (full && current.length > 0) {
      calls.push(current);
      current = [];
      bytes = 0;
      keys = new Set();
    }
    current.push(index);
    bytes += entry.size;
    keys.add(entry.key);
  });
  if (current.length > 0) calls.push(current);
  return calls;
}
