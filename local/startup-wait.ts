/**
 * Start-up waits that follow progress instead of guessing a duration.
 *
 * On a shared 2-core machine an emulator can take a minute to listen (a JVM or a
 * Node process starting while a CDK synth runs beside it): a fixed 15 s guess
 * fails a healthy start, and a longer guess only moves the failure. So a wait
 * keeps going while the process it waits for is alive and still starting, prints
 * where it is every few seconds (elapsed time, the process's CPU time, the load
 * average: a reader sees a slow start from a stuck one), ends at once with the
 * process's own output when it exits, and gives up only at a generous overall cap
 * (`LOCAL_START_TIMEOUT_SECONDS`, default 300 s).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { sleep } from './net';

export const START_TIMEOUT_ENV = 'LOCAL_START_TIMEOUT_SECONDS';
export const DEFAULT_START_TIMEOUT_SECONDS = 300;
const PROGRESS_EVERY_MS = 5000;

/** The overall cap of one start-up, from `LOCAL_START_TIMEOUT_SECONDS` (a positive number of seconds). */
export function startTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[START_TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_START_TIMEOUT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${START_TIMEOUT_ENV} must be a positive number of seconds, got "${raw}"`);
  return seconds * 1000;
}

/** CPU ms a process has used so far (Linux /proc: user + system clock ticks at 100 Hz); undefined elsewhere. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** What a wait watches: the process that is starting. */
export interface StartingProcess {
  readonly pid?: number;
  /** Set once the process failed to launch or exited: the wait ends with it. */
  exited(): Error | undefined;
}

export interface StartupWaitOptions {
  /** Completes "waiting for ...", e.g. `fauxqs to bind`. */
  readonly what: string;
  readonly process: StartingProcess;
  /** When the whole start-up began (several waits share one cap). @default now */
  readonly startedAt?: number;
  /** @default startTimeoutMs() */
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  readonly progressEveryMs?: number;
  /** Receives the progress lines. @default - silent */
  readonly log?: (message: string) => void;
  /** Appended to each progress line (e.g. the child's last log line). */
  readonly detail?: () => string | undefined;
}

export class StartupTimeoutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupTimeoutError';
  }
}

function describeProcess(pid: number | undefined): string {
  if (pid === undefined) return 'alive';
  const cpu = processCpuMs(pid);
  return cpu === undefined ? `pid ${pid} alive` : `pid ${pid} alive, ${(cpu / 1000).toFixed(1)} s CPU`;
}

/**
 * Retries `probe` until it resolves. Ends with the process's error as soon as it
 * exits, and with a `StartupTimeoutError` only past the overall cap.
 */
export async function waitForStartup<T>(probe: () => Promise<T>, options: StartupWaitOptions): Promise<T> {
  const startedAt = options.startedAt ?? Date.now();
  const timeoutMs = options.timeoutMs ?? startTimeoutMs();
  const progressEveryMs = options.progressEveryMs ?? PROGRESS_EVERY_MS;
  let nextProgress = Date.now() + progressEveryMs;
  let lastError: unknown;
  for (;;) {
    const exited = options.process.exited();
    if (exited) throw exited;
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    const now = Date.now();
    const elapsedSeconds = Math.round((now - startedAt) / 1000);
    if (now - startedAt >= timeoutMs) {
      throw new StartupTimeoutError(
        `gave up after ${elapsedSeconds} s waiting for ${options.what} (${describeProcess(options.process.pid)}); ` +
          `set ${START_TIMEOUT_ENV} to wait longer on a busy machine`,
        { cause: lastError },
      );
    }
    if (now >= nextProgress) {
      nextProgress = now + progressEveryMs;
      const detail = options.detail?.();
      options.log?.(
        `still waiting for ${options.what}: ${elapsedSeconds} s (${describeProcess(options.process.pid)}; load ${loadavg()[0].toFixed(1)})${detail ? `; ${detail}` : ''}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}
