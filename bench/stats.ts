/**
 * Statistics and scheduling for a noisy, shared 2-core machine: every figure is
 * a median over rounds, and every comparison is a ratio of cases run in the same
 * round, in a rotating order, so drift in machine load hits every case alike.
 */

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Linear interpolation between closest ranks (the common "R-7" definition). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** Median absolute deviation relative to the median: a noise figure that ignores outliers. */
export function relativeSpread(values: readonly number[]): number {
  const m = median(values);
  if (!Number.isFinite(m) || m === 0) return Number.NaN;
  return median(values.map((value) => Math.abs(value - m))) / Math.abs(m);
}

/**
 * Runs `rounds` rounds; each round runs every case once, starting from a different
 * case each round (round-robin), so no case always runs first, after a warm cache
 * or a GC of the previous one. Returns each case's samples in round order.
 */
export async function interleaved<K extends string>(
  rounds: number,
  cases: readonly K[],
  run: (name: K, round: number) => Promise<number> | number,
): Promise<Record<K, number[]>> {
  const samples = Object.fromEntries(cases.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < cases.length; i += 1) {
      const name = cases[(round + i) % cases.length];
      samples[name].push(await run(name, round));
    }
  }
  return samples;
}

/**
 * Median of per-round ratios a[i]/b[i]: pairing samples of the same round cancels
 * the load the machine had during that round, which a ratio of medians would not.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i += 1) ratios.push(a[i] / b[i]);
  return median(ratios);
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Formats with thousands separators and a fixed number of decimals. */
export function fmt(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * CPU time of this process in µs (user + system). On a shared machine a sample's
 * wall time includes the time other tenants held the core; its CPU time does not,
 * so CPU-bound figures are reported per CPU second.
 */
export function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}
