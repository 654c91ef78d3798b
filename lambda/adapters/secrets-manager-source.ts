/**
 * The signing secret from Secrets Manager, by version stage: AWSCURRENT and,
 * for rotation, AWSPREVIOUS. Cached per Lambda environment so a burst of
 * deliveries costs one fetch per cache period, not one per request.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type GetSecretValueCommandOutput,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DEFAULTS } from '../core/contract';
import { SecretUnavailableError } from '../core/errors';
import { sameSecrets, type SecretSource, type SecretVersion, type SigningSecrets } from '../core/ports';

export interface SecretsManagerSourceOptions {
  readonly cacheSeconds?: number;
  /**
   * When a refresh fails, keep serving the last value fetched for this long
   * rather than fail every delivery during a Secrets Manager hiccup.
   */
  readonly maxStaleSeconds?: number;
  /** A signature mismatch reads the secret again at most this often. */
  readonly minRefreshIntervalSeconds?: number;
  /** After a failed read, no read for this long, doubling with each failure up to `maxBackoffSeconds`. */
  readonly baseBackoffSeconds?: number;
  readonly maxBackoffSeconds?: number;
  readonly now?: () => number;
}

export const SECRET_REFRESH_DEFAULTS = {
  maxStaleSeconds: 15 * 60,
  minRefreshIntervalSeconds: 5,
  baseBackoffSeconds: 1,
  maxBackoffSeconds: 60,
} as const;

/**
 * The cache's rules, in one place:
 * - a value younger than the cache period is served as is;
 * - an older one is read again, one read at a time for all callers;
 * - a failed read is not tried again before its backoff ends (1 s, 2 s, 4 s ...
 *   up to a minute), so a failing Secrets Manager is never hammered and only
 *   the callers sharing the failed read wait for it; meanwhile the last good
 *   value is served for up to `maxStaleSeconds`, and after that (or with no
 *   value at all) callers get `SecretUnavailableError` at once (a 503);
 * - a signature mismatch may read again before the cache period ends, at most
 *   once per `minRefreshIntervalSeconds`.
 */
export class SecretsManagerSource implements SecretSource {
  private cached?: { readonly secrets: SigningSecrets; readonly fetchedAt: number };
  private inFlight?: Promise<SigningSecrets>;
  private lastReadAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private retryAt = Number.NEGATIVE_INFINITY;
  private lastError?: unknown;
  private readonly cacheMs: number;
  private readonly maxStaleMs: number;
  private readonly minRefreshMs: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    options: SecretsManagerSourceOptions = {},
  ) {
    this.cacheMs = (options.cacheSeconds ?? DEFAULTS.secretCacheSeconds) * 1000;
    this.maxStaleMs = (options.maxStaleSeconds ?? SECRET_REFRESH_DEFAULTS.maxStaleSeconds) * 1000;
    this.minRefreshMs = (options.minRefreshIntervalSeconds ?? SECRET_REFRESH_DEFAULTS.minRefreshIntervalSeconds) * 1000;
    this.baseBackoffMs = (options.baseBackoffSeconds ?? SECRET_REFRESH_DEFAULTS.baseBackoffSeconds) * 1000;
    this.maxBackoffMs = (options.maxBackoffSeconds ?? SECRET_REFRESH_DEFAULTS.maxBackoffSeconds) * 1000;
    this.now = options.now ?? Date.now;
  }

  async getSigningSecrets(): Promise<SigningSecrets> {
    const cached = this.cached;
    if (cached && this.now() - cached.fetchedAt < this.cacheMs) return cached.secrets;
    if (this.inFlight) return this.inFlight.catch(() => this.staleOrThrow());
    if (this.now() < this.retryAt) return this.staleOrThrow();
    return this.read().catch(() => this.staleOrThrow());
  }

  async refreshSigningSecrets(seen: SigningSecrets): Promise<SigningSecrets | undefined> {
    const newer = (secrets: SigningSecrets): SigningSecrets | undefined => (sameSecrets(secrets, seen) ? undefined : secrets);
    if (this.inFlight) return newer(await this.inFlight);
    if (this.now() < this.retryAt) throw this.unavailable();
    // Read moments ago (by this caller's cache fill or another mismatch): that is the latest.
    if (this.cached && this.now() - this.lastReadAt < this.minRefreshMs) return newer(this.cached.secrets);
    return newer(await this.read());
  }

  /** One read for every caller; its failure starts (or lengthens) the backoff. */
  private read(): Promise<SigningSecrets> {
    this.lastReadAt = this.now();
    this.inFlight ??= this.fetchBoth()
      .then(
        (secrets) => {
          this.cached = { secrets, fetchedAt: this.now() };
          this.failures = 0;
          this.retryAt = Number.NEGATIVE_INFINITY;
          this.lastError = undefined;
          return secrets;
        },
        (error: unknown) => {
          this.failures += 1;
          this.retryAt = this.now() + Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (this.failures - 1));
          this.lastError = error;
          throw this.unavailable();
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private staleOrThrow(): SigningSecrets {
    const cached = this.cached;
    if (cached && this.now() - cached.fetchedAt < this.maxStaleMs) return cached.secrets;
    throw this.unavailable();
  }

  private unavailable(): SecretUnavailableError {
    const error = this.lastError;
    if (error instanceof SecretUnavailableError) return error;
    return new SecretUnavailableError('signing secret could not be read', { cause: error });
  }

  private async fetchBoth(): Promise<SigningSecrets> {
    const [current, previous] = await Promise.all([this.fetch('AWSCURRENT'), this.fetch('AWSPREVIOUS')]);
    return { current, previous };
  }

  private async fetch(stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<SecretVersion | undefined> {
    let output: GetSecretValueCommandOutput;
    try {
      output = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: stage }));
    } catch (error) {
      // A secret that was never rotated has no AWSPREVIOUS version.
      if (stage === 'AWSPREVIOUS' && error instanceof ResourceNotFoundException) return undefined;
      const name = error instanceof Error ? error.name : 'Error';
      throw new SecretUnavailableError(`signing secret ${stage} could not be read (${name})`, { cause: error });
    }
    const value = output.SecretString ?? (output.SecretBinary ? Buffer.from(output.SecretBinary).toString('utf8') : undefined);
    if (value === undefined) return undefined;
    return { value, createdAt: output.CreatedDate ?? new Date(0) };
  }
}
