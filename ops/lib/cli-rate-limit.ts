/**
 * Spaces calls evenly at N per second across concurrent callers: each caller
 * books the next free slot, then waits for it. Even spacing (rather than bursts
 * of N each second) keeps a replay from spiking the worker's concurrency.
 */
export interface RateLimiter {
  acquire(): Promise<void>;
}

export interface RateLimiterOptions {
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createRateLimiter(perSecond: number | undefined, options: RateLimiterOptions = {}): RateLimiter {
  if (perSecond === undefined) return { acquire: () => Promise.resolve() };
  if (!(perSecond > 0)) throw new RangeError(`rate must be > 0, got ${perSecond}`);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const intervalMs = 1000 / perSecond;
  let nextSlot = -Infinity;
  return {
    acquire: async () => {
      const at = now();
      const slot = Math.max(at, nextSlot);
      nextSlot = slot + intervalMs;
      if (slot > at) await sleep(slot - at);
    },
  };
}
