import fc from 'fast-check';
import { OPEN_JOBS_INDEX } from '../../../lambda/core/contract';
import { applyToItem } from '../../../lambda/core/job-state';
import { openJobAttributes, openJobShard } from '../../../lambda/core/reconcile/open-jobs';
import { NOW, completed, failed, jobEvent } from '../worker/factories';

describe('the open-jobs index keys', () => {
  describe('openJobShard', () => {
    it('gives every job id a stable shard within the fixed range', () => {
      fc.assert(
        fc.property(fc.string({ minLength: 1, maxLength: 256 }), (jobId) => {
          const shard = openJobShard(jobId);
          expect(Number.isInteger(shard) && shard >= 0 && shard < OPEN_JOBS_INDEX.shards).toBe(true);
          expect(openJobShard(jobId)).toBe(shard);
        }),
      );
    });

    it('keeps every job on the shard earlier releases gave it (the shard is stored on open job items)', () => {
      // Known answers: the first four bytes of SHA-256 of the UTF-8 id, modulo 16
      expect(openJobShard('job_8f3a')).toBe(14);
      expect(openJobShard('job_1')).toBe(15);
      expect(openJobShard('é-job')).toBe(15);
    });

    it('spreads sequential job ids evenly over the shards', () => {
      // Act
      const counts = new Array<number>(OPEN_JOBS_INDEX.shards).fill(0);
      for (let i = 0; i < 16_000; i += 1) counts[openJobShard(`job_${i}`)] += 1;

      // Assess: within 15% of the mean on every shard.
      for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(150);
    });
  });

  describe('openJobAttributes (the product opt-in helper)', () => {
    it('gives the shard and the opening time in UTC ISO', () => {
      expect(openJobAttributes('job_8f3a', '2026-11-27T11:00:00+01:00')).toEqual({
        openShard: openJobShard('job_8f3a'),
        openedAt: '2026-11-27T10:00:00.000Z',
      });
      expect(openJobAttributes('job_8f3a', NOW).openedAt).toBe(NOW.toISOString());
    });

    it.each([
      ['an empty job id', '', NOW],
      ['a zoneless time', 'job_1', '2026-11-27T10:00:00'],
      ['no time at all', 'job_1', 'yesterday'],
      ['an invalid date', 'job_1', new Date(Number.NaN)],
    ])('refuses %s', (_what, jobId, openedAt) => {
      expect(() => openJobAttributes(jobId, openedAt)).toThrow(RangeError);
    });

    it('says which argument is wrong', () => {
      expect(() => openJobAttributes('', NOW)).toThrow(new RangeError('openJobAttributes: jobId must be a non-empty string'));
      expect(() => openJobAttributes(42 as unknown as string, NOW)).toThrow(new RangeError('openJobAttributes: jobId must be a non-empty string'));
      expect(() => openJobAttributes('job_1', '2026-11-27T10:00:00')).toThrow(
        new RangeError('openJobAttributes: openedAt must be a valid instant (ISO 8601 with a zone, or a Date)'),
      );
    });

    it('accepts a time with a negative offset', () => {
      expect(openJobAttributes('job_1', '2026-11-27T05:00:00-05:00').openedAt).toBe('2026-11-27T10:00:00.000Z');
    });

    it('refuses a time whose zone-like text is not at its end (read in the machine zone otherwise)', () => {
      expect(() => openJobAttributes('job_1', 'Zone 27 Nov 2026 10:00')).toThrow(RangeError);
    });
  });

  describe('in the job model', () => {
    it('opens a job when its first job.started applies, on its shard, at the event time', () => {
      // Act
      const item = applyToItem(undefined, jobEvent(), { force: false }, NOW);

      // Assess
      expect(item).toMatchObject({ openShard: openJobShard('job_8f3a'), openedAt: jobEvent().eventAt });
    });

    it('keeps the first opening time over a later job.started and over a product opt-in', () => {
      // Prepare
      const optedIn = { jobId: 'job_8f3a', userId: 'u1', ...openJobAttributes('job_8f3a', '2026-11-27T09:00:00Z') };

      // Act
      const first = applyToItem(undefined, jobEvent(), { force: false }, NOW);
      const later = applyToItem(first, jobEvent({ deliveryId: 'dlv_started_2', eventAt: '2026-11-27T10:01:00.000Z' }), { force: false }, NOW);
      const product = applyToItem(optedIn, jobEvent(), { force: false }, NOW);

      // Assess
      expect(later.openedAt).toBe(jobEvent().eventAt);
      expect(product.openedAt).toBe('2026-11-27T09:00:00.000Z');
    });

    it.each([
      ['completed', completed()],
      ['failed', failed()],
    ])('closes a job when it %s, taking the ops flag with the index keys', (_status, terminal) => {
      // Prepare
      const open = { ...applyToItem(undefined, jobEvent(), { force: false }, NOW), reconcileFlag: 'not_found', reconcileCheckedAt: NOW.toISOString() };

      // Act
      const closed = applyToItem(open, terminal, { force: false }, NOW);

      // Assess
      expect(closed).not.toHaveProperty('openShard');
      expect(closed).not.toHaveProperty('openedAt');
      expect(closed).not.toHaveProperty('reconcileFlag');
      expect(closed.reconcileCheckedAt).toBe(NOW.toISOString());
    });

    it('never reopens a finished job on a late job.started', () => {
      // Prepare
      const closed = applyToItem(applyToItem(undefined, jobEvent(), { force: false }, NOW), completed(), { force: false }, NOW);

      // Act
      const late = applyToItem(closed, jobEvent({ deliveryId: 'dlv_started_late', eventAt: '2026-11-27T11:00:00.000Z' }), { force: false }, NOW);

      // Assess
      expect(late).not.toHaveProperty('openShard');
      expect(late.status).toBe('completed');
    });
  });
});
