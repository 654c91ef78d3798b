/**
 * Runs an ops CLI as operators do (`node --import tsx ops/<tool>.ts ...`, what
 * `npm run <tool>` runs minus npm's wrapper, plus the call recorder), or any
 * command (`npm start`), and collects its exit code and output.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { OPERATOR } from '../../../local/iam/access-log';
import { recordingEnv } from '../../../local/iam/recording';
import { accessLogDir } from './context';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI_TIMEOUT_MS = 60_000;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly millis: number;
}

export function runTool(tool: 'replay' | 'redrive' | 'send' | 'job' | 'reconcile' | 'events', args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  // Each CLI records its AWS calls as the operator's, for the IAM check after the run.
  return runCommand([process.execPath, '--import', 'tsx', '--import', './local/iam/record-calls.ts', path.join('ops', `${tool}.ts`), ...args], {
    ...process.env,
    ...recordingEnv(accessLogDir(), 'e2e', OPERATOR),
    ...env,
  });
}

/** Runs a command in the repository with exactly this environment and collects its exit code and output. */
export function runCommand(argv: readonly [string, ...string[]], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const started = Date.now();
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} did not finish in ${CLI_TIMEOUT_MS} ms\n${stdout}\n${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, millis: Date.now() - started });
    });
  });
}
