/**
 * Paces calls to the provider: one per slot at the configured rate, slower
 * after a 429 or 5xx (the provider's docs: poll every 2 s, back off to 5-10 s),
 * back to the base pace after a good answer. Time comes from the ports, so the
 * tests run it on a fake clock.
 */
export interface PacerOptions {
  readonly requestsPerSecond: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface Pacer {
  /** Resolves when the next call may start. */
  wait(): Promise<void>;
  /** After a 429 / 5xx / time-out: the next slots are further apart (at least `retryAfterMs`, at most the ceiling). */
  backOff(retryAfterMs?: number): void;
  recovered(): void;
  /** The current gap between calls, ms. */
  intervalMs(): number;
}

export function createPacer(options: PacerOptions): Pacer {
  if (!(options.requestsPerSecond > 0)) throw new RangeError(`requestsPerSecond must be > 0, got ${options.requestsPerSecond}`);
  const baseMs = 1000 / options.requestsPerSecond;
  let gapMs = baseMs;
  let last: number | undefined;
  return {
    wait: async () => {
      const at = options.now();
      const slot = last === undefined ? at : Math.max(at, last + gapMs);
      if (slot > at) await options.sleep(slot - at);
      last = Math.max(slot, options.now());
    },
    backOff: (retryAfterMs) => {
      const doubled = gapMs < options.backoffMs ? options.backoffMs : gapMs * 2;
      gapMs = Math.min(options.maxBackoffMs, Math.max(baseMs, doubled, retryAfterMs ?? 0));
    },
    recovered: () => {
      gapMs = baseMs;
    },
    intervalMs: () => gapMs,
  };
}
