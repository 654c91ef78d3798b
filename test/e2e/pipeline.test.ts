/**
 * The happy path through the real emulators: a signed delivery is answered 202,
 * archived byte for byte with its signed headers, deduplicated, queued, and
 * applied by the worker to the job item.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ARCHIVE_METADATA } from '../../lambda/core/contract';
import { archiveKeysFor, connect, getDeliveryRecord, getJob, send, signedDelivery, uniqueId, waitFor, type E2eStack, type JobItemView } from './support/stack';

// The project's testTimeout is a global-only option in Jest, so each e2e file sets its own.
jest.setTimeout(120_000);

describe('the local pipeline', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  describe('job.started followed by job.completed', () => {
    it('accepts both, archives both and leaves the job completed with every attribute', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const startedAt = new Date(Date.now() - 2000).toISOString();
      const started = signedDelivery(stack, 'job.started', {
        jobId,
        timestamp: startedAt,
        model: 'pro',
        outputFormat: 'mov',
        background: 'green',
        videoUrl: `https://uploads.example.com/in/${jobId}.mp4`,
      });
      const completed = signedDelivery(stack, 'job.completed', {
        jobId,
        model: 'pro',
        outputFormat: 'mov',
        background: 'green',
        outputUrl: `https://cdn.example.com/out/${jobId}.mov`,
        creditsUsed: 7,
      });

      // Act
      const first = await send(stack, started);
      await waitFor(async () => (await getJob(stack, jobId))?.status === 'started' || undefined, 'job.started to apply');
      const second = await send(stack, completed);
      const job: JobItemView = await waitFor(async () => {
        const item = await getJob(stack, jobId);
        return item?.status === 'completed' ? item : undefined;
      }, 'job.completed to apply');

      // Assess
      expect(first).toMatchObject({ status: 202, body: { status: 'accepted', deliveryId: started.deliveryId } });
      expect(second).toMatchObject({ status: 202, body: { status: 'accepted', deliveryId: completed.deliveryId } });
      expect(job).toMatchObject({
        jobId,
        status: 'completed',
        model: 'pro',
        outputFormat: 'mov',
        background: 'green',
        inputRef: `https://uploads.example.com/in/${jobId}.mp4`,
        outputUrl: `https://cdn.example.com/out/${jobId}.mov`,
        creditsUsed: 7,
        lastDeliveryId: completed.deliveryId,
        lastEventAt: completed.timestamp,
      });
      expect(typeof job.updatedAt).toBe('string');
      expect(job.error).toBeUndefined();
      expect(job.history?.map((entry) => [entry.deliveryId, entry.event, entry.outcome])).toEqual([
        [started.deliveryId, 'job.started', 'applied'],
        [completed.deliveryId, 'job.completed', 'applied'],
      ]);
      for (const delivery of [started, completed]) {
        expect(await getDeliveryRecord(stack, delivery.deliveryId)).toMatchObject({ deliveryId: delivery.deliveryId, status: 'accepted' });
      }
    });

    it('archives the exact raw bytes with the event, delivery id, timestamp and signature', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const delivery = signedDelivery(stack, 'job.started', { jobId });

      // Act
      await send(stack, delivery);
      const [key] = await waitFor(async () => {
        const keys = await archiveKeysFor(stack, delivery.deliveryId);
        return keys.length > 0 ? keys : undefined;
      }, 'the archive object');
      const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.outputs.ArchiveBucketName, Key: key }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());

      // Assess
      expect(key).toMatch(new RegExp(`^raw/\\d{4}/\\d{2}/\\d{2}/\\d{2}/${delivery.deliveryId}`));
      expect(bytes.equals(Buffer.from(delivery.body as string, 'utf8'))).toBe(true);
      expect(object.Metadata).toMatchObject({
        [ARCHIVE_METADATA.event]: 'job.started',
        [ARCHIVE_METADATA.deliveryId]: delivery.deliveryId,
        [ARCHIVE_METADATA.timestamp]: delivery.timestamp,
        [ARCHIVE_METADATA.signature]: delivery.headers['X-Webhook-Signature'],
      });
    });
  });

  describe('job.started followed by job.failed', () => {
    it('leaves the job failed with the provider error', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const started = signedDelivery(stack, 'job.started', { jobId, timestamp: new Date(Date.now() - 1000).toISOString() });
      const failed = signedDelivery(stack, 'job.failed', { jobId, error: { code: 'insufficient_credits', message: 'Not enough credits.' } });

      // Act
      await send(stack, started);
      await send(stack, failed);
      const job = await waitFor(async () => {
        const item = await getJob(stack, jobId);
        return item?.status === 'failed' && item.history?.length === 2 ? item : undefined;
      }, 'job.failed to apply');

      // Assess
      expect(job).toMatchObject({
        status: 'failed',
        error: { code: 'insufficient_credits', message: 'Not enough credits.' },
        creditsUsed: 0,
        lastDeliveryId: failed.deliveryId,
      });
      expect(job.outputUrl).toBeUndefined();
    });
  });

  describe('a delivery too large to travel inline in the queue message', () => {
    it('is applied from its archived body (the claim check)', async () => {
      // Prepare: over the inline limit (64 KiB), well under the body limit (1 MiB).
      const jobId = uniqueId('job_large');
      const completed = signedDelivery(stack, 'job.completed', { jobId, creditsUsed: 7, extraData: { notes: 'n'.repeat(70 * 1024) } });

      // Act
      const answer = await send(stack, completed);
      const job = await waitFor(async () => {
        const item = await getJob(stack, jobId);
        return item?.status === 'completed' ? item : undefined;
      }, 'the large job.completed to apply');

      // Assess
      expect(answer.status).toBe(202);
      expect(job).toMatchObject({ status: 'completed', creditsUsed: 7, lastDeliveryId: completed.deliveryId });
    });
  });
});
