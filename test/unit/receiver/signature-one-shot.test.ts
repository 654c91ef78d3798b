/**
 * Small bodies are signed and verified with HMAC-SHA256 built from two one-shot
 * SHA-256 digests (RFC 2104), larger ones with createHmac: both must give
 * createHmac's exact answer for every key length (shorter than, equal to and
 * longer than SHA-256's 64-byte block), any timestamp text, and bodies on either
 * side of the size where the path changes.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import { computeSignature, verifySignature, verifyWithSecrets } from '../../../lambda/core/signature';

function reference(secret: string, timestamp: string, body: Uint8Array): string {
  return `sha256=${crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`${timestamp}.`, 'utf8')).update(body).digest('hex')}`;
}

const ONE_SHOT_MAX = 16 * 1024;

describe('signature: one-shot and streaming paths', () => {
  it('agrees with createHmac for keys of every length and any unicode timestamp', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.uint8Array({ maxLength: 2048 }),
        (secret, timestamp, body) => {
          expect(computeSignature(secret, timestamp, body)).toBe(reference(secret, timestamp, body));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['U+007F, the last one-byte code', '\u007f'],
    ['U+0080, the first two-byte code', '\u0080'],
    ['U+00FF', '\u00ff'],
    ['U+0800, the first three-byte code', '\u0800'],
  ])('encodes a timestamp holding %s as UTF-8, as createHmac does', (_name, char) => {
    const timestamp = `2026-11-27T10:00:00.000Z${char}`;
    const body = Buffer.from('{"event":"job.completed"}');
    expect(computeSignature('whsec_k', timestamp, body)).toBe(reference('whsec_k', timestamp, body));
  });

  it.each([0, 1, 63, 64, 65, 127, 128, 129, 300])('agrees with createHmac for a %i-byte key', (keyBytes) => {
    const secret = 'k'.repeat(keyBytes);
    const body = Buffer.from('{"event":"job.completed"}');
    expect(computeSignature(secret, '2026-11-27T10:00:00.000Z', body)).toBe(reference(secret, '2026-11-27T10:00:00.000Z', body));
  });

  it.each([ONE_SHOT_MAX - 200, ONE_SHOT_MAX - 30, ONE_SHOT_MAX - 25, ONE_SHOT_MAX, ONE_SHOT_MAX + 1, 64 * 1024])(
    'agrees with createHmac and verifies around the path switch (%i-byte body)',
    (bodyBytes) => {
      const body = crypto.randomBytes(bodyBytes);
      const timestamp = '2026-11-27T10:00:00.000+01:00';
      const signature = reference('whsec_switch', timestamp, body);
      expect(computeSignature('whsec_switch', timestamp, body)).toBe(signature);
      expect(verifySignature('whsec_switch', timestamp, body, signature)).toBe(true);
      expect(verifySignature('whsec_other', timestamp, body, signature)).toBe(false);
    },
  );

  it('verifies a body given as a view into a larger buffer by its own bytes only', () => {
    const backing = Buffer.from('xx{"event":"job.started"}yy');
    const body = backing.subarray(2, backing.length - 2);
    const signature = reference('whsec_view', '2026-11-27T10:00:00Z', Buffer.from('{"event":"job.started"}'));
    expect(verifySignature('whsec_view', '2026-11-27T10:00:00Z', body, signature)).toBe(true);
  });

  it('keeps each secret version apart when both are tried in turn', () => {
    const body = Buffer.from('{"data":{"job_id":"job_1"}}');
    const timestamp = '2026-11-27T10:00:00Z';
    const signing = {
      current: { value: 'whsec_new', createdAt: new Date('2026-11-27T08:00:00Z') },
      previous: { value: 'whsec_old', createdAt: new Date(0) },
    };
    const now = new Date('2026-11-27T09:00:00Z');
    for (let i = 0; i < 3; i += 1) {
      expect(verifyWithSecrets(signing, timestamp, body, reference('whsec_old', timestamp, body), { now })).toEqual({ valid: true, version: 'AWSPREVIOUS' });
      expect(verifyWithSecrets(signing, timestamp, body, reference('whsec_new', timestamp, body), { now })).toEqual({ valid: true, version: 'AWSCURRENT' });
    }
  });

  it('refuses a header whose non-ASCII characters alias hex digits in their low byte', () => {
    const body = Buffer.from('{}');
    const valid = reference('whsec_alias', '2026-11-27T10:00:00Z', body);
    // U+0161 has 0x61 ('a') as its low byte: a decoder that truncates would read 'a'.
    const aliased = valid.slice(0, 7) + valid.slice(7).replace(/a/g, '\u0161');
    expect(aliased).not.toBe(valid);
    expect(verifySignature('whsec_alias', '2026-11-27T10:00:00Z', body, aliased)).toBe(false);
  });
});
