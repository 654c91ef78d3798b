/**
 * `npm run redrive [-- --max N] [--outputs FILE]`: moves dead-lettered job
 * events back to the main queue. See REDRIVE_USAGE and docs/runbook.md.
 */
import { clientsForOutputs } from './lib/clients';
import { EXIT, runCli } from './lib/cli-usage';
import { readOutputsFile } from './lib/outputs';
import { REDRIVE_USAGE, parseRedriveArgs } from './lib/redrive-args';
import { queueDepth, redrive } from './lib/redrive-run';

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
    process.stderr.write(
      `redrive: ${outputs.DeadLetterQueueUrl} -> ${outputs.QueueUrl} (DLQ: ${before.visible} visible, ${before.inFlight} in flight)\n`,
    );
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
    const task = result.method === 'move-task' ? ` (task ${result.taskStatus}${result.failureReason ? `: ${result.failureReason}` : ''})` : '';
    process.stdout.write(
      `redrive (${result.method}${task}): moved ${result.moved}, failed ${result.failed} in ${Date.now() - started} ms; ` +
        `DLQ now ${after.visible} visible, ${after.inFlight} in flight\n`,
    );
    if (result.taskStatus === 'RUNNING') {
      process.stdout.write(
        `the move task keeps running; follow it with: aws sqs list-message-move-tasks --source-arn <DLQ ARN>\n`,
      );
    }
    const taskFailed = result.taskStatus !== undefined && !['COMPLETED', 'RUNNING'].includes(result.taskStatus);
    return result.failed > 0 || taskFailed ? EXIT.failed : EXIT.ok;
  } finally {
    clients.destroy();
  }
}

if (require.main === module) runCli('redrive', () => main());
