/**
 * The deployable unit: ingress, worker and operations, with the outputs the local
 * stack and the ops tools read (exact keys from the shared contract).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../lambda/core/contract';
import { JobWorker, type JobWorkerProps } from './job-worker';
import { Operations, type OperationsProps } from './operations';
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
}

export class WebhookIngestionStack extends Stack {
  public readonly ingestion: WebhookIngestion;
  public readonly worker: JobWorker;
  public readonly operations: Operations;

  constructor(scope: Construct, id: string, props: WebhookIngestionStackProps = {}) {
    super(scope, id, {
      description: 'Verified, deduplicated, archived and replayable webhook ingestion for the video background-removal API',
      ...props,
    });

    this.ingestion = new WebhookIngestion(this, 'Ingestion', props.ingestionProps);
    const importedJobsTable = props.existingJobsTableName
      ? dynamodb.Table.fromTableName(this, 'ExistingJobsTable', props.existingJobsTableName)
      : undefined;
    this.worker = new JobWorker(this, 'Worker', {
      existingJobsTable: importedJobsTable,
      ...props.workerProps,
      queue: this.ingestion.queue,
      deadLetterQueue: this.ingestion.deadLetterQueue,
      archiveBucket: this.ingestion.archiveBucket,
    });
    this.operations = new Operations(this, 'Operations', {
      ...props.operationsProps,
      ingestion: this.ingestion,
      worker: this.worker,
      alarmEmail: props.alarmEmail,
    });

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
  }
}
