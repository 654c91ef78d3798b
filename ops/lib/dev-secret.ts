/**
 * The signing secret the local stack and the provider simulator share when
 * WEBHOOK_SIGNING_SECRET is not set. Public by design: it only ever protects a
 * stack bound to 127.0.0.1, and both sides must agree without setup.
 *
 * A secret that IS set must be one the receiver can use: an empty, blank,
 * whitespace-padded or JSON-shaped value would start a stack that answers 503 to
 * every delivery (the receiver fails closed on it), so it is refused up front.
 */
import { isUsableSecret } from '../../lambda/core/signature';
import { UsageError } from './cli-usage';

export const SIGNING_SECRET_ENV = 'WEBHOOK_SIGNING_SECRET';
export const DEV_SIGNING_SECRET = 'local-dev-only-signing-secret-never-use-in-aws';

export interface ResolvedSecret {
  readonly secret: string;
  readonly isDevDefault: boolean;
}

/** Why a configured secret cannot be the provider's, or undefined when it can. `source` names where it came from. */
export function signingSecretProblem(value: string, source: string = SIGNING_SECRET_ENV): string | undefined {
  const usable: boolean = isUsableSecret(value);
  if (usable) return undefined;
  if (value === '') return `${source} is set but empty (unset it to use the local dev secret)`;
  if (value.trim() === '') return `${source} is only whitespace`;
  if (value.trim() !== value) return `${source} has leading or trailing whitespace (a trailing newline from a file?)`;
  return `${source} looks like JSON: give the provider's signing secret as a plain string`;
}

/** The secret to use: `explicit` (a `--secret`), else the environment's, else the dev secret. Throws a UsageError for an unusable one. */
export function resolveSigningSecret(env: Readonly<Record<string, string | undefined>> = process.env, explicit?: string): ResolvedSecret {
  const [configured, source] = explicit !== undefined ? [explicit, '--secret'] : [env[SIGNING_SECRET_ENV], SIGNING_SECRET_ENV];
  if (configured === undefined) return { secret: DEV_SIGNING_SECRET, isDevDefault: true };
  const problem = signingSecretProblem(configured, source);
  if (problem !== undefined) throw new UsageError(problem);
  return { secret: configured, isDevDefault: false };
}
