/**
 * The reconciler on the emulators: the provider API simulator of the local
 * stack, `npm run send` (with and without --lose) and `npm run reconcile`, as
 * an operator runs them. Each test sweeps only its own jobs (--job-id), so the
 * tests sharing the stack never see each other's items.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { ARCHIVE_METADATA } from '../../lambda/core/contract';
import { injectSimulatorFault, type SimulatorFault } from '../../ops/lib/simulator-client';
import { runTool } from './support/cli';
import { archivedEntriesFor, connect, getJob, uniqueId, waitFor, type E2eStack } from './support/stack';

jest.setTimeout(120_000);

let stack: E2eStack;

beforeAll(() => {
  stack = connect();
});

afterAll(() => stack.clients.destroy());

async function send(event: string, jobId: string, ...extra: string[]): Promise<void> {
  const run = await runTool('send', [event, '--job-id', jobId, '--outputs', stack.context.outputsFile, ...extra], { WEBHOOK_SIGNING_SECRET: stack.context.signingSecret });
  expect([run.code, run.stderr]).toEqual([0, '']);
}

async function reconcile(...args: string[]): Promise<{ code: number | null; line: string }> {
  const jobIds = args.filter((arg) => !arg.startsWith('--'));
  const flags = args.filter((arg) => arg.startsWith('--'));
  const run = await runTool('reconcile', ['--outputs', stack.context.outputsFile, '--stuck-after', '0', ...flags, ...jobIds.flatMap((id) => ['--job-id', id])]);
  return { code: run.code, line: run.stdout.trim().split('\n').at(-1) ?? '' };
}

async function started(jobId: string): Promise<void> {
  await send('job.started', jobId);
  await waitFor(async () => ((await getJob(stack, jobId))?.status === 'started' ? true : undefined), `${jobId} to open`);
}

function fault(kind: SimulatorFault, jobId: string): Promise<void> {
  const endpoints = stack.outputs.Endpoints!;
  return injectSimulatorFault(endpoints.providerApi!, endpoints.providerApiKey!, kind, 1, jobId);
}

describe('the reconciler on the local stack', () => {
  it('names the provider API simulator and its key in the outputs', () => {
    expect(stack.outputs.Endpoints?.providerApi).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.outputs.Endpoints?.providerApiKey).toEqual(expect.any(String));
  });

  it('repairs a job whose job.completed the provider gave up on, through the queue and the worker, and archives the answer it acted on', async () => {
    // Prepare
    const jobId = uniqueId('job_lost');
    await started(jobId);
    await send('job.completed', jobId, '--lose');

    // Act
    const sweep = await reconcile(jobId);

    // Assess
    expect(sweep).toEqual({ code: 0, line: expect.stringMatching(/^reconcile: checked 1, repaired 1, still open 0, unknown 0, errors 0 \(stuck 1,/) });
    const item = await waitFor(async () => {
      const job = await getJob(stack, jobId);
      return job?.status === 'completed' ? job : undefined;
    }, `${jobId} to complete`);
    expect(item).toMatchObject({ lastOrigin: 'reconcile', lastDeliveryId: `reconcile:${jobId}:completed`, outputUrl: `https://cdn.example.com/out/${jobId}.webm`, creditsUsed: 12 });
    expect(item).not.toHaveProperty('openShard');
    expect(item).not.toHaveProperty('openedAt');
    const [{ key }] = await archivedEntriesFor(stack, `reconcile:${jobId}:completed`);
    const head = await stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.outputs.ArchiveBucketName, Key: key }));
    expect(head.Metadata?.[ARCHIVE_METADATA.origin]).toBe('reconcile');
    expect(head.Metadata).not.toHaveProperty(ARCHIVE_METADATA.signature);
    const body = JSON.parse(await (await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.outputs.ArchiveBucketName, Key: key }))).Body!.transformToString());
    expect(body).toMatchObject({ event: 'job.completed', reconcile: { answer: { id: jobId, status: 'completed' } } });

    // Act: a second sweep finds nothing left to do.
    expect((await reconcile(jobId)).line).toMatch(/^reconcile: checked 0, repaired 0, still open 0, unknown 0, errors 0 \(stuck 0,/);
  });

  it("sweeps with the operator's own credentials with --in-process, as against a deployed stack", async () => {
    // Prepare
    const jobId = uniqueId('job_operator');
    await started(jobId);
    await send('job.failed', jobId, '--lose');

    // Act
    const sweep = await reconcile(jobId, '--in-process');

    // Assess
    expect(sweep).toEqual({ code: 0, line: expect.stringMatching(/^reconcile: checked 1, repaired 1, still open 0, unknown 0, errors 0/) });
    await waitFor(async () => ((await getJob(stack, jobId))?.status === 'failed' ? true : undefined), `${jobId} to fail`);
  });

  it('leaves a job still processing at the provider untouched but for the check it records', async () => {
    // Prepare
    const jobId = uniqueId('job_busy');
    await started(jobId);
    const before = await getJob(stack, jobId);

    // Act
    const sweep = await reconcile(jobId);

    // Assess
    expect(sweep).toEqual({ code: 0, line: expect.stringMatching(/^reconcile: checked 1, repaired 0, still open 1, unknown 0, errors 0/) });
    const after = await getJob(stack, jobId);
    const { reconcileCheckedAt, reconcileProviderStatus, ...rest } = after ?? ({} as Record<string, unknown>);
    expect(rest).toEqual(before);
    expect(reconcileProviderStatus).toBe('processing');
    expect(typeof reconcileCheckedAt).toBe('string');
  });

  it('flags a job the provider does not know, and never guesses its outcome', async () => {
    // Prepare: the webhook arrives, but the simulator never heard of the job.
    const jobId = uniqueId('job_ghost');
    const { signedDelivery, send: post } = await import('./support/stack');
    expect((await post(stack, signedDelivery(stack, 'job.started', { jobId }))).status).toBe(202);
    await waitFor(async () => ((await getJob(stack, jobId))?.status === 'started' ? true : undefined), `${jobId} to open`);

    // Act
    const sweep = await reconcile(jobId);

    // Assess
    expect(sweep.line).toMatch(/^reconcile: checked 1, repaired 0, still open 0, unknown 1, errors 0 \(stuck 1, flagged 1,/);
    expect(await getJob(stack, jobId)).toMatchObject({ status: 'started', reconcileFlag: 'not_found' });
  });

  it.each<[string, SimulatorFault]>([
    ['a 500', { kind: 'status', status: 500 }],
    ['a 429', { kind: 'status', status: 429 }],
    ['a time-out', { kind: 'hang' }],
    ['an answer that is not JSON', { kind: 'bad-json' }],
  ])('leaves the job alone after %s and repairs it on a later sweep', async (_what, kind) => {
    // Prepare
    const jobId = uniqueId('job_fault');
    await started(jobId);
    await send('job.failed', jobId, '--lose');
    await fault(kind, jobId);
    const before = await getJob(stack, jobId);

    // Act
    const first = await reconcile(jobId);

    // Assess
    expect(first).toEqual({ code: 1, line: expect.stringMatching(/^reconcile: checked 1, repaired 0, still open 0, unknown 0, errors 1/) });
    expect(await getJob(stack, jobId)).toEqual(before);

    // Act
    const later = await reconcile(jobId);

    // Assess
    expect(later.line).toMatch(/^reconcile: checked 1, repaired 1,/);
    const item = await waitFor(async () => {
      const job = await getJob(stack, jobId);
      return job?.status === 'failed' ? job : undefined;
    }, `${jobId} to fail`);
    expect(item).toMatchObject({ lastOrigin: 'reconcile', error: { code: 'processing_error' } });
  });

  it('lets replay --verify restore a reconciled job from the archive, unsigned entry and all', async () => {
    // Prepare
    const jobId = uniqueId('job_replayed');
    await started(jobId);
    await send('job.completed', jobId, '--lose');
    const from = new Date(Date.now() - 60_000).toISOString();
    expect((await reconcile(jobId)).line).toMatch(/repaired 1/);
    await waitFor(async () => ((await getJob(stack, jobId))?.status === 'completed' ? true : undefined), `${jobId} to complete`);

    // Act
    const run = await runTool(
      'replay',
      ['--outputs', stack.context.outputsFile, '--from', from, '--to', new Date(Date.now() + 60_000).toISOString(), '--job-id', jobId, '--verify', '--dry-run'],
      { WEBHOOK_SIGNING_SECRET: stack.context.signingSecret },
    );

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`reconcile:${jobId}:completed\\s+job\\.completed\\s+already applied`));
    expect(run.stdout).toMatch(/refused 0/);
  });
});
