/**
 * The receiver's configuration, read from the environment CDK (or the local
 * stack) sets. Every problem is collected into one error so a broken deploy is
 * fixed in one pass.
 */
import { DEFAULTS, ENV, SERVICE_LIMITS } from './contract';
import { ConfigurationError } from './errors';

/** The rules the ingest steps apply; independent of where resources live. */
export interface ReceiverPolicy {
  /** False only by explicit opt-out: unsigned deliveries are then accepted. */
  readonly requireSignature: boolean;
  readonly timestampToleranceSeconds: number;
  readonly maxBodyBytes: number;
  readonly dedupeTtlSeconds: number;
  readonly leaseSeconds: number;
  readonly rotationGraceSeconds: number;
  readonly inlinePayloadMaxBytes: number;
  /** Seconds a claim-checked message stays invisible; longer than the receiver's timeout. */
  readonly claimCheckDelaySeconds: number;
}

export interface ReceiverConfig extends ReceiverPolicy {
  readonly deliveriesTable: string;
  readonly archiveBucket: string;
  readonly queueUrl: string;
  /** The batched archive's Firehose stream; absent, every delivery is archived as its own object. */
  readonly archiveStream?: string;
  /** Optional here: the local stack injects a static secret source instead. */
  readonly signingSecretArn?: string;
  readonly secretCacheSeconds: number;
}

export const DEFAULT_RECEIVER_POLICY: ReceiverPolicy = {
  requireSignature: true,
  timestampToleranceSeconds: DEFAULTS.timestampToleranceSeconds,
  maxBodyBytes: DEFAULTS.maxBodyBytes,
  dedupeTtlSeconds: DEFAULTS.dedupeTtlDays * 24 * 60 * 60,
  leaseSeconds: DEFAULTS.leaseSeconds,
  rotationGraceSeconds: DEFAULTS.rotationGraceSeconds,
  inlinePayloadMaxBytes: DEFAULTS.inlinePayloadMaxBytes,
  claimCheckDelaySeconds: DEFAULTS.claimCheckDelaySeconds,
};

type Env = Readonly<Record<string, string | undefined>>;

export function loadReceiverConfig(env: Env): ReceiverConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const required = (name: string): string => {
    const value = text(name);
    if (value === undefined) problems.push(`${name} is required`);
    // Stryker disable next-line StringLiteral: the placeholder never leaves, a missing value throws ConfigurationError below
    return value ?? '';
  };
  const integer = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = text(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min || Number(value) > max) {
      problems.push(
        max === Number.MAX_SAFE_INTEGER ? `${name} must be an integer >= ${min}, got "${value}"` : `${name} must be an integer between ${min} and ${max}, got "${value}"`,
      );
      return fallback;
    }
    return Number(value);
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const value = text(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === 'true') return true;
    if (value === 'false') return false;
    problems.push(`${name} must be "true" or "false", got "${env[name]}"`);
    return fallback;
  };

  const config: ReceiverConfig = {
    deliveriesTable: required(ENV.deliveriesTable),
    archiveBucket: required(ENV.archiveBucket),
    queueUrl: required(ENV.queueUrl),
    archiveStream: text(ENV.archiveStream),
    signingSecretArn: text(ENV.signingSecretArn),
    requireSignature: flag(ENV.requireSignature, true),
    timestampToleranceSeconds: integer(ENV.timestampToleranceSeconds, DEFAULTS.timestampToleranceSeconds, 1),
    maxBodyBytes: integer(ENV.maxBodyBytes, DEFAULTS.maxBodyBytes, 1),
    dedupeTtlSeconds: integer(ENV.dedupeTtlDays, DEFAULTS.dedupeTtlDays, 1) * 24 * 60 * 60,
    leaseSeconds: integer(ENV.leaseSeconds, DEFAULTS.leaseSeconds, 1),
    rotationGraceSeconds: integer(ENV.rotationGraceSeconds, DEFAULTS.rotationGraceSeconds, 0),
    secretCacheSeconds: integer(ENV.secretCacheSeconds, DEFAULTS.secretCacheSeconds, 0),
    // Zero is allowed: every message then uses the claim check.
    inlinePayloadMaxBytes: integer(ENV.inlinePayloadMaxBytes, DEFAULTS.inlinePayloadMaxBytes, 0, SERVICE_LIMITS.sqsMaxMessageBytes),
    claimCheckDelaySeconds: integer(ENV.claimCheckDelaySeconds, DEFAULTS.claimCheckDelaySeconds, 1, SERVICE_LIMITS.sqsMaxDelaySeconds),
  };
  if (problems.length > 0) throw new ConfigurationError(problems);
  return config;
}
