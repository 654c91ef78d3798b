/**
 * Nothing applied twice, nothing regressed: concurrent copies of one delivery
 * (provider retries racing each other) and events arriving out of order.
 */
import { archivedEntriesFor, connect, waitForArchiveFlushed, getJob, send, sendUntilSettled, signedDelivery, uniqueId, waitFor, waitForQueueDrained, type E2eStack } from './support/stack';

// The project's testTimeout is a global-only option in Jest, so each e2e file sets its own.
jest.setTimeout(120_000);

describe('idempotency and ordering', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  describe('20 concurrent copies of one delivery', () => {
    it('accept it once, archive it once and apply it once', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const delivery = signedDelivery(stack, 'job.started', { jobId });

      // Act
      const answers = await Promise.all(Array.from({ length: 20 }, () => send(stack, delivery)));
      // The copies that met the first one in progress (503 with Retry-After) are retried, as the provider would.
      const retries = await Promise.all(answers.filter((answer) => answer.status === 503).map(() => sendUntilSettled(stack, delivery)));
      await waitFor(async () => ((await getJob(stack, jobId))?.history?.length ? true : undefined), 'the delivery to apply');
      await waitForQueueDrained(stack);

      // Assess
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 202)).toHaveLength(1);
      // Never a 4xx: a strict provider would take it as final.
      expect(statuses.every((status) => [200, 202, 503].includes(status))).toBe(true);
      expect(retries.every((retry) => retry.last.status === 200)).toBe(true);
      await waitForArchiveFlushed(stack);
      expect(await archivedEntriesFor(stack, delivery.deliveryId)).toHaveLength(1);
      const job = await getJob(stack, jobId);
      expect(job?.history?.filter((entry) => entry.deliveryId === delivery.deliveryId)).toHaveLength(1);
      expect(job?.status).toBe('started');
    });
  });

  describe('a delivery sent again after it was applied', () => {
    it('is answered 200 duplicate and changes nothing', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const delivery = signedDelivery(stack, 'job.started', { jobId });
      await send(stack, delivery);
      const applied = await waitFor(async () => {
        const item = await getJob(stack, jobId);
        return item?.history?.length === 1 ? item : undefined;
      }, 'the first copy to apply');

      // Act
      const again = await send(stack, delivery);
      await waitForQueueDrained(stack);

      // Assess
      expect(again).toMatchObject({ status: 200, body: { status: 'duplicate', deliveryId: delivery.deliveryId } });
      expect(await getJob(stack, jobId)).toEqual(applied);
    });
  });

  describe('events out of order', () => {
    it('never regresses a completed job when a late job.started arrives', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const earlier = new Date(Date.now() - 5000).toISOString();
      const started = signedDelivery(stack, 'job.started', { jobId, timestamp: earlier, model: 'light' });
      const completed = signedDelivery(stack, 'job.completed', { jobId, model: 'light' });

      // Act
      expect((await send(stack, completed)).status).toBe(202);
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'completed' ? true : undefined), 'job.completed to apply');
      expect((await send(stack, started)).status).toBe(202);
      const job = await waitFor(async () => {
        const item = await getJob(stack, jobId);
        return item?.history?.length === 2 ? item : undefined;
      }, 'the late job.started to be recorded');

      // Assess
      expect(job).toMatchObject({ status: 'completed', lastDeliveryId: completed.deliveryId, outputUrl: expect.any(String) });
      expect(job.history?.find((entry) => entry.deliveryId === started.deliveryId)?.outcome).toBe('stale');
    });

    it('keeps the first terminal event when a conflicting one follows', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const completed = signedDelivery(stack, 'job.completed', { jobId, timestamp: new Date(Date.now() - 2000).toISOString() });
      const failed = signedDelivery(stack, 'job.failed', { jobId });

      // Act
      await send(stack, completed);
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'completed' ? true : undefined), 'job.completed to apply');
      await send(stack, failed);
      const job = await waitFor(async () => {
        const item = await getJob(stack, jobId);
        return item?.history?.length === 2 ? item : undefined;
      }, 'the conflicting job.failed to be recorded');

      // Assess
      expect(job.status).toBe('completed');
      expect(job.error).toBeUndefined();
      expect(job.history?.find((entry) => entry.deliveryId === failed.deliveryId)?.outcome).toBe('conflict');
    });
  });
});
