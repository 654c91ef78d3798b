/**
 * The construct library: what a team imports into its own CDK app.
 *
 *   import { WebhookIngestion, JobWorker, Operations } from 'webhook-ingestion-stack';
 *
 * Peer dependencies: aws-cdk-lib, constructs and cdk-nag (versions in
 * package.json's peerDependencies, the lowest one tested by
 * test/package/example-app.test.ts). The Lambda code ships prebuilt in the
 * package (lib/function-code.ts), so the app needs neither esbuild nor Docker.
 */
export { WebhookIngestion, type WebhookIngestionProps } from './webhook-ingestion';
export { JobWorker, type JobWorkerProps } from './job-worker';
export { Operations, type OperationsAlarms, type OperationsProps } from './operations';
export { WebhookIngestionStack, type WebhookIngestionStackProps } from './webhook-ingestion-stack';
export { PropsValidationError } from './secure-defaults';
export { OUTPUT_KEYS, STACK_NAME } from '../lambda/core/contract';
