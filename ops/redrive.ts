/**
 * `npm run redrive [-- --max N] [--outputs FILE]`: moves dead-lettered job
 * events back to the main queue. See REDRIVE_USAGE and docs/runbook.md.
 */
import { clientsForOutputs } from './lib/clients';
import { EXIT, runCli } from './lib/cli-usage';
import { readOutputsFile } from './lib/outputs';
import { REDRIVE_USAGE, parseRedriveArgs } from './lib/redrive-args';
import { describeRedrive, formatRedriveSummary, queueDepth, redrive, redriveFailed } from './lib/redrive-run';

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const parsed = parseRedriveArgs(argv);
  if (parsed.help) {
    process.stdout.write(REDRIVE_USAGE);
    return EXIT.ok;
  }
  const args = parsed;
  const outputs = readOutputsFile(args.outputsFile, args.stackName);
  const clients = clientsForOutputs(outputs);
  try {
    const before = await queueDepth(clients.sqs, outputs.DeadLetterQueueUrl);
    process.stderr.write(`redrive: ${describeRedrive(outputs.DeadLetterQueueUrl, outputs.QueueUrl, before)}\n`);
    const started = Date.now();
    const result = await redrive({
      sqs: clients.sqs,
      deadLetterQueueUrl: outputs.DeadLetterQueueUrl,
      queueUrl: outputs.QueueUrl,
      max: args.max,
      loop: args.loop,
      waitSeconds: args.waitSeconds,
      log: (line) => process.stderr.write(`redrive: ${line}\n`),
    });
    const after = await queueDepth(clients.sqs, outputs.DeadLetterQueueUrl);
    for (const line of formatRedriveSummary(result, Date.now() - started, after)) process.stdout.write(`${line}\n`);
    return redriveFailed(result) ? EXIT.failed : EXIT.ok;
  } finally {
    clients.destroy();
  }
}

if (require.main === module) runCli('redrive', () => main());
