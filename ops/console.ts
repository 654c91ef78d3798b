/**
 * `npm run console [-- --outputs FILE] [--port P] [--secret-arn ARN] [--read-only]`:
 * the ops console on 127.0.0.1, for the local stack or a deployed one (with
 * the operator's own credentials). Prints `console: http://127.0.0.1:<port>/?token=<token>`
 * on its own line; Ctrl-C stops it. See CONSOLE_USAGE and docs/console.md.
 */
import { EXIT, runCli } from './lib/cli-usage';
import { CONSOLE_USAGE, parseConsoleArgs } from './lib/console-args';
import { readOutputsFile } from './lib/outputs';
import { createConsoleContext } from './console/context';
import { startConsoleServer } from './console/server';

export const CONSOLE_LINE_PREFIX = 'console: ';

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const parsed = parseConsoleArgs(argv);
  if (parsed.help) {
    process.stdout.write(CONSOLE_USAGE);
    return EXIT.ok;
  }
  const args = parsed;
  const outputs = readOutputsFile(args.outputsFile, args.stackName);
  const ctx = await createConsoleContext(args, outputs);
  const server = await startConsoleServer(ctx, { port: args.port, log: (line) => process.stderr.write(`${line}\n`) });
  process.stderr.write(`console: ${ctx.target}, outputs ${args.outputsFile}; signatures ${ctx.signatureNote}\n`);
  process.stdout.write(`${CONSOLE_LINE_PREFIX}${server.url}\n`);
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stderr.write(`console: ${signal}: stopping\n`);
      void server.close().then(() => {
        ctx.close();
        resolve(EXIT.ok);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

if (require.main === module) runCli('console', () => main());
