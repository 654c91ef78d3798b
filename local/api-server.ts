/**
 * A local stand-in for the HTTP API in front of the receiver: one route,
 * `POST /webhooks`, whose handler gets exactly the event API Gateway's payload
 * format 2.0 would hand it, and whose result is written back the way API Gateway
 * maps a Lambda result onto an HTTP answer.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, localLambdaContext, withTimeout } from './lambda-context';
import { WEBHOOK_PATH } from '../lambda/core/contract';
import { LOOPBACK_HOST } from './net';

/** API Gateway's hard payload limit; the receiver enforces its own, smaller one. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
export const ROUTE_KEY = `POST ${WEBHOOK_PATH}`;

export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2 | void>;

export interface ApiServerOptions {
  readonly handler: HttpApiHandler;
  /** 0 lets the kernel choose; `start.ts` defaults to $PORT or 3000. */
  readonly port?: number;
  readonly apiId?: string;
  /** The function timeout from the template: past it, the answer is 503 as API Gateway gives on an integration timeout. */
  readonly timeoutSeconds?: number;
  readonly functionName?: string;
  readonly region?: string;
  readonly maxBodyBytes?: number;
  /** The route's path; `WEBHOOK_PATH` unless the stack routes a path token (`webhookPathToken`). */
  readonly webhookPath?: string;
  /**
   * The stage throttle as API Gateway applies it to the route: a token bucket
   * of `burstLimit` tokens refilled at `rateLimit` per second; a request that
   * finds it empty is answered 429 before the function is invoked.
   * @default - none
   */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  readonly log?: (message: string) => void;
}

/** API Gateway's token bucket: `take` is false when the request is to be throttled. */
export function tokenBucket(rateLimit: number, burstLimit: number, now: () => number = Date.now): { take(): boolean } {
  let tokens = burstLimit;
  let last = now();
  return {
    take: () => {
      const at = now();
      tokens = Math.min(burstLimit, tokens + ((at - last) / 1000) * rateLimit);
      last = at;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

export interface ApiServer {
  readonly url: string;
  readonly webhookUrl: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * API Gateway HTTP APIs pass these as text and base64-encode everything else
 * (including a missing content type, and form posts).
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (mediaType.startsWith('text/')) return true;
  if (mediaType.endsWith('+json') || mediaType.endsWith('+xml')) return true;
  return ['application/json', 'application/xml', 'application/javascript', 'application/ecmascript'].includes(mediaType);
}

/** Payload 2.0 joins repeated headers with a comma (Node joins some with ', ' and drops others). */
export function lowercasedHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index].toLowerCase();
    const value = rawHeaders[index + 1];
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return headers;
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return parameters;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time` uses the access-log format: `27/Nov/2026:10:00:00 +0000`. */
export function requestTime(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

export interface BuildEventInput {
  readonly method: string;
  readonly rawUrl: string;
  readonly rawHeaders: readonly string[];
  readonly httpVersion: string;
  readonly sourceIp: string;
  readonly body: Buffer;
  readonly apiId: string;
  readonly now: Date;
}

export function buildHttpApiEvent(input: BuildEventInput): APIGatewayProxyEventV2 {
  const queryIndex = input.rawUrl.indexOf('?');
  const rawPath = queryIndex === -1 ? input.rawUrl : input.rawUrl.slice(0, queryIndex);
  const rawQueryString = queryIndex === -1 ? '' : input.rawUrl.slice(queryIndex + 1);
  const headers = lowercasedHeaders(input.rawHeaders);
  // Payload 2.0 moves cookies out of the headers into their own array.
  const cookieHeader = headers.cookie;
  delete headers.cookie;
  const cookies = cookieHeader
    ?.split(/[;,]\s*/)
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie !== '');
  const domainName = headers.host ?? `${LOOPBACK_HOST}`;
  const isText = isTextContentType(headers['content-type']);
  const hasBody = input.body.length > 0;
  // API Gateway request ids look like `JzkD3gZ0oAMEVZg=`: 10 random bytes in base64.
  const requestId = randomBytes(10).toString('base64');

  return {
    version: '2.0',
    routeKey: ROUTE_KEY,
    rawPath,
    rawQueryString,
    ...(cookies !== undefined && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryParameters(rawQueryString) !== undefined ? { queryStringParameters: queryParameters(rawQueryString) } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: input.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0].split(':')[0],
      http: {
        method: input.method,
        path: rawPath,
        protocol: `HTTP/${input.httpVersion}`,
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: ROUTE_KEY,
      stage: '$default',
      time: requestTime(input.now),
      timeEpoch: input.now.getTime(),
    },
    ...(hasBody ? { body: isText ? input.body.toString('utf8') : input.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !isText,
  };
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'apigw-requestid': randomBytes(10).toString('base64'),
    ...extraHeaders,
  });
  response.end(text);
}

/** How API Gateway maps a payload 2.0 result: a bare value (no statusCode) is a 200 JSON body. */
export function writeLambdaResult(response: ServerResponse, result: APIGatewayProxyResultV2 | void, requestId: string): void {
  if (result === undefined || result === null || typeof result !== 'object' || !('statusCode' in result)) {
    const text = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'apigw-requestid': requestId });
    response.end(text);
    return;
  }
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | number | string[]> = { 'apigw-requestid': requestId };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies !== undefined && result.cookies.length > 0) headers['set-cookie'] = result.cookies;
  headers['content-length'] = body.length;
  if (headers['content-type'] === undefined && body.length > 0) headers['content-type'] = 'application/json';
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}

type BodyRead = { readonly kind: 'ok'; readonly body: Buffer } | { readonly kind: 'too-large' } | { readonly kind: 'aborted' };

/** Reads at most `limit` bytes; past it, stops buffering at once and reports too-large. */
function readBody(request: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyRead): void => {
      if (settled) return;
      settled = true;
      request.removeListener('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        settle({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => settle({ kind: 'ok', body: Buffer.concat(chunks, size) }));
    request.once('aborted', () => settle({ kind: 'aborted' }));
    request.once('error', () => settle({ kind: 'aborted' }));
  });
}

/**
 * The answer goes out at once and nothing more is buffered, but the rest of the
 * upload is read and dropped: closing the socket under a client that is still
 * sending makes it see EPIPE or a reset instead of the 413. An upload that goes
 * on far past the limit is cut off.
 */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
const DISCARD_LIMIT_MS = 30_000;

function discardRest(request: IncomingMessage): void {
  let discarded = 0;
  const timer = setTimeout(() => request.socket.destroy(), DISCARD_LIMIT_MS);
  timer.unref();
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT_BYTES) request.socket.destroy();
  });
  request.once('end', () => clearTimeout(timer));
  request.once('close', () => clearTimeout(timer));
  request.resume();
}

export function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const apiId = options.apiId ?? 'local';
  const maxBodyBytes = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  const functionName = options.functionName ?? 'webhook-receiver-local';
  const log = options.log ?? (() => undefined);
  const region = options.region ?? 'us-east-1';
  const webhookPath = options.webhookPath ?? WEBHOOK_PATH;
  const bucket = options.throttle ? tokenBucket(options.throttle.rateLimit, options.throttle.burstLimit) : undefined;

  const handleRequest = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'POST' || path !== webhookPath) {
      request.resume();
      sendJson(response, 404, { message: 'Not Found' });
      return;
    }
    if (bucket !== undefined && !bucket.take()) {
      request.resume();
      sendJson(response, 429, { message: 'Too Many Requests' });
      return;
    }
    const read = await readBody(request, maxBodyBytes);
    if (read.kind === 'aborted') return;
    if (read.kind === 'too-large') {
      sendJson(response, 413, { message: 'Request Entity Too Large' });
      discardRest(request);
      return;
    }
    const startedAt = Date.now();
    const event = buildHttpApiEvent({
      method: request.method,
      rawUrl: request.url ?? '/',
      rawHeaders: request.rawHeaders,
      httpVersion: request.httpVersion,
      sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? LOOPBACK_HOST,
      body: read.body,
      apiId,
      now: new Date(startedAt),
    });
    try {
      const context = localLambdaContext({ functionName, region, timeoutMs, startedAt });
      const outcome = await withTimeout(options.handler(event, context), timeoutMs);
      if (outcome.timedOut) {
        log(`receiver timed out after ${timeoutMs} ms (request ${event.requestContext.requestId})`);
        sendJson(response, 503, { message: 'Service Unavailable' });
        return;
      }
      writeLambdaResult(response, outcome.value, event.requestContext.requestId);
    } catch (error) {
      // API Gateway hides a function error behind a generic 500; the detail goes to the log only.
      log(`receiver threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendJson(response, 500, { message: 'Internal Server Error' });
    }
  };

  const server = createServer((request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      log(`local API server error: ${String(error)}`);
      if (!response.headersSent) sendJson(response, 500, { message: 'Internal Server Error' });
      else response.destroy();
    });
  });
  // Bursts from the provider simulator keep connections alive; Node's 5 s default would reset idle ones mid-burst.
  server.keepAliveTimeout = 30_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: LOOPBACK_HOST }, () => {
      server.removeListener('error', reject);
      const { port } = server.address() as AddressInfo;
      const url = `http://${LOOPBACK_HOST}:${port}`;
      resolve({
        url,
        webhookUrl: `${url}${webhookPath}`,
        port,
        server,
        // Requests in flight may finish (a provider would otherwise see a reset and retry); idle keep-alive sockets go at once.
        close: () =>
          new Promise<void>((done) => {
            const force = setTimeout(() => server.closeAllConnections(), 2000);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
