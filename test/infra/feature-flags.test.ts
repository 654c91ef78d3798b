/**
 * The CDK feature flags: `cdk.json` sets exactly the flags `cdk init` writes for
 * this aws-cdk-lib (the list the library ships), and the one that matters to
 * this stack today does what it should.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { WebhookIngestionStack } from '../../lib/webhook-ingestion-stack';
import { projectApp, projectContext } from './support/synth';

/** The repository root. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

const OPERATOR_ROLE_ARN = 'arn:aws:iam::123456789012:role/webhook-operators';

describe('CDK feature flags', () => {
  it('are exactly the recommended ones that aws-cdk-lib ships and cdk init writes', () => {
    const shipped = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'node_modules', 'aws-cdk-lib', 'recommended-feature-flags.json'), 'utf8')) as Record<string, unknown>;
    expect(projectContext()).toEqual(shipped);
  });

  it('give each stack its own inline policy on an imported operator role, so staging and prod never overwrite each other', () => {
    // Prepare: one app, two stages, the same operators' role granted in both.
    const app = projectApp({ bundle: false });
    const stacks = ['Staging', 'Prod'].map((stage) => {
      const stack = new WebhookIngestionStack(app, `WebhookIngestion${stage}`);
      stack.grantReplay(iam.Role.fromRoleArn(stack, 'OperatorRole', OPERATOR_ROLE_ARN));
      return stack;
    });

    // Act
    const policies = stacks.map((stack) => Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: ['webhook-operators'] } })));

    // Assess
    expect(policies.map((list) => list.length)).toEqual([1, 1]);
    const names = policies.map((list) => list[0].Properties.PolicyName as string);
    expect(names[0]).not.toBe(names[1]);
  });
});
