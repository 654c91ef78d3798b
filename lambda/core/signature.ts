/**
 * The provider's signature scheme: `sha256=` + lowercase hex of
 * HMAC-SHA256(secret, `${timestamp}.${rawBody}`), over the exact raw bytes.
 * Every verifier here returns false on anything malformed and never throws.
 */
import { createHash, createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { DEFAULTS } from './contract';
import type { SecretVersion, SigningSecrets } from './ports';

export const SIGNATURE_PREFIX = 'sha256=';
const DIGEST_BYTES = 32;
const SIGNATURE_LENGTH = SIGNATURE_PREFIX.length + 2 * DIGEST_BYTES;

/** The raw body as received: bytes (preferred: no re-encoding) or a UTF-8 string. */
export type RawBody = Uint8Array | string;

/**
 * What verification needs of a secret, derived once per secret value: whether
 * it is usable at all (a trim and, for brace-led values, a JSON.parse), the
 * prepared HMAC key (a string key is re-encoded on every createHmac call) and
 * the RFC 2104 pads for the one-shot path below. Bounded, since only AWSCURRENT
 * and AWSPREVIOUS are live at a time.
 */
interface PreparedSecret {
  readonly usable: boolean;
  /** Created on first use: a secret that is never hashed with needs neither. */
  key: KeyObject | undefined;
  pads: HmacPads | undefined;
}

const MAX_PREPARED_SECRETS = 4;
const preparedSecrets = new Map<string, PreparedSecret>();
// The last secret looked up: nearly every request uses AWSCURRENT, and comparing
// with the cached string is cheaper than hashing it for a Map lookup.
let lastSecret: string | undefined;
let lastPrepared: PreparedSecret | undefined;

function prepared(secret: string): PreparedSecret {
  if (secret === lastSecret && lastPrepared !== undefined) return lastPrepared;
  let entry = preparedSecrets.get(secret);
  // The cache only saves work: whether an entry is reused, evicted or never stored, every answer is the same.
  // Stryker disable next-line ConditionalExpression: a fresh entry per lookup gives the same answers
  if (entry === undefined) {
    entry = { usable: usable(secret), key: undefined, pads: undefined };
    // Stryker disable next-line ConditionalExpression,EqualityOperator: evicting sooner or later gives the same answers
    if (preparedSecrets.size >= MAX_PREPARED_SECRETS) preparedSecrets.delete(preparedSecrets.keys().next().value as string);
    // Stryker disable next-line BlockStatement,CallExpression: an entry never stored is derived again, with the same answers
    preparedSecrets.set(secret, entry);
  }
  lastSecret = secret;
  lastPrepared = entry;
  return entry;
}

/*
 * Small bodies: HMAC-SHA256 exactly as RFC 2104 defines it,
 * H((K ^ opad) || H((K ^ ipad) || m)), with two one-shot `crypto.hash` calls.
 * Measured on Node 20 here (OpenSSL 3): a createHmac object costs about as much
 * to create and finalise as hashing 1 KiB, and any digest returned as a Buffer
 * costs ~0.5 µs more than the same digest returned as a 32-character latin1
 * ('binary') string, one character per byte, so writing it back with the same
 * encoding restores the exact bytes. At 1 KiB those fixed costs, not the hash,
 * decide verification speed. The output is identical to createHmac (property-tested against it and
 * against the provider's reference). The body is copied once into a scratch
 * buffer behind the inner pad and the `${timestamp}.` prefix, so this path only
 * takes bodies up to ONE_SHOT_MAX_BYTES: above that the copy would cost more
 * than it saves and createHmac streams the body where it lies.
 */
const SHA256_BLOCK_BYTES = 64;
// Which path a body takes is a speed choice only: both give createHmac's bytes
// (test/unit/receiver/signature-one-shot.test.ts), so mutants that move the
// switch, or take one path always, are equivalent.
// Stryker disable next-line ArithmeticOperator: any size limit gives the same digests
const ONE_SHOT_MAX_BYTES = 16 * 1024;
const IPAD = 0x36;
const OPAD = 0x5c;
const DOT = 0x2e;
/** `crypto.hash` exists from Node 20.12 / 21.7; without it every body takes the createHmac path. */
// Stryker disable next-line ConditionalExpression,EqualityOperator: both paths give the same digests
const HAS_ONE_SHOT = typeof hash === 'function';
// Scratch buffers, reused: hashing and comparing are synchronous, so no other
// request can interleave between filling one and reading it.
/** Inner pad, timestamp, '.', body. */
const oneShotInput = Buffer.alloc(SHA256_BLOCK_BYTES + ONE_SHOT_MAX_BYTES);
/** The digest of either path; valid until the next digest() call. */
const digestScratch = Buffer.alloc(DIGEST_BYTES);

interface HmacPads {
  /** K ^ ipad, K zero-padded to one SHA-256 block (hashed first when longer, as RFC 2104 says). */
  readonly inner: Buffer;
  /** K ^ opad followed by room for the inner digest: the whole outer message. */
  readonly outer: Buffer;
}

function hmacPads(secret: string): HmacPads {
  let key = Buffer.from(secret, 'utf8');
  if (key.length > SHA256_BLOCK_BYTES) key = createHash('sha256').update(key).digest();
  const inner = Buffer.alloc(SHA256_BLOCK_BYTES, IPAD);
  const outer = Buffer.alloc(SHA256_BLOCK_BYTES + DIGEST_BYTES, OPAD);
  // Stryker disable next-line EqualityOperator: one more step XORs `undefined` (0) into a pad byte, changing nothing
  for (let i = 0; i < key.length; i += 1) {
    inner[i] ^= key[i];
    outer[i] ^= key[i];
  }
  return { inner, outer };
}

function hmacKey(secret: string, entry: PreparedSecret): KeyObject {
  return (entry.key ??= createSecretKey(Buffer.from(secret, 'utf8')));
}

/**
 * HMAC-SHA256(secret, `${timestamp}.` + rawBody) over the exact bytes given,
 * in a shared scratch buffer: read it before the next call.
 */
function digest(secret: string, entry: PreparedSecret, timestamp: string, rawBody: RawBody): Buffer {
  // A UTF-16 code unit takes at most 3 bytes in UTF-8: a conservative bound for the prefix.
  // Stryker disable BlockStatement: without the one-shot block, createHmac below gives the same digest
  if (
    HAS_ONE_SHOT &&
    typeof rawBody !== 'string' &&
    // A caller's undefined timestamp has no length: it takes the createHmac path (and fails to match) rather than throw.
    typeof timestamp === 'string' &&
    // Stryker disable next-line EqualityOperator,ArithmeticOperator: moving the switch by a byte gives the same digests
    rawBody.length + 3 * timestamp.length + 1 <= ONE_SHOT_MAX_BYTES
  ) {
    const pads = (entry.pads ??= hmacPads(secret));
    const input = oneShotInput;
    input.set(pads.inner, 0);
    let end = writePrefix(input, timestamp);
    input.set(rawBody, end);
    end += rawBody.length;
    // 'binary' is Node's name for latin1: one character per byte, both ways. A
    // plain Uint8Array view is cheaper to create than Buffer#subarray's.
    pads.outer.write(hash('sha256', new Uint8Array(input.buffer, input.byteOffset, end), 'binary'), SHA256_BLOCK_BYTES, 'binary');
    digestScratch.write(hash('sha256', pads.outer, 'binary'), 0, 'binary');
    return digestScratch;
  }
  // Stryker restore BlockStatement
  // Hashes the same bytes without copying a possibly large body; the short
  // prefix goes in its own update().
  const hmac = createHmac('sha256', hmacKey(secret, entry)).update(`${timestamp}.`, 'utf8').update(rawBody);
  digestScratch.write(hmac.digest('binary'), 0, 'binary');
  return digestScratch;
}

/**
 * Writes `${timestamp}.` as UTF-8 after the inner pad and returns where the body
 * goes. Provider timestamps are ASCII: a byte loop is cheaper than a call into
 * the native UTF-8 encoder, which stays the path for anything else.
 */
function writePrefix(input: Buffer, timestamp: string): number {
  let end = SHA256_BLOCK_BYTES;
  for (let i = 0; i < timestamp.length; i += 1) {
    const code = timestamp.charCodeAt(i);
    // Stryker disable next-line ConditionalExpression: encoding an ASCII prefix with the UTF-8 encoder gives the same bytes
    if (code >= 0x80) {
      end = SHA256_BLOCK_BYTES + input.write(timestamp, SHA256_BLOCK_BYTES, 'utf8');
      break;
    }
    input[end] = code;
    end += 1;
  }
  input[end] = DOT;
  return end + 1;
}

/** The header value the provider would send for these inputs. */
export function computeSignature(secret: string, timestamp: string, rawBody: RawBody): string {
  return SIGNATURE_PREFIX + digest(secret, prepared(secret), timestamp, rawBody).toString('hex');
}

/**
 * Decodes a signature header into its 32 digest bytes, or undefined when it is
 * not exactly `sha256=` + 64 lowercase hex digits. The provider documents
 * lowercase hex, so uppercase is rejected rather than guessed at.
 */
export function parseSignatureHeader(signature: string | undefined): Buffer | undefined {
  const bytes = Buffer.alloc(DIGEST_BYTES);
  return decodeSignatureInto(signature, bytes) ? bytes : undefined;
}

/** Value of each lowercase hex digit by char code; -1 for every other ASCII character. */
const HEX_VALUE = new Int8Array(128).fill(-1);
// Stryker disable next-line EqualityOperator: a 17th step writes index NaN, which a typed array ignores
for (let digit = 0; digit < 16; digit += 1) HEX_VALUE['0123456789abcdef'.charCodeAt(digit)] = digit;

/**
 * Shape check and decode in one pass (no regex, no substring, no native call).
 * Its running time depends only on the header the sender chose, never on the
 * secret or the expected digest, so it leaks nothing.
 */
function decodeSignatureInto(signature: string | undefined, target: Buffer): boolean {
  if (typeof signature !== 'string' || signature.length !== SIGNATURE_LENGTH || !signature.startsWith(SIGNATURE_PREFIX)) return false;
  // `codes` collects every char code so one check at the end catches non-ASCII
  // characters (their low 7 bits could alias a hex digit); `values` turns
  // negative as soon as one digit is not lowercase hex.
  let codes = 0;
  let values = 0;
  for (let i = 0, at = SIGNATURE_PREFIX.length; i < DIGEST_BYTES; i += 1, at += 2) {
    const high = signature.charCodeAt(at);
    const low = signature.charCodeAt(at + 1);
    const highValue = HEX_VALUE[high & 0x7f];
    const lowValue = HEX_VALUE[low & 0x7f];
    codes |= high | low;
    values |= highValue | lowValue;
    target[i] = (highValue << 4) | lowValue;
  }
  // Every hex digit's code has bits 0x30, so `codes` is never exactly 0x80.
  // Stryker disable next-line EqualityOperator: `codes <= 0x80` cannot differ from `codes < 0x80`
  return values >= 0 && codes < 0x80;
}

/**
 * Verification decodes into this one buffer instead of allocating per request:
 * the checks below are synchronous, so no other request can interleave.
 */
const expectedScratch = Buffer.alloc(DIGEST_BYTES);

function matches(expected: Buffer, secret: string, entry: PreparedSecret, timestamp: string, rawBody: RawBody): boolean {
  // Both buffers are 32 bytes by construction (a SHA-256 digest, a decoded
  // 64-digit header), so timingSafeEqual cannot throw.
  return timingSafeEqual(digest(secret, entry, timestamp, rawBody), expected);
}

/** Constant-time check of one signature against one secret. */
export function verifySignature(secret: string, timestamp: string, rawBody: RawBody, signature: string | undefined): boolean {
  if (!decodeSignatureInto(signature, expectedScratch) || typeof secret !== 'string') return false;
  const entry = prepared(secret);
  if (!entry.usable) return false;
  return matches(expectedScratch, secret, entry, timestamp, rawBody);
}

/**
 * A secret is unusable when missing, blank, the placeholder CDK creates
 * (generated from the template `{"unset":true}` plus a random key) until ops
 * store the provider's secret, or stored in a shape that cannot be the
 * provider's plain secret: surrounding whitespace (a `file://` value with its
 * trailing newline) or a JSON object (the console's key/value form). Each would
 * otherwise turn every delivery into a 401 the provider may never retry; as
 * "unset" they fail closed with a 503 and the SigningSecretUnset alarm.
 */
export function isUsableSecret(value: string | undefined): value is string {
  return typeof value === 'string' && prepared(value).usable;
}

function usable(value: string): boolean {
  return value !== '' && value.trim() === value && !value.startsWith('{');
}

/** True when there is no usable AWSCURRENT version: the receiver must fail closed. */
export function isSigningSecretUnset(signing: SigningSecrets): boolean {
  return !isUsableSecret(signing.current?.value);
}

export type SecretVersionStage = 'AWSCURRENT' | 'AWSPREVIOUS';

export type SecretsVerification =
  | { readonly valid: true; readonly version: SecretVersionStage }
  | { readonly valid: false };

// Shared, frozen answers: the hot path allocates no result object.
const VALID_CURRENT: SecretsVerification = Object.freeze({ valid: true, version: 'AWSCURRENT' });
const VALID_PREVIOUS: SecretsVerification = Object.freeze({ valid: true, version: 'AWSPREVIOUS' });
const INVALID: SecretsVerification = Object.freeze({ valid: false });

export interface VerifyOptions {
  readonly now: Date;
  /** How long AWSPREVIOUS stays valid after AWSCURRENT was created. */
  readonly graceSeconds?: number;
}

/**
 * Accepts a signature under AWSCURRENT or, until the grace period after the
 * current version's creation ends, under AWSPREVIOUS, so a rotation with
 * `put-secret-value` never rejects deliveries the provider signed just before
 * it switched. Reports which version matched so ops can see when the provider
 * has caught up.
 */
export function verifyWithSecrets(
  signing: SigningSecrets,
  timestamp: string,
  rawBody: RawBody,
  signature: string | undefined,
  options: VerifyOptions,
): SecretsVerification {
  const expected = expectedScratch;
  const current = signing.current;
  if (!decodeSignatureInto(signature, expected) || current === undefined || typeof current.value !== 'string') return INVALID;
  const currentSecret = prepared(current.value);
  if (!currentSecret.usable) return INVALID;
  if (matches(expected, current.value, currentSecret, timestamp, rawBody)) return VALID_CURRENT;
  const previous = signing.previous;
  if (previous !== undefined && previousStillValid(current, previous, options)) {
    if (matches(expected, previous.value, prepared(previous.value), timestamp, rawBody)) return VALID_PREVIOUS;
  }
  return INVALID;
}

function previousStillValid(current: SecretVersion, previous: SecretVersion, options: VerifyOptions): boolean {
  // The placeholder is never a key, even during the grace period of the first real secret.
  if (!isUsableSecret(previous.value)) return false;
  const graceMs = (options.graceSeconds ?? DEFAULTS.rotationGraceSeconds) * 1000;
  return options.now.getTime() < current.createdAt.getTime() + graceMs;
}
