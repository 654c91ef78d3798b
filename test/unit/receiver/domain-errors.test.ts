import {
  ArchiveError,
  ArchiveObjectMissingError,
  BatchArchiveError,
  ConfigurationError,
  DeliveryLeaseLostError,
  DeliveryStoreError,
  QueueError,
  SecretUnavailableError,
  WebhookError,
} from '../../../lambda/core/errors';

// The adapters turn SDK errors into these; the core decides on `transient` and `instanceof`,
// and the handlers' log lines name a failure by `name` (errorName), so each is part of the contract.
const transientKinds = [
  ['DeliveryStoreError', (message: string, cause?: unknown) => new DeliveryStoreError(message, { cause })],
  ['DeliveryLeaseLostError', (message: string, cause?: unknown) => new DeliveryLeaseLostError(message, { cause })],
  ['ArchiveError', (message: string, cause?: unknown) => new ArchiveError(message, { cause })],
  ['BatchArchiveError', (message: string, cause?: unknown) => new BatchArchiveError(message, [0], { cause })],
  ['ArchiveObjectMissingError', (message: string, cause?: unknown) => new ArchiveObjectMissingError(message, { cause })],
  ['QueueError', (message: string, cause?: unknown) => new QueueError(message, { cause })],
  ['SecretUnavailableError', (message: string, cause?: unknown) => new SecretUnavailableError(message, { cause })],
] as const;

describe('the domain errors', () => {
  it('are final unless told otherwise, and carry no cause unless given one', () => {
    // Act
    const error = new WebhookError('something broke');

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'WebhookError', message: 'something broke', transient: false });
    expect(error).not.toHaveProperty('cause');
  });

  it('keep the transient mark and the cause they are given', () => {
    // Prepare
    const cause = new Error('socket hang up');

    // Act
    const error = new WebhookError('something broke', { cause, transient: true });

    // Assess
    expect(error.transient).toBe(true);
    expect(error.cause).toBe(cause);
  });

  it.each(transientKinds)('%s is transient, named for the logs, and keeps its message and cause', (name, make) => {
    // Prepare
    const cause = new Error('ThrottlingException');

    // Act
    const error = make('the call failed', cause);
    const withoutCause = make('the call failed');

    // Assess
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ name, message: 'the call failed', transient: true });
    expect(error.cause).toBe(cause);
    expect(withoutCause).not.toHaveProperty('cause');
  });

  it('are archive errors when the archive failed, so the core can treat every archive failure alike', () => {
    // Act
    const batch = new BatchArchiveError('2 of 5 entries were not accepted', [1, 3]);
    const missing = new ArchiveObjectMissingError('no object at raw/2026/11/27/10/dlv_1.json');

    // Assess
    expect(batch).toBeInstanceOf(ArchiveError);
    expect(batch.failed).toEqual([1, 3]);
    expect(missing).toBeInstanceOf(ArchiveError);
    expect(new QueueError('x')).not.toBeInstanceOf(ArchiveError);
  });

  it('list every configuration problem, in the message too, and are final', () => {
    // Act
    const error = new ConfigurationError(['ARCHIVE_BUCKET is required', 'MAX_BODY_BYTES must be a positive integer']);

    // Assess
    expect(error).toMatchObject({
      name: 'ConfigurationError',
      message: 'invalid receiver configuration: ARCHIVE_BUCKET is required; MAX_BODY_BYTES must be a positive integer',
      transient: false,
      problems: ['ARCHIVE_BUCKET is required', 'MAX_BODY_BYTES must be a positive integer'],
    });
  });
});
