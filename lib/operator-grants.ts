/**
 * What the ops tools need, as grants a team gives its own operators' role or
 * user. The stack's grantReplay / grantRedrive / grantOperatorRole call these;
 * an app that composes the constructs itself calls them directly:
 *
 *   grantReplay(opsRole, { ingestion, worker });
 *   grantRedrive(opsRole, ingestion);
 *   grantEventsRedrive(opsRole, { jobEvents, worker });
 *   reconciler.grantSweep(opsRole);     // npm run reconcile --in-process
 *
 * Explicit actions on exact resources, never CDK's grantRead wildcards.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ARCHIVE_PREFIX, OPEN_JOBS_INDEX } from '../lambda/core/contract';
import type { JobEvents } from './job-events';
import type { JobWorker } from './job-worker';
import { acknowledgeWildcardResource, grantKeyUse } from './secure-defaults';
import type { WebhookIngestion } from './webhook-ingestion';

export interface ReplayGrantOptions {
  /**
   * Also the signing secret's read, for `replay --verify --secret-arn`. Whoever
   * reads the secret can forge deliveries.
   *
   * @default false
   */
  readonly readSigningSecret?: boolean;
}

/**
 * What `npm run replay` calls, and nothing more: list the archive's `raw/`
 * prefix and read its objects, send to the work queue and read job items (dry
 * runs). Explicit actions rather than `grantRead`'s wildcards, so cdk-nag has
 * nothing to excuse but the per-delivery object keys.
 */
export function grantReplay(grantee: iam.IGrantable, parts: { readonly ingestion: WebhookIngestion; readonly worker: JobWorker }, options: ReplayGrantOptions = {}): void {
  const { queue } = parts.ingestion;
  grantArchiveRead(grantee, parts.ingestion);
  iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
  iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem'], resourceArns: [parts.worker.jobsTable.tableArn] });
  grantKeyUse(queue.encryptionMasterKey, grantee, 'readWrite');
  parts.worker.jobsTable.encryptionKey?.grantDecrypt(grantee);
  if (options.readSigningSecret) grantSigningSecretRead(grantee, parts.ingestion);
}

/**
 * What the read-only views of `npm run console` call, and nothing that
 * changes anything: job items and dedupe records (GetItem), the stuck jobs
 * (Query on the open-jobs index), the archive (list raw/ and read its
 * objects), the receiver's log lines (FilterLogEvents on its log group:
 * refused deliveries are recorded only there), the charts' metrics
 * (GetMetricData, which IAM cannot scope to a resource), and the DLQ's depth
 * and a look at its messages (ReceiveMessage with a zero visibility timeout,
 * so a look hides nothing). Nothing on the work queue: its health is the
 * oldest message's age, a metric. The console's actions (replay, redrive)
 * need `grantReplay` and `grantRedrive` on top.
 *
 * `readSigningSecret` adds the secret read that shows whether an archived
 * signature verifies (`--secret-arn`).
 */
export function grantConsole(grantee: iam.IGrantable, parts: { readonly ingestion: WebhookIngestion; readonly worker: JobWorker }, options: ReplayGrantOptions = {}): void {
  const { deliveriesTable, deadLetterQueue, receiverLogGroup } = parts.ingestion;
  const jobsTable = parts.worker.jobsTable;
  grantArchiveRead(grantee, parts.ingestion);
  iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem'], resourceArns: [jobsTable.tableArn, deliveriesTable.tableArn] });
  // The stuck jobs: the open-jobs index the reconciler sweeps (projected keys only).
  iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: [`${jobsTable.tableArn}/index/${OPEN_JOBS_INDEX.name}`] });
  iam.Grant.addToPrincipal({ grantee, actions: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], resourceArns: [deadLetterQueue.queueArn] });
  // CDK's log group ARN ends in `:*`, the form IAM checks FilterLogEvents against.
  iam.Grant.addToPrincipal({ grantee, actions: ['logs:FilterLogEvents'], resourceArns: [receiverLogGroup.logGroupArn] });
  iam.Grant.addToPrincipal({ grantee, actions: ['cloudwatch:GetMetricData'], resourceArns: ['*'] });
  jobsTable.encryptionKey?.grantDecrypt(grantee);
  deliveriesTable.encryptionKey?.grantDecrypt(grantee);
  deadLetterQueue.encryptionMasterKey?.grantDecrypt(grantee);
  if (options.readSigningSecret) grantSigningSecretRead(grantee, parts.ingestion);
  if (Construct.isConstruct(grantee.grantPrincipal)) {
    acknowledgeWildcardResource(
      grantee.grantPrincipal,
      '*',
      "The console's charts call cloudwatch:GetMetricData, which supports no resource-level permission (Service Authorization Reference); it reads metric values only.",
    );
  }
}

/** List the archive's raw/ prefix and read its objects: replay and the console. */
function grantArchiveRead(grantee: iam.IGrantable, ingestion: WebhookIngestion): void {
  const { archiveBucket } = ingestion;
  const archiveObjects = archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`);
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [archiveBucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${ARCHIVE_PREFIX}*`] } },
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [archiveObjects] });
  archiveBucket.encryptionKey?.grantDecrypt(grantee);
  // Principals outside the construct tree (an account, a service) carry no policy to check.
  if (Construct.isConstruct(grantee.grantPrincipal)) {
    acknowledgeWildcardResource(
      grantee.grantPrincipal,
      archiveObjects,
      'Replay and the console read archived deliveries by key; keys are per delivery, so the resource is the raw/* prefix of the archive bucket only (GetObject only).',
    );
  }
}

/** Whoever reads the signing secret can forge deliveries: only on request. */
function grantSigningSecretRead(grantee: iam.IGrantable, ingestion: WebhookIngestion): void {
  iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [ingestion.signingSecretResourceArn] });
  ingestion.signingSecret.encryptionKey?.grantDecrypt(grantee);
}

/**
 * What `npm run redrive` calls: read the DLQ's ARN and depth, start and follow
 * SQS's message move task from it (the task receives and deletes as the
 * caller), or move by hand (receive, delete), and send to the work queue. The
 * work queue's ARN is derived from its URL, so nothing is read from it. No
 * CancelMessageMoveTask: the tool never cancels (`aws sqs
 * cancel-message-move-task` needs an operator's own grant).
 */
export function grantRedrive(grantee: iam.IGrantable, ingestion: WebhookIngestion): void {
  const { deadLetterQueue, queue } = ingestion;
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks'],
    resourceArns: [deadLetterQueue.queueArn],
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
  deadLetterQueue.encryptionMasterKey?.grantDecrypt(grantee);
  grantKeyUse(queue.encryptionMasterKey, grantee, 'readWrite');
}

/**
 * What `npm run events -- --redrive` calls: take the given-up batches off the
 * failure queue, read their records back from the jobs table's stream, put
 * their events on the bus.
 */
export function grantEventsRedrive(grantee: iam.IGrantable, parts: { readonly jobEvents: JobEvents; readonly worker: JobWorker }): void {
  const { failureQueue, eventBus } = parts.jobEvents;
  const streamArn = parts.worker.jobsTable.tableStreamArn;
  iam.Grant.addToPrincipal({ grantee, actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], resourceArns: [failureQueue.queueArn] });
  if (streamArn !== undefined) iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetShardIterator', 'dynamodb:GetRecords'], resourceArns: [streamArn] });
  eventBus.grantPutEventsTo(grantee);
  parts.worker.jobsTable.encryptionKey?.grantDecrypt(grantee);
}
