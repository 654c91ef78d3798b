/**
 * The signed X-Webhook-Timestamp: strict ISO 8601 with a zone, and within the
 * tolerance in both directions. Checking only the past (as Stripe's library
 * does) would let a captured request signed with a future timestamp be replayed
 * for as long as the sender's clock is ahead.
 */
import { DEFAULTS } from './contract';
import { normaliseInstant } from './payload';

export type TimestampCheck =
  | { readonly ok: true; readonly instant: Date; readonly skewSeconds: number }
  | { readonly ok: false; readonly reason: 'malformed_timestamp' }
  | { readonly ok: false; readonly reason: 'stale_timestamp'; readonly skewSeconds: number };

/**
 * `skewSeconds` is now minus the timestamp: positive when the timestamp lies in
 * the past, negative when it lies in the future. The boundary itself is accepted.
 */
export function checkTimestamp(
  value: string | undefined,
  now: Date,
  toleranceSeconds: number = DEFAULTS.timestampToleranceSeconds,
): TimestampCheck {
  const normalised = normaliseInstant(value);
  if (normalised === undefined) return { ok: false, reason: 'malformed_timestamp' };
  const instant = new Date(normalised);
  const skewMs = now.getTime() - instant.getTime();
  const skewSeconds = skewMs / 1000;
  if (Math.abs(skewMs) > toleranceSeconds * 1000) return { ok: false, reason: 'stale_timestamp', skewSeconds };
  return { ok: true, instant, skewSeconds };
}
