import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULTS, ENV, METRIC, RECONCILE_OUTPUT_KEYS, SERVICE_NAMES, STACK_NAME } from '../../lambda/core/contract';
import { Reconciler, type ReconcilerProps } from '../../lib/reconciler';
import { WebhookIngestionStack, type WebhookIngestionStackProps } from '../../lib/webhook-ingestion-stack';
import { type CfnJson, logicalId, roleStatements, actionsOf, resourcesFor, synthesize } from './support/synth';

const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:provider-api-key-AbCdEf';

function withKey(extra: WebhookIngestionStackProps = {}): WebhookIngestionStackProps {
  return { providerApiKeySecretArn: KEY_ARN, ...extra };
}

describe('Reconciler', () => {
  describe('by default (no API key: detect and alarm only)', () => {
    const synth = synthesize({}, { bundle: false });
    const reconciler = synth.stack.reconciler!;
    const fn = (): CfnJson => synth.template.findResources('AWS::Lambda::Function')[logicalId(reconciler.reconciler)].Properties;

    it('sweeps every 15 minutes through EventBridge Scheduler, without retries, invoking the reconciler', () => {
      const schedules = Object.values(synth.template.findResources('AWS::Scheduler::Schedule'));
      expect(schedules).toHaveLength(1);
      expect(schedules[0].Properties).toMatchObject({
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [logicalId(reconciler.reconciler), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [logicalId(reconciler.scheduleRole), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      });
    });

    it('runs one sweep at a time with the contract budget and defaults, and no key', () => {
      expect(fn()).toMatchObject({ Timeout: DEFAULTS.reconcilerTimeoutSeconds, ReservedConcurrentExecutions: 1, Architectures: ['arm64'] });
      expect(fn().Environment.Variables).toEqual({
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.reconciler,
        [ENV.jobsTable]: { Ref: logicalId(synth.stack.worker.jobsTable as dynamodb.Table) },
        [ENV.queueUrl]: { Ref: logicalId(synth.stack.ingestion.queue) },
        [ENV.archiveBucket]: { Ref: logicalId(synth.stack.ingestion.archiveBucket) },
        [ENV.providerApiUrl]: 'https://api.removebgvideo.com',
        [ENV.stuckAfterSeconds]: '7200',
        [ENV.giveUpAfterSeconds]: '604800',
        [ENV.recheckAfterSeconds]: '3600',
        [ENV.maxJobsPerSweep]: '100',
        [ENV.providerRequestsPerSecond]: '0.5',
      });
      expect(actionsOf(roleStatements(synth.template, reconciler.reconcilerRole))).not.toContain('secretsmanager:GetSecretValue');
    });

    it('alarms on StuckJobs after one sweep and on ReconcileErrors after two, to the alarm topic', () => {
      const alarm = (construct: { node: { defaultChild?: unknown } }) => synth.template.findResources('AWS::CloudWatch::Alarm')[logicalId(construct)].Properties;
      const topic = { Ref: logicalId(synth.stack.operations.alarmTopic as never) };
      expect(alarm(reconciler.alarms.stuckJobs)).toMatchObject({
        MetricName: METRIC.stuckJobs,
        Namespace: 'WebhookIngestion',
        Dimensions: [{ Name: 'service', Value: SERVICE_NAMES.reconciler }],
        Statistic: 'Maximum',
        Period: 900,
        Threshold: 1,
        EvaluationPeriods: 1,
        AlarmActions: [topic],
      });
      expect(alarm(reconciler.alarms.reconcileErrors)).toMatchObject({ MetricName: METRIC.reconcileErrors, Statistic: 'Sum', EvaluationPeriods: 2, DatapointsToAlarm: 2, AlarmActions: [topic] });
    });
  });

  describe('with an API key secret', () => {
    const synth = synthesize(withKey(), { bundle: false });
    const reconciler = synth.stack.reconciler!;

    it('reads exactly that secret, by ARN, and puts only the ARN in the template and outputs', () => {
      const statements = roleStatements(synth.template, reconciler.reconcilerRole);
      expect(resourcesFor(statements, 'secretsmanager:GetSecretValue')).toEqual([JSON.stringify(KEY_ARN)]);
      const variables = synth.template.findResources('AWS::Lambda::Function')[logicalId(reconciler.reconciler)].Properties.Environment.Variables;
      expect(variables[ENV.providerApiKeySecretArn]).toBe(KEY_ARN);
      synth.template.hasOutput(RECONCILE_OUTPUT_KEYS.providerApiKeySecretArn, { Value: KEY_ARN });
    });

    it('matches a secret imported by name with the suffix wildcard Secrets Manager adds', () => {
      const partial = synthesize({ providerApiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:provider-key' }, { bundle: false });
      expect(resourcesFor(roleStatements(partial.template, partial.stack.reconciler!.reconcilerRole), 'secretsmanager:GetSecretValue')).toEqual([
        JSON.stringify('arn:aws:secretsmanager:eu-west-1:111122223333:secret:provider-key-??????'),
      ]);
    });

    it.each<[string, (shared: Stack) => WebhookIngestionStackProps]>([
      ['the key alone', () => withKey()],
      [
        'the key and a customer managed key everywhere',
        (shared) => {
          const key = new kms.Key(shared, 'Key', { enableKeyRotation: true });
          return withKey({ ingestionProps: { encryptionKey: key }, workerProps: { encryptionKey: key } });
        },
      ],
      ['tracing on', () => withKey({ reconcilerProps: { enableTracing: true } })],
    ])('leaves cdk-nag nothing unacknowledged with %s', (_name, variant) => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const shared = new Stack(app, 'Shared');
      const stack = new WebhookIngestionStack(app, STACK_NAME, variant(shared));
      const findings = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations.map((v) => v.ruleName);
      expect(findings).toEqual([]);
    });
  });

  it('is left out with deployReconciler false, outputs included', () => {
    const synth = synthesize({ deployReconciler: false }, { bundle: false });
    expect(synth.stack.reconciler).toBeUndefined();
    expect(Object.keys(synth.template.findResources('AWS::Scheduler::Schedule'))).toEqual([]);
    expect(Object.keys(synth.template.toJSON().Outputs)).not.toContain(RECONCILE_OUTPUT_KEYS.providerApiUrl);
  });

  describe('props validation', () => {
    function build(props: Partial<ReconcilerProps>): () => void {
      return () => {
        const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
        const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'jobId', type: dynamodb.AttributeType.STRING } });
        new Reconciler(stack, 'R', { jobsTable: table, queue: new sqs.Queue(stack, 'Q'), archiveBucket: new s3.Bucket(stack, 'B'), ...props });
      };
    }

    it.each<[string, Partial<ReconcilerProps>, string]>([
      ['a sweep interval in seconds', { sweepInterval: Duration.seconds(90) }, 'sweepInterval must be whole minutes between 1 minute and 1 day (got 90 s)'],
      ['a stuckAfter under a minute', { stuckAfter: Duration.seconds(30) }, 'stuckAfter must be at least 1 minute (got 30 s)'],
      ['giving up before a job is stuck', { stuckAfter: Duration.hours(3), giveUpAfter: Duration.hours(2) }, 'giveUpAfter (7200 s) must be longer than stuckAfter (10800 s)'],
      ['a rate of 0', { providerRequestsPerSecond: 0 }, 'providerRequestsPerSecond must be greater than 0 and at most 20 (got 0)'],
      ['more calls than the budget allows', { maxJobsPerSweep: 1000 }, 'maxJobsPerSweep 1000 at 0.5 calls/s needs 2000 s, more than the sweep\'s 285 s budget'],
      ['a plain-http provider', { providerApiUrl: 'http://api.removebgvideo.com' }, 'providerApiUrl: the provider API base URL must be https (http only on loopback)'],
      ['a provider URL with a path', { providerApiUrl: 'https://api.removebgvideo.com/v1' }, 'must be scheme and host only'],
    ])('refuses %s', (_what, props, message) => {
      expect(build(props)).toThrow(message);
    });

    it('lists every problem at once', () => {
      expect(build({ stuckAfter: Duration.seconds(1), providerRequestsPerSecond: -1, maxJobsPerSweep: 0 })).toThrow(
        /stuckAfter[\s\S]*maxJobsPerSweep must be an integer between 1 and 10000[\s\S]*providerRequestsPerSecond/,
      );
    });
  });
});

describe('the reconciler in a template test without the stack', () => {
  it('grants Query on the index of the table it is given, not on the table', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'jobId', type: dynamodb.AttributeType.STRING } });
    const reconciler = new Reconciler(stack, 'R', { jobsTable: table, queue: new sqs.Queue(stack, 'Q'), archiveBucket: new s3.Bucket(stack, 'B'), existingProviderApiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'K', KEY_ARN) });
    const statements = roleStatements(Template.fromStack(stack), reconciler.reconcilerRole);
    expect(resourcesFor(statements, 'dynamodb:Query')).toEqual([JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(table), 'Arn'] }, '/index/open-jobs']] })]);
  });
});
