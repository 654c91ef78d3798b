/**
 * The product's side: jobs table stream (new and old images) -> `job-events`
 * Lambda -> EventBridge bus, one event per status change of a job. Optionally
 * a quality-review rule routes `Job Completed` events of difficult scenes to a
 * review queue. Teams subscribe their own targets to `eventBus` in their own
 * CDK code (see the README).
 */
import { Duration, RemovalPolicies, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, ENV, JOB_EVENTS, METRIC, METRICS_NAMESPACE, QUALITY_REVIEW, SERVICE_NAMES } from '../lambda/core/contract';
import { JOB_STATUSES } from '../lambda/core/job-state';
import { LAMBDA_MEMORY_MAX_MB, LAMBDA_MEMORY_MIN_MB, ProblemCollector, createNodeFunction } from './secure-defaults';

const DEFAULT_MEMORY_MB = 256;
/** Lambda's bounds for a DynamoDB stream event source. */
const BATCH_SIZE_MAX = 10_000;
const BATCHING_WINDOW_MAX_SECONDS = 300;
const RETRY_ATTEMPTS_MAX = 10_000;
const PARALLELIZATION_MAX = 10;
const RECORD_AGE_MIN_SECONDS = 60;
/** DynamoDB Streams keeps records 24 hours: an older record no longer exists to be retried. */
const STREAM_RETENTION_SECONDS = 24 * 60 * 60;
const FAILURE_RETENTION = Duration.days(14);
const DASHBOARD_PERIOD = Duration.minutes(1);

/** The seed's "difficult scenes": scene tags the product sets on the job item when it creates the job. */
export const DEFAULT_REVIEW_DETAIL_PATTERN: Record<string, unknown> = {
  product: { [QUALITY_REVIEW.sceneTagsAttribute]: [...QUALITY_REVIEW.difficultSceneTags] },
};

export interface QualityReviewProps {
  /**
   * An EventBridge pattern over the event's `detail`, matched on `Job Completed`
   * events only. Product attributes are under `product`, e.g.
   * `{ product: { sceneTags: ['hair'] } }`, or the stack's own fields, e.g.
   * `{ model: ['pro'] }`.
   *
   * @default - `{ product: { sceneTags: ['hair', 'glass', 'motion_blur'] } }`
   */
  readonly detailPattern?: Record<string, unknown>;
  /** Overrides for the review queue. Encryption, TLS-only and the DLQ wiring are enforced. @default - SQS managed encryption, 14 days retention */
  readonly queueProps?: sqs.QueueProps;
}

export interface JobEventsProps {
  /** The jobs table; it must have a stream with new and old images (`tableStreamArn` set). */
  readonly jobsTable: dynamodb.ITable;

  /** Publish to a bus that already exists. @default - a new custom bus */
  readonly existingEventBusObj?: events.IEventBus;
  /** Overrides for a created bus. @default - a name CloudFormation generates */
  readonly eventBusProps?: events.EventBusProps;

  /** @default 256 */
  readonly memorySize?: number;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** Active X-Ray tracing on the publisher. @default false */
  readonly enableTracing?: boolean;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

  /** Stream records per invocation (1-10000). @default 100 */
  readonly batchSize?: number;
  /** How long the event source gathers a batch (0-300 s). @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failing batch before its position goes to the failure queue (0-10000). @default 100 */
  readonly retryAttempts?: number;
  /** Records older than this are not retried but sent to the failure queue (60 s - 24 h). @default Duration.hours(6) */
  readonly maxRecordAge?: Duration;
  /** Concurrent batches per shard (1-10); Lambda keeps each job's records in order. @default 1 */
  readonly parallelizationFactor?: number;
  /** Overrides for the on-failure queue. Encryption, TLS-only and 14 days retention are enforced. @default - SQS managed encryption */
  readonly failureQueueProps?: sqs.QueueProps;

  /** Route `Job Completed` events of difficult scenes to a review queue. @default false */
  readonly deployQualityReview?: boolean;
  /** The review rule's pattern and queue. @default - see `QualityReviewProps` */
  readonly qualityReviewProps?: QualityReviewProps;

  /** Where the alarms notify. @default - no action on the alarms */
  readonly alarmTopic?: sns.ITopic;
  /** Stream iterator age that means events are late (the publisher fails or is throttled). @default Duration.minutes(5) */
  readonly iteratorAgeThreshold?: Duration;
  /**
   * Dev and test stacks only: everything this construct creates (the
   * publisher's log group, a created bus) is deleted with the stack, or when it
   * leaves the stack, instead of being retained. Never in production: the log is
   * the record of what was published.
   *
   * @default false - retained (see the README's teardown section)
   */
  readonly destroyOnRemoval?: boolean;
}

export interface JobEventsAlarms {
  /** A batch was given up: its events are not on the bus until redriven (`npm run events -- --redrive`). */
  readonly failureQueueNotEmpty: cloudwatch.Alarm;
  readonly iteratorAge: cloudwatch.Alarm;
  readonly publisherErrors: cloudwatch.Alarm;
  readonly reviewDeadLetterQueueNotEmpty?: cloudwatch.Alarm;
}

/** Publishes every status change of a job to EventBridge, once per transition (at least once on the wire). */
export class JobEvents extends Construct {
  public readonly eventBus: events.IEventBus;
  public readonly publisher: lambda.Function;
  public readonly publisherRole: iam.Role;
  public readonly publisherLogGroup: logs.LogGroup;
  public readonly eventSource: DynamoEventSource;
  /** Where Lambda records a stream batch it gave up on (shard and sequence numbers, not the records). */
  public readonly failureQueue: sqs.Queue;
  public readonly reviewQueue?: sqs.Queue;
  public readonly reviewDeadLetterQueue?: sqs.Queue;
  public readonly qualityReviewRule?: events.Rule;
  public readonly alarms: JobEventsAlarms;

  constructor(scope: Construct, id: string, props: JobEventsProps) {
    super(scope, id);
    validateJobEventsProps(props);
    // An aspect: it reaches every resource created below, at synth.
    if (props.destroyOnRemoval) RemovalPolicies.of(this).destroy();
    this.eventBus = props.existingEventBusObj ?? new events.EventBus(this, 'Bus', { description: 'Job status changes of the webhook ingestion stack', ...props.eventBusProps });

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      ...props.failureQueueProps,
      enforceSSL: true,
      // The most SQS keeps: a batch given up on a Friday is still there on Monday.
      retentionPeriod: FAILURE_RETENTION,
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is itself a dead-letter destination: the stream event source's on-failure destination, which alarms when not empty.",
    });

    const parts = createNodeFunction(this, 'Function', {
      entry: 'lambda/handlers/job-events.ts',
      description: 'Publishes job status changes from the jobs table stream to EventBridge',
      serviceName: SERVICE_NAMES.jobEvents,
      timeout: Duration.seconds(DEFAULTS.jobEventsTimeoutSeconds),
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      architecture: props.architecture,
      enableTracing: props.enableTracing,
      logRetention: props.logRetention,
      environment: { [ENV.jobEventsBusName]: this.eventBus.eventBusName },
    });
    this.publisher = parts.fn;
    this.publisherRole = parts.role;
    this.publisherLogGroup = parts.logGroup;

    // events:PutEvents on this bus, and nothing else of EventBridge.
    this.eventBus.grantPutEventsTo(this.publisherRole);
    // Lambda sends the on-failure record with the function's role: SendMessage only, not CDK's SqsDlq trio.
    this.publisherRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.failureQueue.queueArn] }));

    this.eventSource = new DynamoEventSource(props.jobsTable, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? DEFAULTS.jobEventsBatchSize,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(DEFAULTS.jobEventsMaxBatchingWindowSeconds),
      // A crash or timeout halves the batch, so one bad record cannot hold a whole batch hostage.
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: props.retryAttempts ?? DEFAULTS.jobEventsRetryAttempts,
      maxRecordAge: props.maxRecordAge ?? Duration.seconds(DEFAULTS.jobEventsMaxRecordAgeSeconds),
      parallelizationFactor: props.parallelizationFactor,
      onFailure: { bind: () => ({ destination: this.failureQueue.queueArn }) },
      // Only writes that leave one of our statuses on the item; whether it changed needs the old image too,
      // which a filter cannot compare: the handler does.
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
          dynamodb: { NewImage: { status: { S: lambda.FilterRule.or(...JOB_STATUSES) } } },
        }),
      ],
    });
    this.publisher.addEventSource(this.eventSource);
    // Lambda's poller calls ListStreams, which supports no resource-level permissions (grantStreamRead adds it on "*").
    Validations.of(this.publisherRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams, which the stream event source needs, supports no resource-level permissions; every other stream action is on this table\'s stream ARN only.',
    });

    if (props.deployQualityReview) this.createQualityReview(props.qualityReviewProps ?? {});

    this.alarms = this.createAlarms(props);
  }

  private createQualityReview(props: QualityReviewProps): void {
    const reviewDeadLetterQueue = new sqs.Queue(this, 'ReviewDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: FAILURE_RETENTION,
    });
    Validations.of(reviewDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is the review queue's dead-letter queue (and the review rule target's), which alarms when not empty.",
    });
    const reviewQueue = new sqs.Queue(this, 'ReviewQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: FAILURE_RETENTION,
      ...props.queueProps,
      enforceSSL: true,
      deadLetterQueue: { queue: reviewDeadLetterQueue, maxReceiveCount: DEFAULTS.maxReceiveCount },
    });
    const rule = new events.Rule(this, 'QualityReviewRule', {
      eventBus: this.eventBus,
      description: 'Completed jobs of difficult scenes go to the quality review queue',
      eventPattern: {
        source: [JOB_EVENTS.source],
        detailType: [JOB_EVENTS.detailTypes.completed],
        detail: props.detailPattern ?? DEFAULT_REVIEW_DETAIL_PATTERN,
      },
    });
    // Events EventBridge cannot deliver (after its own retries) land beside the ones reviewers failed on.
    rule.addTarget(sqsTarget(reviewQueue, reviewDeadLetterQueue));
    Object.assign(this, { reviewQueue, reviewDeadLetterQueue, qualityReviewRule: rule });
  }

  private createAlarms(props: JobEventsProps): JobEventsAlarms {
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold = 1): cloudwatch.Alarm =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const depth = (queue: sqs.IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM });
    const alarms: JobEventsAlarms = {
      failureQueueNotEmpty: alarm(
        'FailureQueueNotEmpty',
        'The job-events publisher gave up on a stream batch: those job events are not on the bus. Fix the cause, then npm run events -- --redrive within 24 h of the writes (runbook: job events not published).',
        depth(this.failureQueue),
      ),
      iteratorAge: alarm(
        'IteratorAge',
        'Job events are late: the publisher is failing, throttled by EventBridge, or out of concurrency (runbook: job events late).',
        this.publisher.metric('IteratorAge', { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        (props.iteratorAgeThreshold ?? Duration.minutes(5)).toMilliseconds(),
      ),
      publisherErrors: alarm(
        'PublisherErrors',
        'The job-events publisher crashed or timed out on a batch: Lambda halves and retries it (runbook: job events late).',
        this.publisher.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      ),
      ...(this.reviewDeadLetterQueue
        ? {
            reviewDeadLetterQueueNotEmpty: alarm(
              'ReviewDeadLetterQueueNotEmpty',
              'Completed jobs for quality review could not be delivered or processed (runbook: quality review dead-letter queue).',
              depth(this.reviewDeadLetterQueue),
            ),
          }
        : {}),
    };
    if (props.alarmTopic) {
      const action = new cwActions.SnsAction(props.alarmTopic);
      for (const each of Object.values(alarms) as cloudwatch.Alarm[]) each.addAlarmAction(action);
    }
    return alarms;
  }

  /** Dashboard widgets for the events side, beside the ingestion ones. */
  public dashboardWidgets(): cloudwatch.IWidget[] {
    const sum = { period: DASHBOARD_PERIOD, statistic: cloudwatch.Stats.SUM };
    const metric = (name: string, label: string) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: SERVICE_NAMES.jobEvents }, ...sum, label });
    return [
      new cloudwatch.GraphWidget({
        title: 'Job events published',
        left: [
          metric(METRIC.jobEventPublished, 'published'),
          metric(METRIC.jobEventPublishRetried, 'retried'),
          metric(METRIC.jobEventPublishFailed, 'batches handed back'),
          metric(METRIC.jobEventProductOmitted, 'product omitted'),
        ],
        right: [this.publisher.metric('IteratorAge', { period: DASHBOARD_PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'iterator age (ms)' })],
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Job events failures and review',
        left: [
          this.failureQueue.metricApproximateNumberOfMessagesVisible({ period: DASHBOARD_PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'failure queue' }),
          ...(this.reviewQueue
            ? [this.reviewQueue.metricApproximateNumberOfMessagesVisible({ period: DASHBOARD_PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'review queue' })]
            : []),
          ...(this.reviewDeadLetterQueue
            ? [this.reviewDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: DASHBOARD_PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'review DLQ' })]
            : []),
        ],
        width: 12,
        height: 6,
      }),
    ];
  }
}

/**
 * A rule target on a queue, with the rule's dead-letter queue, letting
 * EventBridge send to both and do nothing else (CDK's SqsQueue target also
 * grants GetQueueAttributes and GetQueueUrl, which delivery never calls).
 */
export function sqsTarget(queue: sqs.IQueue, deadLetterQueue: sqs.IQueue): events.IRuleTarget {
  return {
    bind: (rule) => {
      for (const each of [queue, deadLetterQueue]) {
        each.addToResourcePolicy(
          new iam.PolicyStatement({
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['sqs:SendMessage'],
            resources: [each.queueArn],
            conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
          }),
        );
      }
      return { arn: queue.queueArn, deadLetterConfig: { arn: deadLetterQueue.queueArn } };
    },
  };
}

/** Every problem with the props, in one error. */
export function validateJobEventsProps(props: JobEventsProps): void {
  const problems = new ProblemCollector('JobEvents');
  problems.check(
    props.jobsTable.tableStreamArn !== undefined,
    'jobsTable has no stream: a created jobs table gets one; for an existing table, enable its stream with NEW_AND_OLD_IMAGES and import it with its stream ARN (Table.fromTableAttributes({ tableName, tableStreamArn }), or existingJobsTableStreamArn on the stack)',
  );
  problems.integerInRange('memorySize', props.memorySize, LAMBDA_MEMORY_MIN_MB, LAMBDA_MEMORY_MAX_MB);
  problems.integerInRange('batchSize', props.batchSize, 1, BATCH_SIZE_MAX);
  problems.integerInRange('retryAttempts', props.retryAttempts, 0, RETRY_ATTEMPTS_MAX);
  problems.integerInRange('parallelizationFactor', props.parallelizationFactor, 1, PARALLELIZATION_MAX);
  if (props.maxBatchingWindow !== undefined) {
    const seconds = props.maxBatchingWindow.toSeconds();
    problems.check(seconds >= 0 && seconds <= BATCHING_WINDOW_MAX_SECONDS, `maxBatchingWindow must be between 0 and ${BATCHING_WINDOW_MAX_SECONDS} seconds (got ${seconds})`);
  }
  if (props.maxRecordAge !== undefined) {
    const seconds = props.maxRecordAge.toSeconds();
    problems.check(
      seconds >= RECORD_AGE_MIN_SECONDS && seconds <= STREAM_RETENTION_SECONDS,
      `maxRecordAge must be between ${RECORD_AGE_MIN_SECONDS} seconds and 24 hours, the stream's retention (got ${seconds} s)`,
    );
  }
  problems.check(!(props.existingEventBusObj && props.eventBusProps), 'existingEventBusObj and eventBusProps are mutually exclusive');
  problems.check(!(props.qualityReviewProps && !props.deployQualityReview), 'qualityReviewProps needs deployQualityReview: true');
  const detailPattern = props.qualityReviewProps?.detailPattern;
  if (detailPattern !== undefined) {
    problems.check(
      typeof detailPattern === 'object' && detailPattern !== null && !Array.isArray(detailPattern) && Object.keys(detailPattern).length > 0,
      'qualityReviewProps.detailPattern must be a non-empty pattern object over the event detail (e.g. { product: { sceneTags: ["hair"] } })',
    );
  }
  if (props.iteratorAgeThreshold !== undefined) {
    problems.check(props.iteratorAgeThreshold.toSeconds() >= 60, `iteratorAgeThreshold must be at least 60 seconds (got ${props.iteratorAgeThreshold.toSeconds()})`);
  }
  for (const [name, queueProps] of [['failureQueueProps', props.failureQueueProps], ['qualityReviewProps.queueProps', props.qualityReviewProps?.queueProps]] as const) {
    problems.check(queueProps?.encryption !== sqs.QueueEncryption.UNENCRYPTED, `${name}.encryption must not be UNENCRYPTED`);
    // EventBridge cannot send to a queue under the AWS managed SQS key, and a customer managed key needs a key policy for it.
    if (name === 'qualityReviewProps.queueProps') {
      problems.check(
        queueProps?.encryption === undefined || queueProps.encryption === sqs.QueueEncryption.SQS_MANAGED,
        'qualityReviewProps.queueProps.encryption must be SQS_MANAGED: EventBridge cannot deliver to a queue under a KMS key without a key policy this construct does not write',
      );
    }
  }
  problems.throwIfAny();
}
