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
import type { SecretSource, SecretVersion, SigningSecrets } from '../core/ports';

export interface SecretsManagerSourceOptions {
  readonly cacheSeconds?: number;
  /**
   * When a refresh fails, keep serving the last value fetched for this long
   * rather than fail every delivery during a Secrets Manager hiccup.
   */
  readonly maxStaleSeconds?: number;
  readonly now?: () => number;
}

export class SecretsManagerSource implements SecretSource {
  private cached?: { readonly secrets: SigningSecrets; readonly fetchedAt: number };
  private inFlight?: Promise<SigningSecrets>;
  private readonly cacheMs: number;
  private readonly maxStaleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    options: SecretsManagerSourceOptions = {},
  ) {
    this.cacheMs = (options.cacheSeconds ?? DEFAULTS.secretCacheSeconds) * 1000;
    this.maxStaleMs = (options.maxStaleSeconds ?? 15 * 60) * 1000;
    this.now = options.now ?? Date.now;
  }

  getSigningSecrets(): Promise<SigningSecrets> {
    const cached = this.cached;
    if (cached && this.now() - cached.fetchedAt < this.cacheMs) return Promise.resolve(cached.secrets);
    // Concurrent callers share one fetch.
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<SigningSecrets> {
    try {
      const [current, previous] = await Promise.all([this.fetch('AWSCURRENT'), this.fetch('AWSPREVIOUS')]);
      const secrets: SigningSecrets = { current, previous };
      this.cached = { secrets, fetchedAt: this.now() };
      return secrets;
    } catch (error) {
      const cached = this.cached;
      if (cached && this.now() - cached.fetchedAt < this.maxStaleMs) return cached.secrets;
      if (error instanceof SecretUnavailableError) throw error;
      throw new SecretUnavailableError('signing secret could not be read', { cause: error });
    }
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
