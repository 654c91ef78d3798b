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
 * rounds (claim, archive ‖ enqueue, mark) and, on failure, a release. A hung call
 * costs at most 2 × (0.5 + 1.5) s = 4 s, so even two hung rounds leave time to
 * answer 503. The provider retries a 503, so more SDK attempts buy little.
 */
export const RECEIVER_TIMEOUTS: ClientTimeouts = { connectionTimeoutMs: 500, requestTimeoutMs: 1_500, maxAttempts: 2 };

/**
 * The worker has DEFAULTS.workerTimeoutSeconds (30 s) per batch, and a record
 * makes up to three calls in a row (claim-check read, update, record-ignored
 * write): 3 × 2 × (1 + 3) s = 24 s at worst, so a hung dependency fails its
 * records (which return to the queue alone) before the whole batch times out.
 */
export const WORKER_TIMEOUTS: ClientTimeouts = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 2 };

/**
 * The ops tools (replay, redrive) have no Lambda timeout to fit, but must not
 * hang forever on a dependency that never answers: a request timeout past
 * redrive's longest long poll (20 s), and more attempts than the Lambdas, since
 * an operator would rather wait than rerun.
 */
export const OPS_TIMEOUTS: ClientTimeouts = { connectionTimeoutMs: 3_000, requestTimeoutMs: 30_000, maxAttempts: 5 };
/** The longest `calls` calls in a row can take with every attempt hung: connect plus request timeout, per attempt. */
export function worstCaseMs(timeouts: ClientTimeouts, calls: number): number {
  return calls * timeouts.maxAttempts * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs);
}

/**
 * The job-events publisher has DEFAULTS.jobEventsTimeoutSeconds (30 s) for a
 * batch of up to 10 PutEvents calls plus its retries; a hung call costs at most
 * 2 × (1 + 3) s = 8 s, and the publisher starts another only while that much
 * time is left (its retry policy's reserve).
 */
export const PUBLISHER_TIMEOUTS: ClientTimeouts = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 2 };

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
