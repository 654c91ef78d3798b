/**
 * Domain errors of the webhook module. Adapters convert SDK errors into these at
 * the boundary, so the core decides on kinds, never on AWS exception names.
 */
import { DomainError, type DomainErrorOptions } from './domain-error';

export class WebhookError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(message, options);
    this.name = 'WebhookError';
  }
}

/** The deliveries table could not be read or written. */
export class DeliveryStoreError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, transient: true });
    this.name = 'DeliveryStoreError';
  }
}

/** Our attempt no longer owns the delivery (another attempt took it over). */
export class DeliveryLeaseLostError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, transient: true });
    this.name = 'DeliveryLeaseLostError';
  }
}

export class ArchiveError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, transient: true });
    this.name = 'ArchiveError';
  }
}

/** Some entries of a batched append were not accepted (throttling, a partial failure inside a 200 answer). */
export class BatchArchiveError extends ArchiveError {
  /** Indexes, in the appended list, of the entries not accepted. */
  readonly failed: readonly number[];

  constructor(message: string, failed: readonly number[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BatchArchiveError';
    this.failed = failed;
  }
}

/** The archive object does not exist (S3 NoSuchKey, which needs s3:ListBucket to be told from AccessDenied). */
export class ArchiveObjectMissingError extends ArchiveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveObjectMissingError';
  }
}

export class QueueError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, transient: true });
    this.name = 'QueueError';
  }
}

/** Secrets Manager could not be reached; distinct from a secret that is reachable but unset. */
export class SecretUnavailableError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, transient: true });
    this.name = 'SecretUnavailableError';
  }
}

/** Invalid configuration; every problem is listed so one deploy fixes them all. */
export class ConfigurationError extends WebhookError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid receiver configuration: ${problems.join('; ')}`);
    this.name = 'ConfigurationError';
    this.problems = problems;
  }
}
