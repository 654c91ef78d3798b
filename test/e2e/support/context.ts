/**
 * What the e2e global setup hands the tests: the local stack runs as a child
 * process (jest's module loader cannot load fauxqs, which is ESM-only), and its
 * pid, outputs file and secret are recorded here for the tests and the teardown.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** Its own state directory, so a developer's `npm start` (in `.local/`) is left alone. */
export const E2E_STATE_DIR = path.join(REPO_ROOT, '.local', 'e2e');
export const CONTEXT_FILE = path.join(E2E_STATE_DIR, 'context.json');
export const STACK_LOG_FILE = path.join(E2E_STATE_DIR, 'stack.log');
export const E2E_SIGNING_SECRET = 'e2e-signing-secret-local-only';

export interface E2eContext {
  readonly pid: number;
  readonly outputsFile: string;
  readonly logFile: string;
  readonly signingSecret: string;
  readonly startupMs: number;
}

export function readContext(): E2eContext {
  return JSON.parse(readFileSync(CONTEXT_FILE, 'utf8')) as E2eContext;
}
