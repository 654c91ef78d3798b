/**
 * How the receiver archives by size: the batched line with the payload inline,
 * or its own object read by claim check, which no worker may read before the
 * object exists.
 */
import { METRIC, SERVICE_LIMITS } from '../../../lambda/core/contract';
import { decodeArchiveLines } from '../../../lambda/core/archive/record';
import { NOW, PAYLOADS, deliveryEvent, receiverTestbed } from '../receiver/support/factories';

describe('the receiver, with a batched archive', () => {
  describe('for a delivery that fits the queue message and a Firehose record', () => {
    it('appends one line to the batched archive and enqueues the payload inline, in the same round trip', async () => {
      // Prepare
      const testbed = receiverTestbed({ batched: true });

      // Act
      const answer = await testbed.send(deliveryEvent({ deliveryId: 'dlv_small' }));

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(testbed.archive.puts).toBe(0);
      expect(testbed.batchArchive?.lines.map((line) => line.delivery.deliveryId)).toEqual(['dlv_small']);
      expect(testbed.queue.messages).toEqual([
        expect.objectContaining({ deliveryId: 'dlv_small', payload: PAYLOADS['job.completed'], archive: { bucket: 'archive-bucket', key: 'raw/2026/11/27/10/batch/', batched: true } }),
      ]);
      expect(testbed.queue.options).toEqual([undefined]);
      expect(testbed.deliveries.calls).toEqual(['claim', 'markAccepted']);
      expect(testbed.metrics.lines).toEqual([expect.objectContaining({ attributes: expect.objectContaining({ archive: 'batch' }) })]);
    });

    it("archives the exact bytes, the signed headers, the first receipt time and this attempt's own", async () => {
      const testbed = receiverTestbed({ batched: true });
      const event = deliveryEvent({ deliveryId: 'dlv_exact' });
      await testbed.send(event);
      const [line] = decodeArchiveLines([...(testbed.batchArchive?.objects().values() ?? [])].join(''));
      expect(line.ok && Buffer.from(line.delivery.rawBody).toString('utf8')).toBe(event.body);
      expect(line.ok && line.delivery).toMatchObject({
        deliveryId: 'dlv_exact',
        signature: event.headers['x-webhook-signature'],
        timestamp: NOW.toISOString(),
        receivedAt: NOW.toISOString(),
        attemptAt: NOW.toISOString(),
      });
    });

    it('archives bytes equal to the request body even where the string holds a lone surrogate (UTF-8 replaces it, on both sides)', async () => {
      const testbed = receiverTestbed({ batched: true });
      const body = `{"event":"job.completed","data":{"job_id":"job_8f3a","output_url":"https://cdn.example.com/o.webm","note":"\ud800 and \uFEFF"}}`;
      await testbed.send(deliveryEvent({ deliveryId: 'dlv_surrogate', body }));
      const [line] = decodeArchiveLines([...(testbed.batchArchive?.objects().values() ?? [])].join(''));
      expect(line.ok && Buffer.from(line.delivery.rawBody).equals(Buffer.from(body, 'utf8'))).toBe(true);
    });

    it('answers 503 and releases the claim when the append is not accepted, so the retry can take it', async () => {
      // Prepare
      const testbed = receiverTestbed({ batched: true });
      testbed.batchArchive?.failNext();

      // Act
      const answer = await testbed.send(deliveryEvent({ deliveryId: 'dlv_throttled' }));
      const retry = await testbed.send(deliveryEvent({ deliveryId: 'dlv_throttled' }));

      // Assess
      expect(answer.statusCode).toBe(503);
      expect(testbed.deliveries.calls.slice(0, 2)).toEqual(['claim', 'release']);
      expect(testbed.metrics.total(METRIC.archiveFailure)).toBe(1);
      expect(testbed.logger.lines).toContainEqual(expect.objectContaining({ level: 'error', message: 'Archive failed', attributes: expect.objectContaining({ archive: 'batch' }) }));
      expect(retry.statusCode).toBe(202);
      expect(testbed.batchArchive?.lines).toHaveLength(1);
    });
  });

  describe('for a delivery whose message cannot carry the payload (claim check)', () => {
    it('puts its own object and enqueues a message invisible until past the receiver timeout, with the instant its object is due', async () => {
      // Prepare
      const testbed = receiverTestbed({ batched: true, policy: { inlinePayloadMaxBytes: 1024, claimCheckDelaySeconds: 20 } });
      const body = { ...(PAYLOADS['job.completed'] as object), padding: 'x'.repeat(2000) };

      // Act
      const answer = await testbed.send(deliveryEvent({ deliveryId: 'dlv_big', body }));

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(testbed.batchArchive?.lines).toEqual([]);
      expect([...testbed.archive.objects.keys()]).toEqual(['raw/2026/11/27/10/dlv_big.json']);
      const [message] = testbed.queue.messages;
      expect(message.payload).toBeUndefined();
      expect(message.archive).toEqual({ bucket: 'archive-bucket', key: 'raw/2026/11/27/10/dlv_big.json' });
      expect(message.archiveBy).toBe(new Date(NOW.getTime() + 20_000).toISOString());
      expect(testbed.queue.options).toEqual([{ delaySeconds: 20 }]);
      expect(testbed.deliveries.calls).toEqual(['claim', 'markAccepted']);
    });
  });

  describe('for a delivery whose message fits but whose archive line would pass the Firehose record limit', () => {
    it('archives it as its own object and still carries the payload inline (no delay: the worker never reads the object)', async () => {
      // Prepare: quotes are escaped in the line, not in the message: the line outgrows the message.
      const body = { ...(PAYLOADS['job.completed'] as object), notes: '"'.repeat(300_000) };
      const testbed = receiverTestbed({ batched: true });
      const event = deliveryEvent({ deliveryId: 'dlv_quoted', body });
      expect(Buffer.byteLength(event.body ?? '')).toBeLessThan(SERVICE_LIMITS.firehoseMaxRecordBytes);

      // Act
      const answer = await testbed.send(event);

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(testbed.batchArchive?.lines).toEqual([]);
      expect(testbed.archive.puts).toBe(1);
      expect(testbed.queue.messages[0].payload).toBeDefined();
      expect(testbed.queue.options).toEqual([undefined]);
    });
  });
});

describe('the receiver, without a batched archive (deployArchiveStream: false)', () => {
  it('archives every delivery as its own object, as before batching', async () => {
    const testbed = receiverTestbed();
    await testbed.send(deliveryEvent({ deliveryId: 'dlv_object' }));
    expect([...testbed.archive.objects.keys()]).toEqual(['raw/2026/11/27/10/dlv_object.json']);
    expect(testbed.queue.messages[0]).toMatchObject({ payload: PAYLOADS['job.completed'], archive: { key: 'raw/2026/11/27/10/dlv_object.json' } });
  });
});
