/**
 * The processing side: SQS queue -> worker Lambda (partial batch failures) -> jobs table.
 */
import { Duration, RemovalPolicies, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ARCHIVE_PREFIX, DEFAULTS, ENV, JOB_ATTRIBUTES, OPEN_JOBS_INDEX, SERVICE_NAMES, TABLE_KEYS } from '../lambda/core/contract';
import {
  LAMBDA_MEMORY_MAX_MB,
  LAMBDA_MEMORY_MIN_MB,
  ProblemCollector,
  VISIBILITY_TIMEOUT_FACTOR,
  WORKER_MAX_BATCHING_WINDOW_SECONDS,
  acknowledgeWildcardResource,
  grantKeyUse,
  createNodeFunction,
  withoutDeprecatedPitr,
} from './secure-defaults';

const DEFAULT_WORKER_MEMORY_MB = 256;
/** Lambda's bounds for an SQS event source's maximum concurrency. */
const MAX_CONCURRENCY_MIN = 2;
const MAX_CONCURRENCY_MAX = 1000;
/** Lambda's bounds for a standard queue's batch size and batching window. */
const BATCH_SIZE_MAX = 10_000;
const BATCHING_WINDOW_MAX_SECONDS = 300;

export interface JobWorkerProps {
  /** The work queue the receiver (and the replay tool) send to. */
  readonly queue: sqs.IQueue;
  /** The dead-letter queue of `queue`, watched by the DLQ alarm. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The archive the worker reads claim-checked payloads from (`raw/*` only). */
  readonly archiveBucket: s3.IBucket;

  /**
   * A jobs table the product already owns (partition key `jobId`, string). The
   * worker only sets the attributes it owns, so sharing the table is safe. For
   * the job events it needs a stream with new and old images, imported with its
   * ARN (`Table.fromTableAttributes({ tableName, tableStreamArn })`).
   *
   * @default - a new table: on-demand, PITR, encrypted, retained
   */
  readonly existingJobsTable?: dynamodb.ITable;
  /**
   * Overrides for a created jobs table. The key schema, point-in-time recovery
   * and the stream (new and old images, which the job events read) are enforced.
   *
   * @default - on-demand, AWS managed encryption, retained
   */
  readonly jobsTableProps?: Partial<dynamodb.TableProps>;
  /** A customer managed key for a created jobs table. @default - AWS managed key */
  readonly encryptionKey?: kms.IKey;
  /** Applied to a created jobs table. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Dev and test stacks only: everything this construct creates (a created jobs table, the worker's log group; an existing jobs table is never touched) is
   * deleted with the stack, or when it leaves the stack, instead of being
   * retained. Never in production: the jobs table is the product's record of every job.
   *
   * @default false - retained (see the README's teardown section)
   */
  readonly destroyOnRemoval?: boolean;

  /** @default 256 */
  readonly workerMemorySize?: number;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** Active X-Ray tracing on the worker. @default false */
  readonly enableTracing?: boolean;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

  /** Records per invocation, gathered over the batching window. @default 100 */
  readonly batchSize?: number;
  /** Concurrent worker invocations the event source may run (2-1000). @default 10 */
  readonly maxConcurrency?: number;
  /** How long the event source gathers a batch. @default Duration.seconds(2) */
  readonly maxBatchingWindow?: Duration;

  /**
   * Where the DLQ alarm notifies. Leave unset when an `Operations` construct is
   * built from this worker: it wires every alarm, this one included, to its topic.
   *
   * @default - no action on the alarm
   */
  readonly alarmTopic?: sns.ITopic;
}

/** Applies queued provider events to the jobs table; failures go to the DLQ, which alarms. */
export class JobWorker extends Construct {
  public readonly jobsTable: dynamodb.ITable;
  public readonly worker: lambda.Function;
  public readonly workerRole: iam.Role;
  public readonly workerLogGroup: logs.LogGroup;
  public readonly eventSource: SqsEventSource;
  public readonly deadLetterQueueAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: JobWorkerProps) {
    super(scope, id);
    validateJobWorkerProps(props);

    this.jobsTable = props.existingJobsTable ?? this.createJobsTable(props);

    const parts = createNodeFunction(this, 'Function', {
      entry: 'lambda/handlers/worker.ts',
      description: 'Applies provider job events from the queue to the jobs table',
      serviceName: SERVICE_NAMES.worker,
      timeout: Duration.seconds(DEFAULTS.workerTimeoutSeconds),
      memorySize: props.workerMemorySize ?? DEFAULT_WORKER_MEMORY_MB,
      architecture: props.architecture,
      enableTracing: props.enableTracing,
      logRetention: props.logRetention,
      environment: {
        [ENV.jobsTable]: this.jobsTable.tableName,
        [ENV.archiveBucket]: props.archiveBucket.bucketName,
        [ENV.deadLetterQueueUrl]: props.deadLetterQueue.queueUrl,
        // For ChangeMessageVisibility: a claim check still being written is retried in seconds.
        [ENV.queueUrl]: props.queue.queueUrl,
      },
    });
    this.worker = parts.fn;
    this.workerRole = parts.role;
    this.workerLogGroup = parts.logGroup;

    // One conditional UpdateItem per event: a failed condition returns the old item
    // (ReturnValuesOnConditionCheckFailure), so the worker never needs to read.
    // On the table only: `table.grant` would add `index/*` once the table has an index, and the worker never reads one.
    iam.Grant.addToPrincipal({ grantee: this.workerRole, actions: ['dynamodb:UpdateItem'], resourceArns: [this.jobsTable.tableArn] });
    grantKeyUse(this.jobsTable.encryptionKey, this.workerRole, 'readWrite');
    // Read-only on the archive: the worker follows claim checks, it never writes the evidence.
    const archiveObjects = props.archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`);
    this.workerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [archiveObjects] }));
    acknowledgeWildcardResource(
      this.workerRole,
      archiveObjects,
      'Claim-checked payloads are read by the archive key named in each queue message; keys are per delivery, so the resource is the raw/* prefix of the archive bucket only (GetObject only).',
    );
    // ListBucket turns a missing key from AccessDenied into NoSuchKey: a claim
    // check whose object never came is then told from a permissions problem.
    iam.Grant.addToPrincipal({
      grantee: this.workerRole,
      actions: ['s3:ListBucket'],
      resourceArns: [props.archiveBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${ARCHIVE_PREFIX}*`] } },
    });
    props.archiveBucket.encryptionKey?.grantDecrypt(this.workerRole);
    // A record that can never succeed (poison, or a write the jobs table refuses
    // for good) goes to the DLQ at once with its reason, instead of five
    // visibility timeouts later: SendMessage on the DLQ only.
    props.deadLetterQueue.grant(this.workerRole, 'sqs:SendMessage');
    grantKeyUse(props.deadLetterQueue.encryptionMasterKey, this.workerRole, 'readWrite');
    props.queue.grant(this.workerRole, 'sqs:ChangeMessageVisibility');

    this.eventSource = new SqsEventSource(props.queue, {
      batchSize: props.batchSize ?? DEFAULTS.workerBatchSize,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(WORKER_MAX_BATCHING_WINDOW_SECONDS),
      // Only failed records return to the queue, so one poison message cannot replay its batch.
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency ?? DEFAULTS.workerMaxConcurrency,
    });
    this.worker.addEventSource(this.eventSource);

    this.deadLetterQueueAlarm = new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
      alarmDescription:
        'Job events failed 5 times and landed in the dead-letter queue: inspect them, fix the cause, then redrive (npm run redrive).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      this.deadLetterQueueAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    }
    if (props.destroyOnRemoval) RemovalPolicies.of(this).destroy();
  }

  private createJobsTable(props: JobWorkerProps): dynamodb.Table {
    const key = props.encryptionKey;
    const table = new dynamodb.Table(this, 'JobsTable', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: key,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...withoutDeprecatedPitr(props.jobsTableProps),
      partitionKey: { name: TABLE_KEYS.jobs.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: undefined,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The item write is the job events' outbox: every status change is read back from here.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    addOpenJobsIndex(table);
    return table;
  }
}

/**
 * The sparse, sharded open-jobs index the reconciler queries (docs/architecture.md, "Open jobs and the reconciler").
 * Only items carrying both keys are in it, so it holds open jobs only. Its
 * write cost: one index write when a job opens and one when it closes (about
 * 2 WRU per job's life, on-demand); updates in between touch neither key nor a
 * projected attribute, so they cost the index nothing, except the reconciler's
 * own last-checked mark (projected, so a sweep can skip recently checked jobs
 * without reading the table). A table the product brings (`existingJobsTable`)
 * needs the same index: call this on it, or add it with these names and types.
 */
export function addOpenJobsIndex(table: dynamodb.Table): void {
  table.addGlobalSecondaryIndex({
    indexName: OPEN_JOBS_INDEX.name,
    partitionKey: { name: OPEN_JOBS_INDEX.shardAttribute, type: dynamodb.AttributeType.NUMBER },
    sortKey: { name: OPEN_JOBS_INDEX.openedAtAttribute, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [JOB_ATTRIBUTES.reconcileCheckedAt, JOB_ATTRIBUTES.reconcileFlag],
  });
}

/** Every problem with the props, in one error. */
export function validateJobWorkerProps(props: JobWorkerProps): void {
  const problems = new ProblemCollector('JobWorker');
  problems.check(
    !(props.destroyOnRemoval && props.removalPolicy !== undefined && props.removalPolicy !== RemovalPolicy.DESTROY),
    `destroyOnRemoval deletes every resource; it contradicts removalPolicy ${props.removalPolicy}`,
  );
  problems.integerInRange('workerMemorySize', props.workerMemorySize, LAMBDA_MEMORY_MIN_MB, LAMBDA_MEMORY_MAX_MB);
  problems.integerInRange('batchSize', props.batchSize, 1, BATCH_SIZE_MAX);
  problems.integerInRange('maxConcurrency', props.maxConcurrency, MAX_CONCURRENCY_MIN, MAX_CONCURRENCY_MAX);
  const windowSeconds = props.maxBatchingWindow?.toSeconds() ?? WORKER_MAX_BATCHING_WINDOW_SECONDS;
  problems.check(
    windowSeconds >= 0 && windowSeconds <= BATCHING_WINDOW_MAX_SECONDS,
    `maxBatchingWindow must be between 0 and ${BATCHING_WINDOW_MAX_SECONDS} seconds (got ${windowSeconds})`,
  );
  problems.check(
    (props.batchSize ?? DEFAULTS.workerBatchSize) <= 10 || windowSeconds > 0,
    'batchSize above 10 needs a maxBatchingWindow greater than 0',
  );
  problems.check(
    !(props.existingJobsTable && props.jobsTableProps),
    'existingJobsTable and jobsTableProps are mutually exclusive',
  );

  // The queue is built elsewhere; when its visibility timeout is known here, hold it to AWS's ratio.
  const cfnQueue = props.queue.node.defaultChild;
  if (cfnQueue instanceof sqs.CfnQueue && cfnQueue.visibilityTimeout !== undefined && !Token.isUnresolved(cfnQueue.visibilityTimeout)) {
    const minVisibility = VISIBILITY_TIMEOUT_FACTOR * DEFAULTS.workerTimeoutSeconds + windowSeconds;
    problems.check(
      cfnQueue.visibilityTimeout >= minVisibility,
      `the queue's visibility timeout (${cfnQueue.visibilityTimeout} s) must be at least ${VISIBILITY_TIMEOUT_FACTOR}x the worker timeout plus the batching window (${minVisibility} s)`,
    );
  }
  problems.throwIfAny();
}
