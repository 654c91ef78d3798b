/**
 * The provider's signature scheme: `sha256=` + lowercase hex of
 * HMAC-SHA256(secret, `${timestamp}.${rawBody}`), over the exact raw bytes.
 * Every verifier here returns false on anything malformed and never throws.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { DEFAULTS } from './contract';
import type { SecretVersion, SigningSecrets } from './ports';

export const SIGNATURE_PREFIX = 'sha256=';
const SIGNATURE_PATTERN = /^sha256=[0-9a-f]{64}$/;
const DIGEST_BYTES = 32;

/** The raw body as received: bytes (preferred: no re-encoding) or a UTF-8 string. */
export type RawBody = Uint8Array | string;

/**
 * HMAC keys prepared once per secret: a string key is re-encoded on every
 * createHmac call, which costs more than the rest of the verification on small
 * bodies. Bounded, since only AWSCURRENT and AWSPREVIOUS are live at a time.
 */
const MAX_CACHED_KEYS = 4;
const keys = new Map<string, KeyObject>();

function hmacKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (key === undefined) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value as string);
    keys.set(secret, key);
  }
  return key;
}

function digest(secret: string, timestamp: string, rawBody: RawBody): Buffer {
  // Hashes the same bytes as `${timestamp}.${rawBody}` without copying a
  // possibly large body into a new string; the short prefix is joined because
  // each update() crosses into native code.
  return createHmac('sha256', hmacKey(secret)).update(`${timestamp}.`).update(rawBody).digest();
}

/** The header value the provider would send for these inputs. */
export function computeSignature(secret: string, timestamp: string, rawBody: RawBody): string {
  return SIGNATURE_PREFIX + digest(secret, timestamp, rawBody).toString('hex');
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

function decodeSignatureInto(signature: string | undefined, target: Buffer): boolean {
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) return false;
  return target.write(signature.slice(SIGNATURE_PREFIX.length), 0, 'hex') === DIGEST_BYTES;
}

/**
 * Verification decodes into this one buffer instead of allocating per request:
 * the checks below are synchronous, so no other request can interleave.
 */
const expectedScratch = Buffer.alloc(DIGEST_BYTES);

function matches(expected: Buffer, secret: string, timestamp: string, rawBody: RawBody): boolean {
  const actual = digest(secret, timestamp, rawBody);
  // Both buffers are 32 bytes by construction, so timingSafeEqual cannot throw.
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Constant-time check of one signature against one secret. */
export function verifySignature(secret: string, timestamp: string, rawBody: RawBody, signature: string | undefined): boolean {
  if (!decodeSignatureInto(signature, expectedScratch) || !isUsableSecret(secret)) return false;
  return matches(expectedScratch, secret, timestamp, rawBody);
}

/**
 * A secret is unusable when missing, blank, or the placeholder CDK creates
 * (generated from the template `{"unset":true}` plus a random key) until ops
 * store the provider's secret with `put-secret-value`.
 */
export function isUsableSecret(value: string | undefined): value is string {
  if (typeof value !== 'string' || value.trim() === '') return false;
  return !isPlaceholder(value);
}

function isPlaceholder(value: string): boolean {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return false;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return typeof parsed === 'object' && parsed !== null && (parsed as { unset?: unknown }).unset === true;
  } catch {
    return false;
  }
}

/** True when there is no usable AWSCURRENT version: the receiver must fail closed. */
export function isSigningSecretUnset(signing: SigningSecrets): boolean {
  return !isUsableSecret(signing.current?.value);
}

export type SecretVersionStage = 'AWSCURRENT' | 'AWSPREVIOUS';

export type SecretsVerification =
  | { readonly valid: true; readonly version: SecretVersionStage }
  | { readonly valid: false };

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
  if (!decodeSignatureInto(signature, expected) || current === undefined || !isUsableSecret(current.value)) return { valid: false };
  if (matches(expected, current.value, timestamp, rawBody)) return { valid: true, version: 'AWSCURRENT' };
  const previous = signing.previous;
  if (previous !== undefined && previousStillValid(current, previous, options)) {
    if (matches(expected, previous.value, timestamp, rawBody)) return { valid: true, version: 'AWSPREVIOUS' };
  }
  return { valid: false };
}

function previousStillValid(current: SecretVersion, previous: SecretVersion, options: VerifyOptions): boolean {
  // The placeholder is never a key, even during the grace period of the first real secret.
  if (!isUsableSecret(previous.value)) return false;
  const graceMs = (options.graceSeconds ?? DEFAULTS.rotationGraceSeconds) * 1000;
  return options.now.getTime() < current.createdAt.getTime() + graceMs;
}
