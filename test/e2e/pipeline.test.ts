/**
 * The happy path through the real emulators: a signed delivery is answered 202,
 * archived byte for byte with its signed headers, deduplicated, queued, and
 * applied by the worker to the job item.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { archiveKey, batchFolder } from '../../lambda/core/archive-key';
import { DEFAULTS } from '../../lambda/core/contract';
import { connect, getDeliveryRecord, getJob, send, signedDelivery, uniqueId, waitFor, waitForArchived, type E2eStack, type JobItemView } from './support/stack';

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

    it('archives the exact raw bytes with the event, delivery id, timestamp and signature, in a batched object under the receipt hour', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const delivery = signedDelivery(stack, 'job.started', { jobId });

      // Act
      await send(stack, delivery);
      const [entry] = await waitForArchived(stack, delivery.deliveryId);

      // Assess
      const record = await getDeliveryRecord(stack, delivery.deliveryId);
      expect(entry.key.startsWith(batchFolder(String(record?.receivedAt)))).toBe(true);
      expect(entry.key).toMatch(/\.jsonl\.gz$/);
      expect(Buffer.from(entry.delivery.rawBody).equals(Buffer.from(delivery.body as string, 'utf8'))).toBe(true);
      expect(entry.delivery).toMatchObject({
        event: 'job.started',
        deliveryId: delivery.deliveryId,
        timestamp: delivery.timestamp,
        signature: delivery.headers['X-Webhook-Signature'],
        receivedAt: record?.receivedAt,
        origin: 'webhook',
      });
    });

    it('archives a body too large to travel inline as its own object, and applies it only after the object exists', async () => {
      // Prepare: a body just under the receiver's 1 MiB limit, whose message (payload, envelope and
      // attributes) would not fit SQS's 1 MiB, nor its archive line Firehose's 1,000 KiB.
      const jobId = uniqueId('job_big');
      const bare = signedDelivery(stack, 'job.completed', { jobId, extraData: { notes: '' } });
      const pad = DEFAULTS.maxBodyBytes - 600 - Buffer.byteLength(bare.body as string);
      const delivery = signedDelivery(stack, 'job.completed', { jobId, extraData: { notes: 'n'.repeat(pad) } });

      // Act
      const answer = await send(stack, delivery);
      const record = await getDeliveryRecord(stack, delivery.deliveryId);
      const key = archiveKey(String(record?.receivedAt), delivery.deliveryId);
      const object = await stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.outputs.ArchiveBucketName, Key: key }));
      const before = await getJob(stack, jobId);
      const job = await waitFor(async () => ((await getJob(stack, jobId))?.status === 'completed' ? getJob(stack, jobId) : undefined), 'the claim-checked delivery to apply', 90_000);

      // Assess: the object was there when the receiver answered; the job waited for the message's delay.
      expect(answer.status).toBe(202);
      expect(object.ContentLength).toBe(Buffer.byteLength(delivery.body as string));
      expect(before).toBeUndefined();
      expect(job).toMatchObject({ status: 'completed', lastDeliveryId: delivery.deliveryId });
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
