/**
 * Why a grant that no recorded call used stays in the template. The IAM check
 * fails on an unused grant without an entry here: remove the grant, or say
 * why it is needed by something that makes no SDK call of ours.
 *
 * Keyed by `<principal> <action>`.
 */
import { SERVICE_NAMES } from '../../lambda/core/contract';
import { OPERATOR } from './access-log';
import { ARCHIVE_STREAM_PRINCIPAL } from './template-policies';

const LAMBDA_LOGS = 'Used by the Lambda runtime, not by our code: it writes the function\'s logs to its own log group with the execution role.';
const CDK_SQS_EVENT_SOURCE =
  'Added by CDK\'s SqsEventSource (grantConsumeMessages), which Lambda\'s poller does not need; kept because removing it means replacing SqsEventSource, a public field of JobWorker (`eventSource`).';
const LAMBDA_POLLER =
  'Lambda\'s SQS poller acts with the worker\'s role, and AWS documents ReceiveMessage, DeleteMessage and GetQueueAttributes as what it needs; the local queue runner standing in for it reads no attributes.';

const FIREHOSE_S3_DESTINATION =
  'AWS documents this action for a Firehose S3 destination role (it checks the bucket, lists and aborts multipart uploads of large objects, and reads back what it wrote); the local stand-in only puts whole objects.';
const FIREHOSE_ERROR_LOGS = 'Firehose writes delivery errors to the stream\'s log group with this role; the local stand-in logs to the console.';

export const UNUSED_GRANT_REASONS: Readonly<Record<string, string>> = {
  [`${SERVICE_NAMES.receiver} logs:CreateLogStream`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.receiver} logs:PutLogEvents`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.worker} logs:CreateLogStream`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.reconciler} logs:CreateLogStream`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.reconciler} logs:PutLogEvents`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.worker} logs:PutLogEvents`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.worker} sqs:GetQueueUrl`]: CDK_SQS_EVENT_SOURCE,
  [`${SERVICE_NAMES.worker} sqs:GetQueueAttributes`]: LAMBDA_POLLER,
  [`${SERVICE_NAMES.worker} sqs:ChangeMessageVisibility`]: CDK_SQS_EVENT_SOURCE,
  [`${SERVICE_NAMES.jobEvents} logs:CreateLogStream`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.jobEvents} logs:PutLogEvents`]: LAMBDA_LOGS,
  [`${SERVICE_NAMES.jobEvents} dynamodb:ListStreams`]:
    "Lambda's stream poller lists the table's streams with the function's role (CDK's DynamoEventSource grant, as AWS documents); the local stream runner is handed the stream's ARN and lists nothing.",
  [`${SERVICE_NAMES.jobEvents} sqs:SendMessage`]:
    "Lambda sends a given-up batch's on-failure record with the function's role; a passing e2e run gives up no batch (the reliability run's EventBridge outage does, and the runbook's redrive reads it back).",
  [`${SERVICE_NAMES.worker} s3:ListBucket`]:
    'Not a call of its own: S3 answers a GetObject of a missing key with NoSuchKey only to a caller allowed s3:ListBucket (AccessDenied otherwise), and the claim check needs to tell a missing object (an orphaned message, dropped) from a permissions problem (issue 10, finding 3).',
  [`${ARCHIVE_STREAM_PRINCIPAL} s3:GetBucketLocation`]: FIREHOSE_S3_DESTINATION,
  [`${ARCHIVE_STREAM_PRINCIPAL} s3:ListBucket`]: FIREHOSE_S3_DESTINATION,
  [`${ARCHIVE_STREAM_PRINCIPAL} s3:ListBucketMultipartUploads`]: FIREHOSE_S3_DESTINATION,
  [`${ARCHIVE_STREAM_PRINCIPAL} s3:AbortMultipartUpload`]: FIREHOSE_S3_DESTINATION,
  [`${ARCHIVE_STREAM_PRINCIPAL} s3:GetObject`]: FIREHOSE_S3_DESTINATION,
  [`${ARCHIVE_STREAM_PRINCIPAL} s3:PutObject`]:
    'On archive-errors/ only (raw/ is used): Firehose requires an error prefix beside a prefix with expressions, and writes there only records a transformation or format conversion failed, neither of which this stream has.',
  [`${ARCHIVE_STREAM_PRINCIPAL} logs:CreateLogStream`]: FIREHOSE_ERROR_LOGS,
  [`${ARCHIVE_STREAM_PRINCIPAL} logs:PutLogEvents`]: FIREHOSE_ERROR_LOGS,
  [`${OPERATOR} secretsmanager:GetSecretValue`]: 'Only with readSigningSecret (`-c operatorReadsSigningSecret=true`), for `replay --verify --secret-arn`.',
};

export function unusedGrantReason(principal: string, action: string): string | undefined {
  return UNUSED_GRANT_REASONS[`${principal} ${action}`];
}
