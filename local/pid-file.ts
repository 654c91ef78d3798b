/**
 * The local stack records its processes in `.local/local-stack.pid.json`, so a
 * start after a crash can clean up what the crashed run left behind. A recorded
 * process is only signalled when it is still alive AND its command line shows it
 * is ours: pids are reused, and a stranger's process must never be killed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { sleep } from './net';

export interface PidRecord {
  readonly pid: number;
  /** Substrings of the command line that identify the process as ours. */
  readonly markers: readonly string[];
  readonly role: string;
}

export interface PidFileContent {
  readonly startedAt: string;
  readonly processes: readonly PidRecord[];
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

export function writePidFile(file: string, processes: readonly PidRecord[]): void {
  const content: PidFileContent = { startedAt: new Date().toISOString(), processes };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
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
