/**
 * `npm start` as a developer runs it, through npm itself: a bad environment
 * value stops it at once, a second start in the same state directory refuses
 * while the first answers, and a signal to the npm process stops every process
 * the stack started. Each stack here has its own state directory, apart from the
 * suite's shared stack.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { isAlive, readPidFile, type PidFileContent } from '../../local/pid-file';
import { startStackChild, type StackChild } from '../../local/stack-child';
import { startTimeoutMs } from '../../local/startup-wait';
import { E2E_ROOT, REPO_ROOT } from './support/context';
import { runCommand } from './support/cli';
import { waitFor } from './support/stack';

const NPM_START = ['npm', 'start'] as const;
/** The start's own wait follows progress and has its cap; this only backs it up. */
const START_HOOK_TIMEOUT_MS = 2 * startTimeoutMs() + 60_000;

jest.setTimeout(120_000);

function stackEnv(stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    LOCAL_STATE_DIR: stateDir,
    LOCAL_CACHE_DIR: path.join(REPO_ROOT, '.local'),
    POWERTOOLS_LOG_LEVEL: 'WARN',
    ...extra,
  };
  // The developer's own shell: no recording, no exit-with-parent from the suite's setup.
  for (const name of Object.keys(env)) if (name.startsWith('AWS_ACCESS_LOG') || name === 'LOCAL_EXIT_WITH_PARENT') delete env[name];
  return env;
}

function newStateDir(): string {
  return mkdtempSync(path.join(E2E_ROOT, 'lifecycle-'));
}

/** The stack's lines on stderr (npm adds its own banner on stdout). */
function stackErrorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('[local]'));
}

describe('npm start', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  describe('with a bad environment value', () => {
    it.each([
      ['PORT', 'abc', 'PORT must be an integer between 0 and 65535, got "abc"'],
      ['PORT', '70000', 'PORT must be an integer between 0 and 65535, got "70000"'],
      ['WEBHOOK_SIGNING_SECRET', '', 'WEBHOOK_SIGNING_SECRET is set but empty'],
      ['WEBHOOK_SIGNING_SECRET', '   ', 'WEBHOOK_SIGNING_SECRET is only whitespace'],
    ])('stops before starting anything, with one line and exit code 2 (%s=%j)', async (name, value, message) => {
      // Prepare
      const stateDir = newStateDir();
      dirs.push(stateDir);

      // Act
      const run = await runCommand(NPM_START, stackEnv(stateDir, { [name]: value }));

      // Assess
      expect(run.code).toBe(2);
      const lines = stackErrorLines(run.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`[local] cannot start: ${message}`);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(existsSync(path.join(stateDir, 'local-stack.pid.json'))).toBe(false);
    });
  });

  describe.each(['SIGTERM', 'SIGINT'] as const)('running, then sent %s through its npm process', (signal) => {
    let stateDir: string;
    let npm: StackChild;
    let recorded: PidFileContent;

    beforeAll(async () => {
      stateDir = newStateDir();
      dirs.push(stateDir);
      npm = await startStackChild({ command: NPM_START, env: stackEnv(stateDir), logFile: path.join(stateDir, 'npm-start.log') });
      const content = readPidFile(path.join(stateDir, 'local-stack.pid.json'));
      if (content === undefined) throw new Error('the running stack wrote no pid file');
      recorded = content;
    }, START_HOOK_TIMEOUT_MS);

    afterAll(async () => {
      // Only if a test failed half-way: stop what this file started, by pid.
      for (const pid of [npm?.child.pid, ...(recorded?.processes ?? []).map((record) => record.pid)]) {
        if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
      }
    });

    it('refuses a second start in the same state directory, naming the running pid and port, and leaves the first answering', async () => {
      // Act
      const second = await runCommand(NPM_START, stackEnv(stateDir));

      // Assess
      const stack = recorded.processes.find((record) => record.role === 'local stack');
      const port = new URL(npm.webhookUrl).port;
      expect(second.code).toBe(1);
      expect(stackErrorLines(second.stderr)).toEqual([
        expect.stringContaining(`[local] already running: the local stack (pid ${stack?.pid}) answers on port ${port}`),
      ]);
      const answer = await fetch(npm.webhookUrl, { method: 'POST', body: '{}' });
      expect(answer.status).toBe(400);
    });

    it('stops the stack, DynamoDB Local and fauxqs, and removes its pid and outputs files', async () => {
      // Prepare
      const pids = recorded.processes.map((record) => record.pid);
      expect(recorded.processes.map((record) => record.role)).toEqual(['local stack', 'DynamoDB Local', 'fauxqs']);
      expect(pids.every(isAlive)).toBe(true);

      // Act
      process.kill(npm.child.pid ?? -1, signal);

      // Assess
      await waitFor(async () => (pids.every((pid) => !isAlive(pid)) && !isAlive(npm.child.pid ?? -1) ? true : undefined), 'every process to exit');
      expect(existsSync(path.join(stateDir, 'local-stack.pid.json'))).toBe(false);
      expect(existsSync(path.join(stateDir, 'outputs.json'))).toBe(false);
    });
  });
});
