/**
 * The provider's job API over HTTPS (`GET {base}/v1/jobs/{job_id}`, header
 * `X-Api-Key`). Only the configured origin is ever called: the URL is built
 * from it and the URL-encoded job id, checked again before the call, and
 * redirects are not followed. Each call has its own time-out and reads at most
 * `maxAnswerBytes`. The key travels in the header only: it is never logged,
 * never put in an error, never part of a URL. Every outcome is a value
 * (`ProviderLookup`), never a thrown error, so one bad answer cannot end a sweep.
 */
import { DEFAULTS, PROVIDER_API } from '../core/contract';
import type { ProviderJobApi, ProviderLookup } from '../core/reconcile/ports';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; redirect: 'manual'; signal: AbortSignal }) => Promise<Response>;

export interface HttpProviderJobApiProps {
  /** Scheme and host (and port), no path: `https://api.removebgvideo.com`. */
  readonly baseUrl: string;
  /** Resolves the API key (read from Secrets Manager once per sweep by the handler). */
  readonly apiKey: () => Promise<string>;
  /** @default DEFAULTS.providerRequestTimeoutMs */
  readonly timeoutMs?: number;
  /** @default DEFAULTS.providerMaxAnswerBytes */
  readonly maxAnswerBytes?: number;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
}

export class ProviderApiConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderApiConfigurationError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The origin the API may be called at: HTTPS, or plain HTTP on loopback only
 * (the local stack's simulator). No path, query, fragment or credentials.
 */
export function providerOrigin(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ProviderApiConfigurationError('the provider API base URL is not a URL');
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) throw new ProviderApiConfigurationError('the provider API base URL must be https (http only on loopback)');
  if (url.username !== '' || url.password !== '') throw new ProviderApiConfigurationError('the provider API base URL must not carry credentials');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new ProviderApiConfigurationError('the provider API base URL must be scheme and host only, without a path');
  }
  return url.origin;
}

/**
 * `{origin}/v1/jobs/{encoded id}`; refuses anything that would leave the job
 * path (an id of `.` or `..` is a dot segment even percent-encoded).
 */
export function jobUrl(origin: string, jobId: string): string {
  const path = `${PROVIDER_API.jobPath}${encodeURIComponent(jobId)}`;
  const url = new URL(`${origin}${path}`);
  if (url.origin !== origin || url.pathname !== path || url.search !== '' || url.hash !== '') {
    throw new ProviderApiConfigurationError('job URL left the provider API');
  }
  return url.href;
}

/** Retry-After as seconds or an HTTP date; absent or unreadable is undefined. */
function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function readBounded(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}

export class HttpProviderJobApi implements ProviderJobApi {
  private readonly origin: string;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly maxAnswerBytes: number;

  constructor(private readonly props: HttpProviderJobApiProps) {
    this.origin = providerOrigin(props.baseUrl);
    this.fetch = props.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.timeoutMs = props.timeoutMs ?? DEFAULTS.providerRequestTimeoutMs;
    this.maxAnswerBytes = props.maxAnswerBytes ?? DEFAULTS.providerMaxAnswerBytes;
  }

  async getJob(jobId: string): Promise<ProviderLookup> {
    let url: string;
    try {
      url = jobUrl(this.origin, jobId);
    } catch {
      return { kind: 'unexpected', detail: 'job id cannot form a job URL' };
    }
    const key = await this.props.apiKey();
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: 'GET',
        headers: { [PROVIDER_API.apiKeyHeader]: key, accept: 'application/json' },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      // A network error's own text may echo the request; only its kind is kept.
      return { kind: 'unavailable', detail: signal.aborted ? 'time-out' : `network error (${error instanceof Error ? error.name : 'Error'})` };
    }
    const status = response.status;
    try {
      if (status === 200) {
        const text = await readBounded(response, this.maxAnswerBytes);
        return text === undefined ? { kind: 'unexpected', detail: `answer over ${this.maxAnswerBytes} bytes` } : { kind: 'answer', text };
      }
      await response.body?.cancel();
    } catch {
      return { kind: 'unavailable', detail: signal.aborted ? 'time-out' : 'answer cut off' };
    }
    if (status === 404) return { kind: 'not_found' };
    if (status === 429) {
      const after = retryAfterMs(response.headers.get('retry-after'), Date.now());
      return after === undefined ? { kind: 'rate_limited' } : { kind: 'rate_limited', retryAfterMs: after };
    }
    if (status === 401 || status === 403) return { kind: 'refused', status };
    if (status >= 500) return { kind: 'unavailable', detail: `HTTP ${status}` };
    return { kind: 'unexpected', detail: `HTTP ${status}` };
  }
}
