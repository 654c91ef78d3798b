/**
 * The network side of fault injection, on 127.0.0.1 only:
 *
 * - a hang server, where the fault middleware sends the requests it chose to
 *   hang: it either holds them (`hang`) or forwards them to the real emulator
 *   and then holds the answer back (`lost-response`);
 * - an outage proxy, a plain TCP relay in front of one emulator that can be
 *   taken down (every open connection reset, every new one reset at once) and
 *   brought back, which is what a client sees of a crashed or unreachable
 *   service.
 */
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FAULT_HEADER, UPSTREAM_HEADER } from './faults';

const LOOPBACK = '127.0.0.1';
/** Far past any client timeout in the harness; only a safety net against leaked sockets. */
const HOLD_LIMIT_MS = 15_000;

export interface HangServer {
  readonly port: number;
  /** Requests the emulator applied although the client never got the answer. */
  readonly forwarded: () => number;
  stop(): Promise<void>;
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

function forward(upstream: URL, request: IncomingMessage, body: Buffer): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && name !== FAULT_HEADER && name !== UPSTREAM_HEADER) headers[name] = value;
  }
  return new Promise((resolve) => {
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers, timeout: HOLD_LIMIT_MS },
      (answer) => {
        answer.resume();
        answer.once('end', () => resolve());
        answer.once('error', () => resolve());
      },
    );
    outgoing.once('error', () => resolve());
    outgoing.once('timeout', () => outgoing.destroy());
    outgoing.end(body);
  });
}

export function startHangServer(): Promise<HangServer> {
  const held = new Set<ServerResponse>();
  let forwarded = 0;
  const server = createServer((request, response) => {
    held.add(response);
    response.once('close', () => held.delete(response));
    const timer = setTimeout(() => response.destroy(), HOLD_LIMIT_MS);
    timer.unref();
    response.once('close', () => clearTimeout(timer));
    void readAll(request).then(async (body) => {
      const upstream = request.headers[UPSTREAM_HEADER];
      if (request.headers[FAULT_HEADER] === 'lost-response' && typeof upstream === 'string') {
        await forward(new URL(upstream), request, body);
        forwarded += 1;
      }
      // Nothing is ever written back: the client's request timeout decides.
    }, () => response.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK }, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        forwarded: () => forwarded,
        stop: () =>
          new Promise<void>((done) => {
            for (const response of held) response.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export interface OutageProxy {
  readonly endpoint: string;
  readonly port: number;
  readonly isDown: () => boolean;
  /** Connections reset while down (open ones cut, new ones refused). */
  readonly resets: () => number;
  down(): void;
  up(): void;
  stop(): Promise<void>;
}

export function startOutageProxy(upstreamPort: number): Promise<OutageProxy> {
  const open = new Set<Socket>();
  const clients = new Set<Socket>();
  let down = false;
  let resets = 0;
  const cut = (socket: Socket): void => {
    resets += 1;
    // A reset, not a polite FIN: what a client sees when the process behind the port dies.
    if (!socket.destroyed) socket.resetAndDestroy();
  };
  const server = createTcpServer((client) => {
    if (down) {
      cut(client);
      return;
    }
    const upstream = connect({ port: upstreamPort, host: LOOPBACK });
    clients.add(client);
    client.once('close', () => clients.delete(client));
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK }, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://${LOOPBACK}:${port}`,
        port,
        isDown: () => down,
        resets: () => resets,
        down: () => {
          down = true;
          for (const socket of [...clients]) cut(socket);
          for (const socket of [...open]) socket.destroy();
        },
        up: () => {
          down = false;
        },
        stop: () =>
          new Promise<void>((done) => {
            for (const socket of [...open]) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
