/**
 * SDK client settings for the Lambdas: a hung dependency must fail inside the
 * function's own timeout, so the code that called it can still answer (the
 * receiver's 503 and release; the worker's batch item failure) instead of the
 * whole invocation timing out. The SDK's default is to wait forever.
 */
export interface ClientTimeouts {
  /** TCP + TLS connect, ms. */
  readonly connectionTimeoutMs: number;
  /** Socket inactivity while waiting for an answer, ms. */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included (the SDK's standard retry strategy). */
  readonly maxAttempts: number;
}

/**
 * The receiver has DEFAULTS.receiverTimeoutSeconds (10 s) for three sequential
 * rounds (claim, archive ‖ enqueue, mark) and, on failure, a release. One hung
 * dependency costs at most 2 × (1 + 2) s = 6 s, which leaves time for the release
 * and the 503. The provider retries a 503, so more SDK attempts buy little.
 */
export const RECEIVER_TIMEOUTS: ClientTimeouts = { connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 2 };

/**
 * The worker has DEFAULTS.workerTimeoutSeconds (30 s) per batch: a hung call costs
 * at most 3 × (1 + 5) s = 18 s, and the failed record simply returns to the queue.
 */
export const WORKER_TIMEOUTS: ClientTimeouts = { connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000, maxAttempts: 3 };

/** Client constructor options: the request handler is built by the SDK from these (no direct @smithy import). */
export function clientOptions(timeouts: ClientTimeouts): {
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean };
} {
  return {
    maxAttempts: timeouts.maxAttempts,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // Without it, node-http-handler 4.x only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
    },
  };
}
