import fc from 'fast-check';
import { bodySha256 } from '../../../lambda/core/body-hash';
import { decodeArchiveLine, decodeArchiveLines, encodeArchiveLine, latestAttempt } from '../../../lambda/core/archive/record';
import type { ArchivedDelivery } from '../../../lambda/core/ports';
import { archivedDelivery as delivery } from '../receiver/support/factories';

function decoded(line: string): ArchivedDelivery {
  const result = decodeArchiveLine(line.trimEnd());
  if (!result.ok) throw new Error(result.reason);
  return result.delivery;
}

describe('an archive line', () => {
  it('is one JSON object ending in a newline, ids first and the body last', () => {
    const line = encodeArchiveLine(delivery('{"event":"job.completed"}'));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(Object.keys(JSON.parse(line))).toEqual([
      'v', 'deliveryId', 'event', 'timestamp', 'signature', 'receivedAt', 'attemptAt', 'bodySha256', 'jobId', 'origin', 'encoding', 'body',
    ]);
  });

  it('gives back the exact bytes and signed headers, a byte-order mark and a newline inside the body included', () => {
    const original = delivery('\uFEFF{"note":"line one\nline two","ü":"€"}');
    const line = encodeArchiveLine(original);
    expect(line.slice(0, -1)).not.toContain('\n');
    const back = decoded(line);
    expect(Buffer.from(back.rawBody).equals(Buffer.from(original.rawBody))).toBe(true);
    expect(back).toMatchObject({ event: original.event, deliveryId: 'dlv_1', timestamp: original.timestamp, signature: original.signature, receivedAt: original.receivedAt, origin: 'webhook' });
    expect(bodySha256(back.rawBody)).toBe(original.bodySha256);
  });

  it('carries bytes that are not UTF-8 as base64', () => {
    const bytes = Uint8Array.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const line = encodeArchiveLine(delivery(bytes));
    expect(JSON.parse(line)).toMatchObject({ encoding: 'base64', body: Buffer.from(bytes).toString('base64') });
    expect([...decoded(line).rawBody]).toEqual([...bytes]);
  });

  it('represents a reconciler entry: origin reconcile, no signature', () => {
    const entry = delivery('{"id":"job_8f3a","status":"completed"}', { deliveryId: 'reconcile:job_8f3a:completed', origin: 'reconcile', signature: undefined });
    const back = decoded(encodeArchiveLine(entry));
    expect(back).toMatchObject({ deliveryId: 'reconcile:job_8f3a:completed', origin: 'reconcile' });
    expect(back.signature).toBeUndefined();
  });

  it('round-trips any bytes exactly (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.string({ maxLength: 64 }), (bytes, text) => {
        for (const body of [bytes, new TextEncoder().encode(text)]) {
          const back = decoded(encodeArchiveLine(delivery(body)));
          if (!Buffer.from(back.rawBody).equals(Buffer.from(body))) return false;
        }
        return true;
      }),
    );
  });

  it('is reported with its line number when it cannot be decoded, never skipped', () => {
    const text = `${encodeArchiveLine(delivery('{}'))}not json\n${JSON.stringify({ v: 1, deliveryId: 'x' })}\n\n`;
    expect(decodeArchiveLines(text).map((line) => (line.ok ? 'ok' : `${line.line}: ${line.reason.split(':')[0]}`))).toEqual([
      'ok',
      '2: not JSON',
      expect.stringMatching(/^3: /),
    ]);
  });
});

describe('a line that holds no delivery', () => {
  const valid = (): Record<string, unknown> => JSON.parse(encodeArchiveLine(delivery('{}')));

  it('names every field that is wrong, in one reason', () => {
    const result = decodeArchiveLine(JSON.stringify({ ...valid(), bodySha256: 'A'.repeat(64), jobId: '' }), 7);
    expect(result).toEqual({
      ok: false,
      line: 7,
      reason: 'bodySha256: invalid regex (expected /^[0-9a-f]{64}$/); jobId: invalid min_length (expected >=1)',
    });
  });

  it.each([
    ['a character before it', `x${'a'.repeat(64)}`],
    ['a character after it', `${'a'.repeat(64)}x`],
    ['63 digits', 'a'.repeat(63)],
  ])('refuses a body hash with %s', (_name, hash) => {
    expect(decodeArchiveLine(JSON.stringify({ ...valid(), bodySha256: hash }))).toMatchObject({ ok: false, reason: expect.stringMatching(/^bodySha256: /) });
  });

  it('is a blank one, whitespace only: skipped, and the lines after it keep their numbers', () => {
    const line = encodeArchiveLine(delivery('{}'));
    expect(decodeArchiveLines(`${line}   \n\t\n${line}`).map((entry) => [entry.line, entry.ok])).toEqual([
      [1, true],
      [4, true],
    ]);
  });
});

describe('the entry to trust among several for one delivery', () => {
  it('is the latest attempt (an earlier one may have archived, then failed to enqueue)', () => {
    const first = delivery('{"a":1}', { attemptAt: '2026-11-27T10:00:01.000Z' });
    const retry = delivery('{"a":2}', { attemptAt: '2026-11-27T10:00:31.000Z' });
    expect(latestAttempt(first, retry)).toBe(retry);
    expect(latestAttempt(retry, first)).toBe(retry);
  });
});
