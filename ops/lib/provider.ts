/**
 * The provider's side of a delivery, as the simulator, the tests and the
 * benchmarks need it: canonical payloads per event, the exact signing scheme
 * (`sha256=` + hex HMAC-SHA256(secret, `${timestamp}.${rawBody}`)), and the POST.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { EventType } from '../../lambda/core/contract';

export const SIGNATURE_PREFIX = 'sha256=';

/** Signs over the exact bytes sent: a Buffer body is signed as is, a string as its UTF-8 bytes. */
export function signDelivery(secret: string, timestamp: string, rawBody: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`, 'utf8');
  hmac.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
  return `${SIGNATURE_PREFIX}${hmac.digest('hex')}`;
}

export function newDeliveryId(): string {
  return `dlv_${randomBytes(12).toString('hex')}`;
}

export function newJobId(): string {
  return `job_${randomBytes(6).toString('hex')}`;
}

export interface PayloadOptions {
  readonly jobId: string;
  /** The provider's event time; defaults to now. */
  readonly createdAt?: string;
  readonly model?: string;
  readonly outputFormat?: string;
  readonly background?: string;
  readonly videoUrl?: string;
  readonly outputUrl?: string;
  readonly creditsUsed?: number;
  readonly error?: { readonly code: string; readonly message: string };
  /** Extra `data` fields, kept by the receiver as unknown fields. */
  readonly extraData?: Readonly<Record<string, unknown>>;
}

const PROVIDER_STATUS: Record<EventType, string> = {
  'job.started': 'processing',
  'job.completed': 'completed',
  'job.failed': 'failed',
};

/** The canonical payload (docs/architecture.md, "The provider"), with realistic values for each event. */
export function buildPayload(event: EventType, options: PayloadOptions): Record<string, unknown> {
  const model = options.model ?? 'original';
  const outputFormat = options.outputFormat ?? 'webm';
  const data: Record<string, unknown> = {
    job_id: options.jobId,
    status: PROVIDER_STATUS[event],
    model,
    output_format: outputFormat,
    bg_type: options.background ?? 'transparent',
    video_url: options.videoUrl ?? `https://uploads.example.com/in/${options.jobId}.mp4`,
  };
  if (event === 'job.completed') {
    data.output_url = options.outputUrl ?? `https://cdn.example.com/out/${options.jobId}.${outputFormat === 'png_sequence' ? 'zip' : outputFormat}`;
    data.credits_used = options.creditsUsed ?? 12;
  }
  if (event === 'job.failed') {
    data.error = options.error ?? { code: 'processing_error', message: 'The video could not be decoded.' };
    data.credits_used = options.creditsUsed ?? 0;
  }
  Object.assign(data, options.extraData ?? {});
  return { event, created_at: options.createdAt ?? new Date().toISOString(), data };
}

export interface Delivery {
  readonly event: string;
  readonly deliveryId: string;
  readonly timestamp: string;
  readonly body: string | Uint8Array;
  readonly headers: Record<string, string>;
}

export interface DeliveryOptions {
  readonly event: EventType | string;
  readonly body: string | Uint8Array;
  readonly deliveryId?: string;
  /** The signed `X-Webhook-Timestamp`; defaults to now. */
  readonly timestamp?: string;
  /** Without a secret the delivery goes unsigned, as a provider with no secret configured sends it. */
  readonly secret?: string;
  readonly contentType?: string;
}

/** Headers in the provider's own casing: the receiver must accept any case. */
export function buildDelivery(options: DeliveryOptions): Delivery {
  const deliveryId = options.deliveryId ?? newDeliveryId();
  const timestamp = options.timestamp ?? new Date().toISOString();
  const headers: Record<string, string> = {
    'Content-Type': options.contentType ?? 'application/json',
    'User-Agent': 'webhook-provider-simulator/1.0',
    'X-Webhook-Event': options.event,
    'X-Webhook-Delivery-Id': deliveryId,
    'X-Webhook-Timestamp': timestamp,
  };
  if (options.secret !== undefined) headers['X-Webhook-Signature'] = signDelivery(options.secret, timestamp, options.body);
  return { event: options.event, deliveryId, timestamp, body: options.body, headers };
}

/** A signed canonical delivery for one event of one job. */
export function buildEventDelivery(
  event: EventType,
  options: PayloadOptions & { readonly secret?: string; readonly deliveryId?: string; readonly timestamp?: string },
): Delivery {
  const timestamp = options.timestamp ?? new Date().toISOString();
  const body = JSON.stringify(buildPayload(event, { createdAt: timestamp, ...options }));
  return buildDelivery({ event, body, deliveryId: options.deliveryId, timestamp, secret: options.secret });
}

export interface DeliveryAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly millis: number;
}

export async function postDelivery(url: string, delivery: Delivery, options: { readonly timeoutMs?: number } = {}): Promise<DeliveryAnswer> {
  const started = Date.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: delivery.headers,
    body: typeof delivery.body === 'string' ? delivery.body : Buffer.from(delivery.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text (a proxy's error page, say).
  }
  return { status: response.status, body, millis: Date.now() - started };
}
