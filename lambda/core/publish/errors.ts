/** Errors of the job-events publisher; adapters convert SDK errors into these. */

export class PublishError extends Error {
  /** True when a later attempt may succeed. */
  readonly transient: boolean;

  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PublishError';
    this.transient = options?.transient ?? false;
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
