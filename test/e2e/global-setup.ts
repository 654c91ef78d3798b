/**
 * Starts the local stack once for the e2e project, as a child process:
 * `node --import tsx local/start.ts` (what `npx tsx` runs, minus npm's wrapper
 * processes, so the recorded pid is the stack itself and a signal reaches it).
 * Its output goes straight to a log file, so nothing here has to keep draining a pipe.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONTEXT_FILE, E2E_SIGNING_SECRET, E2E_STATE_DIR, REPO_ROOT, STACK_LOG_FILE, type E2eContext } from './support/context';

const READY_LINE = /^ready: POST (\S+)$/m;
/** A cold start compiles the DynamoDB Local launcher and synthesizes the CDK app. */
const START_TIMEOUT_MS = 120_000;

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-3000) : '(no log)';
}

export default async function globalSetup(): Promise<void> {
  // Test workers inherit this: the SDK's Node 20 notice is not news in every run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  mkdirSync(E2E_STATE_DIR, { recursive: true });
  rmSync(CONTEXT_FILE, { force: true });
  const started = Date.now();
  const logFd = openSync(STACK_LOG_FILE, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('local', 'start.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      LOCAL_STATE_DIR: E2E_STATE_DIR,
      LOCAL_EXIT_WITH_PARENT: '1',
      WEBHOOK_SIGNING_SECRET: E2E_SIGNING_SECRET,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = `exited with code ${code}, signal ${signal}`;
  });
  child.unref();

  const deadline = started + START_TIMEOUT_MS;
  for (;;) {
    if (exit !== undefined) throw new Error(`local stack ${exit} before it was ready:\n${tail(STACK_LOG_FILE)}`);
    if (READY_LINE.test(readFileSync(STACK_LOG_FILE, 'utf8'))) break;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`local stack not ready after ${START_TIMEOUT_MS} ms:\n${tail(STACK_LOG_FILE)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const context: E2eContext = {
    pid: child.pid ?? -1,
    outputsFile: path.join(E2E_STATE_DIR, 'outputs.json'),
    logFile: STACK_LOG_FILE,
    signingSecret: E2E_SIGNING_SECRET,
    startupMs: Date.now() - started,
  };
  writeFileSync(CONTEXT_FILE, `${JSON.stringify(context, null, 2)}\n`);
  process.stdout.write(`\n[e2e] local stack ready in ${context.startupMs} ms (pid ${context.pid}, log ${path.relative(REPO_ROOT, STACK_LOG_FILE)})\n`);
}
