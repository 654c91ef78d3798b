/**
 * Worker Lambda entry point (placeholder while the worker core lands): every
 * record is reported as failed so nothing is lost if this build is ever deployed.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })),
});
