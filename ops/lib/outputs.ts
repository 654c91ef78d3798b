/**
 * The outputs file every ops tool reads: the shape `cdk deploy --outputs-file`
 * writes (`{ "<StackName>": { "<OutputKey>": "<value>" } }`). The local stack
 * writes the same shape to `.local/outputs.json`, plus an `Endpoints` object
 * with its emulator URLs, so one tool works against both.
 */
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { OUTPUT_KEYS, STACK_NAME } from '../../lambda/core/contract';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const LOCAL_STATE_DIR = path.join(REPO_ROOT, '.local');
export const LOCAL_OUTPUTS_FILE = path.join(LOCAL_STATE_DIR, 'outputs.json');

/** Service URLs of the local emulators; absent for a deployed stack. */
export interface LocalEndpoints {
  readonly region: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly s3: string;
  /** The provider job API simulator: base URL without a path (docs/architecture.md, "Open jobs and the reconciler"). */
  readonly providerApi?: string;
  /** The key the simulator checks (a throwaway, per local stack). */
  readonly providerApiKey?: string;
  /** The local Lambda Invoke stand-in of the reconciler function (`npm run reconcile` runs the stack's own sweep there). */
  readonly reconciler?: string;
  /** The EventBridge stand-in (job events). */
  readonly events?: string;
  /** The local Firehose stand-in, when the stack has an archive stream. */
  readonly firehose?: string;
  /** Directory of the handlers' log files (`<service>.jsonl`), the local stand-in for their log groups. */
  readonly logs?: string;
}

export interface StackOutputs {
  readonly WebhookUrl: string;
  readonly JobsTableName: string;
  readonly DeliveriesTableName: string;
  readonly ArchiveBucketName: string;
  readonly QueueUrl: string;
  readonly DeadLetterQueueUrl: string;
  /** A deployed stack's (not the local stack's): the signing secret's ARN and the dashboard. */
  readonly SigningSecretArn?: string;
  readonly DashboardName?: string;
  /** Present when the reconciler is deployed. */
  readonly ProviderApiUrl?: string;
  /** Present when a provider API key secret is configured. */
  readonly ProviderApiKeySecretArn?: string;
  /** Absent when the stack was deployed without job events. */
  readonly JobEventsBusName?: string;
  readonly JobEventsFailureQueueUrl?: string;
  readonly QualityReviewQueueUrl?: string;
  /** Local stack only: the catch-all queue that receives every job event's envelope. */
  readonly JobEventsTapQueueUrl?: string;
  /** The receiver's log group (what the ops console reads refused deliveries from); absent from stacks deployed before it. */
  readonly ReceiverLogGroupName?: string;
  readonly Endpoints?: LocalEndpoints;
}

/**
 * Outputs a stack may lack: of features it may leave out (`deployJobEvents:
 * false`, no quality review), or deployed before the output existed. Tools that
 * need one say so when it is missing.
 */
const OPTIONAL_OUTPUT_KEYS: ReadonlySet<string> = new Set([
  OUTPUT_KEYS.jobEventsBusName,
  OUTPUT_KEYS.jobEventsFailureQueueUrl,
  OUTPUT_KEYS.qualityReviewQueueUrl,
  OUTPUT_KEYS.receiverLogGroupName,
]);

export type OutputsFile = Record<string, StackOutputs>;

export class OutputsFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutputsFileError';
  }
}

/**
 * Reads one stack's outputs. With several stacks in the file, `stackName` (default
 * the contract's) picks one; a single stack under another name (a renamed deploy) is used as is.
 */
export function readOutputsFile(file: string = LOCAL_OUTPUTS_FILE, stackName: string = STACK_NAME): StackOutputs {
  if (!existsSync(file)) {
    throw new OutputsFileError(
      `no outputs file at ${file}: start the local stack (npm start) or pass the file written by cdk deploy --outputs-file`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new OutputsFileError(`${file} is not valid JSON`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new OutputsFileError(`${file} is not an outputs file`);
  const stacks = parsed as Record<string, unknown>;
  const names = Object.keys(stacks);
  const chosen = stackName in stacks ? stackName : names.length === 1 ? names[0] : undefined;
  if (chosen === undefined) throw new OutputsFileError(`${file} has no stack ${stackName} (found: ${names.join(', ') || 'none'})`);
  const outputs = stacks[chosen] as Record<string, unknown>;
  const missing = Object.values(OUTPUT_KEYS).filter((key) => !OPTIONAL_OUTPUT_KEYS.has(key) && typeof outputs[key] !== 'string');
  if (missing.length > 0) throw new OutputsFileError(`${file}: stack ${chosen} lacks outputs ${missing.join(', ')}`);
  return outputs as unknown as StackOutputs;
}

/** Writes atomically, so a reader polling for the file never sees half of it. */
export function writeOutputsFile(file: string, outputs: StackOutputs, stackName: string = STACK_NAME): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ [stackName]: outputs }, null, 2)}\n`);
  renameSync(tmp, file);
}
