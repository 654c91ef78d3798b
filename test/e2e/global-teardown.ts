/** Stops the stack the global setup started: by its recorded pid, and only if that pid is still the stack. */
import { existsSync, readFileSync } from 'node:fs';
import { RUN_DIR_ENV, contextFile, readContext } from './support/context';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isLocalStack(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('local/start');
  } catch {
    // No /proc (macOS): the pid was recorded by this run moments ago.
    return alive(pid);
  }
}

export default async function globalTeardown(): Promise<void> {
  if (process.env[RUN_DIR_ENV] === undefined || !existsSync(contextFile())) return;
  const { pid } = readContext();
  if (pid <= 0 || !alive(pid) || !isLocalStack(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid) && isLocalStack(pid)) process.kill(pid, 'SIGKILL');
}
