import { archiveKey, archivePrefixesForWindow } from '../../../lambda/core/archive-key';

describe('archiveKey', () => {
  it('groups deliveries under the UTC hour of receipt', () => {
    expect(archiveKey('2026-11-27T10:59:59.999Z', 'dlv_1')).toBe('raw/2026/11/27/10/dlv_1.json');
  });

  it('converts offsets to UTC, crossing the day boundary', () => {
    expect(archiveKey('2026-01-01T00:30:00+01:00', 'dlv:2')).toBe('raw/2025/12/31/23/dlv:2.json');
  });

  it('refuses an unparseable receipt time', () => {
    expect(() => archiveKey('yesterday', 'dlv_1')).toThrow(RangeError);
  });
});

describe('archivePrefixesForWindow', () => {
  it('lists every hour touched by the window, both ends included', () => {
    expect(archivePrefixesForWindow(new Date('2026-11-27T22:15:00Z'), new Date('2026-11-28T01:00:00Z'))).toEqual([
      'raw/2026/11/27/22/',
      'raw/2026/11/27/23/',
      'raw/2026/11/28/00/',
      'raw/2026/11/28/01/',
    ]);
  });

  it('gives one prefix for a window inside one hour', () => {
    expect(archivePrefixesForWindow(new Date('2026-11-27T10:01:00Z'), new Date('2026-11-27T10:02:00Z'))).toEqual(['raw/2026/11/27/10/']);
  });

  it('gives nothing when the window ends before it starts', () => {
    expect(archivePrefixesForWindow(new Date('2026-11-27T10:00:00Z'), new Date('2026-11-27T08:00:00Z'))).toEqual([]);
  });

  it('matches the key of every delivery received inside the window', () => {
    const prefixes = archivePrefixesForWindow(new Date('2026-11-27T09:30:00Z'), new Date('2026-11-27T11:30:00Z'));
    const key = archiveKey('2026-11-27T11:29:00Z', 'dlv_9');
    expect(prefixes.some((prefix) => key.startsWith(prefix))).toBe(true);
  });
});
