/**
 * Faults on the wire: an HTTP proxy on 127.0.0.1 in front of one local
 * endpoint (DynamoDB Local, fauxqs, or any other emulator or stand-in a
 * scenario points clients at). Clients use it as their `endpoint`; every
 * request is forwarded unless `decide` picks a fault for it:
 *
 * - `server-error`: answered at once with a 5xx in the service's own error
 *   shape, never forwarded (nothing was applied);
 * - `hold-response`: forwarded and applied, then the answer is held until the
 *   client's own request timeout gives up (a late or lost answer);
 * - `drop-after-apply`: forwarded and applied, then the client's connection
 *   is destroyed without an answer (a reset after the server acted).
 *
 * Because the faults are below the SDK, its own retries (and the handlers'
 * answers to them) are inside the test, unlike the middleware faults of
 * `faults.ts`, which act on one SDK attempt at a time.
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const LOOPBACK = '127.0.0.1';
/** A safety net against leaked sockets, far past every client timeout of the harness. */
const HOLD_LIMIT_MS = 15_000;

export const WIRE_FAULT_KINDS = ['server-error', 'hold-response', 'drop-after-apply'] as const;
export type WireFaultKind = (typeof WIRE_FAULT_KINDS)[number];

/** What `decide` sees of a request: enough to classify it (the AWS JSON protocols put the whole input in the body). */
export interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface WireProxyOptions {
  /** Base URL of what is proxied, e.g. `http://127.0.0.1:8000`. */
  readonly upstream: string;
  readonly decide: (request: WireRequest) => WireFaultKind | undefined;
}

export interface WireProxy {
  readonly endpoint: string;
  /** Requests seen, and faults injected by kind. */
  readonly counts: () => Readonly<Record<'requests' | WireFaultKind, number>>;
  stop(): Promise<void>;
}

/** The error each service's SDK parses from a 5xx, so the client sees a genuine retryable service error. */
function serverErrorFor(request: WireRequest): { status: number; contentType: string; body: string } {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (target.startsWith('DynamoDB_')) {
    return {
      status: 500,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected on the wire' }),
    };
  }
  if (target.startsWith('AmazonSQS.')) {
    return {
      status: 503,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({ __type: 'com.amazonaws.sqs#ServiceUnavailable', message: 'injected on the wire' }),
    };
  }
  if (target.startsWith('Firehose_')) {
    // Firehose's answer when a stream's throughput quota is exceeded, in its JSON 1.1 error shape.
    return {
      status: 503,
      contentType: 'application/x-amz-json-1.1',
      body: JSON.stringify({ __type: 'ServiceUnavailableException', message: 'injected on the wire' }),
    };
  }
  return {
    status: 503,
    contentType: 'application/xml',
    body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>injected on the wire</Message></Error>',
  };
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function forward(upstream: URL, agent: Agent, request: WireRequest): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.path,
        headers: { ...request.headers, host: upstream.host },
        agent,
        timeout: HOLD_LIMIT_MS,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.once('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
        answer.once('error', () => resolve(undefined));
      },
    );
    outgoing.once('error', () => resolve(undefined));
    outgoing.once('timeout', () => outgoing.destroy());
    outgoing.end(request.body);
  });
}

function reply(response: ServerResponse, answer: Answer): void {
  const headers = { ...answer.headers };
  // The body is re-sent whole: the upstream's framing does not apply.
  delete headers['transfer-encoding'];
  headers['content-length'] = String(answer.body.length);
  response.writeHead(answer.status, headers);
  response.end(answer.body);
}

export function startWireFaultProxy(options: WireProxyOptions): Promise<WireProxy> {
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const counts: Record<'requests' | WireFaultKind, number> = { requests: 0, 'server-error': 0, 'hold-response': 0, 'drop-after-apply': 0 };
  const sockets = new Set<Socket>();
  const server = createServer((incoming, response) => {
    void readAll(incoming).then(async (body) => {
      const request: WireRequest = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: incoming.headers, body };
      counts.requests += 1;
      const fault = options.decide(request);
      if (fault !== undefined) counts[fault] += 1;
      if (fault === 'server-error') {
        const error = serverErrorFor(request);
        response.writeHead(error.status, { 'content-type': error.contentType, 'content-length': Buffer.byteLength(error.body) });
        response.end(error.body);
        return;
      }
      const answer = await forward(upstream, agent, request);
      if (answer === undefined || fault === 'drop-after-apply') {
        // An unreachable upstream looks like one to the client too.
        incoming.socket.destroy();
        return;
      }
      if (fault === 'hold-response') {
        // Never answered: the client's request timeout ends it (or the safety net).
        const timer = setTimeout(() => incoming.socket.destroy(), HOLD_LIMIT_MS);
        timer.unref();
        response.once('close', () => clearTimeout(timer));
        return;
      }
      reply(response, answer);
    }, () => incoming.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK }, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://${LOOPBACK}:${port}`,
        counts: () => ({ ...counts }),
        stop: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            agent.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
