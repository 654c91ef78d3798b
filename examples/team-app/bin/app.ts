#!/usr/bin/env node
/**
 * A team's own CDK app. The product already has its jobs table (deployed by
 * another stack) and keeps the provider's signing secret in Secrets Manager;
 * the webhook ingestion goes into the product's own stack, beside them, with
 * cdk-nag's AWS Solutions checks on the whole app.
 */
import { App, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { JobWorker, Operations, WebhookIngestion } from 'webhook-ingestion-stack';

export class ProductStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // What the product already has.
    const jobsTable = dynamodb.Table.fromTableName(this, 'JobsTable', 'product-jobs');
    const signingSecret = secretsmanager.Secret.fromSecretNameV2(this, 'SigningSecret', 'video-provider/webhook-signing-secret');

    // The webhook ingestion, wired to them.
    const ingestion = new WebhookIngestion(this, 'Webhooks', { existingSigningSecret: signingSecret });
    const worker = new JobWorker(this, 'WebhookWorker', {
      existingJobsTable: jobsTable,
      queue: ingestion.queue,
      deadLetterQueue: ingestion.deadLetterQueue,
      archiveBucket: ingestion.archiveBucket,
    });
    new Operations(this, 'WebhookOperations', { ingestion, worker, alarmEmail: 'ops@example.com' });
  }
}

const app = new App();
new ProductStack(app, 'ProductStack');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
