import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerSource } from '../../../../lambda/adapters/secrets-manager-source';
import { StaticSecretSource } from '../../../../lambda/adapters/static-secret-source';
import { SecretUnavailableError } from '../../../../lambda/core/errors';

const secretsManager = mockClient(SecretsManagerClient);
const CURRENT_CREATED = new Date('2026-11-27T08:00:00Z');
const PREVIOUS_CREATED = new Date('2026-01-01T00:00:00Z');

function notFound(): ResourceNotFoundException {
  return new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS", $metadata: {} });
}

function source(now: () => number = () => 0, cacheSeconds = 60) {
  return new SecretsManagerSource(new SecretsManagerClient({ region: 'eu-west-1' }), 'arn:signing', { cacheSeconds, now });
}

beforeEach(() => secretsManager.reset());

describe('SecretsManagerSource', () => {
  it('reads AWSCURRENT and AWSPREVIOUS with their creation dates', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'arn:signing', VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: 'whsec_new', CreatedDate: CURRENT_CREATED })
      .on(GetSecretValueCommand, { SecretId: 'arn:signing', VersionStage: 'AWSPREVIOUS' })
      .resolves({ SecretString: 'whsec_old', CreatedDate: PREVIOUS_CREATED });

    // Act
    const secrets = await source().getSigningSecrets();

    // Assess
    expect(secrets).toEqual({
      current: { value: 'whsec_new', createdAt: CURRENT_CREATED },
      previous: { value: 'whsec_old', createdAt: PREVIOUS_CREATED },
    });
  });

  it('treats a missing AWSPREVIOUS as no previous version', async () => {
    secretsManager
      .on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .resolves({ SecretString: 'whsec_new', CreatedDate: CURRENT_CREATED })
      .on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' })
      .rejects(notFound());
    await expect(source().getSigningSecrets()).resolves.toEqual({ current: { value: 'whsec_new', createdAt: CURRENT_CREATED }, previous: undefined });
  });

  it('caches for the configured period and shares one fetch between concurrent callers', async () => {
    // Prepare
    let now = 0;
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: 's', CreatedDate: CURRENT_CREATED });
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());
    const cached = source(() => now, 60);

    // Act
    await Promise.all([cached.getSigningSecrets(), cached.getSigningSecrets(), cached.getSigningSecrets()]);
    now = 59_999;
    await cached.getSigningSecrets();
    const afterWarmCalls = secretsManager.commandCalls(GetSecretValueCommand).length;
    now = 60_000;
    await cached.getSigningSecrets();

    // Assess
    expect(afterWarmCalls).toBe(2);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('fails with SecretUnavailableError, keeping the cause, when nothing was fetched before', async () => {
    const cause = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    secretsManager.on(GetSecretValueCommand).rejects(cause);
    const error = await source().getSigningSecrets().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect(error).toMatchObject({ transient: true, cause });
  });

  it('serves the last value fetched while a refresh fails, for a bounded time', async () => {
    // Prepare
    let now = 0;
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: 's', CreatedDate: CURRENT_CREATED });
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());
    const cached = source(() => now, 60);
    await cached.getSigningSecrets();
    secretsManager.on(GetSecretValueCommand).rejects(new Error('endpoint unreachable'));

    // Act
    now = 120_000;
    const stale = await cached.getSigningSecrets();
    now = 16 * 60_000;
    const expired = cached.getSigningSecrets();

    // Assess
    expect(stale.current?.value).toBe('s');
    await expect(expired).rejects.toBeInstanceOf(SecretUnavailableError);
  });

  describe('after a signature mismatch', () => {
    function stages(current: string): void {
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: current, CreatedDate: CURRENT_CREATED });
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());
    }
    const reads = () => secretsManager.commandCalls(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).length;

    it('reads the secret again inside the cache period and returns a value put since', async () => {
      // Prepare
      let now = 0;
      stages('whsec_old');
      const cached = source(() => now, 60);
      const seen = await cached.getSigningSecrets();
      stages('whsec_new');

      // Act
      now = 10_000;
      const refreshed = await cached.refreshSigningSecrets(seen);
      const served = await cached.getSigningSecrets();

      // Assess
      expect(refreshed?.current?.value).toBe('whsec_new');
      expect(served.current?.value).toBe('whsec_new');
      expect(reads()).toBe(1);
    });

    it('reads at most once per interval and once for concurrent mismatches, and reports nothing newer', async () => {
      // Prepare
      let now = 0;
      stages('whsec_same');
      const cached = source(() => now, 60);
      const seen = await cached.getSigningSecrets();
      stages('whsec_same');

      // Act
      now = 10_000;
      const concurrent = await Promise.all([cached.refreshSigningSecrets(seen), cached.refreshSigningSecrets(seen), cached.refreshSigningSecrets(seen)]);
      now = 12_000;
      const soon = await cached.refreshSigningSecrets(seen);

      // Assess
      expect(concurrent).toEqual([undefined, undefined, undefined]);
      expect(soon).toBeUndefined();
      expect(reads()).toBe(1);
    });

    it('throws SecretUnavailableError when the secret cannot be read, so the receiver answers 503', async () => {
      let now = 0;
      stages('whsec_old');
      const cached = source(() => now, 60);
      const seen = await cached.getSigningSecrets();
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServiceError' }));
      now = 10_000;
      await expect(cached.refreshSigningSecrets(seen)).rejects.toBeInstanceOf(SecretUnavailableError);
    });
  });

  describe('when reads fail', () => {
    it('backs off (1 s, then 2 s) without reading, serving the last good value meanwhile', async () => {
      // Prepare
      let now = 0;
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: 's', CreatedDate: CURRENT_CREATED });
      secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());
      const cached = source(() => now, 60);
      await cached.getSigningSecrets();
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand).rejects(new Error('endpoint unreachable'));
      const reads = () => secretsManager.commandCalls(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).length;

      // Act and assess: each read that fails pushes the next one further out.
      now = 60_000;
      expect((await cached.getSigningSecrets()).current?.value).toBe('s');
      expect(reads()).toBe(1);
      now = 60_500;
      expect((await Promise.all([cached.getSigningSecrets(), cached.getSigningSecrets()])).map((secrets) => secrets.current?.value)).toEqual(['s', 's']);
      expect(reads()).toBe(1);
      now = 61_000;
      await cached.getSigningSecrets();
      expect(reads()).toBe(2);
      now = 62_500;
      await cached.getSigningSecrets();
      expect(reads()).toBe(2);
      now = 63_000;
      await cached.getSigningSecrets();
      expect(reads()).toBe(3);
    });

    it('fails at once, without a read, while backing off with no value at all', async () => {
      let now = 0;
      secretsManager.on(GetSecretValueCommand).rejects(new Error('endpoint unreachable'));
      const cached = source(() => now, 60);
      await expect(cached.getSigningSecrets()).rejects.toBeInstanceOf(SecretUnavailableError);
      now = 500;
      await expect(cached.getSigningSecrets()).rejects.toBeInstanceOf(SecretUnavailableError);
      await expect(cached.refreshSigningSecrets({})).rejects.toBeInstanceOf(SecretUnavailableError);
      expect(secretsManager.commandCalls(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })).toHaveLength(1);
    });
  });

  it('returns no current version for a secret without a string value', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ CreatedDate: CURRENT_CREATED });
    await expect(source().getSigningSecrets()).resolves.toEqual({ current: undefined, previous: undefined });
  });
});

describe('StaticSecretSource', () => {
  it('serves a plain string as the current version', async () => {
    await expect(new StaticSecretSource('dev-secret').getSigningSecrets()).resolves.toEqual({ current: { value: 'dev-secret', createdAt: new Date(0) } });
  });

  it('serves nothing when given nothing, so the receiver fails closed', async () => {
    await expect(new StaticSecretSource(undefined).getSigningSecrets()).resolves.toEqual({});
  });
});
