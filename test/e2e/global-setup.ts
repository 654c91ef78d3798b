/**
 * Starts the local stack once for the e2e project, as a child process
 * (local/stack-child.ts: its pid is the stack itself, its output goes to a log
 * file, and the wait for it follows its progress).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { isAlive } from '../../local/pid-file';
import { startStackChild } from '../../local/stack-child';
import { E2E_ACCESS_LOGS_FILE } from '../../local/iam/check';
import { OPERATOR } from '../../local/iam/access-log';
import { recordingEnv } from '../../local/iam/recording';
import { E2E_ROOT, E2E_SIGNING_SECRET, REPO_ROOT, RUN_DIR_ENV, accessLogDir, contextFile, e2eLambdaCode, type E2eContext } from './support/context';

/** Run directories of finished runs are kept for their logs until the next run. */
function removeFinishedRuns(): void {
  if (!existsSync(E2E_ROOT)) return;
  for (const name of readdirSync(E2E_ROOT)) {
    const match = /^run-(\d+)$/.exec(name);
    if (match && !isAlive(Number(match[1]))) rmSync(path.join(E2E_ROOT, name), { recursive: true, force: true });
  }
}

export default async function globalSetup(): Promise<void> {
  removeFinishedRuns();
  const lambdaCode = e2eLambdaCode();
  // This run's calls replace the last run's only when it finishes (global-teardown.ts); a bundles run records none.
  if (lambdaCode === 'sources') rmSync(E2E_ACCESS_LOGS_FILE, { force: true });
  const stateDir = path.join(E2E_ROOT, `run-${process.pid}`);
  mkdirSync(stateDir, { recursive: true });
  process.env[RUN_DIR_ENV] = stateDir;

  const logFile = path.join(stateDir, 'stack.log');
  const { child, startupMs } = await startStackChild({
    logFile,
    env: {
      ...process.env,
      PORT: '0',
      LOCAL_STATE_DIR: stateDir,
      // Content-hashed caches are shared with `npm start`: a warm run skips javac and the CDK synth.
      LOCAL_CACHE_DIR: path.join(REPO_ROOT, '.local'),
      LOCAL_EXIT_WITH_PARENT: '1',
      // Always the synthesized template: the tests check the resources against it.
      LOCAL_STACK_TEMPLATE: 'synth',
      WEBHOOK_SIGNING_SECRET: E2E_SIGNING_SECRET,
      ...(lambdaCode === 'bundles'
        ? // The deployed bundles of a fresh cloud assembly, each function in its own process (their calls are not recorded).
          { LOCAL_LAMBDA_CODE: 'bundles', LOCAL_CDK_OUT: path.join(stateDir, 'cdk.out') }
        : // Every AWS call of the handlers, by principal, for the IAM check after the run (npm run test:iam).
          recordingEnv(accessLogDir(stateDir), 'e2e', OPERATOR)),
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    },
    log: (message) => process.stdout.write(`\n[e2e] ${message}\n`),
  });
  child.unref();

  const context: E2eContext = {
    pid: child.pid ?? -1,
    stateDir,
    outputsFile: path.join(stateDir, 'outputs.json'),
    logFile,
    templateFile: path.join(stateDir, 'template.json'),
    signingSecret: E2E_SIGNING_SECRET,
    startupMs,
    lambdaCode,
  };
  writeFileSync(contextFile(stateDir), `${JSON.stringify(context, null, 2)}\n`);
  process.stdout.write(`\n[e2e] local stack (${lambdaCode}) ready in ${context.startupMs} ms (pid ${context.pid}, log ${path.relative(REPO_ROOT, logFile)})\n`);
}
