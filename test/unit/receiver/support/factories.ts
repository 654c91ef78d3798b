/** Factories for signed API Gateway events and a receiver wired to in-memory ports. */
import crypto from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import apiGatewayEvent from '../../../fixtures/receiver/api-gateway-event.json';
import jobCompleted from '../../../fixtures/receiver/job-completed.json';
import jobFailed from '../../../fixtures/receiver/job-failed.json';
import jobStarted from '../../../fixtures/receiver/job-started.json';
import type { EventType } from '../../../../lambda/core/contract';
import type { ArchivedDelivery, SigningSecrets } from '../../../../lambda/core/ports';
import { bodySha256 } from '../../../../lambda/core/body-hash';
import { DEFAULT_RECEIVER_POLICY, type ReceiverPolicy } from '../../../../lambda/core/receiver-config';
import type { InvocationLogger, InvocationMetrics } from '../../../../lambda/adapters/powertools-ports';
import { createReceiverHandler, type ReceiverHandler } from '../../../../lambda/handlers/receiver';
import {
  CapturingLogger,
  CapturingMetrics,
  InMemoryArchive,
  InMemoryBatchArchive,
  InMemoryDeliveryStore,
  InMemoryQueue,
  MutableSecretSource,
} from './in-memory';

export const NOW = new Date('2026-11-27T10:00:00.000Z');
export const SECRET = 'whsec_test_4f9c1b2e7d';
export const PAYLOADS: Record<EventType, unknown> = {
  'job.started': jobStarted,
  'job.completed': jobCompleted,
  'job.failed': jobFailed,
};

/** SHA-256 hex of a body's UTF-8 bytes, computed here rather than by the code under test. */
export function sha256Of(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** Signs the way the provider's guide does (string concatenation, hex digest), independent of the code under test. */
export function providerSignature(rawBody: string, timestamp: string, secret: string): string {
  const signed = `${timestamp}.${rawBody}`;
  return `sha256=${crypto.createHmac('sha256', secret).update(signed).digest('hex')}`;
}

export interface DeliveryOptions {
  readonly event?: EventType | string;
  readonly deliveryId?: string;
  readonly timestamp?: string;
  /** A raw string is sent as is; anything else is JSON-serialised. */
  readonly body?: unknown;
  readonly secret?: string;
  /** Replaces the computed signature; `null` omits the header. */
  readonly signature?: string | null;
  readonly base64?: boolean;
  /** Header names as sent: HTTP API lowercases them, other front doors may not. */
  readonly headerCase?: 'lower' | 'canonical' | 'upper';
  readonly omitHeaders?: readonly ('event' | 'deliveryId' | 'timestamp')[];
}

const HEADER_NAMES = {
  event: 'X-Webhook-Event',
  deliveryId: 'X-Webhook-Delivery-Id',
  timestamp: 'X-Webhook-Timestamp',
  signature: 'X-Webhook-Signature',
} as const;

function headerName(name: keyof typeof HEADER_NAMES, headerCase: DeliveryOptions['headerCase']): string {
  const canonical = HEADER_NAMES[name];
  if (headerCase === 'canonical') return canonical;
  if (headerCase === 'upper') return canonical.toUpperCase();
  return canonical.toLowerCase();
}

export function rawBodyOf(options: DeliveryOptions): string {
  const event = (options.event ?? 'job.completed') as EventType;
  const body = options.body ?? PAYLOADS[event] ?? PAYLOADS['job.completed'];
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** An API Gateway HTTP API event exactly as the provider would cause it. */
export function deliveryEvent(options: DeliveryOptions = {}): APIGatewayProxyEventV2 {
  const event = options.event ?? 'job.completed';
  const deliveryId = options.deliveryId ?? 'dlv_0001';
  const timestamp = options.timestamp ?? NOW.toISOString();
  const rawBody = rawBodyOf(options);
  const signature =
    options.signature === null ? undefined : (options.signature ?? providerSignature(rawBody, timestamp, options.secret ?? SECRET));
  const omit = new Set(options.omitHeaders ?? []);
  const headers: Record<string, string> = { ...apiGatewayEvent.headers };
  if (!omit.has('event')) headers[headerName('event', options.headerCase)] = event;
  if (!omit.has('deliveryId')) headers[headerName('deliveryId', options.headerCase)] = deliveryId;
  if (!omit.has('timestamp')) headers[headerName('timestamp', options.headerCase)] = timestamp;
  if (signature !== undefined) headers[headerName('signature', options.headerCase)] = signature;
  return {
    ...(apiGatewayEvent as unknown as APIGatewayProxyEventV2),
    headers,
    body: options.base64 ? Buffer.from(rawBody, 'utf8').toString('base64') : rawBody,
    isBase64Encoded: options.base64 === true,
  };
}

export interface Testbed {
  readonly handle: ReceiverHandler;
  readonly deliveries: InMemoryDeliveryStore;
  readonly archive: InMemoryArchive;
  /** Present with `batched: true`: the receiver then archives through it. */
  readonly batchArchive?: InMemoryBatchArchive;
  readonly queue: InMemoryQueue;
  readonly secrets: MutableSecretSource;
  readonly logger: CapturingLogger;
  readonly metrics: CapturingMetrics;
  /** Moves the receiver's clock. */
  setNow(now: Date): void;
  /** The HTTP headers of the last answer `send` got. */
  lastHeaders(): Record<string, string>;
  /** Answers with the JSON body parsed. */
  send(event: APIGatewayProxyEventV2): Promise<{ statusCode: number; body: Record<string, unknown> }>;
  /** True when nothing was written to the table, the archive or the queue. */
  nothingWritten(): boolean;
}

export function receiverTestbed(
  options: {
    policy?: Partial<ReceiverPolicy>;
    secrets?: SigningSecrets;
    batched?: boolean;
    /** Wraps the capturing logger (a tee into a log file, say). */
    logger?: (capturing: CapturingLogger) => InvocationLogger;
    /** Replaces the capturing metrics for the receiver (the real adapter over its logger, say); the testbed's `metrics` then sees nothing. */
    metrics?: (logger: InvocationLogger) => InvocationMetrics;
  } = {},
): Testbed {
  const deliveries = new InMemoryDeliveryStore();
  const archive = new InMemoryArchive();
  const batchArchive = options.batched ? new InMemoryBatchArchive() : undefined;
  const queue = new InMemoryQueue();
  const secrets = new MutableSecretSource(options.secrets ?? { current: { value: SECRET, createdAt: new Date('2026-01-01T00:00:00Z') } });
  const logger = new CapturingLogger();
  const metrics = new CapturingMetrics(logger);
  const invocationLogger = options.logger?.(logger) ?? logger;
  let now = NOW;
  let attempts = 0;
  let lastHeaders: Record<string, string> = {};
  const handle = createReceiverHandler({
    policy: { ...DEFAULT_RECEIVER_POLICY, ...options.policy },
    archiveBucket: archive.bucket,
    secrets,
    deliveries,
    archive,
    batchArchive,
    queue,
    logger: invocationLogger,
    metrics: options.metrics?.(invocationLogger) ?? metrics,
    now: () => now,
    newAttemptId: () => `attempt-${++attempts}`,
  });
  return {
    handle,
    deliveries,
    archive,
    batchArchive,
    queue,
    secrets,
    logger,
    metrics,
    setNow: (value) => {
      now = value;
    },
    send: async (event) => {
      const result = (await handle(event)) as Exclude<APIGatewayProxyResultV2, string>;
      lastHeaders = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]));
      return { statusCode: result.statusCode ?? 0, body: JSON.parse(result.body ?? 'null') as Record<string, unknown> };
    },
    lastHeaders: () => lastHeaders,
    nothingWritten: () => deliveries.calls.length === 0 && archive.puts === 0 && (batchArchive?.appends ?? 0) === 0 && queue.sends === 0,
  };
}

/** A delivery as the archive holds it (the receiver's fields for job_8f3a's completion, unless overridden). */
export function archivedDelivery(body: Uint8Array | string, overrides: Partial<ArchivedDelivery> = {}): ArchivedDelivery {
  const rawBody = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return {
    rawBody,
    event: 'job.completed',
    deliveryId: 'dlv_1',
    timestamp: '2026-11-27T10:00:00.000Z',
    signature: `sha256=${'a'.repeat(64)}`,
    receivedAt: '2026-11-27T10:00:01.000Z',
    bodySha256: bodySha256(rawBody),
    jobId: 'job_8f3a',
    ...overrides,
  };
}
