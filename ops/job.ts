/**
 * `npm run job -- <jobId> [--outputs FILE]`: prints a job item as the worker left
 * it (status, model, output, error, credits, history), from the local stack or a
 * deployed one. Exit code 1 when the job has no item.
 */
import { parseArgs } from 'node:util';
import { DynamoJobStore } from '../lambda/adapters/dynamo-job-store';
import { clientsForOutputs } from './lib/clients';
import { EXIT, UsageError, runCli } from './lib/cli-usage';
import { LOCAL_OUTPUTS_FILE, readOutputsFile } from './lib/outputs';

const USAGE = `usage: npm run job -- <jobId> [--outputs FILE]   (default outputs: ${LOCAL_OUTPUTS_FILE})\n`;

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { outputs: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one job id');
  const outputs = readOutputsFile(values.outputs ?? LOCAL_OUTPUTS_FILE);
  const clients = clientsForOutputs(outputs);
  try {
    const item = await new DynamoJobStore({ client: clients.dynamodb, tableName: outputs.JobsTableName }).get(positionals[0]);
    if (item === undefined) {
      process.stderr.write(`job: no item for ${positionals[0]} in ${outputs.JobsTableName}\n`);
      return EXIT.failed;
    }
    // The worker's own attributes first, in the order a support engineer reads them.
    const { jobId, status, model, outputFormat, background, outputUrl, error, creditsUsed, ...rest } = item;
    const ordered = { jobId, status, model, outputFormat, background, outputUrl, error, creditsUsed, ...rest };
    process.stdout.write(`${JSON.stringify(ordered, null, 2)}\n`);
    return EXIT.ok;
  } finally {
    clients.destroy();
  }
}

if (require.main === module) runCli('job', () => main());
