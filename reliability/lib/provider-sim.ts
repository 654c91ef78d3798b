/**
 * The provider's delivery loop: sign, POST, and on anything but a 2xx (or no
 * answer at all) wait and try again, a bounded number of times with
 * exponential backoff. Each attempt is signed afresh with its own timestamp,
 * as providers do on retries; the body, and so the delivery, stays the same.
 */
import { buildDelivery, postDelivery } from '../../ops/lib/provider';
import { mapWithConcurrency } from '../../ops/lib/concurrency';
import type { PlannedDelivery } from './workload';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * About half a minute in all: past two dedupe leases (6 s each in the harness),
 * since a delivery whose mark-accepted fails twice waits out the lease twice.
 * Real providers retry for hours; this is the same shape, compressed.
 */
export const PROVIDER_RETRIES: RetryPolicy = { maxAttempts: 12, baseDelayMs: 250, maxDelayMs: 4000, requestTimeoutMs: 10_000 };

export interface SendOutcome {
  readonly delivery: PlannedDelivery;
  /** Every answer in order; 0 stands for no answer (reset, timeout). */
  readonly statuses: readonly number[];
  readonly acknowledged: boolean;
}

export interface SendContext {
  readonly url: string;
  readonly secret: string;
  readonly policy: RetryPolicy;
  /** Every signature value sent, for the log scan. */
  readonly signatures: Set<string>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function sendWithRetries(delivery: PlannedDelivery, context: SendContext): Promise<SendOutcome> {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < context.policy.maxAttempts; attempt += 1) {
    if (attempt > 0) {
      const backoff = Math.min(context.policy.maxDelayMs, context.policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
    const signed = buildDelivery({ event: delivery.event, body: delivery.body, deliveryId: delivery.deliveryId, secret: context.secret });
    context.signatures.add(signed.headers['X-Webhook-Signature']);
    let status: number;
    try {
      status = (await postDelivery(context.url, signed, { timeoutMs: context.policy.requestTimeoutMs })).status;
    } catch {
      status = 0;
    }
    statuses.push(status);
    if (status >= 200 && status < 300) return { delivery, statuses, acknowledged: true };
  }
  return { delivery, statuses, acknowledged: false };
}

/** `perSecond` paces first attempts, so a stream can be made to last through a timed event such as an outage. */
export async function sendAll(
  sends: readonly PlannedDelivery[],
  concurrency: number,
  context: SendContext,
  perSecond?: number,
): Promise<SendOutcome[]> {
  const started = Date.now();
  return mapWithConcurrency(sends, concurrency, async (delivery, index) => {
    if (perSecond !== undefined) await sleep(Math.max(0, started + (index * 1000) / perSecond - Date.now()));
    return sendWithRetries(delivery, context);
  });
}
