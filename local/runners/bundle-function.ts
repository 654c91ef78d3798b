/**
 * A deployed Lambda bundle (from `cdk.out`) run as Lambda runs it: in its own
 * Node process (bundle-runtime.mjs) with only the function's environment (the
 * template's variables resolved to local values, the region, credentials and,
 * per service, `AWS_ENDPOINT_URL_<SERVICE>` pointing at the local emulators and
 * stand-ins), so its module-scope SDK clients, config parsing and bundled
 * dependencies are the ones deployed. Invocations go over IPC and return the
 * handler's result, so the local API server and queue runner call it like the
 * in-process handler of the sources.
 *
 * Differences from Lambda: one process serves concurrent invocations (Lambda
 * gives each its own environment), and a timed-out invocation is abandoned, not
 * killed (as in the sources mode). A process that dies is started again on the
 * next invocation, as Lambda starts a new environment.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Context } from 'aws-lambda';
import { stopChild } from '../emulator-process';

const RUNTIME_ENTRY = path.join(__dirname, 'bundle-runtime.mjs');
/** Substring of a function process's command line that identifies it as ours (pid file). */
export const BUNDLE_RUNTIME_MARKER = 'bundle-runtime.mjs';

export interface BundleFunctionOptions {
  /** Names the function in errors and logs. */
  readonly name: string;
  /** The bundle's `index.mjs`. */
  readonly bundleFile: string;
  /** @default 'handler' */
  readonly exportName?: string;
  /** The function's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  /** @default process.execPath (the project's Node 24, the Lambda runtime's major) */
  readonly nodeCommand?: string;
}

export interface BundleFunction {
  /** Starts the environment (the bundle's init phase) now rather than on the first invocation. */
  warm(): Promise<void>;
  /** Same shape as an in-process handler: `(event, context) => result`. */
  invoke(event: unknown, context: Context): Promise<unknown>;
  /** The running environment's pid, once started. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

type RuntimeMessage =
  | { readonly ready: true }
  | { readonly initError: { name: string; message: string } }
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: { name: string; message: string; stack?: string } };

export class BundleInvocationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BundleInvocationError';
  }
}

export function startBundleFunction(options: BundleFunctionOptions): BundleFunction {
  let environment: Promise<ChildProcess> | undefined;
  let child: ChildProcess | undefined;
  let nextId = 0;
  const pending = new Map<number, Pending>();

  const launch = (): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const launched = fork(RUNTIME_ENTRY, [options.bundleFile, options.exportName ?? 'handler'], {
        env: { ...options.env },
        execPath: options.nodeCommand ?? process.execPath,
        // Not the parent's `--import tsx`: the bundle runs on plain Node, as in Lambda.
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child = launched;
      launched.on('message', (message: RuntimeMessage) => {
        if ('ready' in message) resolve(launched);
        else if ('initError' in message) reject(new BundleInvocationError(`${options.name}: init failed: ${message.initError.name}: ${message.initError.message}`));
        else {
          const waiting = pending.get(message.id);
          pending.delete(message.id);
          if (waiting === undefined) return;
          if ('error' in message) {
            const error = new BundleInvocationError(`${options.name}: ${message.error.name}: ${message.error.message}`);
            error.stack = message.error.stack ?? error.stack;
            waiting.reject(error);
          } else waiting.resolve(message.result);
        }
      });
      launched.once('exit', (code, signal) => {
        const error = new BundleInvocationError(`${options.name}: its environment exited (code ${code}, signal ${signal})`);
        reject(error);
        for (const waiting of pending.values()) waiting.reject(error);
        pending.clear();
        if (child === launched) {
          child = undefined;
          environment = undefined;
        }
      });
    });

  const running = (): Promise<ChildProcess> => (environment ??= launch());

  return {
    async warm() {
      await running();
    },
    async invoke(event, context) {
      const environment = await running();
      const id = (nextId += 1);
      const fields = {
        functionName: context.functionName,
        functionVersion: context.functionVersion,
        invokedFunctionArn: context.invokedFunctionArn,
        memoryLimitInMB: context.memoryLimitInMB,
        awsRequestId: context.awsRequestId,
        logGroupName: context.logGroupName,
        logStreamName: context.logStreamName,
        deadline: Date.now() + context.getRemainingTimeInMillis(),
      };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        environment.send({ id, event, context: fields }, (error) => {
          if (error === null || error === undefined) return;
          pending.delete(id);
          reject(new BundleInvocationError(`${options.name}: the invocation could not be sent`, { cause: error }));
        });
      });
    },
    pid: () => child?.pid,
    async stop() {
      const current = child;
      environment = undefined;
      child = undefined;
      if (current !== undefined) await stopChild(current);
    },
  };
}
