/**
 * The local stand-in for the EventBridge Scheduler schedule of the reconciler:
 * invokes the handler every `intervalSeconds`, one run at a time (the
 * function's reserved concurrency of 1), with a context whose remaining time
 * is the function's timeout, as Lambda gives it. A run that throws is logged
 * and the next one comes on schedule (the schedule has no retries).
 */
import { sleep } from '../net';

export interface ScheduleRunnerOptions<T> {
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly invoke: (context: { getRemainingTimeInMillis(): number }) => Promise<T>;
  readonly onResult?: (result: T) => void;
  readonly log: (message: string) => void;
}

export interface ScheduleRunner {
  /** Runs one invocation now (waits for a running one first), as the CLI's `reconcile` does. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

export function startScheduleRunner<T>(options: ScheduleRunnerOptions<T>): ScheduleRunner {
  let stopping = false;
  let running: Promise<void> = Promise.resolve();
  const once = (): Promise<void> => {
    running = running.then(async () => {
      const started = Date.now();
      try {
        const result = await options.invoke({ getRemainingTimeInMillis: () => options.timeoutSeconds * 1000 - (Date.now() - started) });
        options.onResult?.(result);
      } catch (error) {
        options.log(`scheduled invocation failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    return running;
  };
  const loop = (async () => {
    while (!stopping) {
      // Short slices, so stop() never waits a whole interval.
      for (let waited = 0; waited < options.intervalSeconds * 1000 && !stopping; waited += 250) await sleep(250);
      if (!stopping) await once();
    }
  })();
  return {
    runNow: once,
    stop: async () => {
      stopping = true;
      await loop;
      await running;
    },
  };
}
