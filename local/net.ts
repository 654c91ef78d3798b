/** Small network helpers shared by the local stack's servers. Everything binds to loopback. */
import { createServer } from 'node:net';

export const LOOPBACK_HOST = '127.0.0.1';

/**
 * Asks the kernel for a free loopback port. There is a short window before the
 * caller binds it; callers that can bind port 0 themselves should do that instead.
 */
export function findFreePort(host: string = LOOPBACK_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `probe` until it resolves, or rejects with the last error after `timeoutMs`. */
export async function waitUntil<T>(
  probe: () => Promise<T>,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly what: string; readonly abort?: () => Error | undefined },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = options.abort?.();
    if (aborted) throw aborted;
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`, { cause: lastError });
    }
    await sleep(options.intervalMs ?? 100);
  }
}
