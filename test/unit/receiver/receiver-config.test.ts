import { DEFAULTS, ENV } from '../../../lambda/core/contract';
import { ConfigurationError } from '../../../lambda/core/errors';
import { DEFAULT_RECEIVER_POLICY, loadReceiverConfig } from '../../../lambda/core/receiver-config';

const REQUIRED = {
  [ENV.deliveriesTable]: 'deliveries',
  [ENV.archiveBucket]: 'archive',
  [ENV.queueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadReceiverConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadReceiverConfig', () => {
  it('applies the shared defaults, with signatures required', () => {
    // Act
    const config = loadReceiverConfig(REQUIRED);

    // Assess
    expect(config).toEqual({
      deliveriesTable: 'deliveries',
      archiveBucket: 'archive',
      queueUrl: REQUIRED[ENV.queueUrl],
      signingSecretArn: undefined,
      requireSignature: true,
      timestampToleranceSeconds: DEFAULTS.timestampToleranceSeconds,
      maxBodyBytes: DEFAULTS.maxBodyBytes,
      dedupeTtlSeconds: DEFAULTS.dedupeTtlDays * 86400,
      leaseSeconds: DEFAULTS.leaseSeconds,
      rotationGraceSeconds: DEFAULTS.rotationGraceSeconds,
      secretCacheSeconds: DEFAULTS.secretCacheSeconds,
      inlinePayloadMaxBytes: DEFAULTS.inlinePayloadMaxBytes,
      archiveStream: undefined,
      claimCheckDelaySeconds: DEFAULTS.claimCheckDelaySeconds,
    });
  });

  it('gives, unconfigured, exactly the policy the handler tests run under', () => {
    expect(loadReceiverConfig(REQUIRED)).toMatchObject({ ...DEFAULT_RECEIVER_POLICY });
  });

  it('reads the signature flag in any case', () => {
    expect(loadReceiverConfig({ ...REQUIRED, [ENV.requireSignature]: 'TRUE' }).requireSignature).toBe(true);
    expect(loadReceiverConfig({ ...REQUIRED, [ENV.requireSignature]: 'False' }).requireSignature).toBe(false);
  });

  it('accepts the largest value a bounded setting allows', () => {
    const config = loadReceiverConfig({ ...REQUIRED, [ENV.inlinePayloadMaxBytes]: String(1024 * 1024), [ENV.claimCheckDelaySeconds]: '900' });
    expect(config).toMatchObject({ inlinePayloadMaxBytes: 1024 * 1024, claimCheckDelaySeconds: 900 });
  });

  it('reads every override', () => {
    const config = loadReceiverConfig({
      ...REQUIRED,
      [ENV.signingSecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing',
      [ENV.requireSignature]: 'FALSE',
      [ENV.timestampToleranceSeconds]: '60',
      [ENV.maxBodyBytes]: '2048',
      [ENV.dedupeTtlDays]: '7',
      [ENV.leaseSeconds]: '20',
      [ENV.rotationGraceSeconds]: '0',
      [ENV.secretCacheSeconds]: '0',
      [ENV.inlinePayloadMaxBytes]: '0',
      [ENV.archiveStream]: 'webhook-archive',
      [ENV.claimCheckDelaySeconds]: '8',
    });
    expect(config).toMatchObject({
      archiveStream: 'webhook-archive',
      claimCheckDelaySeconds: 8,
      requireSignature: false,
      timestampToleranceSeconds: 60,
      maxBodyBytes: 2048,
      dedupeTtlSeconds: 7 * 86400,
      leaseSeconds: 20,
      rotationGraceSeconds: 0,
      secretCacheSeconds: 0,
      inlinePayloadMaxBytes: 0,
    });
  });

  it('treats blank values as unset', () => {
    expect(loadReceiverConfig({ ...REQUIRED, [ENV.maxBodyBytes]: ' ' }).maxBodyBytes).toBe(DEFAULTS.maxBodyBytes);
  });

  describe('when the environment is invalid', () => {
    it('names every missing resource in one error', () => {
      expect(problemsOf({})).toEqual([
        `${ENV.deliveriesTable} is required`,
        `${ENV.archiveBucket} is required`,
        `${ENV.queueUrl} is required`,
      ]);
    });

    it.each([
      [ENV.timestampToleranceSeconds, '0'],
      [ENV.maxBodyBytes, '-1'],
      [ENV.dedupeTtlDays, '1.5'],
      [ENV.leaseSeconds, 'thirty'],
      [ENV.inlinePayloadMaxBytes, '1e3'],
      [ENV.inlinePayloadMaxBytes, String(1024 * 1024 + 1)],
      [ENV.claimCheckDelaySeconds, '0'],
      [ENV.claimCheckDelaySeconds, '901'],
    ])('rejects %s=%s', (name, value) => {
      expect(problemsOf({ ...REQUIRED, [name]: value })).toEqual([expect.stringContaining(`${name} must be an integer`)]);
    });

    it('says what a setting accepts: a lower bound, or both bounds when it has an upper one', () => {
      expect(problemsOf({ ...REQUIRED, [ENV.leaseSeconds]: 'thirty', [ENV.claimCheckDelaySeconds]: '901' })).toEqual([
        `${ENV.leaseSeconds} must be an integer >= 1, got "thirty"`,
        `${ENV.claimCheckDelaySeconds} must be an integer between 1 and 900, got "901"`,
      ]);
    });

    it('rejects a signature flag that is neither true nor false', () => {
      expect(problemsOf({ ...REQUIRED, [ENV.requireSignature]: 'no' })).toEqual([`${ENV.requireSignature} must be "true" or "false", got "no"`]);
    });

    it('collects problems of every kind together', () => {
      expect(problemsOf({ [ENV.maxBodyBytes]: 'big', [ENV.requireSignature]: 'maybe' })).toHaveLength(5);
    });
  });
});
