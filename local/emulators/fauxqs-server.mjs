/**
 * fauxqs (SQS + S3 emulator) in a process of its own, so the local stack's
 * pipeline and the emulator each get an event loop (and a core), as DynamoDB
 * Local's JVM already does. Plain ESM for plain `node`: no TypeScript loader.
 *
 *   node local/emulators/fauxqs-server.mjs <port> <region> <queue-url-host> [logger]
 *
 * Its CLI and `startFauxqs()` listen on 0.0.0.0, so this takes the exported app
 * builder and listens on 127.0.0.1 (port 0: the kernel picks one, no race), then
 * prints `FAUXQS_LISTENING 127.0.0.1 <port>` on one line. It exits when its stdin
 * closes, i.e. when the parent that holds the other end dies, however it dies.
 * SIGTERM closes it. SIGINT is ignored: Ctrl-C reaches the whole foreground
 * process group, and the parent stops this process itself once its queue runner
 * no longer needs it.
 */
import { buildApp } from 'fauxqs';

const HOST = '127.0.0.1';
const [portArg = '0', region = 'us-east-1', queueUrlHost = 'localhost', loggerArg] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`fauxqs-server: bad port "${portArg}"\n`);
  process.exit(2);
}

const app = buildApp({ logger: loggerArg === 'logger', host: queueUrlHost, defaultRegion: region });

let closing = false;
function shutdown(code) {
  if (closing) return;
  closing = true;
  // In-memory state only: nothing to flush. Give open long polls a moment to end, no more.
  setTimeout(() => process.exit(code), 1000).unref();
  app.close().then(
    () => process.exit(code),
    () => process.exit(code),
  );
}

process.stdin.on('end', () => shutdown(0));
process.stdin.on('close', () => shutdown(0));
process.stdin.on('error', () => shutdown(0));
process.stdin.resume();
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => undefined);

try {
  await app.listen({ port, host: HOST });
} catch (error) {
  process.stderr.write(`fauxqs-server: could not listen on ${HOST}:${port}: ${error?.stack ?? error}\n`);
  process.exit(1);
}
const address = app.server.address();
if (address === null || typeof address === 'string') {
  process.stderr.write('fauxqs-server: no TCP address\n');
  process.exit(1);
}
process.stdout.write(`FAUXQS_LISTENING ${HOST} ${address.port}\n`);
