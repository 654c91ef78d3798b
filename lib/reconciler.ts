/**
 * Stuck jobs and reconciliation (docs/architecture.md, "Open jobs and the reconciler"): a `reconciler` Lambda on an
 * EventBridge Scheduler schedule sweeps the jobs table's open-jobs index for
 * jobs open longer than `stuckAfter`, publishes `StuckJobs` (alarmed) and, when
 * a provider API key secret is configured, asks the provider's job API about
 * them at a bounded rate and repairs the finished ones through the normal
 * queue and worker. Without a key it detects and alarms only.
 */
import { Duration, RemovalPolicies, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { providerOrigin } from '../lambda/adapters/provider-job-api';
import { ARCHIVE_PREFIX, DEFAULTS, ENV, METRIC, METRICS_NAMESPACE, OPEN_JOBS_INDEX, SERVICE_NAMES } from '../lambda/core/contract';
import {
  LAMBDA_MEMORY_MAX_MB,
  LAMBDA_MEMORY_MIN_MB,
  ProblemCollector,
  acknowledgeWildcardResource,
  createNodeFunction,
  grantKeyUse,
} from './secure-defaults';

const DEFAULT_RECONCILER_MEMORY_MB = 256;
/** Far below any per-key limit a provider would set; the docs suggest one call per 2 s. */
const MAX_REQUESTS_PER_SECOND = 20;

export interface ReconcilerProps {
  /** The jobs table; it must have the open-jobs index (`JobWorker` creates it; see `addOpenJobsIndex`). */
  readonly jobsTable: dynamodb.ITable;
  /** The work queue the synthetic deliveries go to (the worker's). */
  readonly queue: sqs.IQueue;
  /** The archive the provider answers acted on are written to (`raw/*`). */
  readonly archiveBucket: s3.IBucket;

  /** How often a sweep runs. @default Duration.minutes(15) */
  readonly sweepInterval?: Duration;
  /** How long a job may stay open before it counts as stuck. @default Duration.hours(2) */
  readonly stuckAfter?: Duration;
  /** Past this age a job still open at the provider is flagged for ops instead of asked about again. @default Duration.days(7) */
  readonly giveUpAfter?: Duration;
  /** A job the provider still reports open is asked about again only after this long. @default Duration.hours(1) */
  readonly recheckAfter?: Duration;
  /** The provider's API: scheme and host only. @default 'https://api.removebgvideo.com' */
  readonly providerApiUrl?: string;
  /**
   * The secret holding the provider API key (its plain string). Without it the
   * reconciler detects and alarms only; it never asks the provider.
   *
   * @default - none: detect and alarm only
   */
  readonly existingProviderApiKeySecret?: secretsmanager.ISecret;
  /** Provider calls per second, per sweep (one key). @default 0.5 (one call every 2 s, the pace its docs suggest) */
  readonly providerRequestsPerSecond?: number;
  /** Provider calls per sweep at most; the oldest and least recently checked jobs go first. @default 100 */
  readonly maxJobsPerSweep?: number;

  /** @default 256 */
  readonly reconcilerMemorySize?: number;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** @default false */
  readonly enableTracing?: boolean;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

  /** `StuckJobs` at or above this after a sweep alarms. @default 1 */
  readonly stuckJobsThreshold?: number;
  /** Where the alarms notify. @default - no action on the alarms */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Dev and test stacks only: everything this construct creates (the reconciler's log group) is
   * deleted with the stack, or when it leaves the stack, instead of being
   * retained. Never in production: its log is the record of what each sweep repaired.
   *
   * @default false - retained (see the README's teardown section)
   */
  readonly destroyOnRemoval?: boolean;
}

export interface ReconcilerAlarms {
  readonly stuckJobs: cloudwatch.Alarm;
  readonly reconcileErrors: cloudwatch.Alarm;
}

export class Reconciler extends Construct {
  public readonly reconciler: lambda.Function;
  public readonly reconcilerRole: iam.Role;
  public readonly reconcilerLogGroup: logs.LogGroup;
  public readonly schedule: scheduler.Schedule;
  public readonly scheduleRole: iam.Role;
  public readonly alarms: ReconcilerAlarms;
  /** The provider API origin the function may call. */
  public readonly providerApiUrl: string;
  public readonly providerApiKeySecret?: secretsmanager.ISecret;
  private readonly sweepResources: Pick<ReconcilerProps, 'jobsTable' | 'queue' | 'archiveBucket'>;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    validateReconcilerProps(props);
    this.providerApiUrl = providerOrigin(props.providerApiUrl ?? DEFAULTS.providerApiUrl);
    this.providerApiKeySecret = props.existingProviderApiKeySecret;
    this.sweepResources = { jobsTable: props.jobsTable, queue: props.queue, archiveBucket: props.archiveBucket };
    const interval = props.sweepInterval ?? Duration.minutes(DEFAULTS.reconcileIntervalMinutes);

    const environment: Record<string, string> = {
      [ENV.jobsTable]: props.jobsTable.tableName,
      [ENV.queueUrl]: props.queue.queueUrl,
      [ENV.archiveBucket]: props.archiveBucket.bucketName,
      [ENV.providerApiUrl]: this.providerApiUrl,
      [ENV.stuckAfterSeconds]: String((props.stuckAfter ?? Duration.seconds(DEFAULTS.stuckAfterSeconds)).toSeconds()),
      [ENV.giveUpAfterSeconds]: String((props.giveUpAfter ?? Duration.seconds(DEFAULTS.giveUpAfterSeconds)).toSeconds()),
      [ENV.recheckAfterSeconds]: String((props.recheckAfter ?? Duration.seconds(DEFAULTS.recheckAfterSeconds)).toSeconds()),
      [ENV.maxJobsPerSweep]: String(props.maxJobsPerSweep ?? DEFAULTS.maxJobsPerSweep),
      [ENV.providerRequestsPerSecond]: String(props.providerRequestsPerSecond ?? DEFAULTS.providerRequestsPerSecond),
    };
    // The ARN only: the key itself is read at run time and never reaches the template.
    if (this.providerApiKeySecret) environment[ENV.providerApiKeySecretArn] = this.providerApiKeySecret.secretArn;

    const parts = createNodeFunction(this, 'Function', {
      entry: 'lambda/handlers/reconciler.ts',
      description: 'Sweeps the open-jobs index for stuck jobs and repairs them from the provider job API',
      serviceName: SERVICE_NAMES.reconciler,
      timeout: Duration.seconds(DEFAULTS.reconcilerTimeoutSeconds),
      memorySize: props.reconcilerMemorySize ?? DEFAULT_RECONCILER_MEMORY_MB,
      architecture: props.architecture,
      enableTracing: props.enableTracing,
      logRetention: props.logRetention,
      // One sweep at a time: two would share one key's rate limit and ask about the same jobs.
      reservedConcurrentExecutions: 1,
      environment,
    });
    this.reconciler = parts.fn;
    this.reconcilerRole = parts.role;
    this.reconcilerLogGroup = parts.logGroup;
    this.grantSweep(this.reconcilerRole);

    // Our own role, next to the schedule, so its one grant is reviewed here (confused-deputy guard included).
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Lets EventBridge Scheduler invoke the reconciler function, and nothing else',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Runs a reconciler sweep of the open-jobs index',
      schedule: scheduler.ScheduleExpression.rate(interval),
      // A missed sweep is made good by the next one: no retries piling onto a slow provider.
      target: new targets.LambdaInvoke(this.reconciler, { role: this.scheduleRole, retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
    });
    acknowledgeWildcardResource(
      this.scheduleRole,
      `${this.reconciler.functionArn}:*`,
      "CDK's LambdaInvoke target grants lambda:InvokeFunction on the reconciler function and its qualified ARNs (function:*, versions and aliases of this one function); no other function.",
    );

    const metric = (metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAMES.reconciler },
        period: alarmPeriod(interval),
        statistic,
      });
    this.alarms = {
      stuckJobs: new cloudwatch.Alarm(this, 'StuckJobs', {
        alarmDescription:
          'Jobs have been open longer than stuckAfter and the last sweep could not close them (no API key configured, still open at the provider, unknown to it, or past giveUpAfter). See the runbook: Stuck jobs.',
        metric: metric(METRIC.stuckJobs, cloudwatch.Stats.MAXIMUM),
        threshold: props.stuckJobsThreshold ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      reconcileErrors: new cloudwatch.Alarm(this, 'ReconcileErrors', {
        alarmDescription:
          'Two sweeps in a row failed to ask the provider or to act on its answers (key refused or unreadable, provider down or rate limiting, malformed answers). See the runbook: Reconcile errors.',
        metric: metric(METRIC.reconcileErrors, cloudwatch.Stats.SUM),
        threshold: 1,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
    if (props.alarmTopic) {
      const action = new cwActions.SnsAction(props.alarmTopic);
      for (const alarm of Object.values(this.alarms)) alarm.addAlarmAction(action);
    }
    if (props.destroyOnRemoval) RemovalPolicies.of(this).destroy();
  }

  /** Exactly the calls a sweep makes, on exactly its resources: the function's role, or an operator who sweeps by hand. */
  public grantSweep(grantee: iam.IGrantable): void {
    const role = grantee;
    const { jobsTable, queue, archiveBucket } = this.sweepResources;
    iam.Grant.addToPrincipal({ grantee: role, actions: ['dynamodb:Query'], resourceArns: [`${jobsTable.tableArn}/index/${OPEN_JOBS_INDEX.name}`] });
    // The marks: last checked, provider status, ops flag (conditional on the job being open).
    iam.Grant.addToPrincipal({ grantee: role, actions: ['dynamodb:UpdateItem'], resourceArns: [jobsTable.tableArn] });
    grantKeyUse(jobsTable.encryptionKey, role, 'readWrite');
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
    grantKeyUse(queue.encryptionMasterKey, role, 'readWrite');
    const archiveObjects = archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`);
    iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:PutObject'], resourceArns: [archiveObjects] });
    grantKeyUse(archiveBucket.encryptionKey, role, 'readWrite');
    // Principals outside the construct tree (an imported role) carry no policy to check.
    if (Construct.isConstruct(role.grantPrincipal)) acknowledgeWildcardResource(
      role.grantPrincipal,
      archiveObjects,
      'The reconciler archives the provider answers it acts on beside the webhook deliveries, one object per synthetic delivery under the receipt-hour prefix: PutObject on raw/* of the archive bucket only.',
    );
    const secret = this.providerApiKeySecret;
    if (secret) {
      iam.Grant.addToPrincipal({ grantee: role, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secret.secretFullArn ?? `${secret.secretArn}-??????`] });
      secret.encryptionKey?.grantDecrypt(role);
    }
  }
}

/** CloudWatch wants periods of whole minutes; one sweep per period, 5 minutes at least. */
function alarmPeriod(interval: Duration): Duration {
  return Duration.minutes(Math.max(5, Math.ceil(interval.toMinutes({ integral: false }))));
}

/** Every problem with the props, in one error. */
export function validateReconcilerProps(props: ReconcilerProps): void {
  const problems = new ProblemCollector('Reconciler');
  const seconds = (value: Duration | undefined, fallback: number): number => value?.toSeconds() ?? fallback;
  const interval = seconds(props.sweepInterval, DEFAULTS.reconcileIntervalMinutes * 60);
  const stuck = seconds(props.stuckAfter, DEFAULTS.stuckAfterSeconds);
  const giveUp = seconds(props.giveUpAfter, DEFAULTS.giveUpAfterSeconds);
  problems.check(interval >= 60 && interval <= 24 * 3600 && interval % 60 === 0, `sweepInterval must be whole minutes between 1 minute and 1 day (got ${interval} s)`);
  problems.check(stuck >= 60, `stuckAfter must be at least 1 minute (got ${stuck} s)`);
  problems.check(giveUp > stuck, `giveUpAfter (${giveUp} s) must be longer than stuckAfter (${stuck} s)`);
  problems.check(seconds(props.recheckAfter, DEFAULTS.recheckAfterSeconds) >= 0, 'recheckAfter must not be negative');
  problems.integerInRange('maxJobsPerSweep', props.maxJobsPerSweep, 1, 10_000);
  problems.integerInRange('reconcilerMemorySize', props.reconcilerMemorySize, LAMBDA_MEMORY_MIN_MB, LAMBDA_MEMORY_MAX_MB);
  problems.integerInRange('stuckJobsThreshold', props.stuckJobsThreshold, 1);
  const rate = props.providerRequestsPerSecond ?? DEFAULTS.providerRequestsPerSecond;
  problems.check(rate > 0 && rate <= MAX_REQUESTS_PER_SECOND, `providerRequestsPerSecond must be greater than 0 and at most ${MAX_REQUESTS_PER_SECOND} (got ${rate})`);
  const maxJobs = props.maxJobsPerSweep ?? DEFAULTS.maxJobsPerSweep;
  const needed = rate > 0 ? maxJobs / rate : Infinity;
  const budget = DEFAULTS.reconcilerTimeoutSeconds - DEFAULTS.reconcilerReserveSeconds;
  problems.check(needed <= budget, `maxJobsPerSweep ${maxJobs} at ${rate} calls/s needs ${Math.ceil(needed)} s, more than the sweep's ${budget} s budget`);
  if (props.providerApiUrl !== undefined) {
    try {
      providerOrigin(props.providerApiUrl);
    } catch (error) {
      problems.check(false, `providerApiUrl: ${(error as Error).message} (got "${props.providerApiUrl}")`);
    }
  }
  problems.throwIfAny();
}
