/**
 * The AWS side of a replay, wired once for every caller (`npm run replay`, the
 * console): the archive listing and reads (both shapes), the work queue, the jobs table.
 */
import { DynamoJobStore } from '../../lambda/adapters/dynamo-job-store';
import { S3Archive } from '../../lambda/adapters/s3-archive';
import { SqsQueue } from '../../lambda/adapters/sqs-queue';
import { listArchiveKeys, readArchiveBatch } from './archive-reader';
import type { AwsClients } from './clients';
import type { Progress } from './cli-progress';
import type { StackOutputs } from './outputs';
import type { ReplayArgs } from './replay-args';
import type { SignatureKeys } from './replay-plan';
import type { ReplayDeps } from './replay-run';
import type { SecretChoice } from './replay-secrets';

export interface ReplayWiring {
  readonly signatureKeys?: SignatureKeys;
  readonly out: (line: string) => void;
  readonly progress: (total: number) => Progress;
}

export function replayDependencies(outputs: StackOutputs, clients: AwsClients, wiring: ReplayWiring): ReplayDeps {
  return {
    bucket: outputs.ArchiveBucketName,
    listKeys: (prefix) => listArchiveKeys(clients.s3, outputs.ArchiveBucketName, prefix),
    archive: new S3Archive(clients.s3, outputs.ArchiveBucketName),
    readBatch: (key) => readArchiveBatch(clients.s3, outputs.ArchiveBucketName, key),
    queue: new SqsQueue(clients.sqs, outputs.QueueUrl),
    jobs: new DynamoJobStore({ client: clients.dynamodb, tableName: outputs.JobsTableName }),
    signatureKeys: wiring.signatureKeys,
    out: wiring.out,
    progress: wiring.progress,
  };
}

/** What a replay is about to do, in one line: window, archive, queue, target, and its options. */
export function describeReplay(args: ReplayArgs, outputs: StackOutputs, secretChoice: SecretChoice | undefined): string {
  const target = outputs.Endpoints !== undefined ? 'local stack' : 'AWS';
  return (
    `${args.dryRun ? 'DRY RUN, ' : ''}[${args.from.toISOString()}, ${args.to.toISOString()}) from s3://${outputs.ArchiveBucketName} ` +
    `to ${outputs.QueueUrl} (${target})` +
    (secretChoice !== undefined ? `, verifying with ${secretChoice.kind === 'arn' ? secretChoice.arn : secretChoice.origin}` : '') +
    (args.force ? ', force' : '') +
    (args.rate !== undefined ? `, at most ${args.rate}/s` : '')
  );
}
