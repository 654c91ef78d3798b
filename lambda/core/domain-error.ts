/**
 * What the receiver's, the worker's and the publisher's errors have in common:
 * a message, the cause an adapter wrapped (only when there is one), and whether
 * a later attempt may succeed. Each component keeps its own hierarchy on top
 * (WebhookError, WorkerError, PublishError), so `instanceof` still tells whose
 * failure it is.
 */
export interface DomainErrorOptions {
  readonly cause?: unknown;
  /** Defaults to false: a failure is final unless the adapter knows better. */
  readonly transient?: boolean;
}

export abstract class DomainError extends Error {
  /** True when a later attempt may succeed (the sender's retry, or the queue's). */
  readonly transient: boolean;

  protected constructor(message: string, options?: DomainErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.transient = options?.transient ?? false;
  }
}
