/**
 * Constant-time comparison, checked structurally rather than with a stopwatch:
 * every well-formed signature reaches exactly one `crypto.timingSafeEqual` per
 * secret version over two full 32-byte digests, the answer is whatever that
 * call says, and no other byte comparison (Buffer#equals, Buffer.compare,
 * string equality on the digests) takes part. Malformed headers are refused by
 * their shape alone, which depends only on what the sender sent, never on the
 * secret.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import { computeSignature, verifySignature, verifyWithSecrets } from '../../../lambda/core/signature';

const SECRET = 'whsec_timing_0123456789';
const PREVIOUS = 'whsec_timing_previous_987';
const TIMESTAMP = '2026-11-27T10:00:00.000Z';
const NOW = new Date('2026-11-27T10:00:00.000Z');
const BODY = '{"event":"job.completed","data":{"job_id":"job_1","output_url":"https://cdn.example.com/o.webm"}}';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

let timingSafeEqual: jest.SpiedFunction<typeof crypto.timingSafeEqual>;
let bufferEquals: jest.SpiedFunction<typeof Buffer.prototype.equals>;
let bufferCompare: jest.SpiedFunction<typeof Buffer.compare>;

beforeEach(() => {
  timingSafeEqual = jest.spyOn(crypto, 'timingSafeEqual');
  bufferEquals = jest.spyOn(Buffer.prototype, 'equals');
  bufferCompare = jest.spyOn(Buffer, 'compare');
});

afterEach(() => {
  jest.restoreAllMocks();
});

function comparedBuffers(): [Buffer, Buffer][] {
  return timingSafeEqual.mock.calls.map(([a, b]) => [Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array)]);
}

describe('signature comparison', () => {
  describe('for a well-formed signature that does not match', () => {
    it('compares the full 32-byte digests once with timingSafeEqual, and nothing else', () => {
      fc.assert(
        fc.property(hex64, fc.string({ maxLength: 200 }), (hex, body) => {
          timingSafeEqual.mockClear();
          bufferEquals.mockClear();
          bufferCompare.mockClear();
          fc.pre(`sha256=${hex}` !== computeSignature(SECRET, TIMESTAMP, body));

          expect(verifySignature(SECRET, TIMESTAMP, body, `sha256=${hex}`)).toBe(false);

          const calls = comparedBuffers();
          expect(calls).toHaveLength(1);
          expect(calls[0][0]).toHaveLength(32);
          expect(calls[0][1]).toHaveLength(32);
          expect(bufferEquals).not.toHaveBeenCalled();
          expect(bufferCompare).not.toHaveBeenCalled();
        }),
        { numRuns: 200 },
      );
    });

    it('does the same work whether the first or the last byte differs (no early exit)', () => {
      const valid = computeSignature(SECRET, TIMESTAMP, BODY);
      const hex = valid.slice('sha256='.length);
      const flip = (digit: string): string => (digit === '0' ? '1' : '0');
      const firstDiffers = `sha256=${flip(hex[0])}${hex.slice(1)}`;
      const lastDiffers = `sha256=${hex.slice(0, -1)}${flip(hex.at(-1) as string)}`;

      expect(verifySignature(SECRET, TIMESTAMP, BODY, firstDiffers)).toBe(false);
      expect(verifySignature(SECRET, TIMESTAMP, BODY, lastDiffers)).toBe(false);

      const [first, last] = comparedBuffers();
      expect(first.map((buffer) => buffer.length)).toEqual([32, 32]);
      expect(last.map((buffer) => buffer.length)).toEqual([32, 32]);
      // The same expected digest both times: only the attacker-chosen bytes differ.
      expect(first[0].equals(last[0])).toBe(true);
    });

    it('tries AWSPREVIOUS with a second constant-time comparison, not a shortcut', () => {
      const signing = { current: { value: SECRET, createdAt: NOW }, previous: { value: PREVIOUS, createdAt: new Date(0) } };
      const wrong = computeSignature('someone-else', TIMESTAMP, BODY);

      expect(verifyWithSecrets(signing, TIMESTAMP, BODY, wrong, { now: NOW })).toEqual({ valid: false });

      expect(comparedBuffers().map((pair) => pair.map((buffer) => buffer.length))).toEqual([
        [32, 32],
        [32, 32],
      ]);
    });
  });

  describe('the decision', () => {
    it('is exactly what timingSafeEqual answers: no other comparison can accept or refuse', () => {
      const valid = computeSignature(SECRET, TIMESTAMP, BODY);
      const wrong = computeSignature('someone-else', TIMESTAMP, BODY);

      timingSafeEqual.mockReturnValue(true);
      expect(verifySignature(SECRET, TIMESTAMP, BODY, wrong)).toBe(true);
      timingSafeEqual.mockReturnValue(false);
      expect(verifySignature(SECRET, TIMESTAMP, BODY, valid)).toBe(false);
    });
  });

  describe('for a malformed header', () => {
    const malformed = fc.oneof(
      fc.string({ maxLength: 100 }),
      hex64.map((hex) => `sha256=${hex.toUpperCase()}`),
      hex64.map((hex) => `sha256=${hex.slice(0, 62)}`),
      hex64.map((hex) => `sha256=${hex}00`),
      hex64.map((hex) => `sha1=${hex}`),
      hex64.map((hex) => hex),
      hex64.map((hex) => `sha256=${hex.slice(0, 63)}g`),
    );

    it('returns false without throwing and without comparing any bytes', () => {
      fc.assert(
        fc.property(malformed, (signature) => {
          fc.pre(!/^sha256=[0-9a-f]{64}$/.test(signature));
          timingSafeEqual.mockClear();

          expect(verifySignature(SECRET, TIMESTAMP, BODY, signature)).toBe(false);

          // Refusing by shape needs no comparison, and a length mismatch never reaches timingSafeEqual (which would throw).
          expect(timingSafeEqual).not.toHaveBeenCalled();
        }),
        { numRuns: 300 },
      );
    });
  });
});
