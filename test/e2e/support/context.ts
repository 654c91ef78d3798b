/**
 * What the e2e global setup hands the tests: the local stack runs as a child
 * process (jest's module loader cannot load fauxqs, which is ESM-only), and its
 * pid, outputs file and secret are recorded for the tests and the teardown.
 *
 * Each jest run gets its own state directory (`.local/e2e/run-<pid>`), named in
 * E2E_RUN_DIR, which the test workers inherit: two runs at once (two terminals,
 * or an engineer and CI) never share or delete each other's stack.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** Beside, not inside, a developer's `npm start` state in `.local/`. */
export const E2E_ROOT = path.join(REPO_ROOT, '.local', 'e2e');
export const RUN_DIR_ENV = 'E2E_RUN_DIR';
export const E2E_SIGNING_SECRET = 'e2e-signing-secret-local-only';
/** `bundles`: the run's stack runs the deployed bundles of a fresh cloud assembly (npm run test:e2e:bundles). */
export const LAMBDA_CODE_ENV = 'E2E_LAMBDA_CODE';

export function e2eLambdaCode(env: NodeJS.ProcessEnv = process.env): 'sources' | 'bundles' {
  return env[LAMBDA_CODE_ENV] === 'bundles' ? 'bundles' : 'sources';
}

export function runDir(): string {
  const dir = process.env[RUN_DIR_ENV];
  if (dir === undefined || dir === '') throw new Error(`${RUN_DIR_ENV} is not set: run the e2e tests through jest (its global setup starts the stack)`);
  return dir;
}

/** Where this run's processes (the stack, each ops CLI) write their recorded AWS calls. */
export function accessLogDir(dir: string = runDir()): string {
  return path.join(dir, 'aws-calls');
}

export function contextFile(dir: string = runDir()): string {
  return path.join(dir, 'context.json');
}

export interface E2eContext {
  readonly pid: number;
  readonly stateDir: string;
  readonly outputsFile: string;
  readonly logFile: string;
  readonly templateFile: string;
  readonly signingSecret: string;
  readonly startupMs: number;
  readonly lambdaCode: 'sources' | 'bundles';
}

export function readContext(): E2eContext {
  return JSON.parse(readFileSync(contextFile(), 'utf8')) as E2eContext;
}
