/**
 * `npm run job -- <jobId> [--outputs FILE]`: prints a job item as the worker left
 * it (status, model, output, error, credits, history), from the local stack or a
 * deployed one. Exit code 1 when the job has no item.
 */
import { DynamoJobStore } from '../lambda/adapters/dynamo-job-store';
import { clientsForOutputs } from './lib/clients';
import { EXIT, UsageError, parseCliArgs, runCli } from './lib/cli-usage';
import { orderJobItem, readJob } from './lib/job-read';
import { LOCAL_OUTPUTS_FILE, readOutputsFile } from './lib/outputs';

const USAGE = `usage: npm run job -- <jobId> [--outputs FILE]   (default outputs: ${LOCAL_OUTPUTS_FILE})\n`;

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const { values, positionals } = parseCliArgs({
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
    const job = await readJob(new DynamoJobStore({ client: clients.dynamodb, tableName: outputs.JobsTableName }), positionals[0]);
    if (job === undefined) {
      process.stderr.write(`job: no item for ${positionals[0]} in ${outputs.JobsTableName}\n`);
      return EXIT.failed;
    }
    process.stdout.write(`${JSON.stringify(orderJobItem(job.item), null, 2)}\n`);
    return EXIT.ok;
  } finally {
    clients.destroy();
  }
}

if (require.main === module) runCli('job', () => main());
