/** `npm run redrive` arguments, validated before any AWS call (one-line error, exit 2). */
import { parsePositiveNumber, parseOptions } from './cli-usage';
import { LOCAL_OUTPUTS_FILE } from './outputs';

export const DEFAULT_WAIT_SECONDS = 300;

export interface RedriveArgs {
  /** Move at most this many messages (forces the receive/send/delete loop: a move task cannot stop at a count). */
  readonly max?: number;
  /** Skip StartMessageMoveTask and use the loop. */
  readonly loop: boolean;
  /** How long to follow a move task before leaving it running in the background. */
  readonly waitSeconds: number;
  readonly outputsFile: string;
  readonly stackName?: string;
}

export type ParsedRedriveArgs = { readonly help: true } | ({ readonly help: false } & RedriveArgs);

export const REDRIVE_USAGE = `usage: npm run redrive [-- options]

Moves the dead-letter queue's messages back to the main queue, where the worker
picks them up again. Fix the cause first: a message that still fails returns to
the DLQ after 5 more receives.

  --max N          move at most N messages (uses the receive/send/delete loop)
  --loop           use the receive/send/delete loop even where SQS move tasks exist
  --wait SECONDS   how long to follow an SQS move task (default ${DEFAULT_WAIT_SECONDS}); it keeps running after
  --outputs FILE   outputs file (default ${LOCAL_OUTPUTS_FILE}; or cdk deploy --outputs-file output)
  --stack NAME     stack in the outputs file (default WebhookIngestionStack)
  -h, --help       this text

Exit code: 0 done, 1 some messages could not be moved, 2 bad arguments (nothing done).
`;

export function parseRedriveArgs(argv: readonly string[]): ParsedRedriveArgs {
  const { values } = parseOptions(argv, {
    max: { type: 'string' },
    loop: { type: 'boolean', default: false },
    wait: { type: 'string' },
    outputs: { type: 'string' },
    stack: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return { help: true };
  return {
    help: false,
    max: parsePositiveNumber('--max', values.max, { integer: true }),
    loop: values.loop,
    waitSeconds: parsePositiveNumber('--wait', values.wait, { integer: true, max: 12 * 60 * 60 }) ?? DEFAULT_WAIT_SECONDS,
    outputsFile: values.outputs ?? LOCAL_OUTPUTS_FILE,
    stackName: values.stack,
  };
}
