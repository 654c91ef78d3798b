/**
 * cdk-nag over the variants the stack test does not synthesize: a customer
 * managed key and an imported signing secret change grants, key policies and
 * acknowledgements, so each must stay clean on its own. (The default stack,
 * tracing, unsigned deliveries, an existing jobs table and an alarm email are
 * covered in webhook-ingestion-stack.test.ts.)
 */
import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { STACK_NAME } from '../../lambda/core/contract';
import { WebhookIngestionStack, type WebhookIngestionStackProps } from '../../lib/webhook-ingestion-stack';
import { projectApp } from './support/synth';

function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
}

type Variant = (shared: Stack) => WebhookIngestionStackProps;

const withKey: Variant = (shared) => {
  const key = new kms.Key(shared, 'Key', { enableKeyRotation: true });
  return { ingestionProps: { encryptionKey: key }, workerProps: { encryptionKey: key } };
};

const withSecret: Variant = (shared) => ({
  ingestionProps: {
    existingSigningSecret: secretsmanager.Secret.fromSecretCompleteArn(shared, 'Secret', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:provider-signing-AbCdEf'),
  },
});

function findingsWith(variant: Variant): string[] {
  const app = projectApp({ bundle: false });
  const shared = new Stack(app, 'Shared');
  return nagFindings(new WebhookIngestionStack(app, STACK_NAME, variant(shared)));
}

describe('cdk-nag AwsSolutions on the security variants', () => {
  it('finds nothing unacknowledged with the abuse mitigation on (a webhook path token)', () => {
    expect(findingsWith(() => ({ ingestionProps: { webhookPathToken: 'b7e2c94f1a0d4e6b8c3f5a7d9e1b2c4f6a8d0e2f' } }))).toEqual([]);
  });

  it('finds nothing unacknowledged with an imported signing secret', () => {
    expect(findingsWith(withSecret)).toEqual([]);
  });

  // A customer managed key adds KMS grants: exact actions (lib/secure-defaults.ts
  // KMS_ACTIONS), never CDK's grantEncryptDecrypt wildcards, so nothing needs excusing.
  it.each<[string, Variant]>([
    ['a customer managed key for tables, archive and queues', withKey],
    [
      'a customer managed key and an imported signing secret',
      (shared) => {
        const keyed = withKey(shared);
        return { ...keyed, ingestionProps: { ...keyed.ingestionProps, ...withSecret(shared).ingestionProps } };
      },
    ],
  ])('finds nothing unacknowledged with %s', (_name, variant) => {
    expect(findingsWith(variant)).toEqual([]);
  });
});
