import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ARCHIVE_PREFIX, DEFAULTS, ENV, JOB_ATTRIBUTES, OPEN_JOBS_INDEX, TABLE_KEYS } from '../../lambda/core/contract';
import { JobWorker } from '../../lib/job-worker';
import { DEFAULT_QUEUE_VISIBILITY_TIMEOUT_SECONDS } from '../../lib/secure-defaults';
import { type Synthesized, actionsOf, getAtt, logicalId, objectsUnder, resourcesFor, roleStatements, synthesize, type CfnJson, projectApp } from './support/synth';

let synth: Synthesized;
let ids: { jobs: string; deliveries: string; archive: string; queue: string; dlq: string; worker: string };

beforeAll(() => {
  synth = synthesize();
  const { ingestion, worker } = synth.stack;
  ids = {
    jobs: logicalId(worker.jobsTable as dynamodb.Table),
    deliveries: logicalId(ingestion.deliveriesTable),
    archive: logicalId(ingestion.archiveBucket),
    queue: logicalId(ingestion.queue),
    dlq: logicalId(ingestion.deadLetterQueue),
    worker: logicalId(worker.worker),
  };
});

describe('JobWorker', () => {
  describe('the jobs table', () => {
    it('is keyed by job id only, on demand, with point-in-time recovery', () => {
      const table = synth.template.findResources('AWS::DynamoDB::Table')[ids.jobs];
      expect(table.Properties).toMatchObject({
        KeySchema: [{ AttributeName: TABLE_KEYS.jobs.partitionKey, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
      expect(table.Properties.AttributeDefinitions).toContainEqual({ AttributeName: TABLE_KEYS.jobs.partitionKey, AttributeType: 'S' });
    });

    it('has the sparse, sharded open-jobs index: shard number, opening time, and the last-checked mark projected', () => {
      const table = synth.template.findResources('AWS::DynamoDB::Table')[ids.jobs];
      expect(table.Properties.GlobalSecondaryIndexes).toEqual([
        {
          IndexName: OPEN_JOBS_INDEX.name,
          KeySchema: [
            { AttributeName: OPEN_JOBS_INDEX.shardAttribute, KeyType: 'HASH' },
            { AttributeName: OPEN_JOBS_INDEX.openedAtAttribute, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [JOB_ATTRIBUTES.reconcileCheckedAt, JOB_ATTRIBUTES.reconcileFlag] },
        },
      ]);
      expect(table.Properties.AttributeDefinitions).toEqual(
        expect.arrayContaining([
          { AttributeName: OPEN_JOBS_INDEX.shardAttribute, AttributeType: 'N' },
          { AttributeName: OPEN_JOBS_INDEX.openedAtAttribute, AttributeType: 'S' },
        ]),
      );
    });

    it('is encrypted and retained when the stack is deleted', () => {
      const table = synth.template.findResources('AWS::DynamoDB::Table')[ids.jobs];
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table.DeletionPolicy).toBe('Retain');
    });
  });

  describe('the worker function', () => {
    let fn: CfnJson;
    beforeAll(() => {
      fn = synth.template.findResources('AWS::Lambda::Function')[ids.worker].Properties;
    });

    it('runs Node.js 22 or later on arm64 with the contract timeout', () => {
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.Architectures).toEqual(['arm64']);
      expect(fn.Timeout).toBe(DEFAULTS.workerTimeoutSeconds);
    });

    it('knows the jobs table, the archive bucket, the DLQ and its queue (to bring a record back early), nothing else', () => {
      expect(fn.Environment.Variables).toEqual({
        POWERTOOLS_SERVICE_NAME: 'webhook-worker',
        [ENV.jobsTable]: { Ref: ids.jobs },
        [ENV.archiveBucket]: { Ref: ids.archive },
        [ENV.deadLetterQueueUrl]: { Ref: ids.dlq },
        [ENV.queueUrl]: { Ref: ids.queue },
      });
    });
  });

  describe('the queue event source', () => {
    it('delivers batches with partial batch failures and bounded concurrency', () => {
      synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        FunctionName: { Ref: ids.worker },
        BatchSize: DEFAULTS.workerBatchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: DEFAULTS.workerMaxConcurrency },
        MaximumBatchingWindowInSeconds: Match.anyValue(),
      });
    });

    it('keeps the batching window small and inside the queue visibility margin', () => {
      const mapping = Object.values(synth.template.findResources('AWS::Lambda::EventSourceMapping'))[0];
      const windowSeconds = mapping.Properties.MaximumBatchingWindowInSeconds as number;
      const queue = synth.template.findResources('AWS::SQS::Queue')[ids.queue];
      expect(windowSeconds).toBeLessThanOrEqual(5);
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * DEFAULTS.workerTimeoutSeconds + windowSeconds);
    });
  });

  describe("the worker's permissions", () => {
    it('are exactly: write its logs, update jobs, read archive objects, consume the queue, send to the DLQ', () => {
      const statements = roleStatements(synth.template, synth.stack.worker.workerRole);
      expect(actionsOf(statements)).toEqual([
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ]);
      const role = synth.template.findResources('AWS::IAM::Role')[logicalId(synth.stack.worker.workerRole)];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('touch only the jobs table in DynamoDB, never the deliveries table', () => {
      const statements = roleStatements(synth.template, synth.stack.worker.workerRole);
      const dynamoResources = statements
        .filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')))
        .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
        .map((r) => JSON.stringify(r));
      expect(dynamoResources).toEqual([getAtt(ids.jobs)]);
      expect(JSON.stringify(statements)).not.toContain(ids.deliveries);
    });

    it('read and list the archive under raw/ and can never put into it', () => {
      const statements = roleStatements(synth.template, synth.stack.worker.workerRole);
      expect(resourcesFor(statements, 's3:GetObject')).toEqual([objectsUnder(ids.archive, ARCHIVE_PREFIX)]);
      expect(resourcesFor(statements, 's3:ListBucket')).toEqual([getAtt(ids.archive)]);
      expect(actionsOf(statements).filter((a) => a.startsWith('s3:'))).toEqual(['s3:GetObject', 's3:ListBucket']);
    });

    it('consume only the work queue, and only send to its DLQ', () => {
      const statements = roleStatements(synth.template, synth.stack.worker.workerRole);
      expect(resourcesFor(statements, 'sqs:ReceiveMessage')).toEqual([getAtt(ids.queue)]);
      expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([getAtt(ids.dlq)]);
      const dlqStatements = statements.filter((statement) => JSON.stringify(statement).includes(ids.dlq));
      expect(actionsOf(dlqStatements)).toEqual(['sqs:SendMessage']);
    });
  });

  describe('the dead-letter queue alarm', () => {
    it('fires on one visible message in the DLQ and notifies the alarm topic', () => {
      const topicId = logicalId(synth.stack.operations.alarmTopic as sns.Topic);
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: topicId }],
      });
    });
  });
});

describe('JobWorker with an existing jobs table', () => {
  let template: Template;
  let worker: JobWorker;

  beforeAll(() => {
    const stack = new Stack(projectApp({ bundle: false }), 'Existing');
    const queue = new sqs.Queue(stack, 'Queue', { visibilityTimeout: Duration.seconds(DEFAULT_QUEUE_VISIBILITY_TIMEOUT_SECONDS) });
    const deadLetterQueue = new sqs.Queue(stack, 'Dlq');
    const archiveBucket = new s3.Bucket(stack, 'Archive');
    const existingJobsTable = dynamodb.Table.fromTableName(stack, 'ProductJobs', 'product-jobs');
    worker = new JobWorker(stack, 'Worker', { queue, deadLetterQueue, archiveBucket, existingJobsTable });
    template = Template.fromStack(stack);
  });

  it('creates no table of its own', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  it('updates only that table, and never needs to read it', () => {
    const statements = roleStatements(template, worker.workerRole);
    const [resource] = resourcesFor(statements, 'dynamodb:UpdateItem');
    expect(resource).toContain(':table/product-jobs');
    expect(resourcesFor(statements, 'dynamodb:GetItem')).toEqual([]);
  });
});
