import { METRIC, OPEN_JOBS_INDEX } from '../../../lambda/core/contract';
import { openJobShard } from '../../../lambda/core/reconcile/open-jobs';
import type { ProviderLookup } from '../../../lambda/core/reconcile/ports';
import { formatSweepSummary, runSweep } from '../../../lambda/core/reconcile/sweep';
import { processBatch } from '../../../lambda/core/worker';
import { queueMessageBody } from '../../../lambda/core/queue-message';
import { FakeClock, FakeJobApi, InMemoryJobsTable, T0, answer, sweepConfig, sweepPorts, type Recorded } from './support';

const HOUR = 60 * 60 * 1000;

/** Runs the worker over what the sweep enqueued, as the queue would. */
async function deliver(table: InMemoryJobsTable, recorded: Recorded, clock: FakeClock): Promise<void> {
  await processBatch(
    recorded.messages.map((message, index) => ({ messageId: String(index), body: queueMessageBody(message) })),
    { jobStore: table, archive: recorded.archive, loggerFor: () => ({ info: () => {}, warn: () => {}, error: () => {} }), count: () => {}, now: clock.now },
  );
}

describe('a reconciler sweep', () => {
  describe('finding stuck jobs', () => {
    it('queries every shard, pages through each, and counts only jobs open longer than stuckAfter', async () => {
      // Prepare: 40 stuck jobs (several per shard, so pages of 2 run out), 5 recent ones.
      const table = new InMemoryJobsTable(2);
      for (let i = 0; i < 40; i += 1) table.open(`job_stuck_${i}`, 3);
      for (let i = 0; i < 5; i += 1) table.open(`job_recent_${i}`, 1);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock);

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      expect(table.queries.map((q) => q.shard).sort((a, b) => a - b)).toEqual(Array.from({ length: OPEN_JOBS_INDEX.shards }, (_, i) => i));
      expect(new Set(table.queries.map((q) => q.openedBefore))).toEqual(new Set([new Date(T0.getTime() - 2 * HOUR).toISOString()]));
      const busiest = table.queries.reduce((a, b) => (a.pages > b.pages ? a : b));
      expect(busiest.pages).toBeGreaterThan(1);
      expect(summary.stuck).toBe(40);
      expect(recorded.metrics[METRIC.stuckJobs]).toBe(40);
    });

    it('only detects and alarms without a provider API key: no call, no write, no message', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_a', 3);
      table.open('job_b', 30);
      const before = table.snapshot();
      const { ports, recorded } = sweepPorts(table, new FakeClock());

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      expect(summary).toMatchObject({ detectOnly: true, stuck: 2, checked: 0, repaired: 0, skipped: 2 });
      expect(recorded.metrics).toMatchObject({ [METRIC.stuckJobs]: 2, [METRIC.reconcileErrors]: 0 });
      expect(recorded.messages).toEqual([]);
      expect(table.snapshot()).toBe(before);
      expect(formatSweepSummary(summary)).toMatch(/^reconcile: checked 0, repaired 0, still open 0, unknown 0, errors 0 \(stuck 2, flagged 0, skipped 2, detect only: no provider API key\)/);
    });
  });

  describe('acting on the provider answers', () => {
    it('repairs a job whose job.completed was lost: archived without a signature, sent through the queue, applied by the worker', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_lost', 3, { userId: 'user_1' });
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'completed', { credits_used: 9 }));
      const { ports, recorded } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig(), ports);
      await deliver(table, recorded, clock);

      // Assess
      expect(summary).toMatchObject({ checked: 1, repaired: 1, errors: 0 });
      expect(recorded.messages).toEqual([
        expect.objectContaining({ deliveryId: 'reconcile:job_lost:completed', event: 'job.completed', jobId: 'job_lost', origin: 'reconcile' }),
      ]);
      const archived = [...recorded.archive.objects.values()];
      expect(archived).toEqual([expect.objectContaining({ deliveryId: 'reconcile:job_lost:completed', origin: 'reconcile' })]);
      expect(archived[0]).not.toHaveProperty('signature');
      expect(recorded.messages[0].archive.key).toMatch(/^raw\/2026\/11\/27\/12\/reconcile:job_lost:completed\.json$/);
      const item = await table.get('job_lost');
      expect(item).toMatchObject({ status: 'completed', lastOrigin: 'reconcile', creditsUsed: 9, userId: 'user_1', outputUrl: 'https://cdn.example.com/out/job_lost.webm' });
      expect(item).not.toHaveProperty('openShard');
      expect(recorded.metrics).toMatchObject({ [METRIC.stuckJobs]: 0, [METRIC.jobsReconciled]: 1 });
    });

    it('repairs a failed job with the provider error', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_f', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'failed')));

      // Act
      await runSweep(sweepConfig(), ports);
      await deliver(table, recorded, clock);

      // Assess
      expect(await table.get('job_f')).toMatchObject({ status: 'failed', error: { code: 'processing_error', message: 'could not decode' } });
    });

    it.each(['pending', 'created', 'processing', 'rendering'])('leaves a job the provider reports %s open, recording the check', async (status) => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_busy', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, status)));

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      expect(summary).toMatchObject({ checked: 1, repaired: 0, stillOpen: 1 });
      expect(recorded.messages).toEqual([]);
      expect(await table.get('job_busy')).toMatchObject({ status: 'started', reconcileCheckedAt: T0.toISOString(), reconcileProviderStatus: status });
      expect(recorded.metrics[METRIC.stuckJobs]).toBe(1);
    });

    it('flags a job the provider does not know for ops and never asks about it again', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_ghost', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, () => ({ kind: 'not_found' }));
      const { ports, recorded } = sweepPorts(table, clock, api);

      // Act
      const first = await runSweep(sweepConfig(), ports);
      clock.advance(5 * HOUR);
      const second = await runSweep(sweepConfig({ deadline: clock.now().getTime() + 250_000 }), ports);

      // Assess
      expect(first).toMatchObject({ unknown: 1, flagged: 1 });
      expect(second).toMatchObject({ checked: 0, flagged: 1, stuck: 1 });
      expect(api.calls).toHaveLength(1);
      expect(await table.get('job_ghost')).toMatchObject({ status: 'started', reconcileFlag: 'not_found' });
      expect(recorded.metrics).toMatchObject({ [METRIC.stuckJobs]: 1, [METRIC.jobsFlagged]: 1 });
      expect(recorded.messages).toEqual([]);
    });

    it('flags a job still open past giveUpAfter, but repairs one the provider finished', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_ancient_open', 8 * 24);
      table.open('job_ancient_done', 8 * 24);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, jobId.endsWith('done') ? 'completed' : 'processing'));
      const { ports, recorded } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      expect(summary).toMatchObject({ repaired: 1, flagged: 1, stillOpen: 0 });
      expect(await table.get('job_ancient_open')).toMatchObject({ reconcileFlag: 'gave_up', reconcileProviderStatus: 'processing' });
      expect(recorded.messages.map((m) => m.jobId)).toEqual(['job_ancient_done']);
    });

    it.each<[string, ProviderLookup]>([
      ['text that is not JSON', { kind: 'answer', text: 'oops' }],
      ['an answer about another job', answer('job_other', 'completed')],
      ['completed with a script URL', answer('job_x', 'completed', { output_url: 'javascript:alert(1)' })],
      ['a redirect elsewhere', { kind: 'unexpected', detail: 'HTTP 302' }],
    ])('counts %s as an error and changes nothing', async (_what, lookup) => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_x', 3);
      const before = table.snapshot();
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, () => lookup));

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      expect(summary).toMatchObject({ checked: 1, errors: 1, repaired: 0 });
      expect(recorded.messages).toEqual([]);
      expect(recorded.archive.objects.size).toBe(0);
      expect(table.snapshot()).toBe(before);
      expect(recorded.metrics[METRIC.reconcileErrors]).toBe(1);
    });

    it('leaves the job alone when the archive write fails, and repairs it on the next sweep', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_a', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'completed')));
      const put = recorded.archive.put.bind(recorded.archive);
      let failures = 1;
      recorded.archive.put = async (key, delivery) => {
        if (failures-- > 0) throw new Error('S3 is down');
        return put(key, delivery);
      };

      // Act
      const first = await runSweep(sweepConfig(), ports);
      const second = await runSweep(sweepConfig(), ports);

      // Assess
      expect(first).toMatchObject({ errors: 1, repaired: 0 });
      expect(second).toMatchObject({ errors: 0, repaired: 1 });
      expect(recorded.messages).toHaveLength(1);
    });
  });

  describe('asking at a bounded rate', () => {
    it('spaces calls by the configured rate and asks about at most maxJobs, oldest first', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      for (let i = 0; i < 12; i += 1) table.open(`job_${String(i).padStart(2, '0')}`, 3 + i);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig({ maxJobs: 5 }), ports);

      // Assess
      expect(api.calls.map((c) => c.jobId)).toEqual(['job_11', 'job_10', 'job_09', 'job_08', 'job_07']);
      const gaps = api.calls.slice(1).map((c, i) => c.at - api.calls[i].at);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(2000);
      expect(summary).toMatchObject({ checked: 5, skipped: 7 });
    });

    it('backs off on 429 and 5xx (5 s, then up to 10 s, at least Retry-After), recovers on a good answer, and leaves the failed jobs for a later sweep', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      for (let i = 0; i < 6; i += 1) table.open(`job_${i}`, 10 - i);
      const clock = new FakeClock();
      const script: ProviderLookup[] = [
        { kind: 'rate_limited' },
        { kind: 'unavailable', detail: 'HTTP 503' },
        answer('job_2', 'processing'),
        { kind: 'rate_limited', retryAfterMs: 7000 },
        answer('job_4', 'processing'),
        answer('job_5', 'processing'),
      ];
      let n = 0;
      const api = new FakeJobApi(clock, () => script[n++]);
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      const gaps = api.calls.slice(1).map((c, i) => c.at - api.calls[i].at);
      expect(gaps).toEqual([5000, 10_000, 2000, 7000, 2000]);
      expect(summary).toMatchObject({ checked: 6, errors: 3, stillOpen: 3 });
      expect((await table.get('job_0'))?.reconcileCheckedAt).toBeUndefined();
      expect((await table.get('job_1'))?.reconcileCheckedAt).toBeUndefined();
    });

    it('stops asking after three failures in a row', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      for (let i = 0; i < 10; i += 1) table.open(`job_${i}`, 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, () => ({ kind: 'unavailable', detail: 'time-out' }));
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      expect(api.calls).toHaveLength(3);
      expect(summary).toMatchObject({ errors: 3, skipped: 7, stoppedEarly: '3 provider calls failed in a row' });
    });

    it('stops at once when the provider refuses the key', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      for (let i = 0; i < 4; i += 1) table.open(`job_${i}`, 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, () => ({ kind: 'refused', status: 401 }));
      const { ports, recorded } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig(), ports);

      // Assess
      expect(api.calls).toHaveLength(1);
      expect(summary.stoppedEarly).toBe('the provider refused the API key (401)');
      expect(recorded.logs.find((l) => l.level === 'error')?.message).toBe('Provider refused the API key');
    });

    it('starts no call past its time budget', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      for (let i = 0; i < 10; i += 1) table.open(`job_${i}`, 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports } = sweepPorts(table, clock, api);

      // Act: room for calls at 0, 2 and 4 s only.
      const summary = await runSweep(sweepConfig({ deadline: T0.getTime() + 5000 }), ports);

      // Assess
      expect(api.calls).toHaveLength(3);
      expect(summary.stoppedEarly).toBe('time budget spent');
    });
  });

  describe('repeated', () => {
    it('changes nothing when run again at once: no call, no write, no message', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_done', 3);
      table.open('job_busy', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, jobId === 'job_done' ? 'completed' : 'processing'));
      const { ports, recorded } = sweepPorts(table, clock, api);
      await runSweep(sweepConfig(), ports);
      await deliver(table, recorded, clock);
      const after = table.snapshot();
      const calls = api.calls.length;
      const messages = recorded.messages.length;

      // Act
      clock.advance(15 * 60 * 1000);
      const again = await runSweep(sweepConfig({ deadline: clock.now().getTime() + 250_000 }), ports);

      // Assess
      expect(again).toMatchObject({ checked: 0, repaired: 0, stuck: 1, skipped: 1 });
      expect(api.calls).toHaveLength(calls);
      expect(recorded.messages).toHaveLength(messages);
      expect(table.snapshot()).toBe(after);
    });

    it('applies a repair once even when a second sweep re-sends it before the worker ran', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_done', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'completed')));

      // Act: the second sweep runs past recheckAfter, with the first repair still queued.
      await runSweep(sweepConfig(), ports);
      clock.advance(2 * HOUR);
      await runSweep(sweepConfig({ deadline: clock.now().getTime() + 250_000 }), ports);
      await deliver(table, recorded, clock);

      // Assess
      expect(recorded.messages.map((m) => m.deliveryId)).toEqual(['reconcile:job_done:completed', 'reconcile:job_done:completed']);
      const item = await table.get('job_done');
      expect(item?.history?.filter((entry) => entry.deliveryId === 'reconcile:job_done:completed')).toHaveLength(1);
      expect(item?.status).toBe('completed');
    });

    it('asks about a still-open job again only after recheckAfter', async () => {
      // Prepare
      const table = new InMemoryJobsTable();
      table.open('job_busy', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports } = sweepPorts(table, clock, api);

      // Act
      await runSweep(sweepConfig(), ports);
      clock.advance(30 * 60 * 1000);
      await runSweep(sweepConfig({ deadline: clock.now().getTime() + 250_000 }), ports);
      clock.advance(31 * 60 * 1000);
      await runSweep(sweepConfig({ deadline: clock.now().getTime() + 250_000 }), ports);

      // Assess
      expect(api.calls).toHaveLength(2);
      expect(openJobShard('job_busy')).toBe((await table.get('job_busy'))?.openShard);
    });
  });
});

describe('a reconciler sweep, in detail', () => {
  const configAt = (clock: FakeClock, overrides: Parameters<typeof sweepConfig>[0] = {}) => sweepConfig({ deadline: clock.now().getTime() + 250_000, ...overrides });

  describe('choosing whom to ask', () => {
    it('asks the never-checked first (oldest opening first), then the least recently checked', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_checked_late', 10, { reconcileCheckedAt: new Date(T0.getTime() - 2 * HOUR).toISOString() });
      table.open('job_checked_early', 3, { reconcileCheckedAt: new Date(T0.getTime() - 5 * HOUR).toISOString() });
      table.open('job_new_b', 4);
      table.open('job_new_a', 4);
      table.open('job_new_old', 6);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports } = sweepPorts(table, clock, api);

      // Act
      await runSweep(configAt(clock), ports);

      // Assess
      expect(api.calls.map((c) => c.jobId)).toEqual(['job_new_old', 'job_new_a', 'job_new_b', 'job_checked_early', 'job_checked_late']);
    });

    it('skips a job checked exactly recheckAfter ago no longer: only those checked more recently wait', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_due', 3, { reconcileCheckedAt: new Date(T0.getTime() - HOUR - 1).toISOString() });
      table.open('job_on_the_edge', 3, { reconcileCheckedAt: new Date(T0.getTime() - HOUR).toISOString() });
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(configAt(clock), ports);

      // Assess
      expect(api.calls.map((c) => c.jobId)).toEqual(['job_due']);
      expect(summary).toMatchObject({ stuck: 2, checked: 1, skipped: 1 });
    });

    it('asks only about the jobs it is told to, and counts only those', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_a', 3);
      table.open('job_b', 3);
      table.open('job_c', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports, recorded } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(configAt(clock, { onlyJobIds: new Set(['job_b', 'job_unknown']) }), ports);

      // Assess
      expect(api.calls.map((c) => c.jobId)).toEqual(['job_b']);
      expect(summary).toMatchObject({ stuck: 1, checked: 1, stillOpen: 1, skipped: 0 });
      expect(recorded.metrics[METRIC.stuckJobs]).toBe(1);
    });

    it('queries as many shards as it is configured with', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      const { ports } = sweepPorts(table, new FakeClock());

      // Act
      await runSweep(sweepConfig({ shards: 3 }), ports);

      // Assess
      expect(table.queries.map((q) => q.shard).sort()).toEqual([0, 1, 2]);
    });

    it('still asks, without flagging, about a job opened exactly giveUpAfter ago', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_week', 7 * 24);
      const clock = new FakeClock();
      const { ports } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'processing')));

      // Act
      const summary = await runSweep(configAt(clock), ports);

      // Assess
      expect(summary).toMatchObject({ checked: 1, stillOpen: 1, flagged: 0 });
      expect(await table.get('job_week')).not.toHaveProperty('reconcileFlag');
    });

    it('counts a flagged job as flagged, never as skipped or asked', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_flagged', 3, { reconcileFlag: 'not_found' });
      table.open('job_open', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports, recorded } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(configAt(clock), ports);

      // Assess
      expect(api.calls.map((c) => c.jobId)).toEqual(['job_open']);
      expect(summary).toMatchObject({ stuck: 2, flagged: 1, checked: 1, skipped: 0 });
      expect(recorded.metrics).toMatchObject({ [METRIC.jobsFlagged]: 1, [METRIC.stuckJobs]: 2, [METRIC.jobsReconciled]: 0, [METRIC.reconcileErrors]: 0 });
    });
  });

  describe('with a key it could not read', () => {
    it('only detects, and counts the unreadable key as an error', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_a', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock);

      // Act
      const summary = await runSweep(configAt(clock, { apiUnavailable: 'the API key secret could not be read' }), ports);

      // Assess
      expect(summary).toMatchObject({ detectOnly: true, stuck: 1, errors: 1, stoppedEarly: 'the API key secret could not be read' });
      expect(recorded.metrics[METRIC.reconcileErrors]).toBe(1);
      expect(recorded.logs.at(-1)).toMatchObject({ level: 'warn', message: 'Sweep finished' });
      expect(formatSweepSummary(summary)).toBe(
        `reconcile: checked 0, repaired 0, still open 0, unknown 0, errors 1 (stuck 1, flagged 0, skipped 1, detect only, stopped early: the API key secret could not be read) in ${summary.millis} ms`,
      );
    });
  });

  describe('its marks', () => {
    it('counts no still-open job and no flag for a job that closed while it asked', async () => {
      // Prepare: the worker closes both jobs between the index query and the marks
      const table = new InMemoryJobsTable(50);
      table.open('job_busy', 3);
      table.open('job_ghost', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => {
        const item = table.items.get(jobId);
        if (item !== undefined) table.items.set(jobId, { jobId, status: 'completed' });
        return jobId === 'job_busy' ? answer(jobId, 'processing') : { kind: 'not_found' };
      });
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(configAt(clock), ports);

      // Assess
      expect(summary).toMatchObject({ checked: 2, stillOpen: 0, unknown: 1, flagged: 0 });
      expect(table.writes).toBe(0);
    });

    it('marks a repaired job checked, so the next sweep does not ask again before the worker closes it', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_done', 3);
      const clock = new FakeClock();
      const { ports } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'completed')));

      // Act
      await runSweep(configAt(clock), ports);

      // Assess
      expect(await table.get('job_done')).toMatchObject({ status: 'started', reconcileCheckedAt: T0.toISOString(), reconcileProviderStatus: 'completed' });
    });

    it('archives the repair with what replay needs, under the bucket it is configured with', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_done', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'completed')));

      // Act
      await runSweep(configAt(clock, { archiveBucket: 'my-archive' }), ports);

      // Assess
      const [archived] = [...recorded.archive.objects.values()];
      expect(archived).toMatchObject({
        event: 'job.completed',
        deliveryId: 'reconcile:job_done:completed',
        timestamp: T0.toISOString(),
        receivedAt: T0.toISOString(),
        jobId: 'job_done',
        origin: 'reconcile',
      });
      expect(archived.bodySha256).toMatch(/^[0-9a-f]{64}$/);
      expect(recorded.messages[0]).toMatchObject({ timestamp: T0.toISOString(), receivedAt: T0.toISOString(), archive: { bucket: 'my-archive' } });
    });

    it('sends a large repair by reference to the archive, within the inline limit it is given', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_done', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'completed')));

      // Act
      await runSweep(configAt(clock, { inlinePayloadMaxBytes: 16 }), ports);

      // Assess
      expect(recorded.messages[0]).not.toHaveProperty('payload');
    });
  });

  describe('when the provider struggles', () => {
    it('counts failures in a row only: a good answer or a not-found in between starts the count again', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      for (let i = 0; i < 7; i += 1) table.open(`job_${i}`, 10 - i);
      const clock = new FakeClock();
      const script: ProviderLookup[] = [
        { kind: 'unavailable', detail: 'HTTP 503' },
        { kind: 'unavailable', detail: 'HTTP 503' },
        answer('job_2', 'processing'),
        { kind: 'rate_limited' },
        { kind: 'rate_limited' },
        { kind: 'not_found' },
        { kind: 'unavailable', detail: 'time-out' },
      ];
      let n = 0;
      const api = new FakeJobApi(clock, () => script[n++]);
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(configAt(clock), ports);

      // Assess
      expect(api.calls).toHaveLength(7);
      expect(summary).toMatchObject({ errors: 5, stillOpen: 1, unknown: 1, flagged: 1 });
      expect(summary.stoppedEarly).toBeUndefined();
    });

    it('recovers the pace after a not-found', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      for (let i = 0; i < 3; i += 1) table.open(`job_${i}`, 10 - i);
      const clock = new FakeClock();
      const script: ProviderLookup[] = [{ kind: 'rate_limited' }, { kind: 'not_found' }, answer('job_2', 'processing')];
      let n = 0;
      const api = new FakeJobApi(clock, () => script[n++]);
      const { ports } = sweepPorts(table, clock, api);

      // Act
      await runSweep(configAt(clock), ports);

      // Assess
      expect(api.calls.slice(1).map((c, i) => c.at - api.calls[i].at)).toEqual([5000, 2000]);
    });

    it('stops once the pacer wait reaches the time budget', async () => {
      // Prepare: the second call's slot (2 s) is past a 1.5 s budget
      const table = new InMemoryJobsTable(50);
      table.open('job_0', 4);
      table.open('job_1', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig({ deadline: T0.getTime() + 2000 }), ports);

      // Assess
      expect(api.calls.map((c) => c.jobId)).toEqual(['job_0']);
      expect(summary).toMatchObject({ checked: 1, skipped: 1, stoppedEarly: 'time budget spent' });
    });

    it('sleeps no more once a slow call has spent the time budget', async () => {
      // Prepare: the first call takes 1.5 s of a 1 s budget, before the next 2 s slot
      const table = new InMemoryJobsTable(50);
      table.open('job_0', 4);
      table.open('job_1', 3);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => {
        clock.advance(1500);
        return answer(jobId, 'processing');
      });
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig({ deadline: T0.getTime() + 1000 }), ports);

      // Assess
      expect(api.calls.map((c) => c.jobId)).toEqual(['job_0']);
      expect(clock.sleeps).toEqual([]);
      expect(summary.stoppedEarly).toBe('time budget spent');
    });

    it('starts no call at all with a budget already spent', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_0', 4);
      const clock = new FakeClock();
      const api = new FakeJobApi(clock, (jobId) => answer(jobId, 'processing'));
      const { ports } = sweepPorts(table, clock, api);

      // Act
      const summary = await runSweep(sweepConfig({ deadline: T0.getTime() }), ports);

      // Assess
      expect(api.calls).toEqual([]);
      expect(summary).toMatchObject({ checked: 0, stoppedEarly: 'time budget spent' });
    });
  });

  describe('what it logs', () => {
    it('logs each outcome as a fixed message with keys, and the sweep as a warning when anything went wrong', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      const jobs = ['job_refused', 'job_ghost', 'job_down', 'job_odd', 'job_done', 'job_old'];
      jobs.forEach((jobId, i) => table.open(jobId, i === 5 ? 8 * 24 : 10 - i));
      const clock = new FakeClock();
      const lookups: Record<string, ProviderLookup> = {
        job_refused: { kind: 'answer', text: 'oops' },
        job_ghost: { kind: 'not_found' },
        job_down: { kind: 'unavailable', detail: 'HTTP 503' },
        job_odd: { kind: 'unexpected', detail: 'HTTP 302' },
        job_done: answer('job_done', 'completed'),
        job_old: answer('job_old', 'processing'),
      };
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => lookups[jobId]));

      // Act
      const summary = await runSweep(configAt(clock), ports);

      // Assess
      expect(recorded.logs.slice(0, -1)).toEqual([
        { level: 'warn', message: 'Open job flagged for ops', attributes: { jobId: 'job_old', reason: 'gave_up', openedAt: expect.any(String), providerStatus: 'processing' } },
        { level: 'warn', message: 'Provider answer refused', attributes: { jobId: 'job_refused', reason: 'invalid_json', issues: ['answer is not JSON'] } },
        { level: 'warn', message: 'Open job flagged for ops', attributes: { jobId: 'job_ghost', reason: 'not_found', openedAt: expect.any(String) } },
        { level: 'warn', message: 'Provider call failed; the job waits for a later sweep', attributes: { jobId: 'job_down', outcome: 'unavailable', detail: 'HTTP 503' } },
        { level: 'warn', message: 'Provider answer refused', attributes: { jobId: 'job_odd', reason: 'unexpected_answer', detail: 'HTTP 302' } },
        {
          level: 'info',
          message: 'Stuck job repaired from the provider',
          attributes: { jobId: 'job_done', deliveryId: 'reconcile:job_done:completed', event: 'job.completed', openedAt: expect.any(String) },
        },
      ]);
      expect(recorded.logs.at(-1)).toEqual({ level: 'warn', message: 'Sweep finished', attributes: { ...summary } });
      expect(summary).toMatchObject({ checked: 6, repaired: 1, unknown: 1, flagged: 2, errors: 3 });
    });

    it('logs a rate-limited call without a detail', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_a', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, () => ({ kind: 'rate_limited', retryAfterMs: 3000 })));

      // Act
      await runSweep(configAt(clock), ports);

      // Assess
      expect(recorded.logs[0]).toEqual({ level: 'warn', message: 'Provider call failed; the job waits for a later sweep', attributes: { jobId: 'job_a', outcome: 'rate_limited' } });
    });

    it('logs a quiet sweep as info', async () => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_a', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'processing')));

      // Act
      const summary = await runSweep(configAt(clock), ports);

      // Assess
      expect(recorded.logs).toEqual([{ level: 'info', message: 'Sweep finished', attributes: { ...summary } }]);
      expect(summary).not.toHaveProperty('stoppedEarly');
    });

    it.each<[string, unknown, Record<string, unknown>]>([
      ['an error with a cause', new Error('queue down', { cause: new TypeError('socket') }), { errorName: 'Error', errorMessage: 'queue down', causeName: 'TypeError' }],
      ['an error without a cause', new RangeError('too big'), { errorName: 'RangeError', errorMessage: 'too big' }],
      ['an error whose cause is not an error', new Error('odd', { cause: 'text' }), { errorName: 'Error', errorMessage: 'odd' }],
      ['something thrown that is not an error', 'a string', { errorName: 'string' }],
    ])('names %s that stopped a step, and counts it', async (_what, thrown, keys) => {
      // Prepare
      const table = new InMemoryJobsTable(50);
      table.open('job_a', 3);
      const clock = new FakeClock();
      const { ports, recorded } = sweepPorts(table, clock, new FakeJobApi(clock, (jobId) => answer(jobId, 'completed')));
      const failing = {
        ...ports,
        queue: {
          send: async () => {
            throw thrown;
          },
        },
      };

      // Act
      const summary = await runSweep(configAt(clock), failing);

      // Assess
      expect(summary).toMatchObject({ errors: 1, repaired: 0 });
      expect(recorded.logs[0]).toEqual({ level: 'error', message: 'Reconcile step failed; the job waits for a later sweep', attributes: { jobId: 'job_a', ...keys } });
    });
  });

  describe('its summary line', () => {
    const base = { detectOnly: false, stuck: 5, checked: 4, repaired: 1, stillOpen: 1, unknown: 1, flagged: 2, skipped: 1, errors: 1, millis: 42 };

    it('gives every count', () => {
      expect(formatSweepSummary(base)).toBe('reconcile: checked 4, repaired 1, still open 1, unknown 1, errors 1 (stuck 5, flagged 2, skipped 1) in 42 ms');
    });

    it('says why it stopped early', () => {
      expect(formatSweepSummary({ ...base, stoppedEarly: 'time budget spent' })).toBe(
        'reconcile: checked 4, repaired 1, still open 1, unknown 1, errors 1 (stuck 5, flagged 2, skipped 1, stopped early: time budget spent) in 42 ms',
      );
    });
  });
});
