/** The two SVG charts and the buckets behind them. */
import { clock, deliveriesChart, niceMax, queueAgeChart } from '../../../ops/console/charts';
import { QueueAgeSampler, bucketSecondsFor, bucketStarts, countAttempts } from '../../../ops/lib/console-metrics';
import type { ReceiverAttempt } from '../../../ops/lib/receiver-log';

const FROM = new Date('2026-11-27T10:00:30.000Z');
const TO = new Date('2026-11-27T10:05:00.000Z');

function attempt(at: string, outcome: ReceiverAttempt['outcome']): ReceiverAttempt {
  return { at, outcome, statusCode: 200, message: 'm' };
}

describe('console charts', () => {
  describe('buckets', () => {
    it('covers the window with buckets aligned to the width in UTC', () => {
      expect(bucketStarts(FROM, TO, 60)).toEqual([
        '2026-11-27T10:00:00.000Z',
        '2026-11-27T10:01:00.000Z',
        '2026-11-27T10:02:00.000Z',
        '2026-11-27T10:03:00.000Z',
        '2026-11-27T10:04:00.000Z',
      ]);
    });

    it('widens the buckets with the window: 1 min up to 2 h, then 5 min, 15 min, 1 h', () => {
      const at = (hours: number): number => bucketSecondsFor(new Date(0), new Date(hours * 3_600_000));
      expect([at(2), at(2.5), at(12), at(13), at(48), at(49)]).toEqual([60, 300, 300, 900, 900, 3600]);
    });

    it('counts attempts per bucket and outcome, leaving out those outside the buckets', () => {
      const series = countAttempts(
        [
          attempt('2026-11-27T10:00:40.000Z', 'accepted'),
          attempt('2026-11-27T10:00:59.999Z', 'refused'),
          attempt('2026-11-27T10:04:00.000Z', 'accepted'),
          attempt('2026-11-27T10:05:00.000Z', 'accepted'),
          attempt('2026-11-27T09:59:59.000Z', 'duplicate'),
        ],
        FROM,
        TO,
        60,
      );

      expect(series.counts.accepted).toEqual([1, 0, 0, 0, 1]);
      expect(series.counts.refused).toEqual([1, 0, 0, 0, 0]);
      expect(series.counts.duplicate).toEqual([0, 0, 0, 0, 0]);
    });

    it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
      expect([0, 1, 3, 7, 12, 250, 0.3].map(niceMax)).toEqual([1, 1, 5, 10, 20, 500, 0.5]);
    });
  });

  describe('the deliveries chart', () => {
    it('draws one rect per outcome of each bucket, with a title saying the counts', () => {
      const svg = deliveriesChart(countAttempts([attempt('2026-11-27T10:01:10.000Z', 'accepted'), attempt('2026-11-27T10:01:20.000Z', 'refused')], FROM, TO, 60));

      expect(svg.match(/<rect /g)).toHaveLength(2);
      expect(svg).toContain('class="o-accepted"');
      expect(svg).toContain('class="o-refused"');
      expect(svg).toContain('<title>10:01 UTC: 1 accepted, 1 refused</title>');
      expect(svg).toMatch(/role="img" aria-labelledby=/);
      expect(svg).not.toMatch(/style=/);
    });

    it('draws no bar for an empty window', () => {
      expect(deliveriesChart(countAttempts([], FROM, TO, 60))).not.toContain('<rect');
    });
  });

  describe('the queue age chart', () => {
    it('breaks the line where nothing was measured', () => {
      const svg = queueAgeChart({ buckets: bucketStarts(FROM, TO, 60), bucketSeconds: 60, oldestAgeSeconds: [1, 2, null, 4, 5] });

      expect(svg.match(/<path /g)).toHaveLength(2);
      expect(svg.match(/<circle /g)).toHaveLength(4);
      expect(svg).toContain('10:04 UTC: 5 s');
    });

    it('says so when nothing was measured', () => {
      expect(queueAgeChart({ buckets: ['2026-11-27T10:00:00.000Z'], bucketSeconds: 60, oldestAgeSeconds: [null] })).toContain('No measurement in this window.');
    });
  });

  describe('the local queue sampler', () => {
    it('keeps the largest sample of each minute and skips failed probes', async () => {
      let now = Date.parse('2026-11-27T10:01:05.000Z');
      const ages = [3, 7, null, 2];
      const sampler = new QueueAgeSampler(async () => ages.shift() ?? null, 1000, () => now);

      await sampler.sample();
      await sampler.sample();
      now += 60_000;
      await sampler.sample();
      await sampler.sample();

      expect(sampler.series(FROM, TO, 60).oldestAgeSeconds).toEqual([null, 7, 2, null, null]);
    });

    it('formats clock times in UTC', () => {
      expect(clock('2026-11-27T09:07:00.000Z')).toBe('09:07');
    });
  });
});
