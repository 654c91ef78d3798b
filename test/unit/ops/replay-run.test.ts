import type { QueueMessage } from '../../../lambda/core/ports';
import { QueueError } from '../../../lambda/core/errors';
import { formatSummary, runReplay } from '../../../ops/lib/replay-run';
import { deliveryEvent, receiverTestbed } from '../receiver/support/factories';
import { FakeJobs, payloadFor, receive, replayArgs, replayDeps, SECRET } from './support';

const DELIVERIES = [
  { deliveryId: 'dlv_1', event: 'job.started' as const, jobId: 'job_a', receivedAt: '2026-11-27T09:59:59.999Z' },
  { deliveryId: 'dlv_2', event: 'job.started' as const, jobId: 'job_a', receivedAt: '2026-11-27T10:00:00.000Z' },
  { deliveryId: 'dlv_3', event: 'job.completed' as const, jobId: 'job_a', receivedAt: '2026-11-27T10:30:00.000Z' },
  { deliveryId: 'dlv_4', event: 'job.failed' as const, jobId: 'job_b', receivedAt: '2026-11-27T11:05:00.000Z' },
  { deliveryId: 'dlv_5', event: 'job.completed' as const, jobId: 'job_c', receivedAt: '2026-11-27T12:00:00.000Z' },
];
const WINDOW = { from: new Date('2026-11-27T10:00:00.000Z'), to: new Date('2026-11-27T12:00:00.000Z') };

function capturingQueue(): { sent: QueueMessage[]; send(message: QueueMessage): Promise<void> } {
  const sent: QueueMessage[] = [];
  return { sent, send: async (message) => void sent.push(message) };
}

describe('a replay run', () => {
  it('lists the window\'s hour prefixes and one on either side, and enqueues what was received inside [from, to)', async () => {
    // Prepare
    const testbed = await receive(DELIVERIES);
    const queue = capturingQueue();
    const deps = replayDeps(testbed, { queue });

    // Act
    const summary = await runReplay(replayArgs(WINDOW), deps);

    // Assess
    expect(deps.listedPrefixes).toEqual(['raw/2026/11/27/09/', 'raw/2026/11/27/10/', 'raw/2026/11/27/11/', 'raw/2026/11/27/12/']);
    expect(queue.sent.map((message) => message.deliveryId).sort()).toEqual(['dlv_2', 'dlv_3', 'dlv_4']);
    expect(queue.sent.every((message) => message.replay === true && message.force === undefined)).toBe(true);
    expect(summary).toMatchObject({ listed: 5, matched: 3, enqueued: 3, skipped: 2, refused: 0, failed: 0 });
    expect(deps.lines.filter((line) => line.startsWith('enqueued '))).toHaveLength(3);
  });

  it('skips, by its exact receipt time, an object listed under an edge hour but outside the window', async () => {
    const testbed = await receive(DELIVERIES);
    const queue = capturingQueue();
    const summary = await runReplay(replayArgs({ ...WINDOW, from: new Date('2026-11-27T10:00:00.001Z') }), replayDeps(testbed, { queue }));
    expect(queue.sent.map((message) => message.deliveryId).sort()).toEqual(['dlv_3', 'dlv_4']);
    expect(summary).toMatchObject({ listed: 5, matched: 2, skipped: 3 });
  });

  it('sends the same message the receiver sent, plus the replay flag', async () => {
    const testbed = await receive(DELIVERIES.slice(2, 3));
    const queue = capturingQueue();
    await runReplay(replayArgs(WINDOW), replayDeps(testbed, { queue }));
    expect(queue.sent).toEqual([{ ...testbed.queue.messages[0], replay: true, origin: 'replay' }]);
  });

  it('applies the job filter and counts the rest as skipped', async () => {
    const testbed = await receive(DELIVERIES);
    const queue = capturingQueue();
    const summary = await runReplay(replayArgs({ ...WINDOW, jobId: 'job_a', event: 'job.completed' }), replayDeps(testbed, { queue }));
    expect(queue.sent.map((message) => message.deliveryId)).toEqual(['dlv_3']);
    expect(summary).toMatchObject({ listed: 5, matched: 1, enqueued: 1, skipped: 4 });
  });

  it('reads only the object named by --delivery-id', async () => {
    const testbed = await receive(DELIVERIES);
    const deps = replayDeps(testbed);
    const summary = await runReplay(replayArgs({ ...WINDOW, deliveryId: 'dlv_3' }), deps);
    expect(deps.gets).toEqual(['raw/2026/11/27/10/dlv_3.json']);
    expect(summary).toMatchObject({ listed: 5, matched: 1, enqueued: 1, skipped: 4 });
  });

  it('marks every message forced with --force', async () => {
    const testbed = await receive(DELIVERIES);
    const queue = capturingQueue();
    await runReplay(replayArgs({ ...WINDOW, force: true }), replayDeps(testbed, { queue }));
    expect(queue.sent.every((message) => message.force === true && message.replay === true)).toBe(true);
  });

  describe('with --verify', () => {
    it('refuses altered and forged objects and sends the rest', async () => {
      // Prepare
      const testbed = await receive(DELIVERIES);
      const key = 'raw/2026/11/27/10/dlv_3.json';
      const original = testbed.archive.objects.get(key);
      if (original === undefined) throw new Error('fixture missing');
      testbed.archive.objects.set(key, { ...original, rawBody: Buffer.from(Buffer.from(original.rawBody).toString().replace('job_a', 'job_z')) });
      const queue = capturingQueue();
      const deps = replayDeps(testbed, { queue, signatureKeys: { kind: 'static', secrets: [SECRET] } });

      // Act
      const summary = await runReplay(replayArgs({ ...WINDOW, verify: true }), deps);

      // Assess
      expect(queue.sent.map((message) => message.deliveryId).sort()).toEqual(['dlv_2', 'dlv_4']);
      expect(summary).toMatchObject({ matched: 3, enqueued: 2, refused: 1 });
      expect(deps.lines).toContainEqual(expect.stringMatching(/^refused raw\/2026\/11\/27\/10\/dlv_3\.json: body sha256 differs/));
    });

    it('refuses everything signed with another secret', async () => {
      const testbed = await receive(DELIVERIES);
      const queue = capturingQueue();
      const summary = await runReplay(replayArgs({ ...WINDOW, verify: true }), replayDeps(testbed, { queue, signatureKeys: { kind: 'static', secrets: ['wrong'] } }));
      expect(queue.sent).toEqual([]);
      expect(summary).toMatchObject({ matched: 3, enqueued: 0, refused: 3 });
    });
  });

  it('counts an object that cannot be read as refused (its receipt time unknown, even in a neighbouring hour)', async () => {
    const testbed = await receive(DELIVERIES);
    const deps = replayDeps(testbed, {
      archive: { get: async () => Promise.reject(new Error('AccessDenied')) },
    });
    const summary = await runReplay(replayArgs(WINDOW), deps);
    expect(summary).toMatchObject({ matched: 5, refused: 5, enqueued: 0 });
  });

  it('counts queue failures and carries on', async () => {
    const testbed = await receive(DELIVERIES);
    let calls = 0;
    const queue = {
      send: async () => {
        calls += 1;
        if (calls === 1) throw new QueueError('enqueue failed (ServiceUnavailable)');
      },
    };
    const summary = await runReplay(replayArgs({ ...WINDOW, concurrency: 1 }), replayDeps(testbed, { queue }));
    expect(summary).toMatchObject({ matched: 3, enqueued: 2, failed: 1 });
    expect(formatSummary(summary)).toMatch(/^replay: listed 5, matched 3, enqueued 2, skipped 2, refused 0, failed 1 in \d+ ms$/);
  });

  it('paces sends with --rate', async () => {
    const testbed = await receive(DELIVERIES);
    const waits: number[] = [];
    const clock = 0;
    await runReplay(
      replayArgs({ ...WINDOW, rate: 2 }),
      replayDeps(testbed, { rateLimiter: { now: () => clock, sleep: async (ms) => void waits.push(ms) } }),
    );
    expect(waits).toEqual([500, 1000]);
  });

  describe('a dry run', () => {
    it('sends nothing and prints each job\'s status beside what the replay would do', async () => {
      // Prepare
      const testbed = await receive(DELIVERIES);
      const queue = capturingQueue();
      const jobs = new FakeJobs(
        new Map([['job_a', { jobId: 'job_a', status: 'completed', lastEventAt: '2026-11-27T10:30:00.000Z', lastDeliveryId: 'dlv_3', deliveryIds: ['dlv_2', 'dlv_3'] }]]),
      );
      const deps = replayDeps(testbed, { queue, jobs });

      // Act
      const summary = await runReplay(replayArgs({ ...WINDOW, dryRun: true }), deps);

      // Assess
      expect(queue.sent).toEqual([]);
      expect(jobs.reads.sort()).toEqual(['job_a', 'job_b']);
      expect(summary).toMatchObject({ dryRun: true, listed: 5, matched: 3, planned: 3, enqueued: 0 });
      expect(deps.lines).toEqual([
        'job job_a: now status completed, last dlv_3 at 2026-11-27T10:30:00.000Z; after replay: completed',
        expect.stringMatching(/dlv_2 {2}job\.started {4}already applied/),
        expect.stringMatching(/dlv_3 {2}job\.completed {2}already applied/),
        'job job_b: now no item; after replay: failed',
        expect.stringMatching(/dlv_4 {2}job\.failed {5}would apply$/),
      ]);
      expect(formatSummary(summary)).toMatch(/^replay \(dry run, nothing changed\): listed 5, matched 3, would enqueue 3, skipped 2, refused 0 in \d+ ms$/);
    });
  });

  describe('over a batched archive (Firehose objects of JSON lines)', () => {
    it('replays each line, its message carrying the payload and naming the batched object', async () => {
      // Prepare
      const testbed = await receive(DELIVERIES, receiverTestbed({ batched: true }));
      const queue = capturingQueue();
      const deps = replayDeps(testbed, { queue });

      // Act
      const summary = await runReplay(replayArgs(WINDOW), deps);

      // Assess
      expect(queue.sent.map((message) => message.deliveryId)).toEqual(['dlv_2', 'dlv_3', 'dlv_4']);
      expect(queue.sent[0]).toMatchObject({ replay: true, payload: expect.anything(), archive: { key: 'raw/2026/11/27/10/batch/local-1-batch.jsonl.gz', batched: true } });
      expect(summary).toMatchObject({ listed: 5, matched: 3, enqueued: 3, skipped: 2, refused: 0 });
    });

    it('sends a delivery archived by two attempts once: the later attempt', async () => {
      // Prepare: the first attempt archives, then fails to enqueue (503); the provider's retry succeeds.
      const testbed = receiverTestbed({ batched: true });
      testbed.queue.failNext();
      const event = deliveryEvent({ event: 'job.started', deliveryId: 'dlv_twice', timestamp: '2026-11-27T10:10:00.000Z', body: payloadFor('job.started', 'job_t', '2026-11-27T10:10:00.000Z') });
      testbed.setNow(new Date('2026-11-27T10:10:00.000Z'));
      expect((await testbed.send(event)).statusCode).toBe(503);
      testbed.setNow(new Date('2026-11-27T10:10:30.000Z'));
      expect((await testbed.send(event)).statusCode).toBe(202);
      const queue = capturingQueue();

      // Act
      const summary = await runReplay(replayArgs(WINDOW), replayDeps(testbed, { queue }));

      // Assess
      expect(testbed.batchArchive?.lines).toHaveLength(2);
      expect(queue.sent.map((message) => message.deliveryId)).toEqual(['dlv_twice']);
      expect(summary).toMatchObject({ listed: 2, matched: 1, enqueued: 1, skipped: 1 });
    });

    it('reads the batched objects for --delivery-id too (a line has no key of its own)', async () => {
      const testbed = await receive(DELIVERIES, receiverTestbed({ batched: true }));
      const deps = replayDeps(testbed);
      const summary = await runReplay(replayArgs({ ...WINDOW, deliveryId: 'dlv_3' }), deps);
      expect(deps.gets.every((key) => key.includes('/batch/'))).toBe(true);
      expect(summary).toMatchObject({ matched: 1, enqueued: 1 });
    });

    it('refuses a line it cannot decode, naming the object and the line', async () => {
      const testbed = await receive(DELIVERIES.slice(2, 3), receiverTestbed({ batched: true }));
      const deps = replayDeps(testbed, { readBatch: async () => [{ ok: false, line: 7, reason: 'not JSON' }] });
      const summary = await runReplay(replayArgs(WINDOW), deps);
      expect(summary).toMatchObject({ listed: 1, matched: 1, refused: 1, enqueued: 0 });
      expect(deps.lines).toContainEqual('refused raw/2026/11/27/10/batch/local-1-batch.jsonl.gz line 7: not JSON');
    });
  });
});
