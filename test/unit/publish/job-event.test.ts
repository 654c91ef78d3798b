import { JOB_ATTRIBUTES, JOB_EVENTS } from '../../../lambda/core/contract';
import { jobEventOf, productAttributes } from '../../../lambda/core/publish/job-event';
import { CHANGED_AT, change, completedItem, startedItem } from './factories';

describe('jobEventOf', () => {
  describe('when a write changes the status', () => {
    it('publishes Job Started for the first status of a new item, without a previous status', () => {
      // Prepare
      const inserted = change(undefined, startedItem());

      // Act
      const message = jobEventOf(inserted);

      // Assess
      expect(message?.detailType).toBe(JOB_EVENTS.detailTypes.started);
      expect(message?.detail).toEqual({
        eventId: 'job_8f3a#started',
        jobId: 'job_8f3a',
        status: 'started',
        model: 'pro',
        outputFormat: 'webm',
        background: 'transparent',
        inputRef: 'https://in.example.com/job_8f3a.mp4',
        eventAt: '2026-11-27T10:00:00.000Z',
        deliveryId: 'dlv_started_1',
        origin: 'webhook',
        product: {},
      });
      expect(message?.detail).not.toHaveProperty('previousStatus');
      expect(message?.time).toEqual(new Date(CHANGED_AT));
    });

    it('publishes Job Completed with the previous status, the output and the credits', () => {
      const message = jobEventOf(change(startedItem(), completedItem()));

      expect(message?.detailType).toBe(JOB_EVENTS.detailTypes.completed);
      expect(message?.detail).toMatchObject({
        eventId: 'job_8f3a#completed',
        status: 'completed',
        previousStatus: 'started',
        outputUrl: 'https://cdn.example.com/out/job_8f3a.webm',
        creditsUsed: 12,
        deliveryId: 'dlv_completed_1',
        eventAt: '2026-11-27T10:05:00.000Z',
      });
    });

    it('publishes Job Failed with the error', () => {
      const failedItem = startedItem({ status: 'failed', error: { code: 'insufficient_credits', message: 'not enough credits' } });

      const message = jobEventOf(change(startedItem(), failedItem));

      expect(message?.detailType).toBe(JOB_EVENTS.detailTypes.failed);
      expect(message?.detail.error).toEqual({ code: 'insufficient_credits', message: 'not enough credits' });
    });

    it('carries the origin the worker recorded (a replay or the reconciler)', () => {
      const message = jobEventOf(change(startedItem(), completedItem({ lastOrigin: 'reconcile' })));

      expect(message?.detail.origin).toBe('reconcile');
    });

    it("leaves out the previous status when it was the product's own, not one of ours", () => {
      const message = jobEventOf(change({ jobId: 'job_8f3a', status: 'queued', userId: 'u_1' }, startedItem({ status: 'started', userId: 'u_1' })));

      expect(message?.detail.status).toBe('started');
      expect(message?.detail).not.toHaveProperty('previousStatus');
    });
  });

  describe('when a write leaves the status as it was', () => {
    it.each([
      ['a stale or duplicate delivery recorded in history', startedItem(), startedItem({ history: [{}, {}], deliveryIds: ['a', 'b'] })],
      ['a later started event winning', startedItem(), startedItem({ lastEventAt: '2026-11-27T10:01:00.000Z', lastDeliveryId: 'dlv_started_2' })],
      ['a forced replay of the terminal winner', completedItem(), completedItem({ updatedAt: '2026-11-28T09:00:00.000Z', lastOrigin: 'replay' })],
      ["the product's own write", completedItem(), completedItem({ reviewedBy: 'ops@example.com' })],
    ])('publishes nothing for %s', (_case, before, after) => {
      expect(jobEventOf(change(before, after))).toBeUndefined();
    });

    it('publishes nothing for an item the product creates without a status', () => {
      expect(jobEventOf(change(undefined, { jobId: 'job_8f3a', userId: 'u_1' }))).toBeUndefined();
    });

    it('publishes nothing for a removed item', () => {
      expect(jobEventOf(change(completedItem(), undefined))).toBeUndefined();
    });

    it('publishes nothing for a status that is not one of ours', () => {
      expect(jobEventOf(change(startedItem(), startedItem({ status: 'archived' })))).toBeUndefined();
    });
  });

  describe("the product's attributes", () => {
    it('carries every attribute the stack does not own under product, as the item holds it', () => {
      const item = completedItem({ userId: 'u_42', projectId: 'p_7', sceneTags: ['hair', 'glass'], priority: 3 });

      const message = jobEventOf(change(startedItem(), item));

      expect(message?.detail.product).toEqual({ userId: 'u_42', projectId: 'p_7', sceneTags: ['hair', 'glass'], priority: 3 });
    });

    it('never carries an attribute listed in JOB_ATTRIBUTES, whatever the list holds', () => {
      // Prepare: an item holding every stack-owned attribute, plus one of the product's.
      const item: Record<string, unknown> = { userId: 'u_42' };
      for (const name of Object.values(JOB_ATTRIBUTES)) item[name] = name === 'status' ? 'completed' : `value-of-${name}`;

      // Act
      const product = productAttributes(item);

      // Assess
      expect(product).toEqual({ userId: 'u_42' });
    });
  });
});

describe('jobEventOf, on items it cannot fully read', () => {
  it('publishes nothing for an item without a string job id', () => {
    expect(jobEventOf(change(undefined, startedItem({ jobId: 42 })))).toBeUndefined();
  });

  it('publishes nothing for a REMOVE record, even one that carries a new image', () => {
    expect(jobEventOf(change(undefined, startedItem(), { eventName: 'REMOVE' }))).toBeUndefined();
  });

  it('leaves out every field that is not a string where a string belongs', () => {
    // Prepare
    const item = completedItem({ model: 1, outputFormat: null, background: ['x'], inputRef: {}, outputUrl: 7, lastEventAt: 0, lastDeliveryId: false });

    // Act
    const detail = jobEventOf(change(startedItem(), item))?.detail;

    // Assess
    for (const name of ['model', 'outputFormat', 'background', 'inputRef', 'outputUrl', 'eventAt', 'deliveryId']) expect(detail).not.toHaveProperty(name);
    expect(detail).toMatchObject({ eventId: 'job_8f3a#completed', status: 'completed', creditsUsed: 12 });
  });

  it.each([
    ['a string', 'boom'],
    ['null', null],
    ['an error without a message', { code: 'c' }],
    ['an error without a code', { message: 'm' }],
    ['an error whose code is not a string', { code: 3, message: 'm' }],
  ])('leaves out an error that is %s', (_what, error) => {
    const detail = jobEventOf(change(startedItem(), startedItem({ status: 'failed', error })))?.detail;
    expect(detail?.status).toBe('failed');
    expect(detail).not.toHaveProperty('error');
  });

  it('keeps only the code and message of an error', () => {
    const detail = jobEventOf(change(startedItem(), startedItem({ status: 'failed', error: { code: 'c', message: '', trace: 'x' } })))?.detail;
    expect(detail?.error).toEqual({ code: 'c', message: '' });
  });

  it.each([
    ['infinite', Infinity],
    ['not a number', Number.NaN],
    ['a string', '12'],
  ])('leaves out credits that are %s, and keeps zero', (_what, creditsUsed) => {
    expect(jobEventOf(change(startedItem(), completedItem({ creditsUsed })))?.detail).not.toHaveProperty('creditsUsed');
    expect(jobEventOf(change(startedItem(), completedItem({ creditsUsed: 0 })))?.detail.creditsUsed).toBe(0);
  });

  it.each([
    ['absent', undefined],
    ['not an origin', 'email'],
  ])('calls the origin webhook when it is %s (items from before origins were recorded)', (_what, lastOrigin) => {
    expect(jobEventOf(change(startedItem(), completedItem({ lastOrigin })))?.detail.origin).toBe('webhook');
  });

  it.each(['webhook', 'replay', 'reconcile'])('carries the origin %s', (lastOrigin) => {
    expect(jobEventOf(change(startedItem(), completedItem({ lastOrigin })))?.detail.origin).toBe(lastOrigin);
  });

  it('gives the event no time when the stream gave none', () => {
    const message = jobEventOf(change(startedItem(), completedItem(), { changedAt: undefined }));
    expect(message).toBeDefined();
    expect(message).not.toHaveProperty('time');
  });

  it('publishes a change from one terminal status to the other, with the previous one', () => {
    const message = jobEventOf(change(completedItem(), startedItem({ status: 'failed', error: { code: 'c', message: 'm' } })));
    expect(message).toMatchObject({ detailType: JOB_EVENTS.detailTypes.failed, detail: { eventId: 'job_8f3a#failed', previousStatus: 'completed' } });
  });
});
