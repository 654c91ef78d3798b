/**
 * Archive keys are grouped by the hour of receipt (UTC) so ops can replay a
 * window by listing a few prefixes instead of the whole bucket. Under each hour
 * prefix live the per-delivery objects (`<deliveryId>.json`) and the `batch/`
 * folder of Firehose's batched objects.
 */
import { ARCHIVE_BATCH_EXTENSION, ARCHIVE_BATCH_FOLDER, ARCHIVE_PREFIX } from './contract';

const HOUR_MS = 60 * 60 * 1000;

/**
 * Firehose's prefix for the batched objects, in its own expression language
 * (`!{timestamp:...}` is a Java DateTimeFormatter pattern, evaluated in UTC at
 * the approximate arrival of the oldest record in the object). It renders to
 * exactly `batchFolder(hour)`.
 */
export const ARCHIVE_BATCH_PREFIX_EXPRESSION = `${ARCHIVE_PREFIX}!{timestamp:yyyy/MM/dd/HH}/${ARCHIVE_BATCH_FOLDER}`;
/** Where Firehose puts records it could not process (it has no transformation here, so this stays empty). */
export const ARCHIVE_ERROR_PREFIX_EXPRESSION = 'archive-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/';

/**
 * How far after its receipt hour an entry can land: a batched object is named
 * by its oldest record's arrival, which is at most one buffering interval
 * (≤ 15 min) before a record's own; and a retry of a delivery, archived with the
 * first attempt's receipt time, arrives later still. Readers of a window list
 * one hour on either side and filter each entry by its own receipt time.
 */
export const ARCHIVE_NEIGHBOUR_HOURS = 1;

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

function hourPrefix(instant: Date): string {
  return `${ARCHIVE_PREFIX}${instant.getUTCFullYear()}/${pad(instant.getUTCMonth() + 1)}/${pad(instant.getUTCDate())}/${pad(instant.getUTCHours())}/`;
}

function instantOf(receivedAt: string): Date {
  const instant = new Date(receivedAt);
  if (Number.isNaN(instant.getTime())) throw new RangeError(`invalid receivedAt: ${receivedAt}`);
  return instant;
}

/**
 * `raw/YYYY/MM/DD/HH/<deliveryId>.json`. Built from the dedupe record's first
 * receipt time, so every retry of a delivery writes the same key.
 */
export function archiveKey(receivedAt: string, deliveryId: string): string {
  return `${hourPrefix(instantOf(receivedAt))}${deliveryId}.json`;
}

/** `raw/YYYY/MM/DD/HH/batch/`: the folder a batched entry received at that instant is written under (or the next hour's). */
export function batchFolder(receivedAt: string): string {
  return `${hourPrefix(instantOf(receivedAt))}${ARCHIVE_BATCH_FOLDER}`;
}

export type ArchiveKeyKind =
  | { readonly kind: 'object'; readonly deliveryId: string }
  | { readonly kind: 'batch' }
  | { readonly kind: 'other' };

/** What a listed key is: a per-delivery object, a batched object, or neither (skipped by readers). */
export function classifyArchiveKey(key: string): ArchiveKeyKind {
  if (!key.startsWith(ARCHIVE_PREFIX)) return { kind: 'other' };
  const slash = key.lastIndexOf('/');
  const folder = key.slice(0, slash + 1);
  const name = key.slice(slash + 1);
  if (folder.endsWith(`/${ARCHIVE_BATCH_FOLDER}`)) return name.endsWith(ARCHIVE_BATCH_EXTENSION) ? { kind: 'batch' } : { kind: 'other' };
  if (name.endsWith('.json') && name.length > '.json'.length) return { kind: 'object', deliveryId: name.slice(0, -'.json'.length) };
  return { kind: 'other' };
}

/** The hour prefixes covering [from, to], both ends included; empty when to precedes from. */
export function archivePrefixesForWindow(from: Date, to: Date): string[] {
  const start = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
  const end = to.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError('invalid replay window');
  // A count rather than a loop on the clock: a wrong bound gives a wrong list, never an endless loop.
  const hours = Math.floor((end - start) / HOUR_MS) + 1;
  return Array.from({ length: Math.max(hours, 0) }, (_, index) => hourPrefix(new Date(start + index * HOUR_MS)));
}

/**
 * What a reader of entries received in [from, to] lists: the window's hour
 * prefixes, widened by ARCHIVE_NEIGHBOUR_HOURS after its end (where late
 * batches and retries land) and before its start (an entry is never filed
 * earlier than its receipt hour, but an hour of slack costs one listing and
 * makes the reader indifferent to clock skew between the receiver and Firehose).
 */
export function archiveListingPrefixes(from: Date, to: Date): string[] {
  const slack = ARCHIVE_NEIGHBOUR_HOURS * HOUR_MS;
  return archivePrefixesForWindow(new Date(from.getTime() - slack), new Date(to.getTime() + slack));
}
