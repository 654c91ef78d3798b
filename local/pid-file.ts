/**
 * The local stack records its processes in `.local/local-stack.pid.json`: a
 * second start in the same state directory refuses while the first is alive and
 * answering (or still starting), and a start after a crash cleans up what the
 * crashed run left behind. A recorded process is only signalled when it is still
 * alive AND its command line shows it is ours: pids are reused, and a stranger's
 * process must never be killed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { httpGetStatus, sleep } from './net';

export interface PidRecord {
  readonly pid: number;
  /** Substrings of the command line that identify the process as ours. */
  readonly markers: readonly string[];
  readonly role: string;
}

export interface PidFileContent {
  readonly startedAt: string;
  readonly processes: readonly PidRecord[];
  /** Set once the stack listens: where a second start checks that it answers. */
  readonly webhookUrl?: string;
}

/** The stack's own process (`node --import tsx local/start.ts`), as recorded and recognised. */
export function localStackRecord(pid: number): PidRecord {
  return { pid, role: 'local stack', markers: ['local/start'] };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but someone else's, which is never ours to stop.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function commandLineOf(pid: number): string | undefined {
  try {
    const procFile = `/proc/${pid}/cmdline`;
    if (existsSync(procFile)) return readFileSync(procFile, 'utf8').split('\0').join(' ');
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function isOurs(record: PidRecord): boolean {
  if (record.pid === process.pid || !isAlive(record.pid)) return false;
  const commandLine = commandLineOf(record.pid);
  return commandLine !== undefined && record.markers.some((marker) => commandLine.includes(marker));
}

export function readPidFile(file: string): PidFileContent | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PidFileContent;
  } catch {
    return undefined;
  }
}

export function writePidFile(file: string, processes: readonly PidRecord[], extra: { readonly startedAt?: string; readonly webhookUrl?: string } = {}): void {
  const content: PidFileContent = { startedAt: extra.startedAt ?? new Date().toISOString(), processes, webhookUrl: extra.webhookUrl };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}

/** A live local stack already owns the state directory. */
export class AlreadyRunningError extends Error {
  constructor(
    readonly pid: number,
    readonly webhookUrl: string | undefined,
    stateDir: string,
  ) {
    const port = webhookUrl === undefined ? undefined : new URL(webhookUrl).port;
    super(
      (port !== undefined ? `already running: the local stack (pid ${pid}) answers on port ${port}` : `already starting: the local stack (pid ${pid}) is still starting`) +
        ` with state dir ${stateDir}. Stop it first (Ctrl-C in its terminal, or kill -TERM ${pid}), or start another with its own LOCAL_STATE_DIR and PORT=0`,
    );
    this.name = 'AlreadyRunningError';
  }
}

async function answers(webhookUrl: string): Promise<boolean> {
  try {
    await httpGetStatus(webhookUrl);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes this process the state directory's local stack: creates the pid file
 * exclusively (two starts at once cannot both win). An existing file whose stack
 * is ours, alive and answering, or alive and started less than `startingGraceMs`
 * ago without an address yet, is a refusal (AlreadyRunningError); anything else
 * is what a crashed or stuck run left, which is stopped and replaced.
 */
export async function claimPidFile(file: string, options: { readonly stateDir: string; readonly startingGraceMs: number; readonly log: (message: string) => void }): Promise<void> {
  const startedAt = new Date().toISOString();
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(file, `${JSON.stringify({ startedAt, processes: [localStackRecord(process.pid)] } satisfies PidFileContent, null, 2)}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const content = readPidFile(file);
    const stack = content?.processes?.find((record) => record.role === localStackRecord(0).role);
    if (content !== undefined && stack !== undefined && isOurs(stack)) {
      if (content.webhookUrl !== undefined && (await answers(content.webhookUrl))) throw new AlreadyRunningError(stack.pid, content.webhookUrl, options.stateDir);
      const age = Date.now() - Date.parse(content.startedAt);
      if (content.webhookUrl === undefined && age < options.startingGraceMs) throw new AlreadyRunningError(stack.pid, undefined, options.stateDir);
      options.log(`the local stack (pid ${stack.pid}) recorded in ${file} is alive but not answering: stopping it`);
    }
    await cleanStalePidFile(file, options.log);
  }
}

/** Stops the processes a previous run recorded (if still ours) and removes the file. Returns what it stopped. */
export async function cleanStalePidFile(file: string, log: (message: string) => void): Promise<PidRecord[]> {
  const content = readPidFile(file);
  const stopped: PidRecord[] = [];
  if (content !== undefined) {
    for (const record of content.processes ?? []) {
      if (!isOurs(record)) continue;
      log(`stopping ${record.role} (pid ${record.pid}) left by a previous run`);
      try {
        process.kill(record.pid, 'SIGTERM');
      } catch {
        continue;
      }
      stopped.push(record);
    }
    const deadline = Date.now() + 5000;
    while (stopped.some((record) => isAlive(record.pid)) && Date.now() < deadline) await sleep(100);
    for (const record of stopped) {
      if (isAlive(record.pid) && isOurs(record)) process.kill(record.pid, 'SIGKILL');
    }
  }
  rmSync(file, { force: true });
  return stopped;
}
