import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { DEPLOY_OUTPUT_KEYS, OUTPUT_KEYS, RECONCILE_OUTPUT_KEYS, STACK_NAME, WEBHOOK_PATH } from '../../lambda/core/contract';
import { WebhookIngestionStack, type WebhookIngestionStackProps } from '../../lib/webhook-ingestion-stack';
import { type Synthesized, logicalId, synthesize, projectApp } from './support/synth';

let synth: Synthesized;

beforeAll(() => {
  synth = synthesize();
});

/** Runs the AwsSolutions pack over a scope, as the app does at synth time. */
function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
}

/** Every acknowledgement recorded under the scope: construct path, rule id, reason. */
function acknowledgements(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('WebhookIngestionStack', () => {
  describe('outputs', () => {
    it('carry exactly the contract keys, the deploy keys and the provider API URL of the reconciler', () => {
      expect(Object.keys(synth.template.toJSON().Outputs).sort()).toEqual(
        [...Object.values(OUTPUT_KEYS), ...Object.values(DEPLOY_OUTPUT_KEYS), RECONCILE_OUTPUT_KEYS.providerApiUrl].sort(),
      );
    });

    it("name the signing secret (its ARN, never a value) and the dashboard, for the first deploy", () => {
      synth.template.hasOutput(DEPLOY_OUTPUT_KEYS.signingSecretArn, { Value: { Ref: logicalId(synth.stack.ingestion.signingSecret as never) } });
      synth.template.hasOutput(DEPLOY_OUTPUT_KEYS.dashboardName, { Value: { Ref: logicalId(synth.stack.operations.dashboard) } });
    });

    it('give a webhook URL that ends in /webhooks', () => {
      synth.template.hasOutput(OUTPUT_KEYS.webhookUrl, {
        Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(synth.stack.ingestion.httpApi), 'ApiEndpoint'] }, WEBHOOK_PATH]] },
      });
    });

    it('name the tables, the bucket and both queues', () => {
      const { ingestion, worker } = synth.stack;
      const expected: Record<string, string> = {
        [OUTPUT_KEYS.jobsTableName]: logicalId(worker.jobsTable as never),
        [OUTPUT_KEYS.deliveriesTableName]: logicalId(ingestion.deliveriesTable),
        [OUTPUT_KEYS.archiveBucketName]: logicalId(ingestion.archiveBucket),
        [OUTPUT_KEYS.queueUrl]: logicalId(ingestion.queue),
        [OUTPUT_KEYS.deadLetterQueueUrl]: logicalId(ingestion.deadLetterQueue),
      };
      for (const [key, id] of Object.entries(expected)) synth.template.hasOutput(key, { Value: { Ref: id } });
    });
  });

  describe('synthesis', () => {
    it('is environment-agnostic: no account or region is baked in and nothing is looked up', () => {
      expect(synth.stack.environment).toBe('aws://unknown-account/unknown-region');
      expect(synth.json).not.toMatch(/\b\d{12}\b/);
      expect(synth.app.synth().manifest.missing).toBeUndefined();
    });

    it('carries no CDK warning', () => {
      expect(Annotations.fromStack(synth.stack).findWarning('*', Match.anyValue())).toEqual([]);
    });

    it('bundles every function (receiver, worker, reconciler, job events) into the cloud assembly', () => {
      const functions = Object.values(synth.template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(4);
      for (const fn of functions) expect(fn.Properties.Code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('has no unacknowledged finding, error or warning', () => {
      expect(nagFindings(synth.stack)).toEqual([]);
    });

    it('lets the app synthesize with the pack registered as a validation plugin', () => {
      const app = projectApp({ bundle: false });
      new WebhookIngestionStack(app, STACK_NAME);
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
      expect(() => app.synth()).not.toThrow();
    });

    it.each<[string, WebhookIngestionStackProps]>([
      ['X-Ray tracing on', { ingestionProps: { enableTracing: true }, workerProps: { enableTracing: true } }],
      ['unsigned deliveries allowed', { ingestionProps: { allowUnsignedDeliveries: true } }],
      [
        'an existing jobs table and its stream',
        { existingJobsTableName: 'product-jobs', existingJobsTableStreamArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/product-jobs/stream/2026-11-27T00:00:00.000' },
      ],
      ['an existing jobs table without job events', { existingJobsTableName: 'product-jobs', deployJobEvents: false }],
      ['job events without the quality review', { jobEventsProps: { deployQualityReview: false } }],
      ['an alarm email', { alarmEmail: 'ops@example.com' }],
    ])('stays clean with %s', (_name, props) => {
      const variant = synthesize(props, { bundle: false });
      expect(nagFindings(variant.stack)).toEqual([]);
    });

    it('acknowledges only on the resource concerned, never stack- or app-wide', () => {
      const paths = acknowledgements(synth.app).map((a) => a.path);
      expect(paths.sort()).toEqual(
        [
          `${STACK_NAME}/Ingestion/HttpApi`,
          `${STACK_NAME}/Ingestion/SigningSecret`,
          `${STACK_NAME}/Ingestion/ReceiverRole`,
          // Firehose's own object names under the archive's raw/ (and error) prefixes.
          `${STACK_NAME}/Ingestion/ArchiveStream/Policy`,
          `${STACK_NAME}/Ingestion/ArchiveStream/Policy`,
          `${STACK_NAME}/Worker/FunctionRole`,
          `${STACK_NAME}/Reconciler/FunctionRole`,
          `${STACK_NAME}/Reconciler/ScheduleRole`,
          `${STACK_NAME}/JobEvents/FunctionRole`,
          `${STACK_NAME}/JobEvents/FailureQueue`,
          `${STACK_NAME}/JobEvents/ReviewDeadLetterQueue`,
        ].sort(),
      );
    });

    it('gives every acknowledgement a reason a reviewer can check', () => {
      const acks = acknowledgements(synth.app);
      expect(acks.length).toBeGreaterThan(0);
      expect(acks.filter((a) => a.reason.trim().length < 60)).toEqual([]);
    });

    it("acknowledges IAM5 only for the raw/* archive prefix (and the archive stream's error prefix), the reconciler function's own qualified ARNs and the stream poller's ListStreams", () => {
      const iam5 = acknowledgements(synth.app).filter((a) => a.id.startsWith('AwsSolutions-IAM5'));
      const archiveId = logicalId(synth.stack.ingestion.archiveBucket);
      const reconcilerId = logicalId(synth.stack.reconciler!.reconciler);
      expect(iam5.map((a) => a.id).sort()).toEqual(
        [
          // receiver, worker, reconciler, archive stream
          `AwsSolutions-IAM5[Resource::<${archiveId}.Arn>/raw/*]`,
          `AwsSolutions-IAM5[Resource::<${archiveId}.Arn>/raw/*]`,
          `AwsSolutions-IAM5[Resource::<${archiveId}.Arn>/raw/*]`,
          `AwsSolutions-IAM5[Resource::<${archiveId}.Arn>/raw/*]`,
          `AwsSolutions-IAM5[Resource::<${reconcilerId}.Arn>:*]`,
          'AwsSolutions-IAM5[Resource::*]',
          `AwsSolutions-IAM5[Resource::<${archiveId}.Arn>/archive-errors/*]`,
        ].sort(),
      );
    });

    it('acknowledges nothing that is not an actual finding', () => {
      // Build the same stack with acknowledgements switched off: every one must be needed.
      const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
      try {
        const bare = synthesize({}, { bundle: false });
        const findings = new AwsSolutionsChecks(undefined).validateScope(bare.stack).violations.map((v) => v.ruleName);
        const acknowledged = [...new Set(acknowledgements(synth.app).map((a) => a.id))];
        expect(findings.sort()).toEqual(acknowledged.sort());
      } finally {
        acknowledge.mockRestore();
      }
    });
  });
});

/** The resource types that hold data or bill while they exist: what a teardown must account for. */
const STATEFUL_TYPES = ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'AWS::KMS::Key'];

function deletionPolicies(template: Synthesized['template']): Record<string, string[]> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>;
  const byType: Record<string, string[]> = {};
  for (const resource of Object.values(resources)) {
    if (STATEFUL_TYPES.includes(resource.Type)) (byType[resource.Type] ??= []).push(resource.DeletionPolicy ?? 'Delete');
  }
  return byType;
}

describe('teardown', () => {
  it('retains every table, bucket, secret, log group and key by default, and empties no bucket', () => {
    const policies = deletionPolicies(synth.template);
    expect(Object.keys(policies).sort()).toEqual([...STATEFUL_TYPES].sort());
    expect([...new Set(Object.values(policies).flat())]).toEqual(['Retain']);
    synth.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  describe('with destroyOnRemoval (dev and test stacks)', () => {
    let destroying: Synthesized;
    beforeAll(() => {
      destroying = synthesize({ destroyOnRemoval: true }, { bundle: false });
    });

    it('deletes every table, bucket, secret, log group and key with the stack', () => {
      const policies = deletionPolicies(destroying.template);
      expect(Object.keys(policies).sort()).toEqual([...STATEFUL_TYPES].sort());
      expect([...new Set(Object.values(policies).flat())]).toEqual(['Delete']);
    });

    it('empties both versioned and log buckets first, since CloudFormation cannot delete a non-empty bucket', () => {
      const { archiveBucket, accessLogsBucket } = destroying.stack.ingestion;
      const emptied = Object.values(destroying.template.findResources('Custom::S3AutoDeleteObjects')).map(
        (resource) => (resource.Properties as { BucketName: { Ref: string } }).BucketName.Ref,
      );
      expect(emptied.sort()).toEqual([logicalId(archiveBucket), logicalId(accessLogsBucket)].sort());
    });

    it('has no unacknowledged cdk-nag finding', () => {
      expect(nagFindings(destroying.stack)).toEqual([]);
    });

    it('leaves an existing jobs table alone (it is imported, not a resource of the stack)', () => {
      const withTable = synthesize(
        {
          destroyOnRemoval: true,
          existingJobsTableName: 'product-jobs',
          existingJobsTableStreamArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/product-jobs/stream/2026-01-01T00:00:00.000',
        },
        { bundle: false },
      );
      const tables = Object.values(withTable.template.findResources('AWS::DynamoDB::Table'));
      expect(tables.map((table) => (table.Properties as { KeySchema: { AttributeName: string }[] }).KeySchema[0].AttributeName)).toEqual(['deliveryId']);
    });
  });
});
