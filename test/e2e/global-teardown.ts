/**
 * Stops the stack the global setup started: by its recorded pid, and only if
 * that pid is still the stack. Then merges the run's recorded AWS calls into
 * one file for the IAM check (`npm run test:iam`, the step after jest in `npm test`).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { readAccessLogs } from '../../local/iam/access-log';
import { E2E_ACCESS_LOGS_FILE, type MergedAccessLogs } from '../../local/iam/check';
import { isAlive, isOurs, localStackRecord } from '../../local/pid-file';
import { RUN_DIR_ENV, accessLogDir, contextFile, readContext } from './support/context';

/** The recorded pid is still the stack (not a recycled pid): its command line says so. */
const isLocalStack = (pid: number): boolean => isOurs(localStackRecord(pid));

export default async function globalTeardown(): Promise<void> {
  if (process.env[RUN_DIR_ENV] === undefined || !existsSync(contextFile())) return;
  const { pid, lambdaCode } = readContext();
  if (pid <= 0 || !isLocalStack(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isLocalStack(pid)) process.kill(pid, 'SIGKILL');
  // The bundles run records nothing: the sources run's calls stay the IAM check's evidence.
  if (lambdaCode === 'bundles') return;
  const merged: MergedAccessLogs = { finishedAt: new Date().toISOString(), logs: readAccessLogs(accessLogDir()) };
  writeFileSync(E2E_ACCESS_LOGS_FILE, `${JSON.stringify(merged)}\n`);
}
