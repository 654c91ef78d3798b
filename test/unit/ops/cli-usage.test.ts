import { UsageError, parseInstant, parsePositiveNumber, toUsageError } from '../../../ops/lib/cli-usage';
import { createRateLimiter } from '../../../ops/lib/cli-rate-limit';
import { createProgress, renderBar } from '../../../ops/lib/cli-progress';

describe('parseInstant', () => {
  it.each([
    ['2026-11-27T10:00:00Z', '2026-11-27T10:00:00.000Z'],
    ['2026-11-27T10:00Z', '2026-11-27T10:00:00.000Z'],
    ['2026-11-27T10:00:00.123456Z', '2026-11-27T10:00:00.123Z'],
    ['2026-11-27T10:00:00-05:30', '2026-11-27T15:30:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('reads %s as %s', (input, expected) => {
    expect(parseInstant('--from', input).toISOString()).toBe(expected);
  });

  it.each(['2026-11-27 10:00:00Z', '2026-11-27T10:00:00', '2025-02-29', '2026-11-27T24:00:00Z', '2026-11-27T10:00:00+25:00', '1732700000'])(
    'refuses %s',
    (input) => {
      expect(() => parseInstant('--from', input)).toThrow(UsageError);
    },
  );
});

describe('parsePositiveNumber', () => {
  it('returns undefined when the flag is absent', () => {
    expect(parsePositiveNumber('--max', undefined)).toBeUndefined();
  });

  it.each(['', '-1', 'NaN', 'Infinity', '1e400'])('refuses "%s"', (value) => {
    expect(() => parsePositiveNumber('--max', value)).toThrow('--max must be a positive number');
  });
});

describe('toUsageError', () => {
  it('leaves errors that are not about arguments alone', () => {
    expect(toUsageError(new Error('boom'))).toBeUndefined();
  });
});

describe('the rate limiter', () => {
  it('spaces calls evenly across concurrent callers', async () => {
    // Prepare
    let clock = 1000;
    const waits: number[] = [];
    const limiter = createRateLimiter(4, {
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    // Act
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    clock += 2000;
    await limiter.acquire();

    // Assess: 250 ms apart, and idle time is not banked into a burst.
    expect(waits).toEqual([250, 500]);
  });

  it('does not wait without a rate', async () => {
    await expect(createRateLimiter(undefined).acquire()).resolves.toBeUndefined();
  });
});

describe('progress', () => {
  it('draws a bar', () => {
    expect(renderBar(1, 4, 8)).toBe('[##......]  25%');
    expect(renderBar(0, 0, 4)).toBe('[####] 100%');
  });

  it('redraws one line on a terminal', () => {
    const chunks: string[] = [];
    const progress = createProgress({ label: 'replay', total: 2, stream: { isTTY: true, columns: 200, write: (c) => chunks.push(c) > 0 }, intervalMs: 0 });
    progress.update(1, 'enqueued 1');
    progress.finish(2, 'enqueued 2');
    expect(chunks.every((chunk) => chunk.startsWith('\r') || chunk === '\n')).toBe(true);
    expect(chunks.at(-2)).toContain('2/2 enqueued 2');
  });

  it('writes occasional plain lines elsewhere', () => {
    const chunks: string[] = [];
    let clock = 0;
    const progress = createProgress({ label: 'replay', total: 3, stream: { write: (c) => chunks.push(c) > 0 }, now: () => clock });
    progress.update(1, 'a');
    progress.update(2, 'b');
    clock = 5000;
    progress.update(3, 'c');
    progress.finish(3, 'done');
    expect(chunks).toEqual(['replay: 1/3 a\n', 'replay: 3/3 c\n', 'replay: 3/3 done\n']);
  });
});
