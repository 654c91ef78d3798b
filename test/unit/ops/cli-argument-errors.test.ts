/**
 * Every ops CLI answers bad arguments the same way: one line on stderr that
 * starts with the tool's name, nothing on stdout, exit code 2, and before any
 * I/O (each case also names an outputs file that does not exist, so a tool that
 * read it first would answer "no outputs file" instead). The tools run as the
 * operator runs them: a child process of Node with tsx.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { NOT_RUNNING_HINT } from '../../../ops/lib/cli-usage';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const MISSING_OUTPUTS = ['--outputs', '/nonexistent/outputs.json'];

jest.setTimeout(120_000);

interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function runTool(tool: string, args: readonly string[], env: Record<string, string> = {}): Promise<ToolRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join('ops', `${tool}.ts`), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const TOOLS = readdirSync(path.join(REPO_ROOT, 'ops'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => path.basename(file, '.ts'));

/** A bad value each tool checks itself, and the start of the line it must print. */
const BAD_VALUES: Record<string, { readonly args: readonly string[]; readonly line: RegExp }> = {
  send: { args: ['job.started', '--count', '-1'], line: /^send: --count must be a positive integer, got "-1"/ },
  job: { args: ['job_a', 'job_b'], line: /^job: give exactly one job id/ },
  replay: { args: ['--from', 'tuesday', '--to', '2026-11-27T11:00:00Z'], line: /^replay: --from "tuesday" is not an ISO 8601/ },
  redrive: { args: ['--max', '-1'], line: /^redrive: --max must be a positive integer, got "-1"/ },
  reconcile: { args: ['--stuck-after', 'soon'], line: /^reconcile: --stuck-after must be a positive integer, got "soon"/ },
  events: { args: ['--redrive', '--max', '-1'], line: /^events: --max must be a positive integer, got "-1"/ },
  console: { args: ['--port', '70000'], line: /^console: --port must be at most 65535, got "70000"/ },
};

function expectOneUsageLine(result: ToolRun, line: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(result.stderr).toMatch(line);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
}

describe('the ops CLIs on bad arguments', () => {
  it('covers every tool in ops/', () => {
    expect(Object.keys(BAD_VALUES).sort()).toEqual([...TOOLS].sort());
  });

  it.each(TOOLS)('%s: an unknown option is one line and exit code 2', async (tool) => {
    expectOneUsageLine(await runTool(tool, [...(tool === 'send' ? ['job.started'] : tool === 'job' ? ['job_a'] : []), '--no-such-flag', ...MISSING_OUTPUTS]), new RegExp(`^${tool}: unknown option --no-such-flag`));
  });

  it.each(Object.entries(BAD_VALUES))('%s: a bad value is one line and exit code 2, before the outputs file is read', async (tool, { args, line }) => {
    expectOneUsageLine(await runTool(tool, [...args, ...MISSING_OUTPUTS]), line);
  });

  it('send: a flag without its value names the flag, in the same style', async () => {
    expectOneUsageLine(await runTool('send', ['job.started', '--job-id']), /^send: --job-id needs a value/);
  });

  it('send: an unusable signing secret is a usage error, not a run', async () => {
    expectOneUsageLine(await runTool('send', ['job.started', ...MISSING_OUTPUTS], { WEBHOOK_SIGNING_SECRET: ' padded ' }), /^send: WEBHOOK_SIGNING_SECRET has leading or trailing whitespace/);
  });
});

describe('the ops CLIs when nothing listens', () => {
  it('send says the local stack may not be running, and exits 1 (an operational failure, not a usage error)', async () => {
    // Prepare: a loopback port that was just free, now closed.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: bound } = server.address() as { port: number };
        server.close(() => resolve(bound));
      });
    });

    // Act
    const result = await runTool('send', ['job.started', '--url', `http://127.0.0.1:${port}/webhooks`]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ECONNREFUSED');
    expect(result.stdout).toContain(NOT_RUNNING_HINT);
  });
});
