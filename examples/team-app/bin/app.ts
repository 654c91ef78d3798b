#!/usr/bin/env node
/**
 * A team's own CDK app. The product already has its jobs table (deployed by
 * another stack, with the open-jobs index: see the README) and keeps the
 * provider's signing secret in Secrets Manager; the webhook ingestion goes into
 * the product's own stack, beside them, with cdk-nag's AWS Solutions checks on
 * the whole app. The product's operators' role gets what the ops tools call.
 */
import { App, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { grantRedrive, grantReplay, JobWorker, Operations, Reconciler, WebhookIngestion } from 'webhook-ingestion-stack';

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
    const operations = new Operations(this, 'WebhookOperations', { ingestion, worker, alarmEmail: 'ops@example.com' });
    // Stuck jobs: detect and alarm (give it existingProviderApiKeySecret to repair them too).
    const reconciler = new Reconciler(this, 'WebhookReconciler', {
      jobsTable,
      queue: ingestion.queue,
      archiveBucket: ingestion.archiveBucket,
      alarmTopic: operations.alarmTopic,
    });
    operations.addReconcilerWidgets(reconciler);

    // What npm run replay, redrive and reconcile call, for the product's operators.
    const operators = iam.Role.fromRoleArn(this, 'Operators', `arn:aws:iam::${this.account}:role/product-operators`);
    grantReplay(operators, { ingestion, worker });
    grantRedrive(operators, ingestion);
    reconciler.grantSweep(operators);
  }
}

const app = new App();
new ProductStack(app, 'ProductStack');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
