import {
  ARCHIVE_BATCH_PREFIX_EXPRESSION,
  ARCHIVE_ERROR_PREFIX_EXPRESSION,
  archiveKey,
  archivePrefixesForWindow,
  batchFolder,
  classifyArchiveKey,
} from '../../../lambda/core/archive-key';

/**
 * Firehose's own rendering of the two namespaces its prefixes use here
 * (docs: "Custom Prefixes for Amazon S3 Objects"): `!{timestamp:<pattern>}` is
 * the record's approximate arrival time in UTC through a Java DateTimeFormatter
 * pattern (only yyyy, MM, dd and HH appear in ours), `!{firehose:error-output-type}`
 * the kind of failure.
 */
function renderFirehosePrefix(expression: string, arrival: string, errorOutputType = 'processing-failed'): string {
  const instant = new Date(arrival);
  const pad = (value: number): string => String(value).padStart(2, '0');
  const fields: Record<string, string> = {
    yyyy: String(instant.getUTCFullYear()),
    MM: pad(instant.getUTCMonth() + 1),
    dd: pad(instant.getUTCDate()),
    HH: pad(instant.getUTCHours()),
  };
  return expression
    .replace(/!\{timestamp:([^}]+)\}/g, (_, pattern: string) => pattern.replace(/yyyy|MM|dd|HH/g, (field) => fields[field]))
    .replace(/!\{firehose:error-output-type\}/g, errorOutputType);
}

describe('archiveKey', () => {
  it('groups deliveries under the UTC hour of receipt', () => {
    expect(archiveKey('2026-11-27T10:59:59.999Z', 'dlv_1')).toBe('raw/2026/11/27/10/dlv_1.json');
  });

  it('converts offsets to UTC, crossing the day boundary', () => {
    expect(archiveKey('2026-01-01T00:30:00+01:00', 'dlv:2')).toBe('raw/2025/12/31/23/dlv:2.json');
  });

  it('refuses an unparseable receipt time', () => {
    expect(() => archiveKey('yesterday', 'dlv_1')).toThrow(new RangeError('invalid receivedAt: yesterday'));
  });
});

describe("Firehose's prefixes", () => {
  it('render to exactly the batch folder of the hour the readers list', () => {
    for (const arrival of ['2026-11-27T09:59:59.999Z', '2026-01-01T00:00:00.000Z', '2026-12-31T23:30:00.000Z']) {
      expect(renderFirehosePrefix(ARCHIVE_BATCH_PREFIX_EXPRESSION, arrival)).toBe(batchFolder(arrival));
    }
  });

  it("keep Firehose's error output outside the archive the readers list, one folder per failure kind and hour", () => {
    const rendered = renderFirehosePrefix(ARCHIVE_ERROR_PREFIX_EXPRESSION, '2026-11-27T09:15:00Z', 'format-conversion-failed');
    expect(rendered).toBe('archive-errors/format-conversion-failed/2026/11/27/09/');
    expect(classifyArchiveKey(`${rendered}stream-1-2026-11-27-09-15-00-abc.jsonl.gz`)).toEqual({ kind: 'other' });
  });
});

describe('classifyArchiveKey', () => {
  it("names a per-delivery object's delivery id", () => {
    expect(classifyArchiveKey('raw/2026/11/27/10/dlv_1.json')).toEqual({ kind: 'object', deliveryId: 'dlv_1' });
    expect(classifyArchiveKey('raw/2026/11/27/10/evt.with.dots.json')).toEqual({ kind: 'object', deliveryId: 'evt.with.dots' });
  });

  it("knows Firehose's batched objects by their folder and extension", () => {
    expect(classifyArchiveKey(`${batchFolder('2026-11-27T10:00:00Z')}stream-1-2026-11-27-10-00-00-abc.jsonl.gz`)).toEqual({ kind: 'batch' });
    expect(classifyArchiveKey(`${batchFolder('2026-11-27T10:00:00Z')}notes.json`)).toEqual({ kind: 'other' });
  });

  it('skips what is neither: outside the archive prefix, another extension, a name that is only the extension', () => {
    expect(classifyArchiveKey('elsewhere/2026/11/27/10/dlv_1.json')).toEqual({ kind: 'other' });
    expect(classifyArchiveKey('raw/2026/11/27/10/dlv_1.txt')).toEqual({ kind: 'other' });
    expect(classifyArchiveKey('raw/2026/11/27/10/.json')).toEqual({ kind: 'other' });
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

  it('refuses a window with an unparseable end (either one)', () => {
    expect(() => archivePrefixesForWindow(new Date('nonsense'), new Date('2026-11-27T08:00:00Z'))).toThrow(new RangeError('invalid replay window'));
    expect(() => archivePrefixesForWindow(new Date('2026-11-27T08:00:00Z'), new Date('nonsense'))).toThrow(new RangeError('invalid replay window'));
  });

  it('lists a week as its 168 hours, in order', () => {
    const prefixes = archivePrefixesForWindow(new Date('2026-11-23T00:00:00Z'), new Date('2026-11-29T23:59:59.999Z'));
    expect(prefixes).toHaveLength(168);
    expect(prefixes[0]).toBe('raw/2026/11/23/00/');
    expect(prefixes[167]).toBe('raw/2026/11/29/23/');
    expect(new Set(prefixes).size).toBe(168);
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
