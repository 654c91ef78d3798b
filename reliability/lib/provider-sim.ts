/**
 * The provider's delivery loop: sign, POST, and wait and try again, a bounded
 * number of times with exponential backoff. Each attempt is signed afresh with
 * its own timestamp, as providers do on retries; the body, and so the
 * delivery, stays the same.
 *
 * The strict provider (docs/architecture.md, "The provider", the one the figures count) treats
 * every 4xx as final and retries only 5xx and no answer (reset, time-out), at
 * most 3 times. It ignores Retry-After, as many providers do. The lenient one
 * retries every non-2xx, 11 times.
 */
import { buildDelivery, postDelivery } from '../../ops/lib/provider';
import { mapWithConcurrency } from '../../ops/lib/concurrency';
import type { PlannedDelivery } from './workload';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number;
  /** A 4xx is final: only 5xx and no answer are retried. */
  readonly strict: boolean;
  /** Each delay is the backoff times a factor drawn from [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
}

/**
 * Three retries, 2 s, 4 s and 8 s apart (±20 %): the last one comes more
 * than 11 s after the first attempt, past the harness's 9 s dedupe lease, so
 * an attempt that died holding its lease costs a retry, not the delivery.
 * Real providers space their retries minutes apart; this is the same shape,
 * compressed like the rest of the harness.
 */
export const STRICT_PROVIDER: RetryPolicy = { maxAttempts: 4, baseDelayMs: 2000, maxDelayMs: 8000, requestTimeoutMs: 10_000, strict: true, jitter: 0.2 };

/** The forgiving provider the first wave was tested against: every non-2xx is retried, for about half a minute. */
export const LENIENT_PROVIDER: RetryPolicy = { maxAttempts: 12, baseDelayMs: 250, maxDelayMs: 4000, requestTimeoutMs: 10_000, strict: false, jitter: 0.5 };

export interface SendOutcome {
  readonly delivery: PlannedDelivery;
  /** Every answer in order; 0 stands for no answer (reset, timeout). */
  readonly statuses: readonly number[];
  readonly acknowledged: boolean;
  /** Not acknowledged: gave up on a 4xx (strict: final), or ran out of retries on 5xx and no answers. */
  readonly gaveUp?: 'final-4xx' | 'retries-ran-out';
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
      await sleep(backoff * (1 - context.policy.jitter + Math.random() * 2 * context.policy.jitter));
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
    if (context.policy.strict && status >= 400 && status < 500) return { delivery, statuses, acknowledged: false, gaveUp: 'final-4xx' };
  }
  return { delivery, statuses, acknowledged: false, gaveUp: 'retries-ran-out' };
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
