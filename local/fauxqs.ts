/**
 * fauxqs (SQS + S3 emulator) in a child Node process, as DynamoDB Local runs in
 * its own JVM: the pipeline (HTTP server, receiver, queue runner, worker) and the
 * emulator each get an event loop, so on a machine with two cores they no longer
 * take turns on one.
 *
 * The child is plain `node` on `emulators/fauxqs-server.mjs` (fauxqs is ESM and loads in
 * plain Node; no TypeScript loader to start). fauxqs's CLI and `startFauxqs()`
 * listen on 0.0.0.0, so the entry takes its exported `buildApp()` and listens on
 * 127.0.0.1 itself, on a kernel-chosen port it prints on one line. It exits when
 * its stdin closes, so it never outlives a killed parent. Jest's module loader
 * cannot load fauxqs at all; a child process does not care.
 */
import * as path from 'node:path';
import { launchEmulator } from './emulator-process';
import { LOOPBACK_HOST, httpGetStatus } from './net';
import { waitForStartup } from './startup-wait';
import { EMULATORS_DIR } from './paths';

const SERVER_ENTRY = path.join(EMULATORS_DIR, 'fauxqs-server.mjs');
const LISTENING_LINE = /^FAUXQS_LISTENING (\S+) (\d+)$/m;
/** Substring of the child's command line that identifies it as ours (pid file). */
export const FAUXQS_PROCESS_MARKER = 'fauxqs-server.mjs';

export interface FauxqsOptions {
  /** 0 (default) lets the kernel pick a free loopback port. */
  readonly port?: number;
  /** Region for queue URLs and ARNs when a request carries none. */
  readonly region: string;
  readonly logger?: boolean;
  /** Overall cap while the child is alive and still starting (it prints progress meanwhile). @default startTimeoutMs() */
  readonly startTimeoutMs?: number;
  readonly nodeCommand?: string;
  readonly log?: (message: string) => void;
}

export interface LocalFauxqs {
  /** The endpoint every SQS and S3 client must be given (S3 with `forcePathStyle`). */
  readonly endpoint: string;
  readonly port: number;
  /** The emulator's own process. */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Queue URLs take the shape `http://sqs.<region>.localhost:<port>/000000000000/<name>`,
 * like real SQS (`https://sqs.<region>.amazonaws.com/<account>/<name>`): the host is
 * not where clients connect, so code that forgets an explicit endpoint fails here
 * the way it would against AWS, instead of passing by accident.
 */
const QUEUE_URL_HOST = 'localhost';

/**
 * The origin queue URLs name (`http://sqs.<region>.localhost:<port>`), for a client that
 * cannot be given an endpoint and so connects where the queue URL points (a deployed
 * bundle, whose lookups resolve `.localhost` to loopback: runners/bundle-runtime.mjs).
 */
export function queueUrlOrigin(endpoint: string, region: string): string {
  return `http://sqs.${region}.${QUEUE_URL_HOST}:${new URL(endpoint).port}`;
}

export async function startFauxqs(options: FauxqsOptions): Promise<LocalFauxqs> {
  const args = [SERVER_ENTRY, String(options.port ?? 0), options.region, QUEUE_URL_HOST];
  if (options.logger) args.push('logger');
  // stdin stays a pipe: the child exits when it closes, i.e. when this process dies.
  const emulator = launchEmulator({ name: 'fauxqs', command: options.nodeCommand ?? process.execPath, args, listeningLine: LISTENING_LINE });
  const { child, stop } = emulator;

  try {
    // One cap for binding and answering: a slow bind leaves the rest of it to the health check.
    const wait = { startedAt: Date.now(), timeoutMs: options.startTimeoutMs, log: options.log };
    const withOutput = (error: unknown): Error =>
      error === emulator.exited() ? (error as Error) : new Error(`${(error as Error).message}; fauxqs said:\n${emulator.recentOutput()}`, { cause: error });
    const port = await emulator.waitForPort({ ...wait, intervalMs: 20 }).catch((error: unknown) => {
      throw withOutput(error);
    });
    const endpoint = `http://${LOOPBACK_HOST}:${port}`;
    await waitForStartup(() => getHealth(port), { ...wait, process: emulator, what: 'fauxqs to answer', intervalMs: 50 }).catch((error: unknown) => {
      throw withOutput(error);
    });
    options.log?.(`fauxqs ${endpoint} (pid ${child.pid}) bound to 127.0.0.1`);
    return { endpoint, port, pid: child.pid ?? -1, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function getHealth(port: number): Promise<void> {
  const status = await httpGetStatus(`http://${LOOPBACK_HOST}:${port}/health`);
  if (status !== 200) throw new Error(`/health answered ${status}`);
}
