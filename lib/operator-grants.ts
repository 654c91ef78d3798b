/**
 * What the ops tools need, as grants a team gives its own operators' role or
 * user. The stack's grantReplay / grantRedrive / grantOperatorRole call these;
 * an app that composes the constructs itself calls them directly:
 *
 *   grantReplay(opsRole, { ingestion, worker });
 *   grantRedrive(opsRole, ingestion);
 *   reconciler.grantSweep(opsRole);     // npm run reconcile --in-process
 *
 * Explicit actions on exact resources, never CDK's grantRead wildcards.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ARCHIVE_PREFIX } from '../lambda/core/contract';
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
  const { archiveBucket, queue, signingSecret } = parts.ingestion;
  const archiveObjects = archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`);
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [archiveBucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${ARCHIVE_PREFIX}*`] } },
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [archiveObjects] });
  iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
  iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem'], resourceArns: [parts.worker.jobsTable.tableArn] });
  archiveBucket.encryptionKey?.grantDecrypt(grantee);
  grantKeyUse(queue.encryptionMasterKey, grantee, 'readWrite');
  parts.worker.jobsTable.encryptionKey?.grantDecrypt(grantee);
  if (options.readSigningSecret) {
    iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [parts.ingestion.signingSecretResourceArn] });
    signingSecret.encryptionKey?.grantDecrypt(grantee);
  }
  // Principals outside the construct tree (an account, a service) carry no policy to check.
  if (Construct.isConstruct(grantee.grantPrincipal)) {
    acknowledgeWildcardResource(
      grantee.grantPrincipal,
      archiveObjects,
      'Replay reads archived deliveries by key; keys are per delivery, so the resource is the raw/* prefix of the archive bucket only (GetObject only).',
    );
  }
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
