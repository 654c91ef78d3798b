/**
 * Deterministic randomness. Fault decisions hash (seed, step, delivery id,
 * attempt) instead of drawing from one shared stream: concurrent requests
 * interleave differently on every run, and a shared stream would hand each
 * delivery different faults each time. Keyed this way a seed names one fault
 * pattern per delivery, whatever the scheduling.
 */
import { createHash } from 'node:crypto';

/** A uniform number in [0, 1) determined only by its parts. */
export function uniform(...parts: readonly (string | number)[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

/** A small seeded PRNG (mulberry32) for building workloads in a fixed order. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}
