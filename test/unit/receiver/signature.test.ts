import crypto from 'node:crypto';
import fc from 'fast-check';
import {
  computeSignature,
  isSigningSecretUnset,
  isUsableSecret,
  parseSignatureHeader,
  verifySignature,
  verifyWithSecrets,
} from '../../../lambda/core/signature';

/** The provider's reference verifier, exactly as its webhooks guide writes it. */
function verifyWebhook(rawBody: string, timestamp: string, signature: string | undefined, secret: string): boolean {
  const signed = `${timestamp}.${rawBody}`;
  const digest = crypto.createHmac('sha256', secret).update(signed).digest('hex');
  const expected = `sha256=${digest}`;
  return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature || ''));
}

/** The provider's signing side of the same algorithm. */
function providerSign(rawBody: string, timestamp: string, secret: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

const SECRET = 'whsec_reference_secret';
const OTHER_SECRET = 'whsec_some_other_secret';

describe('signature', () => {
  describe('computeSignature', () => {
    const vectors: { name: string; timestamp: string; body: string }[] = [
      { name: 'a UTC timestamp with milliseconds', timestamp: '2026-11-27T10:00:00.123Z', body: '{"event":"job.started"}' },
      { name: 'a timestamp with a positive offset', timestamp: '2026-11-27T11:30:00+01:30', body: '{"a":1}' },
      { name: 'a timestamp with a negative offset and nanoseconds', timestamp: '2026-11-27T05:00:00.123456789-05:00', body: '{}' },
      { name: 'a unicode body (accents, CJK, emoji)', timestamp: '2026-11-27T10:00:00Z', body: '{"note":"café 背景 🎬 ✓"}' },
      { name: 'an empty body', timestamp: '2026-11-27T10:00:00Z', body: '' },
      { name: 'a body with whitespace and newlines kept as sent', timestamp: '2026-11-27T10:00:00Z', body: '{\n  "a" : 1 ,\r\n "b":[ ]\n}\n' },
    ];

    it.each(vectors)('matches the provider reference for $name', ({ timestamp, body }) => {
      // Prepare
      const expected = providerSign(body, timestamp, SECRET);

      // Act
      const fromString = computeSignature(SECRET, timestamp, body);
      const fromBytes = computeSignature(SECRET, timestamp, Buffer.from(body, 'utf8'));

      // Assess
      expect(fromString).toBe(expected);
      expect(fromBytes).toBe(expected);
      expect(verifyWebhook(body, timestamp, fromBytes, SECRET)).toBe(true);
    });

    it('matches the provider reference over the bytes of a base64-encoded body', () => {
      // Prepare
      const body = '{"data":{"job_id":"job_ü"}}';
      const base64 = Buffer.from(body, 'utf8').toString('base64');

      // Act
      const signature = computeSignature(SECRET, '2026-11-27T10:00:00Z', Buffer.from(base64, 'base64'));

      // Assess
      expect(signature).toBe(providerSign(body, '2026-11-27T10:00:00Z', SECRET));
    });

    it('agrees with the provider reference for any body, timestamp and secret', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme' }), fc.string(), fc.string({ minLength: 1 }), (body, timestamp, secret) => {
          expect(computeSignature(secret, timestamp, Buffer.from(body, 'utf8'))).toBe(providerSign(body, timestamp, secret));
        }),
      );
    });
  });

  describe('verifySignature', () => {
    const timestamp = '2026-11-27T10:00:00.000Z';
    const body = Buffer.from('{"event":"job.completed","data":{"job_id":"job_1"}}', 'utf8');
    const valid = providerSign(body.toString('utf8'), timestamp, SECRET);

    it('accepts the signature the provider computes', () => {
      expect(verifySignature(SECRET, timestamp, body, valid)).toBe(true);
    });

    const rejected: { name: string; signature: string | undefined }[] = [
      { name: 'a missing signature', signature: undefined },
      { name: 'an empty signature', signature: '' },
      { name: 'the bare hex without the sha256= prefix', signature: valid.slice('sha256='.length) },
      { name: 'another prefix', signature: valid.replace('sha256=', 'sha512=') },
      { name: 'uppercase hex', signature: `sha256=${valid.slice(7).toUpperCase()}` },
      { name: 'a digest one character short', signature: valid.slice(0, -1) },
      { name: 'a digest one character long', signature: `${valid}0` },
      { name: 'a doubled digest', signature: `${valid}${valid.slice(7)}` },
      { name: 'non-hex characters', signature: `sha256=${'zz'.repeat(32)}` },
      { name: 'surrounding whitespace', signature: ` ${valid} ` },
      { name: 'a second signature appended with a comma', signature: `${valid},${valid}` },
      { name: 'a signature made with another secret', signature: providerSign(body.toString('utf8'), timestamp, OTHER_SECRET) },
      { name: 'a signature over another timestamp', signature: providerSign(body.toString('utf8'), '2026-11-27T10:00:01.000Z', SECRET) },
      { name: 'one flipped bit', signature: valid.slice(0, -1) + (valid.endsWith('0') ? '1' : '0') },
    ];

    it.each(rejected)('rejects $name without throwing', ({ signature }) => {
      expect(verifySignature(SECRET, timestamp, body, signature)).toBe(false);
    });

    it('shows why: the provider reference itself throws on a wrong-length signature', () => {
      expect(() => verifyWebhook(body.toString('utf8'), timestamp, 'sha256=abc', SECRET)).toThrow(/same byte length/);
    });

    it('never throws, whatever the header holds', () => {
      fc.assert(
        fc.property(fc.string(), (signature) => {
          expect(typeof verifySignature(SECRET, timestamp, body, signature)).toBe('boolean');
        }),
      );
    });

    it('rejects every signature when the secret is blank', () => {
      expect(verifySignature('', timestamp, body, providerSign(body.toString('utf8'), timestamp, ''))).toBe(false);
    });
  });

  describe('parseSignatureHeader', () => {
    it('decodes the all-zero digest (every digit the lowest hex value)', () => {
      expect(parseSignatureHeader(`sha256=${'0'.repeat(64)}`)).toEqual(Buffer.alloc(32));
    });

    it('decodes the all-ones digest (every digit the highest hex value)', () => {
      expect(parseSignatureHeader(`sha256=${'f'.repeat(64)}`)).toEqual(Buffer.alloc(32, 0xff));
    });

    it('decodes a well-formed header into the 32 digest bytes', () => {
      expect(parseSignatureHeader(`sha256=${'ab'.repeat(32)}`)).toEqual(Buffer.alloc(32, 0xab));
    });

    it('returns undefined for anything else', () => {
      expect(parseSignatureHeader(`sha256=${'ab'.repeat(31)}`)).toBeUndefined();
      expect(parseSignatureHeader(undefined)).toBeUndefined();
    });
  });

  describe('verifyWithSecrets', () => {
    const timestamp = '2026-11-27T10:00:00Z';
    const body = Buffer.from('{"data":{"job_id":"job_1"}}');
    const rotatedAt = new Date('2026-11-27T08:00:00Z');
    const signing = {
      current: { value: 'whsec_new', createdAt: rotatedAt },
      previous: { value: 'whsec_old', createdAt: new Date('2026-01-01T00:00:00Z') },
    };
    const signedWith = (secret: string) => providerSign(body.toString(), timestamp, secret);

    it('accepts AWSCURRENT and says so', () => {
      const result = verifyWithSecrets(signing, timestamp, body, signedWith('whsec_new'), { now: new Date('2026-12-30T00:00:00Z') });
      expect(result).toEqual({ valid: true, version: 'AWSCURRENT' });
    });

    it('accepts AWSPREVIOUS inside the grace period after the rotation', () => {
      const now = new Date(rotatedAt.getTime() + 24 * 3600 * 1000 - 1);
      const result = verifyWithSecrets(signing, timestamp, body, signedWith('whsec_old'), { now });
      expect(result).toEqual({ valid: true, version: 'AWSPREVIOUS' });
    });

    it('rejects AWSPREVIOUS once the default 24 h grace period has passed', () => {
      const now = new Date(rotatedAt.getTime() + 24 * 3600 * 1000);
      expect(verifyWithSecrets(signing, timestamp, body, signedWith('whsec_old'), { now })).toEqual({ valid: false });
    });

    it('honours a configured grace period', () => {
      const now = new Date(rotatedAt.getTime() + 61 * 1000);
      expect(verifyWithSecrets(signing, timestamp, body, signedWith('whsec_old'), { now, graceSeconds: 60 })).toEqual({ valid: false });
      expect(verifyWithSecrets(signing, timestamp, body, signedWith('whsec_old'), { now, graceSeconds: 120 }).valid).toBe(true);
    });

    it('never accepts the placeholder as a previous version', () => {
      const placeholder = '{"unset":true,"key":"Zx8Kq2"}';
      const firstRealSecret = { current: signing.current, previous: { value: placeholder, createdAt: new Date(0) } };
      const result = verifyWithSecrets(firstRealSecret, timestamp, body, signedWith(placeholder), { now: rotatedAt });
      expect(result).toEqual({ valid: false });
    });

    it('rejects everything when there is no usable current secret', () => {
      expect(verifyWithSecrets({ previous: signing.previous }, timestamp, body, signedWith('whsec_old'), { now: rotatedAt })).toEqual({
        valid: false,
      });
    });

    it('rejects a signature made with neither version', () => {
      expect(verifyWithSecrets(signing, timestamp, body, signedWith('whsec_other'), { now: rotatedAt })).toEqual({ valid: false });
    });
  });

  describe('with values a caller should never pass', () => {
    const timestamp = '2026-11-27T10:00:00.000Z';
    const body = '{"event":"job.started"}';

    it('answers false for a secret that is not a string, without throwing', () => {
      const signature = providerSign(body, timestamp, SECRET);
      expect(verifySignature(undefined as unknown as string, timestamp, body, signature)).toBe(false);
      expect(verifySignature(42 as unknown as string, timestamp, body, signature)).toBe(false);
    });

    it('answers false for a timestamp that is not a string, on either path, without throwing', () => {
      const signature = providerSign(body, timestamp, SECRET);
      for (const raw of [body, Buffer.from(body)]) {
        expect(verifySignature(SECRET, undefined as unknown as string, raw, signature)).toBe(false);
        expect(verifyWithSecrets({ current: { value: SECRET, createdAt: new Date() } }, undefined as unknown as string, raw, signature, { now: new Date() })).toEqual({ valid: false });
      }
    });

    it('answers invalid for a current version whose value is not a string, without throwing', () => {
      const signing = { current: { value: undefined as unknown as string, createdAt: new Date() } };
      expect(verifyWithSecrets(signing, timestamp, body, providerSign(body, timestamp, SECRET), { now: new Date() })).toEqual({ valid: false });
    });

    it('never accepts a signature made with the unusable placeholder secret itself', () => {
      // The placeholder is public (it is in the template); a signature computed with it proves nothing.
      const placeholder = '{"unset":true,"key":"r4nd0m"}';
      const signing = { current: { value: placeholder, createdAt: new Date() } };
      const signature = providerSign(body, timestamp, placeholder);
      expect(verifyWithSecrets(signing, timestamp, body, signature, { now: new Date() })).toEqual({ valid: false });
      expect(verifySignature(placeholder, timestamp, body, signature)).toBe(false);
    });
  });

  describe('isUsableSecret and isSigningSecretUnset', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['whitespace', ' \n\t'],
      ['the CDK placeholder', '{"unset":true,"key":"r4nd0m"}'],
      ['the placeholder with spaces', ' { "key": "r4nd0m", "unset": true } '],
      ['JSON key/value (the console form)', '{"signingSecret":"whsec_abc"}'],
      ['trailing newline (put-secret-value from a file)', 'whsec_abc\n'],
      ['leading space', ' whsec_abc'],
    ])('treats a %s secret as unset, so the receiver fails closed', (_name, value) => {
      expect(isUsableSecret(value)).toBe(false);
      expect(isSigningSecretUnset(value === undefined ? {} : { current: { value, createdAt: new Date() } })).toBe(true);
    });

    it.each([
      ['a plain secret', 'whsec_abc'],
      ['a secret with inner spaces', 'whsec abc'],
    ])('treats %s as usable', (_name, value) => {
      expect(isUsableSecret(value)).toBe(true);
    });
  });
});
