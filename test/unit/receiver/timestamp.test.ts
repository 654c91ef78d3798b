import { checkTimestamp } from '../../../lambda/core/timestamp';

const NOW = new Date('2026-11-27T10:00:00.000Z');

describe('checkTimestamp', () => {
  describe('when the timestamp is strict ISO 8601 with a zone', () => {
    it.each([
      '2026-11-27T10:00:00Z',
      '2026-11-27T10:00:00.000Z',
      '2026-11-27T10:00:00.123456Z',
      '2026-11-27T11:00:00+01:00',
      '2026-11-27T04:30:00.5-05:30',
    ])('accepts %s', (value) => {
      expect(checkTimestamp(value, NOW).ok).toBe(true);
    });

    it('reports the skew, positive for the past', () => {
      expect(checkTimestamp('2026-11-27T09:59:00Z', NOW)).toMatchObject({ ok: true, skewSeconds: 60 });
    });
  });

  describe('when the timestamp is not strict', () => {
    it.each([
      ['no zone', '2026-11-27T10:00:00'],
      ['a date only', '2026-11-27'],
      ['a space instead of T', '2026-11-27 10:00:00Z'],
      ['epoch seconds', '1795773600'],
      ['an RFC 2822 date', 'Fri, 27 Nov 2026 10:00:00 GMT'],
      ['a compact offset', '2026-11-27T10:00:00+0100'],
      ['an impossible date', '2026-02-30T10:00:00Z'],
      ['an impossible hour', '2026-11-27T24:00:00Z'],
      ['an impossible offset', '2026-11-27T10:00:00+25:00'],
      ['surrounding whitespace', ' 2026-11-27T10:00:00Z'],
      ['a lowercase z', '2026-11-27T10:00:00z'],
      ['an empty string', ''],
      ['nothing', undefined],
    ])('calls %s malformed', (_name, value) => {
      expect(checkTimestamp(value, NOW)).toEqual({ ok: false, reason: 'malformed_timestamp' });
    });
  });

  describe('tolerance', () => {
    it('accepts exactly the tolerance in the past and in the future', () => {
      expect(checkTimestamp('2026-11-27T09:55:00Z', NOW, 300).ok).toBe(true);
      expect(checkTimestamp('2026-11-27T10:05:00Z', NOW, 300).ok).toBe(true);
    });

    it('calls a timestamp just beyond the tolerance in the past stale', () => {
      expect(checkTimestamp('2026-11-27T09:54:59.999Z', NOW, 300)).toMatchObject({ ok: false, reason: 'stale_timestamp' });
    });

    it('calls a timestamp just beyond the tolerance in the future stale too', () => {
      expect(checkTimestamp('2026-11-27T10:05:00.001Z', NOW, 300)).toMatchObject({ ok: false, reason: 'stale_timestamp', skewSeconds: -300.001 });
    });

    it('compares instants, not wall-clock text, across offsets', () => {
      expect(checkTimestamp('2026-11-27T15:04:00+05:00', NOW, 300).ok).toBe(true);
      expect(checkTimestamp('2026-11-27T15:06:00+05:00', NOW, 300).ok).toBe(false);
    });

    it('defaults to 300 seconds', () => {
      expect(checkTimestamp('2026-11-27T09:55:00Z', NOW).ok).toBe(true);
      expect(checkTimestamp('2026-11-27T09:54:59Z', NOW).ok).toBe(false);
    });
  });
});
