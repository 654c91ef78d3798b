/**
 * The deployable unit: ingress, worker and operations, with the outputs the local
 * stack and the ops tools read (exact keys from the shared contract).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DEPLOY_OUTPUT_KEYS, OUTPUT_KEYS, RECONCILE_OUTPUT_KEYS } from '../lambda/core/contract';
import { JobEvents, type JobEventsProps } from './job-events';
import { JobWorker, type JobWorkerProps } from './job-worker';
import { ProblemCollector } from './secure-defaults';
import { Operations, type OperationsProps } from './operations';
import { grantConsole, grantEventsRedrive, grantRedrive, grantReplay, type ReplayGrantOptions } from './operator-grants';
import { Reconciler, type ReconcilerProps } from './reconciler';
import { WebhookIngestion, type WebhookIngestionProps } from './webhook-ingestion';

export interface WebhookIngestionStackProps extends StackProps {
  /** Passed to the ingress construct (API, receiver, deliveries, archive, queues, secret). @default - secure defaults */
  readonly ingestionProps?: WebhookIngestionProps;
  /**
   * Passed to the worker construct; the queue, DLQ and archive come from the ingress side.
   *
   * @default - secure defaults
   */
  readonly workerProps?: Omit<JobWorkerProps, 'queue' | 'deadLetterQueue' | 'archiveBucket' | 'alarmTopic'>;
  /** Passed to the operations construct. @default - secure defaults */
  readonly operationsProps?: Omit<OperationsProps, 'ingestion' | 'worker' | 'alarmEmail'>;
  /** Subscribe this address to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
  /**
   * Name of a jobs table the product already owns (partition key `jobId`, string),
   * imported instead of creating one; `workerProps.existingJobsTable` takes precedence.
   *
   * @default - a new jobs table
   */
  readonly existingJobsTableName?: string;
  /**
   * The reconciler of stuck jobs (docs/architecture.md, "Open jobs and the reconciler"). It needs the open-jobs index on
   * the jobs table: a created table has it; an existing one must have it too.
   *
   * @default true
   */
  readonly deployReconciler?: boolean;
  /** Passed to the reconciler (schedule, thresholds, provider API URL and key secret). @default - detect and alarm only, every 15 minutes */
  readonly reconcilerProps?: Omit<ReconcilerProps, 'jobsTable' | 'queue' | 'archiveBucket' | 'alarmTopic'>;
  /**
   * ARN of the secret holding the provider API key (complete, or partial without
   * the 6-character suffix), imported for the reconciler;
   * `reconcilerProps.existingProviderApiKeySecret` takes precedence.
   *
   * @default - none: the reconciler detects and alarms only
   */
  readonly providerApiKeySecretArn?: string;
  /**
   * The stream ARN of the table named by `existingJobsTableName`. The job events
   * read it: enable the table's stream with NEW_AND_OLD_IMAGES first
   * (`aws dynamodb update-table --stream-specification
   * StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES`) and pass its
   * `LatestStreamArn`. Required with `existingJobsTableName` unless
   * `deployJobEvents` is false.
   *
   * @default - none
   */
  readonly existingJobsTableStreamArn?: string;
  /** Publish every job status change to EventBridge (design 6.1). @default true */
  readonly deployJobEvents?: boolean;
  /**
   * Passed to the job events construct; the jobs table and the alarm topic come from the stack.
   *
   * @default - secure defaults, with the quality review deployed (`deployQualityReview: true`)
   */
  readonly jobEventsProps?: Omit<JobEventsProps, 'jobsTable' | 'alarmTopic'>;
  /**
   * Dev and test stacks only: `cdk destroy` deletes everything the stack
   * created (tables, buckets after emptying them, the created secret, log
   * groups, the alarm topic's KMS key) instead of retaining it; passed to every
   * construct. An existing jobs table or secret is never touched.
   *
   * @default false - retained (see the README's teardown section)
   */
  readonly destroyOnRemoval?: boolean;
}

export class WebhookIngestionStack extends Stack {
  public readonly ingestion: WebhookIngestion;
  public readonly worker: JobWorker;
  public readonly operations: Operations;
  public readonly reconciler?: Reconciler;
  /** Absent when `deployJobEvents` is false. */
  public readonly jobEvents?: JobEvents;

  constructor(scope: Construct, id: string, props: WebhookIngestionStackProps = {}) {
    super(scope, id, {
      description: 'Verified, deduplicated, archived and replayable webhook ingestion for the video background-removal API',
      ...props,
    });

    validateStackProps(props);
    const destroyOnRemoval = props.destroyOnRemoval ?? false;
    this.ingestion = new WebhookIngestion(this, 'Ingestion', { destroyOnRemoval, ...props.ingestionProps });
    const importedJobsTable = props.existingJobsTableName
      ? dynamodb.Table.fromTableAttributes(this, 'ExistingJobsTable', {
          tableName: props.existingJobsTableName,
          tableStreamArn: props.existingJobsTableStreamArn,
        })
      : undefined;
    this.worker = new JobWorker(this, 'Worker', {
      existingJobsTable: importedJobsTable,
      destroyOnRemoval,
      ...props.workerProps,
      queue: this.ingestion.queue,
      deadLetterQueue: this.ingestion.deadLetterQueue,
      archiveBucket: this.ingestion.archiveBucket,
    });
    this.operations = new Operations(this, 'Operations', {
      destroyOnRemoval,
      ...props.operationsProps,
      ingestion: this.ingestion,
      worker: this.worker,
      alarmEmail: props.alarmEmail,
    });
    if (props.deployJobEvents !== false) {
      this.jobEvents = new JobEvents(this, 'JobEvents', {
        deployQualityReview: true,
        destroyOnRemoval,
        ...props.jobEventsProps,
        jobsTable: this.worker.jobsTable,
        alarmTopic: this.operations.alarmTopic,
      });
      this.operations.dashboard.addWidgets(...this.jobEvents.dashboardWidgets());
    }

    if (props.deployReconciler ?? true) {
      const arn = props.providerApiKeySecretArn;
      // A complete ARN ends in the 6-character suffix Secrets Manager adds to the name.
      const importedKey =
        arn === undefined
          ? undefined
          : /-[A-Za-z0-9]{6}$/.test(arn)
            ? secretsmanager.Secret.fromSecretCompleteArn(this, 'ProviderApiKey', arn)
            : secretsmanager.Secret.fromSecretPartialArn(this, 'ProviderApiKey', arn);
      this.reconciler = new Reconciler(this, 'Reconciler', {
        existingProviderApiKeySecret: importedKey,
        destroyOnRemoval,
        ...props.reconcilerProps,
        jobsTable: this.worker.jobsTable,
        queue: this.ingestion.queue,
        archiveBucket: this.ingestion.archiveBucket,
        alarmTopic: this.operations.alarmTopic,
      });
      this.operations.addReconcilerWidgets(this.reconciler);
    }

    // Stack-level ids so each logical id (and output key) is exactly the contract's key.
    new CfnOutput(this, OUTPUT_KEYS.webhookUrl, {
      value: this.ingestion.webhookUrl,
      description: 'Configure this URL (POST) as the webhook endpoint at the provider',
    });
    new CfnOutput(this, OUTPUT_KEYS.jobsTableName, { value: this.worker.jobsTable.tableName });
    new CfnOutput(this, OUTPUT_KEYS.deliveriesTableName, { value: this.ingestion.deliveriesTable.tableName });
    new CfnOutput(this, OUTPUT_KEYS.archiveBucketName, { value: this.ingestion.archiveBucket.bucketName });
    new CfnOutput(this, OUTPUT_KEYS.queueUrl, { value: this.ingestion.queue.queueUrl });
    new CfnOutput(this, OUTPUT_KEYS.deadLetterQueueUrl, { value: this.ingestion.deadLetterQueue.queueUrl });
    new CfnOutput(this, DEPLOY_OUTPUT_KEYS.signingSecretArn, {
      value: this.ingestion.signingSecret.secretArn,
      description: 'Put the provider signing secret here (aws secretsmanager put-secret-value); the ARN only, never the value',
    });
    new CfnOutput(this, DEPLOY_OUTPUT_KEYS.dashboardName, {
      value: this.operations.dashboard.dashboardName,
      description: 'The CloudWatch dashboard of the pipeline',
    });
    if (this.reconciler) {
      new CfnOutput(this, RECONCILE_OUTPUT_KEYS.providerApiUrl, { value: this.reconciler.providerApiUrl });
      if (this.reconciler.providerApiKeySecret) {
        new CfnOutput(this, RECONCILE_OUTPUT_KEYS.providerApiKeySecretArn, {
          value: this.reconciler.providerApiKeySecret.secretArn,
          description: 'The secret holding the provider API key (its ARN; the key is never in the template)',
        });
      }
    }
    if (this.jobEvents) {
      new CfnOutput(this, OUTPUT_KEYS.jobEventsBusName, {
        value: this.jobEvents.eventBus.eventBusName,
        description: 'Subscribe your rules here: source webhook-ingestion.jobs, detail-type Job Started | Job Completed | Job Failed',
      });
      new CfnOutput(this, OUTPUT_KEYS.jobEventsFailureQueueUrl, { value: this.jobEvents.failureQueue.queueUrl });
      if (this.jobEvents.reviewQueue) new CfnOutput(this, OUTPUT_KEYS.qualityReviewQueueUrl, { value: this.jobEvents.reviewQueue.queueUrl });
    }
    new CfnOutput(this, OUTPUT_KEYS.receiverLogGroupName, {
      value: this.ingestion.receiverLogGroup.logGroupName,
      description: 'The receiver\'s log group: refused deliveries (and why) are recorded only here; npm run console reads it',
    });
  }

  /** What `npm run replay` calls, and nothing more (lib/operator-grants.ts). */
  public grantReplay(grantee: iam.IGrantable, options: ReplayGrantOptions = {}): void {
    grantReplay(grantee, { ingestion: this.ingestion, worker: this.worker }, options);
  }

  /** What the read-only views of `npm run console` call (lib/operator-grants.ts). */
  public grantConsole(grantee: iam.IGrantable, options: ReplayGrantOptions = {}): void {
    grantConsole(grantee, { ingestion: this.ingestion, worker: this.worker }, options);
  }

  /** What `npm run redrive` calls (lib/operator-grants.ts). */
  public grantRedrive(grantee: iam.IGrantable): void {
    grantRedrive(grantee, this.ingestion);
  }

  /**
   * What `npm run reconcile` calls when it sweeps with the operator's own
   * credentials (a deployed stack): exactly the reconciler function's data
   * grants (the open-jobs index, its marks, the queue, the archive, and the
   * API key's secret when one is configured), nothing of its logs or schedule.
   */
  public grantReconcile(grantee: iam.IGrantable): void {
    if (!this.reconciler) throw new Error('grantReconcile: the stack has no reconciler (deployReconciler is false)');
    this.reconciler.grantSweep(grantee);
  }

  /**
   * Grants an existing operator role, by ARN, what `replay`, `redrive`,
   * `reconcile`, `events --redrive` and the console call: what `bin/app.ts`
   * does with `-c operatorRoleArn`, and what the IAM check evaluates the ops
   * tools' recorded calls against.
   */
  public grantOperatorRole(roleArn: string, options: { readonly readSigningSecret?: boolean } = {}): iam.IRole {
    // mutable (the default): the grants land in a policy attached to the operators' own role.
    const operator = iam.Role.fromRoleArn(this, 'OperatorRole', roleArn);
    this.grantReplay(operator, options);
    this.grantRedrive(operator);
    if (this.reconciler) this.grantReconcile(operator);
    this.grantEventsRedrive(operator);
    this.grantConsole(operator, options);
    return operator;
  }

  /** What `npm run events -- --redrive` calls (lib/operator-grants.ts); nothing when the stack has no job events. */
  public grantEventsRedrive(grantee: iam.IGrantable): void {
    if (this.jobEvents !== undefined) grantEventsRedrive(grantee, { jobEvents: this.jobEvents, worker: this.worker });
  }

  /**
   * Grants an existing role, by ARN, only what the console's read-only views
   * call (`grantConsole`): for on-call people who look but do not act
   * (`npm run console -- --read-only`); what `bin/app.ts` does with
   * `-c consoleRoleArn`. No signing secret: whoever reads it can forge deliveries.
   */
  public grantConsoleRole(roleArn: string): iam.IRole {
    const viewer = iam.Role.fromRoleArn(this, 'ConsoleRole', roleArn);
    this.grantConsole(viewer);
    return viewer;
  }
}

/** Every problem with the stack's own props, in one error; the constructs check theirs. */
function validateStackProps(props: WebhookIngestionStackProps): void {
  const problems = new ProblemCollector('WebhookIngestionStack');
  problems.check(
    !(props.existingJobsTableName && props.deployJobEvents !== false && !props.existingJobsTableStreamArn && !props.workerProps?.existingJobsTable),
    'existingJobsTableName needs existingJobsTableStreamArn for the job events: enable the table\'s stream with NEW_AND_OLD_IMAGES and pass its LatestStreamArn (or set deployJobEvents: false)',
  );
  problems.check(
    !(props.existingJobsTableStreamArn && !props.existingJobsTableName),
    'existingJobsTableStreamArn needs existingJobsTableName',
  );
  problems.check(!(props.jobEventsProps && props.deployJobEvents === false), 'jobEventsProps needs deployJobEvents to be true');
  problems.throwIfAny();
}
