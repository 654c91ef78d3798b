/**
 * A stand-in for the provider's job API, for the local stack and the tests.
 *
 * Implements: `GET /v1/jobs/{job_id}` with header `X-Api-Key` (docs/architecture.md,
 * "The provider", from the provider's public docs): 200 with `id`, `status`, `progress`,
 * `output_url`, `error`, `created_at`, `duration_seconds`, `billing_status`
 * (plus `model`, `output_format`, `bg_type`, `credits_used`); 401 without the
 * key or with another; 404 for a job the key has not created. A job's state is
 * what `npm run send` recorded: `job.started` -> `processing`, `job.completed`
 * -> `completed` (final), `job.failed` -> `failed` (final).
 *
 * Leaves out: job creation, uploads, progress over time, `webhook_events`,
 * per-key rate limits (a 429 only on request, below), several keys.
 *
 * Simulator-only control endpoints (loopback only, same key header):
 *   POST /_simulator/jobs/{job_id}   {"event": "...", "payload": {...}}  records a delivery's state
 *   POST /_simulator/faults          {"kind": "status"|"hang"|"bad-json", "status"?: 429|500|..., "count": N, "jobId"?: id}
 *                                    the next N job reads (of that job, or any) fail that way
 *   GET  /_simulator/stats           {"reads": N, "byJob": {...}}
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_TYPES, PROVIDER_API, type EventType } from '../../lambda/core/contract';
import { LOOPBACK_HOST, readJsonBody } from '../net';

export interface SimulatedJob {
  readonly id: string;
  readonly status: 'processing' | 'completed' | 'failed';
  readonly progress: number;
  readonly output_url: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly created_at: string;
  readonly duration_seconds: number | null;
  readonly billing_status: 'pending' | 'charged' | 'refunded';
  readonly model?: string;
  readonly output_format?: string;
  readonly bg_type?: string;
  readonly credits_used?: number;
}

export type Fault = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'hang' } | { readonly kind: 'bad-json' };

export interface ProviderApiSimulator {
  /** Base URL, no path: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly apiKey: string;
  readonly port: number;
  readonly jobs: ReadonlyMap<string, SimulatedJob>;
  /** Records a delivery's state as the provider holds it (what `npm run send` does over HTTP). */
  record(event: EventType, payload: unknown): void;
  /** The next `count` job reads (of `jobId`, or of any job) fail with `fault`. */
  injectFault(fault: Fault, count: number, jobId?: string): void;
  readonly reads: () => number;
  close(): Promise<void>;
}

export interface ProviderApiOptions {
  /** 0 = a free port. */
  readonly port?: number;
  readonly apiKey?: string;
  /** How long a `hang` fault holds the answer back. @default 30 s */
  readonly hangMs?: number;
}

const MAX_CONTROL_BODY = 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The provider's view of a job after one of its events (a finished job stays finished). */
export function nextJobState(previous: SimulatedJob | undefined, event: EventType, payload: unknown): SimulatedJob | undefined {
  const data = isRecord(payload) && isRecord(payload.data) ? payload.data : undefined;
  const id = text(data?.job_id) ?? text(data?.id);
  if (data === undefined || id === undefined) return undefined;
  if (previous !== undefined && previous.status !== 'processing') return previous;
  const createdAt = previous?.created_at ?? (isRecord(payload) ? text(payload.created_at) : undefined) ?? new Date().toISOString();
  const credits = typeof data.credits_used === 'number' ? data.credits_used : undefined;
  const error = isRecord(data.error) ? { code: text(data.error.code) ?? 'unspecified', message: text(data.error.message) ?? '' } : null;
  const status = event === 'job.completed' ? 'completed' : event === 'job.failed' ? 'failed' : 'processing';
  return {
    id,
    status,
    progress: status === 'processing' ? 10 : 100,
    output_url: status === 'completed' ? (text(data.output_url) ?? null) : null,
    error: status === 'failed' ? (error ?? { code: 'unspecified', message: '' }) : null,
    created_at: createdAt,
    duration_seconds: status === 'processing' ? null : Math.max(0, Math.round((Date.now() - Date.parse(createdAt)) / 1000)),
    billing_status: status === 'completed' ? 'charged' : status === 'failed' ? 'refunded' : 'pending',
    ...(text(data.model) ? { model: text(data.model) } : {}),
    ...(text(data.output_format) ? { output_format: text(data.output_format) } : {}),
    ...(text(data.bg_type) ? { bg_type: text(data.bg_type) } : {}),
    ...(credits !== undefined && status !== 'processing' ? { credits_used: credits } : {}),
  };
}

function keyMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(response: ServerResponse, status: number, body: unknown, raw?: string): void {
  const payload = raw ?? JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  response.end(payload);
}

export async function startProviderApi(options: ProviderApiOptions = {}): Promise<ProviderApiSimulator> {
  const apiKey = options.apiKey ?? `sim_${randomBytes(16).toString('hex')}`;
  const hangMs = options.hangMs ?? 30_000;
  const jobs = new Map<string, SimulatedJob>();
  const faults: { fault: Fault; remaining: number; jobId?: string }[] = [];
  const hanging = new Set<NodeJS.Timeout>();
  let reads = 0;

  const record = (event: EventType, payload: unknown): void => {
    const data = isRecord(payload) && isRecord(payload.data) ? payload.data : undefined;
    const id = text(data?.job_id) ?? text(data?.id);
    if (id === undefined) return;
    const next = nextJobState(jobs.get(id), event, payload);
    if (next !== undefined) jobs.set(id, next);
  };

  const takeFault = (jobId: string): Fault | undefined => {
    const index = faults.findIndex((entry) => entry.remaining > 0 && (entry.jobId === undefined || entry.jobId === jobId));
    if (index === -1) return undefined;
    const entry = faults[index];
    entry.remaining -= 1;
    if (entry.remaining === 0) faults.splice(index, 1);
    return entry.fault;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://simulator');
    if (!keyMatches(apiKey, request.headers[PROVIDER_API.apiKeyHeader])) {
      send(response, 401, { error: { code: 'unauthorized', message: 'Missing or invalid API key' } });
      return;
    }
    if (request.method === 'GET' && url.pathname.startsWith(PROVIDER_API.jobPath)) {
      let jobId: string;
      try {
        jobId = decodeURIComponent(url.pathname.slice(PROVIDER_API.jobPath.length));
      } catch {
        send(response, 400, { error: { code: 'bad_request', message: 'Malformed job id' } });
        return;
      }
      reads += 1;
      const fault = takeFault(jobId);
      if (fault?.kind === 'hang') {
        const timer = setTimeout(() => {
          hanging.delete(timer);
          if (!response.destroyed) send(response, 504, { error: { code: 'timeout', message: 'upstream timeout' } });
        }, hangMs);
        hanging.add(timer);
        return;
      }
      if (fault?.kind === 'bad-json') return send(response, 200, undefined, '{"id": "' + jobId.slice(0, 8) + '", "status": ');
      if (fault?.kind === 'status') {
        if (fault.status === 429) response.setHeader('retry-after', '1');
        return send(response, fault.status, { error: { code: fault.status === 429 ? 'rate_limited' : 'internal_error', message: 'simulated' } });
      }
      const job = jobs.get(jobId);
      if (job === undefined) return send(response, 404, { error: { code: 'not_found', message: 'Job not found' } });
      return send(response, 200, job);
    }
    if (request.method === 'POST' && url.pathname.startsWith('/_simulator/jobs/')) {
      const body = await readJsonBody(request, MAX_CONTROL_BODY);
      if (!isRecord(body) || !(EVENT_TYPES as readonly string[]).includes(String(body.event))) {
        return send(response, 400, { error: { code: 'bad_request', message: 'expected {"event", "payload"}' } });
      }
      record(body.event as EventType, body.payload);
      const id = decodeURIComponent(url.pathname.slice('/_simulator/jobs/'.length));
      return send(response, 200, jobs.get(id) ?? {});
    }
    if (request.method === 'POST' && url.pathname === '/_simulator/faults') {
      const body = await readJsonBody(request, MAX_CONTROL_BODY);
      if (!isRecord(body) || typeof body.count !== 'number' || !['status', 'hang', 'bad-json'].includes(String(body.kind))) {
        return send(response, 400, { error: { code: 'bad_request', message: 'expected {"kind", "count"}' } });
      }
      const fault: Fault = body.kind === 'status' ? { kind: 'status', status: Number(body.status ?? 500) } : { kind: body.kind as 'hang' | 'bad-json' };
      faults.push({ fault, remaining: body.count, ...(typeof body.jobId === 'string' ? { jobId: body.jobId } : {}) });
      return send(response, 200, { queued: body.count });
    }
    if (request.method === 'GET' && url.pathname === '/_simulator/stats') return send(response, 200, { reads, jobs: jobs.size });
    send(response, 404, { error: { code: 'not_found', message: 'No such route' } });
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 400, { error: { code: 'bad_request', message: 'Unreadable request' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    apiKey,
    port,
    jobs,
    record,
    injectFault: (fault, count, jobId) => faults.push({ fault, remaining: count, ...(jobId !== undefined ? { jobId } : {}) }),
    reads: () => reads,
    close: async () => {
      for (const timer of hanging) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
