/**
 * The local stack as a child process, for the e2e setup and the bench:
 * `node --import tsx [preloads] local/start.ts` (what `npm start` runs, minus npm's
 * wrapper, so the pid is the stack itself and a signal reaches it). Its output
 * goes straight to a log file, so nothing has to keep draining a pipe; it is
 * ready when the log shows the ready line. The wait follows progress: it lasts
 * while the child is alive and still starting (printing its last log line every
 * few seconds), ends at once if it exits, and gives up only at twice the
 * emulators' own cap (a cold start also synthesizes the CDK app).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './paths';
import { startTimeoutMs, waitForStartup } from './startup-wait';

export const READY_PREFIX = 'ready: POST ';
const READY_LINE = new RegExp(`^${READY_PREFIX}(\\S+)$`, 'm');

export interface StackChildOptions {
  /** The child's whole environment (PORT, LOCAL_STATE_DIR, ...). */
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  /** Modules loaded before the stack (`--import`), relative to the repository root. */
  readonly preloads?: readonly string[];
  /** Another way to start it, e.g. `['npm', 'start']`. @default node --import tsx <preloads> local/start.ts */
  readonly command?: readonly [string, ...string[]];
  readonly log?: (message: string) => void;
  /** The checkout whose `local/start.ts` runs (the bench runs the old design's too). @default this repository */
  readonly root?: string;
}

export interface StackChild {
  readonly child: ChildProcess;
  readonly webhookUrl: string;
  readonly startupMs: number;
}

export function logTail(file: string, chars = 3000): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '(no log)';
}

function lastLine(file: string): string | undefined {
  return logTail(file, 400).trimEnd().split('\n').at(-1) || undefined;
}

export async function startStackChild(options: StackChildOptions): Promise<StackChild> {
  const started = Date.now();
  const logFd = openSync(options.logFile, 'w');
  const preloads = (options.preloads ?? []).flatMap((module) => ['--import', module]);
  const [command, ...args] = options.command ?? [process.execPath, '--import', 'tsx', ...preloads, path.join('local', 'start.ts')];
  const child = spawn(command, args, {
    cwd: options.root ?? REPO_ROOT,
    env: options.env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exit: Error | undefined;
  child.once('error', (error) => {
    exit ??= new Error(`local stack could not be launched: ${error.message}`, { cause: error });
  });
  child.once('exit', (code, signal) => {
    exit ??= new Error(`local stack exited with code ${code}, signal ${signal} before it was ready:\n${logTail(options.logFile)}`);
  });
  try {
    const webhookUrl = await waitForStartup(
      async () => {
        const match = READY_LINE.exec(readFileSync(options.logFile, 'utf8'));
        if (!match) throw new Error('no ready line yet');
        return match[1];
      },
      {
        what: 'the local stack to be ready',
        process: { pid: child.pid, exited: () => exit },
        startedAt: started,
        timeoutMs: 2 * startTimeoutMs(options.env),
        progressEveryMs: 15_000,
        log: options.log,
        detail: () => {
          const line = lastLine(options.logFile);
          return line ? `its last line: ${line}` : undefined;
        },
      },
    );
    return { child, webhookUrl, startupMs: Date.now() - started };
  } catch (error) {
    if (exit === undefined) child.kill('SIGTERM');
    throw exit ?? new Error(`${(error as Error).message}:\n${logTail(options.logFile)}`, { cause: error });
  }
}
