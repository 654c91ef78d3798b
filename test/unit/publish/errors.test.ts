import { EventBusError, PublishError, PublisherConfigurationError } from '../../../lambda/core/publish/errors';

describe('the publisher errors', () => {
  it('are final unless told otherwise, and carry no cause unless given one', () => {
    // Act
    const error = new PublishError('could not publish');

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'PublishError', message: 'could not publish', transient: false });
    expect(error).not.toHaveProperty('cause');
  });

  it('keep the cause and the transient mark they are given', () => {
    // Prepare
    const cause = new Error('socket hang up');

    // Act
    const error = new PublishError('could not publish', { cause, transient: true });

    // Assess
    expect(error.cause).toBe(cause);
    expect(error.transient).toBe(true);
  });

  it("name a failed PutEvents call by EventBridge's error code", () => {
    // Act
    const error = new EventBusError('PutEvents failed (ThrottlingException)', { transient: true, code: 'ThrottlingException' });

    // Assess
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ name: 'EventBusError', code: 'ThrottlingException', transient: true });
  });

  it('list every configuration problem at once', () => {
    // Act
    const error = new PublisherConfigurationError(['EVENT_BUS_NAME is required', 'POWERTOOLS_SERVICE_NAME is required']);

    // Assess
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({
      name: 'PublisherConfigurationError',
      message: 'invalid job-events configuration: EVENT_BUS_NAME is required; POWERTOOLS_SERVICE_NAME is required',
      problems: ['EVENT_BUS_NAME is required', 'POWERTOOLS_SERVICE_NAME is required'],
      transient: false,
    });
  });
});
