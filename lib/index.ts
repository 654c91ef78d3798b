/**
 * The construct library: what a team imports into its own CDK app.
 *
 *   import { WebhookIngestion, JobWorker, Operations, Reconciler } from 'webhook-ingestion-stack';
 *
 * Peer dependencies: aws-cdk-lib, constructs and cdk-nag (versions in
 * package.json's peerDependencies, the lowest one tested by
 * test/package/example-app.test.ts). The Lambda code ships prebuilt in the
 * package (lib/function-code.ts), so the app needs neither esbuild nor Docker.
 */

// The constructs and their props. The stack composes them all; an app may compose them itself.
export { WebhookIngestion, type WebhookIngestionProps } from './webhook-ingestion';
export { JobWorker, addOpenJobsIndex, type JobWorkerProps } from './job-worker';
export { Operations, type OperationsAlarms, type OperationsProps } from './operations';
export { Reconciler, type ReconcilerAlarms, type ReconcilerProps } from './reconciler';
export { JobEvents, type JobEventsProps } from './job-events';
export { WebhookIngestionStack, type WebhookIngestionStackProps } from './webhook-ingestion-stack';
export { PropsValidationError } from './secure-defaults';

// What the ops tools need, for the operators' own role (the reconciler's is Reconciler.grantSweep).
export { grantConsole, grantEventsRedrive, grantRedrive, grantReplay, type ReplayGrantOptions } from './operator-grants';

// A product that creates its job items before the provider's first webhook opts them in to reconciliation.
export { openJobAttributes, openJobShard, type OpenJobAttributes } from '../lambda/core/reconcile/open-jobs';

// Names a product's own code meets: the stack's outputs, the job item's stack-owned attributes,
// where an applied event came from (lastOrigin), the jobs table's keys and the open-jobs index.
export {
  DEPLOY_OUTPUT_KEYS,
  EVENT_TYPES,
  JOB_ATTRIBUTES,
  OPEN_JOBS_INDEX,
  ORIGINS,
  OUTPUT_KEYS,
  RECONCILE_OUTPUT_KEYS,
  STACK_NAME,
  TABLE_KEYS,
  type EventType,
  type Origin,
} from '../lambda/core/contract';
