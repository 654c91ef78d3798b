/**
 * The README's demo, as a user runs it: `npm run send` plays the provider against
 * the running local stack and `npm run job` shows the job item the worker built.
 */
import { connect, uniqueId, waitFor, type E2eStack } from './support/stack';
import { runTool, type CliRun } from './support/cli';

jest.setTimeout(120_000);

describe('the provider simulator and the job viewer', () => {
  let stack: E2eStack;
  let common: string[];

  beforeAll(() => {
    stack = connect();
    common = ['--outputs', stack.context.outputsFile, '--secret', stack.context.signingSecret];
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  function answers(run: CliRun): number[] {
    return run.stdout
      .split('\n')
      .filter((line) => /^\d{3} /.test(line))
      .map((line) => Number(line.slice(0, 3)));
  }

  it('takes a job from started to completed and shows it', async () => {
    // Prepare
    const jobId = uniqueId('job_cli');

    // Act
    const started = await runTool('send', ['job.started', '--job-id', jobId, ...common]);
    const completed = await runTool('send', ['job.completed', '--job-id', jobId, ...common]);
    const item = await waitFor(async () => {
      const run = await runTool('job', [jobId, '--outputs', stack.context.outputsFile]);
      if (run.code !== 0) return undefined;
      const parsed = JSON.parse(run.stdout) as { status?: string; outputUrl?: string; history?: unknown[] };
      return parsed.status === 'completed' ? parsed : undefined;
    }, 'the job viewer to show a completed job');

    // Assess
    expect([started.code, completed.code]).toEqual([0, 0]);
    expect([...answers(started), ...answers(completed)]).toEqual([202, 202]);
    expect(item.outputUrl).toMatch(/^https:\/\//);
    expect(item.history).toHaveLength(2);
  });

  it('answers retries of one delivery 202 once, then 200', async () => {
    // Act
    const run = await runTool('send', ['job.completed', '--delivery-id', uniqueId('dlv_cli'), '--count', '3', '--concurrency', '1', ...common]);

    // Assess
    expect(run.code).toBe(0);
    expect(answers(run)).toEqual([202, 200, 200]);
  });

  it('exits non-zero and prints the 401 for a stale timestamp', async () => {
    // Act
    const run = await runTool('send', ['job.completed', '--timestamp', '2020-01-01T00:00:00Z', ...common]);

    // Assess
    expect(run.code).toBe(1);
    expect(answers(run)).toEqual([401]);
    expect(run.stdout).toContain('"reason":"stale_timestamp"');
  });

  it('exits 1 with one line for a job that has no item', async () => {
    // Act
    const run = await runTool('job', [uniqueId('job_missing'), '--outputs', stack.context.outputsFile]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
