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
  /** The scheduled invocations pass no event; `invokeNow` passes the caller's. */
  readonly invoke: (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<T>;
  readonly onResult?: (result: T) => void;
  readonly log: (message: string) => void;
}

export interface ScheduleRunner<T> {
  /** One invocation now with this event, after any running one (reserved concurrency 1), as Lambda's Invoke would. */
  invokeNow(event: unknown): Promise<T>;
  stop(): Promise<void>;
}

export function startScheduleRunner<T>(options: ScheduleRunnerOptions<T>): ScheduleRunner<T> {
  let stopping = false;
  let running: Promise<unknown> = Promise.resolve();
  const run = (event: unknown): Promise<T> => {
    const result = running.then(async () => {
      const started = Date.now();
      return options.invoke(event, { getRemainingTimeInMillis: () => options.timeoutSeconds * 1000 - (Date.now() - started) });
    });
    running = result.catch(() => undefined);
    return result;
  };
  const once = async (): Promise<void> => {
    try {
      options.onResult?.(await run(undefined));
    } catch (error) {
      options.log(`scheduled invocation failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const loop = (async () => {
    while (!stopping) {
      // Short slices, so stop() never waits a whole interval.
      for (let waited = 0; waited < options.intervalSeconds * 1000 && !stopping; waited += 250) await sleep(250);
      if (!stopping) await once();
    }
  })();
  return {
    invokeNow: run,
    stop: async () => {
      stopping = true;
      await loop;
      await running;
    },
  };
}
