/** Signed provider deliveries of an exact body size, as HTTP requests and as API Gateway events. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { EventType } from '../lambda/core/contract';
import { buildHttpApiEvent } from '../local/api-server';
import { buildDelivery, buildPayload, newDeliveryId, newJobId, type Delivery } from '../ops/lib/provider';

const WORDS = ['frame', 'mask', 'edge', 'hair', 'glass', 'motion', 'blur', 'alpha', 'matte', 'score', 'segment', 'person', 'background', 'refine', 'ok', 'retry', 'tile', 'scene'];

/**
 * Text that compresses about as a provider's verbose JSON does (words from a
 * small vocabulary between varying numbers), not a run of one letter: the
 * batched archive's GZIP storage is billed on it.
 */
export function fillerText(bytes: number): string {
  let text = '';
  while (text.length < bytes) {
    text += `${WORDS[Math.floor(Math.random() * WORDS.length)]} ${Math.floor(Math.random() * 100_000)} ${(Math.random()).toFixed(4)} `;
  }
  return text.slice(0, bytes);
}

/**
 * A canonical payload padded with an unknown `data` field (which the receiver
 * keeps) to exactly `bodyBytes` bytes of JSON.
 */
export function sizedBody(event: EventType, jobId: string, bodyBytes: number, createdAt: string): string {
  const bare = JSON.stringify(buildPayload(event, { jobId, createdAt, extraData: { notes: '' } }));
  const pad = Math.max(0, bodyBytes - Buffer.byteLength(bare));
  return JSON.stringify(buildPayload(event, { jobId, createdAt, extraData: { notes: fillerText(pad) } }));
}

export interface BenchDelivery extends Delivery {
  readonly jobId: string;
}

/** A fresh job's `job.completed` delivery (a new job each time, so the worker always applies it). */
export function newDelivery(secret: string, bodyBytes: number, event: EventType = 'job.completed'): BenchDelivery {
  const jobId = newJobId();
  const timestamp = new Date().toISOString();
  const body = sizedBody(event, jobId, bodyBytes, timestamp);
  return { ...buildDelivery({ event, body, timestamp, secret, deliveryId: newDeliveryId() }), jobId };
}

/** The event API Gateway (HTTP API, payload 2.0) would hand the receiver for this delivery. */
export function toHttpApiEvent(delivery: Delivery): APIGatewayProxyEventV2 {
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(delivery.headers)) rawHeaders.push(name, value);
  const body = typeof delivery.body === 'string' ? Buffer.from(delivery.body, 'utf8') : Buffer.from(delivery.body);
  rawHeaders.push('Host', 'abc123.execute-api.us-east-1.amazonaws.com', 'Content-Length', String(body.length));
  return buildHttpApiEvent({
    method: 'POST',
    rawUrl: '/webhooks',
    rawHeaders,
    httpVersion: '1.1',
    sourceIp: '203.0.113.7',
    body,
    apiId: 'abc123',
    now: new Date(),
  });
}
