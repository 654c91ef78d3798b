/**
 * One Lambda execution environment for a deployed bundle, in its own plain
 * Node process (no TypeScript loader: the bundle runs as Lambda's Node.js
 * runtime runs it, ESM `index.mjs`, handler `handler`):
 *
 *   node local/runners/bundle-runtime.mjs <bundle file> <export name>
 *
 * The parent (bundle-function.ts) gives it the function's environment and sends
 * invocations over the IPC channel: `{ id, event, context }`, where `context`
 * carries the invocation's fields and its deadline. The answer is `{ id, result }`
 * or `{ id, error }`. It imports the bundle once, before saying `{ ready: true }`
 * (the init phase), and exits when the channel closes, so it never outlives its parent.
 */
import dns from 'node:dns';
import { pathToFileURL } from 'node:url';

const [bundleFile, exportName = 'handler'] = process.argv.slice(2);

function contextFor(fields) {
  const { deadline, ...rest } = fields;
  return {
    ...rest,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function describe(error) {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: 'Error', message: String(error) };
}

process.on('disconnect', () => process.exit(0));

/*
 * Names under `.localhost` resolve to loopback (RFC 6761, section 6.3), which
 * glibc's resolver does not do by itself. A queue URL names its endpoint's host
 * (`https://sqs.<region>.amazonaws.com/...` in AWS, `http://sqs.<region>.localhost:<port>/...`
 * here), and the SQS client sends to that host whatever endpoint it was given:
 * the bundle, which cannot be configured, reaches fauxqs through it as a Lambda reaches SQS.
 */
const systemLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof hostname !== 'string' || (hostname !== 'localhost' && !hostname.endsWith('.localhost'))) {
    return systemLookup.call(this, hostname, options, callback);
  }
  const done = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all === true;
  process.nextTick(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)));
  return {};
};

let handler;
try {
  const module = await import(pathToFileURL(bundleFile).href);
  handler = module[exportName];
  if (typeof handler !== 'function') throw new Error(`${bundleFile} exports no function ${exportName}`);
} catch (error) {
  process.send({ initError: describe(error) });
  process.exit(1);
}

process.on('message', (message) => {
  const { id, event, context } = message;
  Promise.resolve()
    .then(() => handler(event, contextFor(context)))
    .then(
      (result) => process.send({ id, result: result === undefined ? null : result }),
      (error) => process.send({ id, error: describe(error) }),
    );
});
process.send({ ready: true });
