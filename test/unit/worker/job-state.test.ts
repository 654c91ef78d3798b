import { DEFAULTS, EVENT_TYPES } from '../../../lambda/core/contract';
import { JOB_STATUSES, applyToItem, beats, decide, statusOf, type JobEvent, type JobItem } from '../../../lambda/core/job-state';
import { NOW, completed, failed, jobEvent } from './factories';

const normal = { force: false };
const forced = { force: true };

function fold(events: readonly JobEvent[], seed?: JobItem, options = normal): JobItem | undefined {
  return events.reduce<JobItem | undefined>((item, event) => applyToItem(item, event, options, NOW), seed);
}

describe('job state', () => {
  it('lists in JOB_STATUSES exactly the statuses the events set (the job-events stream filter passes these)', () => {
    expect([...JOB_STATUSES].sort()).toEqual(EVENT_TYPES.map(statusOf).sort());
  });

  describe('decide', () => {
    it('applies the first event of a job that has no item yet', () => {
      // Prepare
      const event = jobEvent();

      // Act
      const decision = decide(undefined, event, normal);

      // Assess
      expect(decision).toBe('apply');
    });

    it('calls a delivery already recorded a duplicate', () => {
      // Prepare
      const event = jobEvent();
      const item = fold([event]);

      // Act
      const decision = decide(item, event, normal);

      // Assess
      expect(decision).toBe('duplicate');
    });

    it('calls a late job.started after a terminal event stale', () => {
      // Prepare
      const item = fold([completed()]);

      // Act
      const decision = decide(item, jobEvent({ eventAt: '2026-11-27T09:00:00.000Z' }), normal);

      // Assess
      expect(decision).toBe('stale');
    });

    it('calls a later terminal event with the other status a conflict', () => {
      // Prepare
      const item = fold([completed()]);

      // Act
      const decision = decide(item, failed({ eventAt: '2026-11-27T11:00:00.000Z' }), normal);

      // Assess
      expect(decision).toBe('conflict');
    });

    it('calls a later terminal event with the same status stale', () => {
      // Prepare
      const item = fold([completed()]);

      // Act
      const decision = decide(item, completed({ deliveryId: 'dlv_completed_2', eventAt: '2026-11-27T11:00:00.000Z' }), normal);

      // Assess
      expect(decision).toBe('stale');
    });

    it('calls an earlier-timestamped terminal event with the other status a conflict (the first terminal applied wins)', () => {
      // Prepare
      const item = fold([completed({ eventAt: '2026-11-27T10:06:00.000Z' })]);

      // Act
      const decision = decide(item, failed({ eventAt: '2026-11-27T10:05:00.000Z' }), normal);

      // Assess
      expect(decision).toBe('conflict');
    });

    it('calls an earlier-timestamped terminal event with the same status stale', () => {
      // Prepare
      const item = fold([completed({ eventAt: '2026-11-27T10:06:00.000Z' })]);

      // Act
      const decision = decide(item, completed({ deliveryId: 'dlv_completed_0', eventAt: '2026-11-27T10:05:00.000Z' }), normal);

      // Assess
      expect(decision).toBe('stale');
    });

    it('ignores event times and delivery ids between terminal events', () => {
      // Prepare
      const at = '2026-11-27T10:05:00.000Z';
      const item = fold([completed({ deliveryId: 'b', eventAt: at })]);

      // Act
      const lowerId = decide(item, failed({ deliveryId: 'a', eventAt: at }), normal);
      const higherId = decide(item, failed({ deliveryId: 'c', eventAt: at }), normal);

      // Assess
      expect(lowerId).toBe('conflict');
      expect(higherId).toBe('conflict');
    });

    it('breaks an event-time tie between job.started events by delivery id', () => {
      // Prepare
      const item = fold([jobEvent({ deliveryId: 'b' })]);

      // Act
      const lowerId = decide(item, jobEvent({ deliveryId: 'a' }), normal);
      const higherId = decide(item, jobEvent({ deliveryId: 'c' }), normal);

      // Assess
      expect(lowerId).toBe('stale');
      expect(higherId).toBe('apply');
    });

    it('lets any terminal event replace job.started, even one timestamped before it', () => {
      // Prepare
      const item = fold([jobEvent({ eventAt: '2026-11-27T10:10:00.000Z' })]);

      // Act
      const decision = decide(item, failed({ eventAt: '2026-11-27T10:00:00.000Z' }), normal);

      // Assess
      expect(decision).toBe('apply');
    });

    it('lets a later job.started replace an earlier one', () => {
      // Prepare
      const item = fold([jobEvent()]);

      // Act
      const decision = decide(item, jobEvent({ deliveryId: 'dlv_started_2', eventAt: '2026-11-27T10:01:00.000Z' }), normal);

      // Assess
      expect(decision).toBe('apply');
    });

    it('treats a status the product wrote itself as no winner yet', () => {
      // Prepare
      const item: JobItem = { jobId: 'job_8f3a', status: 'queued', userId: 'user_1' };

      // Act
      const decision = decide(item, jobEvent(), normal);

      // Assess
      expect(decision).toBe('apply');
    });

    it('lets a job.started win over a started status when our bookkeeping is missing', () => {
      // Prepare
      const item: JobItem = { jobId: 'job_8f3a', status: 'started' };

      // Act
      const decision = decide(item, jobEvent(), normal);

      // Assess
      expect(decision).toBe('apply');
    });

    it('treats a terminal status as final even without our bookkeeping', () => {
      // Prepare
      const item: JobItem = { jobId: 'job_8f3a', status: 'completed' };

      // Act
      const decision = decide(item, failed(), normal);

      // Assess
      expect(decision).toBe('conflict');
    });
  });

  describe('applyToItem', () => {
    it('keeps at most historyMaxEntries entries and counts every entry it drops (repeated forced replays)', () => {
      // Prepare
      const winner = completed();
      let item = applyToItem(undefined, winner, normal, NOW);

      // Act
      for (let replay = 0; replay < DEFAULTS.historyMaxEntries + 5; replay += 1) {
        item = applyToItem(item, { ...winner, replay: true }, { force: true }, NOW);
      }

      // Assess
      expect(item.history).toHaveLength(DEFAULTS.historyMaxEntries);
      expect(item.historyDropped).toBe(6);
      expect(item.status).toBe('completed');
    });

    it.each([
      ['a provider delivery', {}, 'webhook'],
      ['a replay', { replay: true }, 'replay'],
      ['a reconciled event', { origin: 'reconcile' as const }, 'reconcile'],
    ])('records the origin of %s that applies as lastOrigin', (_name, overrides, origin) => {
      // Act
      const item = applyToItem(undefined, jobEvent(overrides), normal, NOW);

      // Assess
      expect(item.lastOrigin).toBe(origin);
    });

    it('keeps the winner\'s origin when a later event is ignored', () => {
      // Prepare
      const done = fold([completed({ origin: 'reconcile' })]);

      // Act
      const item = applyToItem(done, failed({ eventAt: '2026-11-27T11:00:00.000Z' }), normal, NOW);

      // Assess
      expect(item.lastOrigin).toBe('reconcile');
    });

    it('never lets a late job.started regress a finished job', () => {
      // Prepare
      const done = fold([completed()]);

      // Act
      const item = applyToItem(done, jobEvent({ eventAt: '2026-11-27T10:10:00.000Z' }), normal, NOW);

      // Assess
      expect(item).toMatchObject({ status: 'completed', lastDeliveryId: 'dlv_completed_1', outputUrl: completed().outputUrl });
      expect(item.history?.map((entry) => entry.outcome)).toEqual(['applied', 'stale']);
    });

    it('keeps the first terminal event and records the conflicting later one', () => {
      // Prepare
      const events = [jobEvent(), completed(), failed({ eventAt: '2026-11-27T10:30:00.000Z' })];

      // Act
      const item = fold(events);

      // Assess
      expect(item).toMatchObject({ status: 'completed', outputUrl: completed().outputUrl, creditsUsed: 12 });
      expect(item?.error).toBeUndefined();
      expect(item?.history?.at(-1)).toMatchObject({ deliveryId: 'dlv_failed_1', outcome: 'conflict', event: 'job.failed' });
      expect(item?.deliveryIds).toEqual(['dlv_started_1', 'dlv_completed_1', 'dlv_failed_1']);
    });

    it('keeps a completed job completed when an earlier-timestamped job.failed arrives after it', () => {
      // Prepare
      const done = fold([jobEvent(), completed({ eventAt: '2026-11-27T10:30:00.000Z' })]);
      const early = failed({ eventAt: '2026-11-27T10:20:00.000Z' });

      // Act
      const decision = decide(done, early, normal);
      const item = applyToItem(done, early, normal, NOW);

      // Assess
      expect(decision).toBe('conflict');
      expect(item).toMatchObject({
        status: 'completed',
        outputUrl: completed().outputUrl,
        creditsUsed: 12,
        lastDeliveryId: 'dlv_completed_1',
        lastEventAt: '2026-11-27T10:30:00.000Z',
        updatedAt: done?.updatedAt,
      });
      expect(item).not.toHaveProperty('error');
      expect(item.history?.at(-1)).toMatchObject({ deliveryId: early.deliveryId, event: 'job.failed', outcome: 'conflict' });
      expect(item.deliveryIds).toEqual(['dlv_started_1', 'dlv_completed_1', 'dlv_failed_1']);
    });

    it('keeps a failed job failed when an earlier-timestamped job.completed arrives after it', () => {
      // Prepare
      const lost = fold([jobEvent(), failed({ eventAt: '2026-11-27T10:30:00.000Z' })]);
      const early = completed({ eventAt: '2026-11-27T10:20:00.000Z' });

      // Act
      const decision = decide(lost, early, normal);
      const item = applyToItem(lost, early, normal, NOW);

      // Assess
      expect(decision).toBe('conflict');
      expect(item).toMatchObject({ status: 'failed', error: failed().error, lastDeliveryId: 'dlv_failed_1' });
      expect(item).not.toHaveProperty('outputUrl');
      expect(item).not.toHaveProperty('creditsUsed');
      expect(item.history?.at(-1)).toMatchObject({ deliveryId: early.deliveryId, event: 'job.completed', outcome: 'conflict' });
    });

    it('keeps the first terminal fields when a same-status terminal event arrives later, recording it stale', () => {
      // Prepare
      const done = fold([completed({ eventAt: '2026-11-27T10:30:00.000Z' })]);
      const other = completed({ deliveryId: 'dlv_completed_2', eventAt: '2026-11-27T10:20:00.000Z', outputUrl: 'https://cdn.example.com/other.webm', creditsUsed: 1 });

      // Act
      const item = applyToItem(done, other, normal, NOW);

      // Assess
      expect(item).toMatchObject({ status: 'completed', outputUrl: completed().outputUrl, creditsUsed: 12, lastDeliveryId: 'dlv_completed_1' });
      expect(item.history?.at(-1)).toMatchObject({ deliveryId: 'dlv_completed_2', outcome: 'stale' });
    });

    it('keeps terminal fields the item already has when the terminal event lacks them', () => {
      // Prepare
      const seed: JobItem = { jobId: 'job_8f3a', status: 'submitted', creditsUsed: 3 };

      // Act
      const item = applyToItem(seed, completed({ creditsUsed: undefined }), normal, NOW);

      // Assess
      expect(item).toMatchObject({ status: 'completed', creditsUsed: 3, outputUrl: completed().outputUrl });
    });

    it('leaves terminal fields alone when a job.started applies', () => {
      // Prepare
      const seed: JobItem = { jobId: 'job_8f3a', creditsUsed: 3 };

      // Act
      const item = applyToItem(seed, jobEvent({ creditsUsed: 99 }), normal, NOW);

      // Assess
      expect(item.creditsUsed).toBe(3);
    });

    it('fills descriptive fields from an ignored event only where the item has none', () => {
      // Prepare
      const done = fold([completed({ model: undefined, inputRef: undefined, outputFormat: 'mov' })]);

      // Act
      const item = applyToItem(done, jobEvent({ model: 'pro', outputFormat: 'webm', inputRef: 'https://in.example.com/v.mp4' }), normal, NOW);

      // Assess
      expect(item).toMatchObject({ model: 'pro', outputFormat: 'mov', inputRef: 'https://in.example.com/v.mp4' });
    });

    it('adds no attribute an ignored event does not carry', () => {
      // Prepare: a finished job without a model, and a late job.started without one either
      const done = fold([completed({ model: undefined })]);

      // Act
      const item = applyToItem(done, jobEvent({ model: undefined }), normal, NOW);

      // Assess
      expect(Object.keys(item)).not.toContain('model');
      expect(item.history?.at(-1)?.outcome).toBe('stale');
    });

    it('changes nothing when the same delivery is applied twice', () => {
      // Prepare
      const once = fold([jobEvent(), completed()]);

      // Act
      const twice = applyToItem(once, completed(), normal, new Date('2026-11-28T00:00:00.000Z'));

      // Assess
      expect(twice).toEqual(once);
    });

    it('keeps the attributes the product owns', () => {
      // Prepare
      const seed: JobItem = { jobId: 'job_8f3a', userId: 'user_1', projectId: 'proj_1', status: 'submitted' };

      // Act
      const item = fold([jobEvent(), completed(), failed()], seed);

      // Assess
      expect(item).toMatchObject({ userId: 'user_1', projectId: 'proj_1', status: 'completed' });
    });

    it('stamps the winner and the time of the change', () => {
      // Act
      const item = applyToItem(undefined, completed({ replay: true }), normal, NOW);

      // Assess
      expect(item).toMatchObject({
        jobId: 'job_8f3a',
        status: 'completed',
        lastEventAt: '2026-11-27T10:05:00.000Z',
        lastDeliveryId: 'dlv_completed_1',
        updatedAt: NOW.toISOString(),
      });
      expect(item.history).toEqual([
        { deliveryId: 'dlv_completed_1', event: 'job.completed', eventAt: '2026-11-27T10:05:00.000Z', outcome: 'applied', at: NOW.toISOString(), replay: true },
      ]);
    });
  });

  describe('forced replay', () => {
    it('re-applies the current winner and records the replay', () => {
      // Prepare
      const item = fold([jobEvent(), completed()]);
      const replay = completed({ replay: true, outputUrl: 'https://cdn.example.com/out/fixed.webm' });

      // Act
      const decision = decide(item, replay, forced);
      const replayed = applyToItem(item, replay, forced, NOW);

      // Assess
      expect(decision).toBe('apply');
      expect(replayed).toMatchObject({ status: 'completed', outputUrl: 'https://cdn.example.com/out/fixed.webm' });
      expect(replayed.history?.at(-1)).toMatchObject({ deliveryId: 'dlv_completed_1', outcome: 'applied', replay: true });
      expect(replayed.deliveryIds).toEqual(['dlv_started_1', 'dlv_completed_1']);
    });

    it('still never regresses a finished job', () => {
      // Prepare
      const item = fold([jobEvent(), completed()]);
      const replay = jobEvent({ replay: true });

      // Act
      const decision = decide(item, replay, forced);
      const replayed = applyToItem(item, replay, forced, NOW);

      // Assess
      expect(decision).toBe('stale');
      expect(replayed.status).toBe('completed');
      expect(replayed.history?.at(-1)).toMatchObject({ deliveryId: 'dlv_started_1', outcome: 'stale', replay: true });
    });

    it('does not let a forced replay of the losing terminal event replace the winner', () => {
      // Prepare
      const loser = failed({ eventAt: '2026-11-27T10:00:00.000Z' });
      const item = fold([jobEvent(), completed({ eventAt: '2026-11-27T10:30:00.000Z' }), loser]);
      const replay = { ...loser, replay: true };

      // Act
      const decision = decide(item, replay, forced);
      const replayed = applyToItem(item, replay, forced, NOW);

      // Assess
      expect(decision).toBe('conflict');
      expect(replayed).toMatchObject({ status: 'completed', outputUrl: completed().outputUrl, lastDeliveryId: 'dlv_completed_1' });
      expect(replayed).not.toHaveProperty('error');
      expect(replayed.history?.slice(-2)).toMatchObject([
        { deliveryId: loser.deliveryId, outcome: 'conflict' },
        { deliveryId: loser.deliveryId, outcome: 'conflict', replay: true },
      ]);
    });

    it('does not let a forced replay of a never-seen terminal event replace the winner', () => {
      // Prepare
      const item = fold([completed({ eventAt: '2026-11-27T10:30:00.000Z' })]);

      // Act
      const decision = decide(item, failed({ eventAt: '2026-11-27T10:00:00.000Z', replay: true }), forced);

      // Assess
      expect(decision).toBe('conflict');
    });

    it('does not let a replayed later terminal event replace the first one', () => {
      // Prepare
      const item = fold([completed(), failed({ eventAt: '2026-11-27T10:30:00.000Z' })]);

      // Act
      const decision = decide(item, failed({ eventAt: '2026-11-27T10:30:00.000Z', replay: true }), forced);

      // Assess
      expect(decision).toBe('conflict');
    });

    it('is only a re-apply for the winner itself, not for an equal-time started of another delivery', () => {
      // Prepare
      const item = fold([jobEvent({ deliveryId: 'b' })]);

      // Act
      const lowerId = beats(item, jobEvent({ deliveryId: 'a', replay: true }), forced);
      const sameId = beats(item, jobEvent({ deliveryId: 'b', replay: true }), forced);

      // Assess
      expect(lowerId).toBe(false);
      expect(sameId).toBe(true);
    });

    it('is the only way the started winner itself beats its own record', () => {
      // Prepare: the item's own bookkeeping, without the delivery id list (so no duplicate guard)
      const item = { ...fold([jobEvent({ deliveryId: 'b' })])!, deliveryIds: [] };

      // Act
      const unforced = beats(item, jobEvent({ deliveryId: 'b' }), normal);
      const later = beats(item, jobEvent({ deliveryId: 'c' }), normal);

      // Assess
      expect(unforced).toBe(false);
      expect(later).toBe(true);
    });
  });
});
