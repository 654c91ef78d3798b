/**
 * `npm run replay -- --from <iso> --to <iso> [options]`: re-enqueues archived
 * deliveries received in [from, to) through the normal worker path. Reads the
 * local stack's outputs file by default, or a deployed stack's
 * `cdk deploy --outputs-file` output with --outputs. See REPLAY_USAGE.
 */
import { clientsForOutputs } from './lib/clients';
import { createProgress } from './lib/cli-progress';
import { EXIT, runCli } from './lib/cli-usage';
import { readOutputsFile } from './lib/outputs';
import { REPLAY_USAGE, parseReplayArgs } from './lib/replay-args';
import { describeReplay, replayDependencies } from './lib/replay-deps';
import { chooseSecretSource, loadSignatureKeys } from './lib/replay-secrets';
import { formatSummary, replayFailed, runReplay } from './lib/replay-run';

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
    process.stderr.write(`replay: ${describeReplay(args, outputs, secretChoice)}\n`);
    const summary = await runReplay(
      args,
      replayDependencies(outputs, clients, {
        signatureKeys,
        out: (line) => process.stdout.write(`${line}\n`),
        progress: (total) => createProgress({ label: 'replay', total, stream: process.stderr }),
      }),
    );
    process.stdout.write(`${formatSummary(summary)}\n`);
    return replayFailed(summary) ? EXIT.failed : EXIT.ok;
  } finally {
    clients.destroy();
  }
}

if (require.main === module) runCli('replay', () => main());
