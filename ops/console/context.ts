/**
 * Everything a console page reads through, built once per run from the
 * outputs file: the same SDK clients and ops libraries the CLIs use, the
 * receiver's log lines (CloudWatch Logs deployed, the local stack's file
 * locally), the charts' source, and the signing secret(s) when available.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SERVICE_NAMES } from '../../lambda/core/contract';
import { clientsForOutputs, regionFromQueueUrl, type AwsClients } from '../lib/clients';
import type { ConsoleArgs } from '../lib/console-args';
import { QueueAgeSampler, cloudWatchCharts, fauxqsOldestAge, localCharts, type ChartSource } from '../lib/console-metrics';
import type { StackOutputs } from '../lib/outputs';
import { cloudWatchReceiverLogs, localLogFile, localReceiverLogs, type ReceiverLogSource } from '../lib/receiver-logs';
import type { SignatureKeys } from '../lib/replay-plan';
import { chooseSecretSource, loadSignatureKeys, type SecretChoice } from '../lib/replay-secrets';
import { ActionRegistry } from './actions';
import { newToken } from './security';

export interface ConsoleContext {
  /** This run's token (security.ts): every request carries it or its cookie. */
  readonly token: string;
  readonly outputs: StackOutputs;
  /** `--outputs F` / `--stack S` as the console was given them: every CLI command it shows repeats them. */
  readonly outputsArgs: readonly string[];
  /** `local stack` or `AWS <region>`. */
  readonly target: string;
  readonly clients: AwsClients;
  readonly logs?: ReceiverLogSource;
  /** Why there is no log source, when there is none. */
  readonly logsNote?: string;
  readonly charts: ChartSource;
  readonly signatureKeys?: SignatureKeys;
  /** Where the keys came from, or why there are none. */
  readonly signatureNote: string;
  /** `--secret-arn ARN` for replay --verify, when the console was given one. */
  readonly secretArgs: readonly string[];
  readonly readOnly: boolean;
  readonly actions: ActionRegistry;
  readonly now: () => Date;
  close(): void;
}

/** How often the local queue's oldest message age is sampled. */
export const LOCAL_SAMPLE_INTERVAL_MS = 5000;

export interface ContextOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => Date;
  /** Replace the clients built from the outputs (tests). */
  readonly clients?: AwsClients;
  /** @default - a new random token */
  readonly token?: string;
}

function describeChoice(choice: SecretChoice): string {
  return choice.kind === 'arn' ? `Secrets Manager ${choice.arn} (AWSCURRENT, AWSPREVIOUS)` : choice.origin;
}

export async function createConsoleContext(args: ConsoleArgs, outputs: StackOutputs, options: ContextOptions = {}): Promise<ConsoleContext> {
  const env = options.env ?? process.env;
  const clients = options.clients ?? clientsForOutputs(outputs);
  const region = regionFromQueueUrl(outputs.QueueUrl);
  const local = outputs.Endpoints;
  const extra: Array<{ destroy(): void }> = [];

  let logs: ReceiverLogSource | undefined;
  let logsNote: string | undefined;
  let charts: ChartSource;
  let sampler: QueueAgeSampler | undefined;
  if (local !== undefined) {
    if (local.logs !== undefined) logs = localReceiverLogs(localLogFile(local.logs, SERVICE_NAMES.receiver));
    else logsNote = 'this local stack writes no receiver log file (restart it with npm start)';
    sampler = new QueueAgeSampler(fauxqsOldestAge(local.sqs, outputs.QueueUrl), LOCAL_SAMPLE_INTERVAL_MS);
    sampler.start();
    charts = localCharts(logs, sampler, LOCAL_SAMPLE_INTERVAL_MS);
  } else {
    const config = region !== undefined ? { region } : {};
    if (outputs.ReceiverLogGroupName !== undefined) {
      const logsClient = new CloudWatchLogsClient(config);
      extra.push(logsClient);
      logs = cloudWatchReceiverLogs(logsClient, outputs.ReceiverLogGroupName);
    } else {
      logsNote = 'the outputs name no ReceiverLogGroupName (deploy this version of the stack to see refused deliveries)';
    }
    const cloudwatch = new CloudWatchClient(config);
    extra.push(cloudwatch);
    charts = cloudWatchCharts(cloudwatch, outputs.QueueUrl);
  }

  // The same choice replay --verify makes; a deployed stack without --secret-arn simply shows "not checked".
  let signatureKeys: SignatureKeys | undefined;
  let signatureNote: string;
  let choice: SecretChoice | undefined;
  try {
    choice = chooseSecretSource({ secrets: [], secretArn: args.secretArn }, outputs, env);
  } catch {
    choice = undefined;
  }
  if (choice === undefined) {
    signatureNote = 'no signing secret: start the console with --secret-arn to check signatures';
  } else {
    try {
      signatureKeys = await loadSignatureKeys(choice);
      signatureNote = `checked with ${describeChoice(choice)}`;
    } catch (error) {
      signatureNote = `the signing secret could not be read (${error instanceof Error ? error.message : String(error)}): signatures are not checked`;
    }
  }

  const outputsArgs = [...(args.outputsGiven ? ['--outputs', args.outputsFile] : []), ...(args.stackName !== undefined ? ['--stack', args.stackName] : [])];
  return {
    token: options.token ?? newToken(),
    outputs,
    outputsArgs,
    target: local !== undefined ? 'local stack' : `AWS ${region ?? '(default region)'}`,
    clients,
    logs,
    logsNote,
    charts,
    signatureKeys,
    signatureNote,
    secretArgs: args.secretArn !== undefined ? ['--secret-arn', args.secretArn] : [],
    readOnly: args.readOnly,
    actions: new ActionRegistry(),
    now: options.now ?? (() => new Date()),
    close: () => {
      sampler?.stop();
      for (const client of extra) client.destroy();
      if (options.clients === undefined) clients.destroy();
    },
  };
}
