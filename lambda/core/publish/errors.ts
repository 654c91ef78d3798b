/** Errors of the job-events publisher; adapters convert SDK errors into these. */
import { DomainError, type DomainErrorOptions } from '../domain-error';

export class PublishError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/** A whole PutEvents call failed; `code` is EventBridge's error name (e.g. `ThrottlingException`). */
export class EventBusError extends PublishError {
  readonly code: string;

  constructor(message: string, options: { cause?: unknown; transient: boolean; code: string }) {
    super(message, options);
    this.name = 'EventBusError';
    this.code = options.code;
  }
}

/** Invalid publisher configuration; every problem is listed. */
export class PublisherConfigurationError extends PublishError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid job-events configuration: ${problems.join('; ')}`);
    this.name = 'PublisherConfigurationError';
    this.problems = problems;
  }
}
