/**
 * Archive keys are grouped by the hour of receipt (UTC) so ops can replay a
 * window by listing a few prefixes instead of the whole bucket.
 */
import { ARCHIVE_PREFIX } from './contract';

const HOUR_MS = 60 * 60 * 1000;

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

function hourPrefix(instant: Date): string {
  return `${ARCHIVE_PREFIX}${instant.getUTCFullYear()}/${pad(instant.getUTCMonth() + 1)}/${pad(instant.getUTCDate())}/${pad(instant.getUTCHours())}/`;
}

/**
 * `raw/YYYY/MM/DD/HH/<deliveryId>.json`. Built from the dedupe record's first
 * receipt time, so every retry of a delivery writes the same key.
 */
export function archiveKey(receivedAt: string, deliveryId: string): string {
  const instant = new Date(receivedAt);
  if (Number.isNaN(instant.getTime())) throw new RangeError(`invalid receivedAt: ${receivedAt}`);
  return `${hourPrefix(instant)}${deliveryId}.json`;
}

/** The hour prefixes covering [from, to], both ends included; empty when to precedes from. */
export function archivePrefixesForWindow(from: Date, to: Date): string[] {
  const start = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
  const end = to.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError('invalid replay window');
  const prefixes: string[] = [];
  for (let hour = start; hour <= end; hour += HOUR_MS) prefixes.push(hourPrefix(new Date(hour)));
  return prefixes;
}
