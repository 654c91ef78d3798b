#!/usr/bin/env node
/**
 * The CDK app. Environment-agnostic on purpose: `cdk synth` runs offline with no
 * credentials, and no construct performs a lookup.
 *
 * Context (all optional): -c alarmEmail=ops@example.com
 *                         -c allowUnsignedDeliveries=true   (dangerous, see WebhookIngestionProps)
 *                         -c existingJobsTableName=<name>   (a table the product already owns)
 *                         -c existingJobsTableStreamArn=<arn> (its stream, NEW_AND_OLD_IMAGES: the job events read it)
 *                         -c deployJobEvents=false          (no job events bus, publisher or quality review)
 *                         -c deployQualityReview=false      (job events without the quality-review rule and queue)
 *                         -c operatorRoleArn=<role arn>     (gets exactly what replay, redrive, reconcile, events --redrive and the console need)
 *                         -c consoleRoleArn=<role arn>      (gets only what the console's read-only views need)
 *                         -c operatorReadsSigningSecret=true (and the secret read of replay --verify)
 *                         -c webhookPathToken=<32+ chars>   (abuse mitigation: the provider posts to /webhooks/<token>)
 *                         -c providerApiKeySecretArn=<secret arn> (the reconciler asks the provider's job API;
 *                                                              without it, it detects and alarms only)
 *                         -c providerApiUrl=https://...         (default https://api.removebgvideo.com)
 *                         -c destroyOnRemoval=true   (dev and test stacks only: cdk destroy deletes the data too)
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME } from '../lambda/core/contract';
import { WebhookIngestionStack } from '../lib/webhook-ingestion-stack';

const app = new App();

function contextString(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

// Context from the command line always arrives as a string.
const allowUnsignedDeliveries = String(app.node.tryGetContext('allowUnsignedDeliveries') ?? 'false') === 'true';
const deployJobEvents = String(app.node.tryGetContext('deployJobEvents') ?? 'true') !== 'false';
const destroyOnRemoval = String(app.node.tryGetContext('destroyOnRemoval') ?? 'false') === 'true';

const stack = new WebhookIngestionStack(app, STACK_NAME, {
  alarmEmail: contextString('alarmEmail'),
  existingJobsTableName: contextString('existingJobsTableName'),
  existingJobsTableStreamArn: contextString('existingJobsTableStreamArn'),
  deployJobEvents,
  ...(deployJobEvents && String(app.node.tryGetContext('deployQualityReview') ?? 'true') === 'false' ? { jobEventsProps: { deployQualityReview: false } } : {}),
  ingestionProps: { allowUnsignedDeliveries, webhookPathToken: contextString('webhookPathToken') },
  providerApiKeySecretArn: contextString('providerApiKeySecretArn'),
  reconcilerProps: { providerApiUrl: contextString('providerApiUrl') },
  destroyOnRemoval,
});

const consoleRoleArn = contextString('consoleRoleArn');
if (consoleRoleArn !== undefined) stack.grantConsoleRole(consoleRoleArn);

const operatorRoleArn = contextString('operatorRoleArn');
if (operatorRoleArn !== undefined) {
  stack.grantOperatorRole(operatorRoleArn, { readSigningSecret: String(app.node.tryGetContext('operatorReadsSigningSecret') ?? 'false') === 'true' });
}

// cdk-nag 3 is a policy-validation plugin: any unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
