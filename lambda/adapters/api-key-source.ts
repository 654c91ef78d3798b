/**
 * The provider API key from Secrets Manager: the plain string of the secret's
 * AWSCURRENT version, read once and reused for `cacheSeconds`. An empty or
 * whitespace-padded value is refused (a key pasted with a newline would fail
 * every call with a 401 that looks like a revoked key).
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export class ApiKeyUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiKeyUnavailableError';
  }
}

export class SecretsManagerApiKeySource {
  private cached?: { readonly key: string; readonly at: number };

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly options: { readonly cacheSeconds?: number; readonly now?: () => number } = {},
  ) {}

  async get(): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.options.cacheSeconds ?? 300) * 1000) return this.cached.key;
    let value: string | undefined;
    try {
      const output = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      value = output.SecretString;
    } catch (error) {
      // The SDK error names the secret, never its value; only its kind is passed on.
      throw new ApiKeyUnavailableError(`provider API key could not be read (${error instanceof Error ? error.name : 'Error'})`, { cause: error });
    }
    if (value === undefined || value.length === 0 || value.trim() !== value) {
      throw new ApiKeyUnavailableError('provider API key secret is empty or has surrounding whitespace');
    }
    this.cached = { key: value, at: now };
    return value;
  }
}
