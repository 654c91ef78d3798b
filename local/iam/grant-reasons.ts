/**
 * Why a grant that no recorded call used stays in the template. The IAM check
 * fails on an unused grant without an entry here: remove the grant, or say
 * why it is needed by something that makes no SDK call of ours.
 *
 * Keyed by `<principal> <action>`.
 */
import { SERVICE_NAMES } from '../../lambda/core/contract';
import { OPERATOR } from './access-log';

const LAMBDA_LOGS = 'Used by the Lambda runtime, not by our code: it writes the function\'s logs to its own log group with the execution role.';
const CDK_SQS_EVENT_SOURCE =
  'Added by CDK\'s SqsEventSource (grantConsumeMessages), which Lambda\'s poller does not need; kept because removing it means replacing SqsEventSource, a public field of JobWorker (`eventSource`).';
const LAMBDA_POLLER =
  'Lambda\'s SQS poller acts with the worker\'s role, and AWS documents ReceiveMessage, DeleteMessage and GetQueueAttributes as what it needs; the local queue runner standing in for it reads no attributes.';

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
  [`${OPERATOR} secretsmanager:GetSecretValue`]: 'Only with readSigningSecret (`-c operatorReadsSigningSecret=true`), for `replay --verify --secret-arn`.',
};

export function unusedGrantReason(principal: string, action: string): string | undefined {
  return UNUSED_GRANT_REASONS[`${principal} ${action}`];
}
