/**
 * `npm run replay -- --from <iso> --to <iso> [options]`: re-enqueues archived
 * deliveries received in [from, to) through the normal worker path. Reads the
 * local stack's outputs file by default, or a deployed stack's
 * `cdk deploy --outputs-file` output with --outputs. See REPLAY_USAGE.
 */
import { S3Archive } from '../lambda/adapters/s3-archive';
import { SqsQueue } from '../lambda/adapters/sqs-queue';
import { DynamoJobStore } from '../lambda/adapters/dynamo-job-store';
import { clientsForOutputs } from './lib/clients';
import { createProgress } from './lib/cli-progress';
import { EXIT, runCli } from './lib/cli-usage';
import { readOutputsFile } from './lib/outputs';
import { REPLAY_USAGE, parseReplayArgs } from './lib/replay-args';
import { listArchiveKeys, readArchiveBatch } from './lib/archive-reader';
import { chooseSecretSource, loadSignatureKeys } from './lib/replay-secrets';
import { formatSummary, runReplay } from './lib/replay-run';

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const parsed = parseReplayArgs(argv);
  if (parsed.help) {
    process.stdout.write(REPLAY_USAGE);
    return EXIT.ok;
  }
  const args = parsed;
  const outputs = readOutputsFile(args.outputsFile, args.stackName);
  // Resolved before any AWS call, so a missing secret is a usage error that changes nothing.
  const secretChoice = args.verify ? chooseSecretSource(args, outputs, process.env) : undefined;

  const clients = clientsForOutputs(outputs);
  try {
    const signatureKeys = secretChoice === undefined ? undefined : await loadSignatureKeys(secretChoice);
    const target = outputs.Endpoints !== undefined ? 'local stack' : 'AWS';
    process.stderr.write(
      `replay: ${args.dryRun ? 'DRY RUN, ' : ''}[${args.from.toISOString()}, ${args.to.toISOString()}) from s3://${outputs.ArchiveBucketName} ` +
        `to ${outputs.QueueUrl} (${target})` +
        (secretChoice !== undefined ? `, verifying with ${secretChoice.kind === 'arn' ? secretChoice.arn : secretChoice.origin}` : '') +
        (args.force ? ', force' : '') +
        (args.rate !== undefined ? `, at most ${args.rate}/s` : '') +
        '\n',
    );
    const summary = await runReplay(args, {
      bucket: outputs.ArchiveBucketName,
      listKeys: (prefix) => listArchiveKeys(clients.s3, outputs.ArchiveBucketName, prefix),
      archive: new S3Archive(clients.s3, outputs.ArchiveBucketName),
      readBatch: (key) => readArchiveBatch(clients.s3, outputs.ArchiveBucketName, key),
      queue: new SqsQueue(clients.sqs, outputs.QueueUrl),
      jobs: new DynamoJobStore({ client: clients.dynamodb, tableName: outputs.JobsTableName }),
      signatureKeys,
      out: (line) => process.stdout.write(`${line}\n`),
      progress: (total) => createProgress({ label: 'replay', total, stream: process.stderr }),
    });
    process.stdout.write(`${formatSummary(summary)}\n`);
    return summary.refused > 0 || summary.failed > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    clients.destroy();
  }
}

if (require.main === module) runCli('replay', () => main());
