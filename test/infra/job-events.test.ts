import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULTS, ENV, JOB_EVENTS, OUTPUT_KEYS } from '../../lambda/core/contract';
import { JobEvents, type JobEventsProps } from '../../lib/job-events';
import { PropsValidationError } from '../../lib/secure-defaults';
import { WebhookIngestionStack } from '../../lib/webhook-ingestion-stack';
import { type CfnJson, type Synthesized, logicalId, synthesize } from './support/synth';

const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:111122223333:table/product-jobs/stream/2026-11-27T00:00:00.000';
let synth: Synthesized;
let jobEvents: JobEvents;

beforeAll(() => {
  synth = synthesize({}, { bundle: false });
  jobEvents = synth.stack.jobEvents!;
});

function resource(type: string, construct: { node: { defaultChild?: unknown } }): CfnJson {
  return synth.template.findResources(type)[logicalId(construct)];
}

/** The publisher's event source mapping: the one without a queue (StartingPosition is for streams only). */
function mapping(template: Template = synth.template): CfnJson {
  const streams = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter((each) => each.Properties.StartingPosition !== undefined);
  expect(streams).toHaveLength(1);
  return streams[0];
}

function standalone(props: Partial<JobEventsProps> = {}): { stack: Stack; construct: JobEvents; template: Template } {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Standalone');
  const jobsTable = dynamodb.Table.fromTableAttributes(stack, 'Jobs', { tableName: 'product-jobs', tableStreamArn: STREAM_ARN });
  const construct = new JobEvents(stack, 'JobEvents', { jobsTable, ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof PropsValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a PropsValidationError');
}

describe('JobEvents', () => {
  describe('the jobs table', () => {
    it('streams new and old images, so the publisher can compare the status before and after', () => {
      expect(resource('AWS::DynamoDB::Table', synth.stack.worker.jobsTable as dynamodb.Table).Properties.StreamSpecification).toEqual({
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      });
    });

    it('keeps its stream even when the caller overrides the table props', () => {
      const variant = synthesize({ workerProps: { jobsTableProps: { stream: dynamodb.StreamViewType.KEYS_ONLY } } }, { bundle: false });
      const table = variant.template.findResources('AWS::DynamoDB::Table')[logicalId(variant.stack.worker.jobsTable as dynamodb.Table)];
      expect(table.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    });
  });

  describe('the stream event source', () => {
    it('starts at the oldest record, bisects on errors, bounds retries and record age, and takes partial batch failures', () => {
      expect(mapping().Properties).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: DEFAULTS.jobEventsBatchSize,
        MaximumBatchingWindowInSeconds: DEFAULTS.jobEventsMaxBatchingWindowSeconds,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: DEFAULTS.jobEventsRetryAttempts,
        MaximumRecordAgeInSeconds: DEFAULTS.jobEventsMaxRecordAgeSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(jobEvents.failureQueue), 'Arn'] } } },
      });
    });

    it('invokes the publisher only for inserts and modifications that leave one of our statuses', () => {
      const [filter] = mapping().Properties.FilterCriteria.Filters;
      expect(JSON.parse(filter.Pattern)).toEqual({
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: { NewImage: { status: { S: ['started', 'completed', 'failed'] } } },
      });
    });

    it('gives the publisher the bus name and nothing else', () => {
      const fn = resource('AWS::Lambda::Function', jobEvents.publisher);
      expect(fn.Properties.Environment.Variables).toEqual({ POWERTOOLS_SERVICE_NAME: 'job-events', [ENV.jobEventsBusName]: { Ref: logicalId(jobEvents.eventBus as never) } });
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: DEFAULTS.jobEventsTimeoutSeconds });
    });
  });

  describe('the failure queue', () => {
    it('is encrypted, TLS-only and keeps a given-up batch for 14 days', () => {
      expect(resource('AWS::SQS::Queue', jobEvents.failureQueue).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      const policy = Object.values(synth.template.findResources('AWS::SQS::QueuePolicy')).find((each) =>
        JSON.stringify(each.Properties.Queues).includes(logicalId(jobEvents.failureQueue)),
      );
      expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('pages the alarm topic when it holds anything', () => {
      const alarm = resource('AWS::CloudWatch::Alarm', jobEvents.alarms.failureQueueNotEmpty);
      expect(alarm.Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        AlarmActions: [{ Ref: logicalId(synth.stack.operations.alarmTopic as never) }],
      });
    });
  });

  describe('the alarms', () => {
    it('page when events are late (iterator age) and when the publisher crashes', () => {
      expect(resource('AWS::CloudWatch::Alarm', jobEvents.alarms.iteratorAge).Properties).toMatchObject({ MetricName: 'IteratorAge', Statistic: 'Maximum', Threshold: 300_000 });
      expect(resource('AWS::CloudWatch::Alarm', jobEvents.alarms.publisherErrors).Properties).toMatchObject({ MetricName: 'Errors', Threshold: 1 });
    });

    it('all notify the alarm topic', () => {
      for (const alarm of Object.values(jobEvents.alarms)) {
        expect(resource('AWS::CloudWatch::Alarm', alarm).Properties.AlarmActions).toEqual([{ Ref: logicalId(synth.stack.operations.alarmTopic as never) }]);
      }
    });
  });

  describe('the quality review', () => {
    it('routes Job Completed events of difficult scenes to the review queue', () => {
      const rule = resource('AWS::Events::Rule', jobEvents.qualityReviewRule!);
      expect(rule.Properties.EventBusName).toEqual({ Ref: logicalId(jobEvents.eventBus as never) });
      expect(rule.Properties.EventPattern).toEqual({
        source: [JOB_EVENTS.source],
        'detail-type': [JOB_EVENTS.detailTypes.completed],
        detail: { product: { sceneTags: ['hair', 'glass', 'motion_blur'] } },
      });
      expect(rule.Properties.Targets).toEqual([
        {
          Id: 'Target0',
          Arn: { 'Fn::GetAtt': [logicalId(jobEvents.reviewQueue!), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(jobEvents.reviewDeadLetterQueue!), 'Arn'] } },
        },
      ]);
    });

    it('gives the review queue its dead-letter queue, which alarms', () => {
      expect(resource('AWS::SQS::Queue', jobEvents.reviewQueue!).Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(jobEvents.reviewDeadLetterQueue!), 'Arn'] },
        maxReceiveCount: DEFAULTS.maxReceiveCount,
      });
      expect(resource('AWS::CloudWatch::Alarm', jobEvents.alarms.reviewDeadLetterQueueNotEmpty!).Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(jobEvents.reviewDeadLetterQueue!), 'QueueName'] } }],
      });
    });

    it('matches a pattern of the caller over the detail (a model, say)', () => {
      const { construct, template } = standalone({ deployQualityReview: true, qualityReviewProps: { detailPattern: { model: ['pro'] } } });
      const rule = template.findResources('AWS::Events::Rule')[logicalId(construct.qualityReviewRule!)];
      expect(rule.Properties.EventPattern.detail).toEqual({ model: ['pro'] });
    });

    it('is left out of the construct unless asked for', () => {
      const { construct, template } = standalone();
      expect(construct.reviewQueue).toBeUndefined();
      expect(template.findResources('AWS::Events::Rule')).toEqual({});
    });
  });

  describe('the bus', () => {
    it('is a custom bus the stack creates, named in the JobEventsBusName output', () => {
      expect(Object.keys(synth.template.findResources('AWS::Events::EventBus'))).toEqual([logicalId(jobEvents.eventBus as never)]);
      synth.template.hasOutput(OUTPUT_KEYS.jobEventsBusName, { Value: { Ref: logicalId(jobEvents.eventBus as never) } });
    });

    it('can be one that already exists, and then only PutEvents on it is granted', () => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Existing');
      const bus = events.EventBus.fromEventBusName(stack, 'Bus', 'product-bus');
      const jobsTable = dynamodb.Table.fromTableAttributes(stack, 'Jobs', { tableName: 'product-jobs', tableStreamArn: STREAM_ARN });
      new JobEvents(stack, 'JobEvents', { jobsTable, existingEventBusObj: bus });
      const template = Template.fromStack(stack);
      expect(template.findResources('AWS::Events::EventBus')).toEqual({});
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]);
      expect(statements.filter((s) => JSON.stringify(s.Action).includes('events:'))).toEqual([
        expect.objectContaining({ Action: 'events:PutEvents', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/product-bus']] } }),
      ]);
    });
  });

  describe('with an existing jobs table', () => {
    it('reads the stream named by existingJobsTableStreamArn', () => {
      const variant = synthesize({ existingJobsTableName: 'product-jobs', existingJobsTableStreamArn: STREAM_ARN }, { bundle: false });
      expect(mapping(variant.template).Properties.EventSourceArn).toBe(STREAM_ARN);
    });

    it('refuses a table without its stream, saying what to do', () => {
      const build = () => new WebhookIngestionStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'NoStream', { existingJobsTableName: 'product-jobs' });
      expect(problemsOf(build)).toEqual([expect.stringContaining('existingJobsTableName needs existingJobsTableStreamArn')]);
      expect(problemsOf(build)[0]).toContain('NEW_AND_OLD_IMAGES');
    });

    it('can leave the job events out', () => {
      const variant = synthesize({ existingJobsTableName: 'product-jobs', deployJobEvents: false }, { bundle: false });
      expect(variant.stack.jobEvents).toBeUndefined();
      expect(Object.keys(variant.template.toJSON().Outputs)).not.toContain(OUTPUT_KEYS.jobEventsBusName);
    });
  });

  describe('props validation', () => {
    const stackWith = (props: Partial<JobEventsProps>) => () => standalone(props);

    it.each<[string, Partial<JobEventsProps>, string]>([
      ['a table without a stream', { jobsTable: dynamodb.Table.fromTableName(new Stack(), 'T', 'plain') }, 'jobsTable has no stream'],
      ['a zero batch size', { batchSize: 0 }, 'batchSize must be an integer between 1 and 10000 (got 0)'],
      ['unbounded retries', { retryAttempts: -1 }, 'retryAttempts must be an integer between 0 and 10000 (got -1)'],
      ['a record age beyond the stream retention', { maxRecordAge: Duration.days(2) }, 'maxRecordAge must be between 60 seconds and 24 hours'],
      ['a record age under a minute', { maxRecordAge: Duration.seconds(30) }, 'maxRecordAge must be between 60 seconds and 24 hours'],
      ['a batching window over 300 s', { maxBatchingWindow: Duration.minutes(6) }, 'maxBatchingWindow must be between 0 and 300 seconds (got 360)'],
      ['a parallelization factor over 10', { parallelizationFactor: 11 }, 'parallelizationFactor must be an integer between 1 and 10 (got 11)'],
      ['too little memory', { memorySize: 64 }, 'memorySize must be an integer between 128 and 10240 (got 64)'],
      ['review props without the review', { qualityReviewProps: { detailPattern: { model: ['pro'] } } }, 'qualityReviewProps needs deployQualityReview: true'],
      ['an empty review pattern', { deployQualityReview: true, qualityReviewProps: { detailPattern: {} } }, 'qualityReviewProps.detailPattern must be a non-empty pattern object'],
      [
        'a review queue under a KMS key',
        { deployQualityReview: true, qualityReviewProps: { queueProps: { encryption: sqs.QueueEncryption.KMS_MANAGED } } },
        'qualityReviewProps.queueProps.encryption must be SQS_MANAGED',
      ],
      ['an unencrypted failure queue', { failureQueueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } }, 'failureQueueProps.encryption must not be UNENCRYPTED'],
      ['an iterator age threshold under a minute', { iteratorAgeThreshold: Duration.seconds(10) }, 'iteratorAgeThreshold must be at least 60 seconds (got 10)'],
    ])('rejects %s', (_case, props, message) => {
      expect(problemsOf(stackWith(props))).toEqual([expect.stringContaining(message)]);
    });

    it('reports every problem in one error', () => {
      expect(problemsOf(stackWith({ batchSize: 0, retryAttempts: -1, memorySize: 1 }))).toHaveLength(3);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('finds nothing unacknowledged in the construct alone, with or without the review', () => {
      for (const props of [{}, { deployQualityReview: true }] as Partial<JobEventsProps>[]) {
        const { stack } = standalone(props);
        const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
        expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
      }
    });
  });
});
