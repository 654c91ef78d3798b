import fc from 'fast-check';
import { createPacer, type PacerOptions } from '../../../lambda/core/reconcile/pacer';

/** A fake clock whose sleep advances time by what was asked plus `overrunMs` (a loaded machine wakes late). */
function fakeTime(overrunMs = 0) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms + overrunMs;
    },
  };
}

function pacer(time: ReturnType<typeof fakeTime>, options: Partial<PacerOptions> = {}) {
  return createPacer({ requestsPerSecond: 0.5, backoffMs: 5000, maxBackoffMs: 10_000, now: time.now, sleep: time.sleep, ...options });
}

describe('the reconciler pacer', () => {
  it.each([0, -1, Number.NaN])('refuses a rate of %p requests per second', (requestsPerSecond) => {
    const time = fakeTime();
    expect(() => pacer(time, { requestsPerSecond })).toThrow(new RangeError(`requestsPerSecond must be > 0, got ${requestsPerSecond}`));
  });

  it('lets the first call start at once', async () => {
    // Prepare
    const time = fakeTime();

    // Act
    await pacer(time).wait();

    // Assess
    expect(time.sleeps).toEqual([]);
  });

  it('spaces calls one slot apart at the configured rate', async () => {
    // Prepare
    const time = fakeTime();
    const subject = pacer(time, { requestsPerSecond: 4 });

    // Act
    for (let i = 0; i < 4; i += 1) await subject.wait();

    // Assess
    expect(subject.intervalMs()).toBe(250);
    expect(time.sleeps).toEqual([250, 250, 250]);
  });

  it('waits only for what is left of the slot, and not at all once it has passed', async () => {
    // Prepare
    const time = fakeTime();
    const subject = pacer(time);
    await subject.wait();

    // Act
    time.advance(1500);
    await subject.wait();
    time.advance(2000);
    await subject.wait();
    time.advance(2500);
    await subject.wait();

    // Assess: 2000 ms slots; the last two calls came at or after their slot
    expect(time.sleeps).toEqual([500]);
  });

  it('counts the next slot from when the call really started when a sleep overran', async () => {
    // Prepare
    const time = fakeTime(300);
    const subject = pacer(time);
    await subject.wait();
    await subject.wait();
    const secondStart = time.now();

    // Act
    await subject.wait();

    // Assess
    expect(time.sleeps).toEqual([2000, 2000]);
    expect(time.now() - secondStart).toBe(2300);
  });

  describe('backing off', () => {
    it('goes to backoffMs first, then doubles up to maxBackoffMs', () => {
      // Prepare
      const subject = pacer(fakeTime(), { backoffMs: 3000, maxBackoffMs: 20_000 });
      const gaps: number[] = [];

      // Act
      for (let i = 0; i < 5; i += 1) {
        subject.backOff();
        gaps.push(subject.intervalMs());
      }

      // Assess
      expect(gaps).toEqual([3000, 6000, 12_000, 20_000, 20_000]);
    });

    it('waits at least Retry-After, within the ceiling', () => {
      // Prepare
      const subject = pacer(fakeTime());

      // Act
      subject.backOff(7000);
      const withRetryAfter = subject.intervalMs();
      subject.recovered();
      subject.backOff(60_000);
      const capped = subject.intervalMs();

      // Assess
      expect(withRetryAfter).toBe(7000);
      expect(capped).toBe(10_000);
    });

    it('doubles a base pace that is already slower than backoffMs, so a back-off always slows down', () => {
      // Prepare: a 10 s base pace, a 5 s backoff, a 60 s ceiling
      const subject = pacer(fakeTime(), { requestsPerSecond: 0.1, backoffMs: 5000, maxBackoffMs: 60_000 });

      // Act
      subject.backOff();
      const first = subject.intervalMs();
      subject.backOff();

      // Assess
      expect(first).toBe(20_000);
      expect(subject.intervalMs()).toBe(40_000);
    });

    it('uses the slower gap for the next slot, and the base pace again after recovering', async () => {
      // Prepare
      const time = fakeTime();
      const subject = pacer(time);
      await subject.wait();

      // Act
      subject.backOff();
      await subject.wait();
      subject.recovered();
      await subject.wait();

      // Assess
      expect(subject.intervalMs()).toBe(2000);
      expect(time.sleeps).toEqual([5000, 2000]);
    });

    it('keeps every gap between the base pace and the ceiling, whatever the answers', () => {
      fc.assert(
        fc.property(
          fc.double({ min: 0.01, max: 100, noNaN: true }),
          fc.array(fc.option(fc.nat({ max: 120_000 }), { nil: undefined }), { maxLength: 20 }),
          fc.array(fc.boolean(), { maxLength: 20 }),
          (requestsPerSecond, retryAfters, recoveries) => {
            // Prepare
            const baseMs = 1000 / requestsPerSecond;
            const maxBackoffMs = Math.max(baseMs, 10_000);
            const subject = pacer(fakeTime(), { requestsPerSecond, maxBackoffMs });

            // Act / Assess
            retryAfters.forEach((retryAfter, i) => {
              if (recoveries[i]) subject.recovered();
              else subject.backOff(retryAfter);
              expect(subject.intervalMs()).toBeGreaterThanOrEqual(recoveries[i] ? baseMs : Math.min(maxBackoffMs, Math.max(baseMs, retryAfter ?? 0)));
              expect(subject.intervalMs()).toBeLessThanOrEqual(maxBackoffMs);
            });
          },
        ),
      );
    });
  });
});
