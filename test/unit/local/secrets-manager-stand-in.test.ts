import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSource } from '../../../lambda/adapters/secrets-manager-source';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../../local/stand-ins/secrets-manager';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

describe('the local Secrets Manager, through the real SDK client', () => {
  let standIn: LocalSecretsManager;
  let client: SecretsManagerClient;
  let clock: Date;

  beforeEach(async () => {
    clock = new Date('2026-11-27T10:00:00.000Z');
    standIn = await startLocalSecretsManager({ region: REGION, account: ACCOUNT, now: () => clock });
    client = new SecretsManagerClient({ region: REGION, endpoint: standIn.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  });

  afterEach(async () => {
    client.destroy();
    await standIn.stop();
  });

  async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
    try {
      await promise;
    } catch (error) {
      const { name, message, $metadata } = error as Error & { $metadata?: { httpStatusCode?: number } };
      return { name, message, status: $metadata?.httpStatusCode };
    }
    throw new Error('the call succeeded');
  }

  describe('GetSecretValue', () => {
    it('answers the AWSCURRENT version when neither a stage nor a version id is given', async () => {
      // Prepare
      const arn = standIn.createSecret('provider-signing', 'whsec_one');

      // Act
      const answer = await client.send(new GetSecretValueCommand({ SecretId: arn }));

      // Assess
      expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:provider-signing-[A-Za-z0-9]{6}$/);
      expect(answer).toMatchObject({ ARN: arn, Name: 'provider-signing', SecretString: 'whsec_one', VersionStages: ['AWSCURRENT'] });
      expect(answer.VersionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.CreatedDate).toEqual(clock);
    });

    it.each([
      ['its name', (arn: string) => arn.split(':secret:')[1].slice(0, -7)],
      ['its ARN without the random suffix', (arn: string) => arn.slice(0, -7)],
    ])('finds a secret by %s', async (_, id) => {
      const arn = standIn.createSecret('provider-signing', 'whsec_one');
      await expect(client.send(new GetSecretValueCommand({ SecretId: id(arn) }))).resolves.toMatchObject({ ARN: arn });
    });

    it('answers ResourceNotFoundException for AWSPREVIOUS of a secret never rotated, as the receiver expects', async () => {
      const arn = standIn.createSecret('provider-signing', 'whsec_one');
      await expect(errorOf(client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' })))).resolves.toEqual({
        name: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
        status: 400,
      });
    });

    it('moves AWSCURRENT to a new value and AWSPREVIOUS to the one it replaced, dropping the older label', async () => {
      // Prepare
      const arn = standIn.createSecret('provider-signing', 'whsec_one');
      clock = new Date('2026-11-28T10:00:00.000Z');
      standIn.putSecretValue(arn, 'whsec_two');
      clock = new Date('2026-11-29T10:00:00.000Z');
      standIn.putSecretValue('provider-signing', 'whsec_three');

      // Act
      const current = await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
      const previous = await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }));

      // Assess
      expect(current).toMatchObject({ SecretString: 'whsec_three', VersionStages: ['AWSCURRENT'], CreatedDate: new Date('2026-11-29T10:00:00.000Z') });
      expect(previous).toMatchObject({ SecretString: 'whsec_two', VersionStages: ['AWSPREVIOUS'], CreatedDate: new Date('2026-11-28T10:00:00.000Z') });
    });

    it('answers a version by its id, and only with a stage that version carries', async () => {
      // Prepare
      const arn = standIn.createSecret('provider-signing', 'whsec_one');
      const first = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      standIn.putSecretValue(arn, 'whsec_two');

      // Act, Assess
      await expect(client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: first.VersionId }))).resolves.toMatchObject({
        SecretString: 'whsec_one',
        VersionStages: ['AWSPREVIOUS'],
      });
      await expect(errorOf(client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: first.VersionId, VersionStage: 'AWSCURRENT' })))).resolves.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      await expect(errorOf(client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: 'too-short' })))).resolves.toMatchObject({
        name: 'InvalidParameterException',
      });
      await expect(errorOf(client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: '0'.repeat(32) })))).resolves.toMatchObject({
        name: 'ResourceNotFoundException',
        message: `Secrets Manager can't find the specified secret value for VersionId: ${'0'.repeat(32)}`,
      });
    });

    it('answers ResourceNotFoundException for an unknown secret, or a full ARN with another suffix', async () => {
      const arn = standIn.createSecret('provider-signing', 'whsec_one');
      await expect(errorOf(client.send(new GetSecretValueCommand({ SecretId: 'other' })))).resolves.toMatchObject({ name: 'ResourceNotFoundException' });
      await expect(errorOf(client.send(new GetSecretValueCommand({ SecretId: `${arn.slice(0, -6)}zzzzzz` })))).resolves.toMatchObject({
        name: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    });

    it('answers InvalidParameterException without a SecretId', async () => {
      await expect(errorOf(client.send(new GetSecretValueCommand({ SecretId: '' })))).resolves.toMatchObject({ name: 'InvalidParameterException' });
    });
  });

  it('refuses every other operation', async () => {
    const arn = standIn.createSecret('provider-signing', 'whsec_one');
    await expect(errorOf(client.send(new DescribeSecretCommand({ SecretId: arn })))).resolves.toMatchObject({ name: 'UnknownOperationException', status: 400 });
  });

  it("serves the receiver's own adapter both version stages during a rotation", async () => {
    // Prepare
    const arn = standIn.createSecret('provider-signing', 'whsec_one');
    clock = new Date('2026-11-28T10:00:00.000Z');
    standIn.putSecretValue(arn, 'whsec_two');
    const source = new SecretsManagerSource(client, arn, { cacheSeconds: 0 });

    // Act
    const secrets = await source.getSigningSecrets();

    // Assess
    expect(secrets).toEqual({
      current: { value: 'whsec_two', createdAt: new Date('2026-11-28T10:00:00.000Z') },
      previous: { value: 'whsec_one', createdAt: new Date('2026-11-27T10:00:00.000Z') },
    });
    expect(standIn.calls()).toBe(2);
  });
});
