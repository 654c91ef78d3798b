/**
 * A stand-in for Lambda's Invoke API, for one function of the local stack:
 * `POST /2015-03-31/functions/{name}/invocations` with the event as the JSON
 * body answers 200 with the function's JSON result, or 200 with
 * `X-Amz-Function-Error: Unhandled` and `{ errorType, errorMessage }` when it
 * throws, as a RequestResponse invoke does (AWS Lambda API Reference, Invoke).
 * Leaves out: qualifiers, Event and DryRun invocation types, log tails, auth.
 * Loopback only: what `npm run reconcile` calls to run the local stack's own
 * reconciler, with the reconciler's clients (its principal), now.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK_HOST, readJsonBody } from '../net';

const MAX_EVENT_BYTES = 256 * 1024;

export async function startInvokeServer(invoke: (event: unknown) => Promise<unknown>): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || !/^\/2015-03-31\/functions\/[^/]+\/invocations$/.test(request.url ?? '')) {
      answer(404, { message: 'No such function' });
      return;
    }
    readJsonBody(request, MAX_EVENT_BYTES)
      .then(async (event) => {
        try {
          answer(200, await invoke(event));
        } catch (error) {
          answer(200, { errorType: error instanceof Error ? error.name : 'Error', errorMessage: error instanceof Error ? error.message : String(error) }, { 'x-amz-function-error': 'Unhandled' });
        }
      })
      .catch(() => answer(400, { message: 'The event is not JSON' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK_HOST}:${port}/2015-03-31/functions/${encodeURIComponent('webhook-reconciler-local')}/invocations`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
