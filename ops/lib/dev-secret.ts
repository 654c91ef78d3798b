/**
 * The signing secret the local stack and the provider simulator share when
 * WEBHOOK_SIGNING_SECRET is not set. Public by design: it only ever protects a
 * stack bound to 127.0.0.1, and both sides must agree without setup.
 */
export const SIGNING_SECRET_ENV = 'WEBHOOK_SIGNING_SECRET';
export const DEV_SIGNING_SECRET = 'local-dev-only-signing-secret-never-use-in-aws';

export interface ResolvedSecret {
  readonly secret: string;
  readonly isDevDefault: boolean;
}

export function resolveSigningSecret(env: Readonly<Record<string, string | undefined>> = process.env, explicit?: string): ResolvedSecret {
  const configured = explicit ?? env[SIGNING_SECRET_ENV];
  if (configured !== undefined && configured !== '') return { secret: configured, isDevDefault: false };
  return { secret: DEV_SIGNING_SECRET, isDevDefault: true };
}
