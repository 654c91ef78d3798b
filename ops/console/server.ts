/**
 * The console's HTTP server: 127.0.0.1 only, every request through the gate
 * of security.ts first, then a small router over the views. Pages are
 * server-rendered HTML; the only script is the console's own (console.js), for
 * the search key and in-place progress.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { describeError, toUsageError } from '../lib/cli-usage';
import type { ConsoleContext } from './context';
import { html, type SafeHtml } from './html';
import { errorBox, layout, type Page } from './layout';
import { SECURITY_HEADERS, TOKEN_PARAMETER, checkRequest, csrfMatches, tokenCookie } from './security';
import { actionPage, actionsPage, progressFragment } from './views/actions';
import { deliveriesPage, deliveryPage } from './views/deliveries';
import { dlqPage, startRedrive } from './views/dlq';
import { jobPage, searchPage } from './views/jobs';
import { overviewPage } from './views/overview';
import { stuckJobsPage } from './views/stuck';
import { fieldsFrom, replayArgv, replayFormPage, startReplay } from './views/replay';

export const LOOPBACK = '127.0.0.1';
/** A form is a few fields; anything larger is not one of ours. */
const MAX_FORM_BYTES = 16 * 1024;

const ASSETS_DIR = path.join(__dirname, 'assets');
const ASSETS: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/assets/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/assets/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
};

export interface ConsoleServer {
  readonly port: number;
  /** The link with this run's token, as printed on the `console:` line. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

type Answer =
  | { readonly kind: 'page'; readonly page: Page }
  | { readonly kind: 'fragment'; readonly html: SafeHtml }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'asset'; readonly type: string; readonly body: Buffer }
  | { readonly kind: 'empty' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new HttpError(413, 'form too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    request.on('error', reject);
  });
}

function page(result: Page): Answer {
  return { kind: 'page', page: result };
}

async function route(ctx: ConsoleContext, method: string, url: URL, form: URLSearchParams | undefined): Promise<Answer> {
  const { pathname, searchParams } = url;
  const segments = pathname.split('/').filter((part) => part.length > 0).map((part) => decodeURIComponent(part));
  if (method === 'GET' || method === 'HEAD') {
    const asset = ASSETS[pathname];
    if (asset !== undefined) return { kind: 'asset', type: asset.type, body: readFileSync(path.join(ASSETS_DIR, asset.file)) };
    // Browsers ask for it on every page; there is none.
    if (pathname === '/favicon.ico') return { kind: 'empty' };
    if (pathname === '/') return page(await overviewPage(ctx, searchParams));
    if (pathname === '/deliveries') return page(await deliveriesPage(ctx, searchParams));
    if (segments[0] === 'deliveries' && segments.length === 2) return page(await deliveryPage(ctx, segments[1], searchParams));
    if (segments[0] === 'jobs' && segments.length === 2) return page(await jobPage(ctx, segments[1]));
    if (pathname === '/jobs') return { kind: 'redirect', location: `/search${url.search}` };
    if (pathname === '/search') {
      const found = await searchPage(ctx, searchParams);
      return 'redirect' in found ? { kind: 'redirect', location: found.redirect } : page(found);
    }
    if (pathname === '/stuck') return page(await stuckJobsPage(ctx, searchParams));
    if (pathname === '/dlq') return page(await dlqPage(ctx));
    if (pathname === '/replay') return page(replayFormPage(ctx, fieldsFrom(searchParams)));
    if (pathname === '/actions') return page(actionsPage(ctx));
    if (segments[0] === 'actions' && segments.length >= 2) {
      const record = ctx.actions.get(segments[1]);
      if (record === undefined) throw new HttpError(404, 'no such action in this run of the console');
      if (segments.length === 2) return page(actionPage(ctx, record));
      if (segments.length === 3 && segments[2] === 'progress') return { kind: 'fragment', html: progressFragment(record) };
    }
    throw new HttpError(404, 'no such page');
  }
  // POST: the gate checked origin and content type; the form's CSRF field is checked here.
  if (form === undefined || !csrfMatches(form, ctx.token)) throw new HttpError(403, 'the form lacks this run\'s CSRF field: reload the page and try again');
  if (ctx.readOnly) throw new HttpError(403, 'this console is read-only (--read-only)');
  if (pathname === '/replay') {
    const fields = fieldsFrom(form);
    try {
      const record = startReplay(ctx, replayArgv(fields, ctx), true);
      return { kind: 'redirect', location: `/actions/${record.id}` };
    } catch (error) {
      const usage = toUsageError(error);
      if (usage === undefined) throw error;
      return page(replayFormPage(ctx, fields, usage.message));
    }
  }
  if (segments[0] === 'actions' && segments.length === 3 && segments[2] === 'confirm') {
    const planned = ctx.actions.get(segments[1]);
    if (planned === undefined || planned.kind !== 'replay-dry-run' || planned.status !== 'done') throw new HttpError(409, 'only a finished dry run can be confirmed');
    // Exactly the arguments the dry run planned with, minus --dry-run.
    const record = startReplay(ctx, planned.argv.filter((argument) => argument !== '--dry-run'), false);
    return { kind: 'redirect', location: `/actions/${record.id}` };
  }
  if (pathname === '/redrive') {
    try {
      const record = startRedrive(ctx, form);
      return { kind: 'redirect', location: `/actions/${record.id}` };
    } catch (error) {
      const usage = toUsageError(error);
      if (usage === undefined) throw error;
      throw new HttpError(400, usage.message);
    }
  }
  throw new HttpError(404, 'no such action');
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer, head: boolean): void {
  response.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-length': String(Buffer.byteLength(body)) });
  response.end(head ? undefined : body);
}

/** A bare page for refusals: it must not need the token (no stylesheet link, no script). */
function refusal(status: number, reason: string): string {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status}</title></head><body><h1>${status}</h1><p>${reason}</p></body></html>`.value;
}

export async function startConsoleServer(ctx: ConsoleContext, options: { readonly port?: number; readonly log?: (line: string) => void } = {}): Promise<ConsoleServer> {
  let port = 0;
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      options.log?.(`console: ${describeError(error)}`);
      if (!response.headersSent) send(response, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'internal error', false);
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const head = method === 'HEAD';
    const url = new URL(request.url ?? '/', `http://${LOOPBACK}:${port}`);
    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const verdict = checkRequest(
      {
        method,
        host: header('host'),
        queryToken: url.searchParams.get(TOKEN_PARAMETER) ?? undefined,
        cookie: header('cookie'),
        origin: header('origin'),
        secFetchSite: header('sec-fetch-site'),
        contentType: header('content-type'),
      },
      ctx.token,
      port,
    );
    if (!verdict.allowed) {
      request.resume();
      send(response, verdict.status, { 'content-type': 'text/html; charset=utf-8' }, refusal(verdict.status, verdict.reason), head);
      return;
    }
    const cookie: Record<string, string> = verdict.setCookie ? { 'set-cookie': tokenCookie(ctx.token) } : {};
    let answer: Answer;
    try {
      const form = method === 'POST' ? await readForm(request) : undefined;
      answer = await route(ctx, method, url, form);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : toUsageError(error) !== undefined ? 400 : 500;
      const message = error instanceof HttpError ? error.message : toUsageError(error)?.message ?? describeError(error);
      if (status === 500) options.log?.(`console: ${request.method} ${url.pathname}: ${describeError(error)}`);
      answer = { kind: 'page', page: { status, title: status === 404 ? 'Not found' : status === 500 ? 'Something failed' : 'Refused', body: errorBox(message) } };
    }
    switch (answer.kind) {
      case 'empty':
        send(response, 204, cookie, '', head);
        return;
      case 'asset':
        send(response, 200, { ...cookie, 'content-type': answer.type }, answer.body, head);
        return;
      case 'redirect':
        // 303: the browser follows a POST's answer with a GET.
        send(response, 303, { ...cookie, location: answer.location, 'content-type': 'text/plain; charset=utf-8' }, `see ${answer.location}`, head);
        return;
      case 'fragment':
        send(response, 200, { ...cookie, 'content-type': 'text/html; charset=utf-8' }, answer.html.value, head);
        return;
      case 'page':
        send(response, answer.page.status ?? 200, { ...cookie, 'content-type': 'text/html; charset=utf-8' }, layout(ctx, answer.page).value, head);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: LOOPBACK }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${LOOPBACK}:${port}/?${TOKEN_PARAMETER}=${ctx.token}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
