/**
 * fauxqs (SQS + S3 emulator) run in-process. Its CLI and `startFauxqs()` listen
 * on 0.0.0.0, so we take its exported app builder and listen on 127.0.0.1 ourselves.
 *
 * fauxqs is ESM-only; it is loaded with a dynamic import so this module (and the
 * rest of the local stack) stays loadable from CommonJS. Jest's module loader
 * cannot load it at all: tests run the local stack as a child process.
 */
import { LOOPBACK_HOST } from './net';

export interface FauxqsOptions {
  /** 0 (default) lets the kernel pick a free loopback port. */
  readonly port?: number;
  /** Region for queue URLs and ARNs when a request carries none. */
  readonly region: string;
  readonly logger?: boolean;
}

export interface LocalFauxqs {
  /** The endpoint every SQS and S3 client must be given (S3 with `forcePathStyle`). */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Queue URLs take the shape `http://sqs.<region>.localhost:<port>/000000000000/<name>`,
 * like real SQS (`https://sqs.<region>.amazonaws.com/<account>/<name>`): the host is
 * not where clients connect, so code that forgets an explicit endpoint fails here
 * the way it would against AWS, instead of passing by accident.
 */
const QUEUE_URL_HOST = 'localhost';

export async function startFauxqs(options: FauxqsOptions): Promise<LocalFauxqs> {
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: options.logger ?? false, host: QUEUE_URL_HOST, defaultRegion: options.region });
  await app.listen({ port: options.port ?? 0, host: LOOPBACK_HOST });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error('fauxqs did not report a TCP address');
  }
  return {
    endpoint: `http://${LOOPBACK_HOST}:${address.port}`,
    port: address.port,
    stop: async () => {
      await app.close();
    },
  };
}
