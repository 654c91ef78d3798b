/** `npm run console` arguments, validated before anything starts (one-line error, exit 2). */
import { parseOptions, parsePositiveNumber, parseSecretArn } from './cli-usage';
import { LOCAL_OUTPUTS_FILE } from './outputs';

export interface ConsoleArgs {
  readonly outputsFile: string;
  /** Given on the command line (the actions' CLI commands repeat it). */
  readonly outputsGiven: boolean;
  readonly stackName?: string;
  /** 0: any free port. */
  readonly port: number;
  /** Read the signing secret from Secrets Manager to show whether archived signatures verify (deployed stacks). */
  readonly secretArn?: string;
  /** No actions: for a role with grantConsole only. */
  readonly readOnly: boolean;
}

export type ParsedConsoleArgs = { readonly help: true } | ({ readonly help: false } & ConsoleArgs);

export const CONSOLE_USAGE = `usage: npm run console [-- options]

Serves the ops console on 127.0.0.1 and prints its link, with this run's token:
  console: http://127.0.0.1:<port>/?token=<token>
Deliveries (accepted, duplicate, refused and why), one delivery (headers,
signature check, raw body, dedupe record, what the worker did), jobs, stuck
jobs, the DLQ; replay and redrive, each with its CLI command. Ctrl-C stops it.

  --outputs FILE     outputs file (default ${LOCAL_OUTPUTS_FILE}; or cdk deploy --outputs-file output)
  --stack NAME       stack in the outputs file (default WebhookIngestionStack)
  --port P           port on 127.0.0.1 (default 0: any free port)
  --secret-arn ARN   read the signing secret (AWSCURRENT, AWSPREVIOUS) to check archived signatures
                     (deployed stacks; a local stack uses its dev secret or $WEBHOOK_SIGNING_SECRET)
  --read-only        no replay or redrive (for a role granted grantConsole only)
  -h, --help         this text

Exit code: 0 stopped, 1 could not start, 2 bad arguments.
`;

export function parseConsoleArgs(argv: readonly string[]): ParsedConsoleArgs {
  const { values } = parseOptions(argv, {
    outputs: { type: 'string' },
    stack: { type: 'string' },
    port: { type: 'string' },
    'secret-arn': { type: 'string' },
    'read-only': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return { help: true };
  let port = 0;
  if (values.port !== undefined && values.port !== '0') {
    port = parsePositiveNumber('--port', values.port, { integer: true, max: 65_535 }) ?? 0;
  }
  const secretArn = parseSecretArn('--secret-arn', values['secret-arn']);
  return {
    help: false,
    outputsFile: values.outputs ?? LOCAL_OUTPUTS_FILE,
    outputsGiven: values.outputs !== undefined,
    stackName: values.stack,
    port,
    secretArn,
    readOnly: values['read-only'],
  };
}
