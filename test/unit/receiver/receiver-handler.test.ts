import { createHmac } from 'node:crypto';
import { METRIC } from '../../../lambda/core/contract';
import type { QueueMessage } from '../../../lambda/core/ports';
import { deliveryEvent, NOW, PAYLOADS, providerSignature, rawBodyOf, receiverTestbed, SECRET, sha256Of } from './support/factories';

describe('receiver handler', () => {
  describe('when a new, valid delivery arrives', () => {
    it('answers 202 and records, archives and enqueues it', async () => {
      // Prepare
      const testbed = receiverTestbed();
      const event = deliveryEvent({ deliveryId: 'dlv_new' });

      // Act
      const answer = await testbed.send(event);

      // Assess
      expect(answer).toEqual({ statusCode: 202, body: { status: 'accepted', deliveryId: 'dlv_new' } });
      expect(testbed.deliveries.records.get('dlv_new')).toMatchObject({ status: 'accepted', receivedAt: NOW.toISOString() });
      const archived = testbed.archive.objects.get('raw/2026/11/27/10/dlv_new.json');
      expect(Buffer.from(archived?.rawBody ?? []).toString('utf8')).toBe(event.body);
      expect(archived).toMatchObject({
        event: 'job.completed',
        deliveryId: 'dlv_new',
        timestamp: NOW.toISOString(),
        signature: event.headers['x-webhook-signature'],
        receivedAt: NOW.toISOString(),
        bodySha256: sha256Of(event.body ?? ''),
        jobId: 'job_8f3a',
      });
      expect(testbed.queue.messages).toEqual<QueueMessage[]>([
        {
          v: 1,
          deliveryId: 'dlv_new',
          event: 'job.completed',
          jobId: 'job_8f3a',
          timestamp: NOW.toISOString(),
          receivedAt: NOW.toISOString(),
          archive: { bucket: 'archive-bucket', key: 'raw/2026/11/27/10/dlv_new.json' },
          payload: PAYLOADS['job.completed'],
        },
      ]);
      expect(testbed.metrics.total(METRIC.accepted)).toBe(1);
      expect(testbed.metrics.published).toBe(1);
    });

    it('uses three sequential round trips: claim, archive with enqueue, mark', async () => {
      const testbed = receiverTestbed();
      await testbed.send(deliveryEvent());
      expect(testbed.deliveries.calls).toEqual(['claim', 'markAccepted']);
      expect(testbed.archive.puts).toBe(1);
      expect(testbed.queue.sends).toBe(1);
    });

    it.each(['job.started', 'job.completed', 'job.failed'] as const)('accepts a %s delivery and takes the job id from the body', async (type) => {
      const testbed = receiverTestbed();
      const answer = await testbed.send(deliveryEvent({ event: type }));
      expect(answer.statusCode).toBe(202);
      expect(testbed.queue.messages[0]).toMatchObject({ event: type, jobId: type === 'job.failed' ? 'job_91bc' : 'job_8f3a' });
    });

    it('accepts headers in any case', async () => {
      for (const headerCase of ['canonical', 'upper'] as const) {
        const testbed = receiverTestbed();
        expect((await testbed.send(deliveryEvent({ headerCase }))).statusCode).toBe(202);
      }
    });

    it('verifies and archives the exact bytes of a base64-encoded unicode body', async () => {
      // Prepare
      const body = '{"data":{"job_id":"job_ü","output_url":"https://cdn.example.com/ü.webm","note":"背景 🎬"}}';
      const testbed = receiverTestbed();

      // Act
      const answer = await testbed.send(deliveryEvent({ body, base64: true }));

      // Assess
      expect(answer.statusCode).toBe(202);
      const archived = [...testbed.archive.objects.values()][0];
      expect(Buffer.from(archived.rawBody).toString('utf8')).toBe(body);
      expect(archived.bodySha256).toBe(sha256Of(body));
      expect(testbed.queue.messages[0].jobId).toBe('job_ü');
    });

    it.each([false, true])('reads a body that starts with a byte-order mark alike as text and as base64, and archives the mark (base64: %s)', async (base64) => {
      // Prepare: JSON parsers may ignore a BOM (RFC 8259 8.1); the signature covers it.
      const body = `\uFEFF${rawBodyOf({})}`;
      const testbed = receiverTestbed();

      // Act
      const answer = await testbed.send(deliveryEvent({ body, base64 }));

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(testbed.queue.messages[0].payload).toEqual(PAYLOADS['job.completed']);
      expect(Buffer.from([...testbed.archive.objects.values()][0].rawBody).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    });

    it('hands the worker the text the archived bytes hold, even where the request string held a lone surrogate', async () => {
      // Prepare: UTF-8 cannot carry a lone surrogate; the bytes (and so the archive a replay reads) hold U+FFFD.
      const body = '{"event":"job.completed","data":{"job_id":"job_8f3a","output_url":"https://cdn.example.com/o.webm","note":"\ud800!"}}';
      const testbed = receiverTestbed();

      // Act
      await testbed.send(deliveryEvent({ body }));

      // Assess
      expect((testbed.queue.messages[0].payload as { data: { note: string } }).data.note).toBe('\uFFFD!');
    });

    it('accepts a timestamp with an offset and keeps it as sent', async () => {
      const testbed = receiverTestbed();
      const answer = await testbed.send(deliveryEvent({ timestamp: '2026-11-27T11:01:00.250+01:00' }));
      expect(answer.statusCode).toBe(202);
      expect(testbed.queue.messages[0].timestamp).toBe('2026-11-27T11:01:00.250+01:00');
    });

    it('writes one line per acceptance, which carries its metrics and the delivery id', async () => {
      const testbed = receiverTestbed();
      await testbed.send(deliveryEvent({ deliveryId: 'dlv_log' }));
      expect(testbed.logger.lines).toEqual([
        expect.objectContaining({ level: 'info', message: 'Webhook accepted', attributes: expect.objectContaining({ deliveryId: 'dlv_log', withMetrics: true }) }),
      ]);
      expect(testbed.metrics.lines).toEqual([expect.objectContaining({ message: 'Webhook accepted', counts: ['DeliveryAccepted'] })]);
    });
  });

  describe('claim check', () => {
    it('omits the payload from the message when the message would exceed the inline limit', async () => {
      // Prepare
      const testbed = receiverTestbed({ policy: { inlinePayloadMaxBytes: 1024 } });
      const body = { ...(PAYLOADS['job.completed'] as object), padding: 'x'.repeat(2000) };

      // Act
      const answer = await testbed.send(deliveryEvent({ body }));

      // Assess
      expect(answer.statusCode).toBe(202);
      const message = testbed.queue.messages[0];
      expect(message).not.toHaveProperty('payload', expect.anything());
      expect(message.archive).toEqual({ bucket: 'archive-bucket', key: 'raw/2026/11/27/10/dlv_0001.json' });
      expect(JSON.stringify(message).length).toBeLessThan(1024);
    });

    it('keeps the payload inline when the message fits', async () => {
      const testbed = receiverTestbed({ policy: { inlinePayloadMaxBytes: 4096 } });
      await testbed.send(deliveryEvent());
      expect(testbed.queue.messages[0].payload).toEqual(PAYLOADS['job.completed']);
    });
  });

  describe('when the delivery id was seen before', () => {
    it('answers 200 duplicate for an accepted delivery, with no second archive or enqueue', async () => {
      // Prepare
      const testbed = receiverTestbed();
      await testbed.send(deliveryEvent());

      // Act
      testbed.setNow(new Date(NOW.getTime() + 60_000));
      const answer = await testbed.send(deliveryEvent({ timestamp: new Date(NOW.getTime() + 60_000).toISOString() }));

      // Assess
      expect(answer).toEqual({ statusCode: 200, body: { status: 'duplicate', deliveryId: 'dlv_0001' } });
      expect(testbed.archive.puts).toBe(1);
      expect(testbed.queue.sends).toBe(1);
      expect(testbed.metrics.total(METRIC.duplicate)).toBe(1);
    });

    it('answers 503 in_progress with Retry-After while another attempt holds a live lease, never a final 4xx', async () => {
      // Prepare
      const testbed = receiverTestbed();
      const event = deliveryEvent();
      testbed.deliveries.records.set('dlv_0001', {
        deliveryId: 'dlv_0001',
        status: 'in_progress',
        bodySha256: sha256Of(event.body ?? ''),
        leaseExpiresAt: NOW.getTime() + 9_500,
        receivedAt: NOW.toISOString(),
        expiresAt: NOW.getTime() / 1000 + 86400,
        attemptId: 'other-attempt',
      });

      // Act
      const answer = await testbed.send(event);

      // Assess
      expect(answer).toEqual({ statusCode: 503, body: { status: 'error', reason: 'in_progress', deliveryId: 'dlv_0001' } });
      expect(testbed.lastHeaders()['retry-after']).toBe('10');
      expect(testbed.metrics.total(METRIC.inProgress)).toBe(1);
      expect(testbed.metrics.total(METRIC.rejected)).toBe(0);
      expect(testbed.archive.puts + testbed.queue.sends).toBe(0);
    });

    it('answers 503 in_progress to another body while the lease is live, and lets it take over once the lease lapsed', async () => {
      // Prepare: an attempt with other bytes holds the id, then lets its lease lapse.
      const testbed = receiverTestbed({ policy: { leaseSeconds: 15 } });
      testbed.deliveries.records.set('dlv_0001', {
        deliveryId: 'dlv_0001',
        status: 'in_progress',
        bodySha256: 'e'.repeat(64),
        leaseExpiresAt: NOW.getTime() + 5_000,
        receivedAt: NOW.toISOString(),
        expiresAt: NOW.getTime() / 1000 + 86400,
        attemptId: 'other-attempt',
      });
      const retryBody = { event: 'job.completed', data: { job_id: 'job_8f3a', status: 'completed', output_url: 'https://cdn.example.com/out/b.webm' } };

      // Act
      const during = await testbed.send(deliveryEvent({ body: retryBody }));
      const later = new Date(NOW.getTime() + 6_000);
      testbed.setNow(later);
      const after = await testbed.send(deliveryEvent({ body: retryBody, timestamp: later.toISOString() }));

      // Assess
      expect(during.statusCode).toBe(503);
      expect(testbed.metrics.total(METRIC.conflict)).toBe(0);
      expect(after.statusCode).toBe(202);
      expect(testbed.deliveries.records.get('dlv_0001')).toMatchObject({ status: 'accepted', bodySha256: sha256Of(JSON.stringify(retryBody)) });
      expect([...testbed.archive.objects.keys()]).toEqual(['raw/2026/11/27/10/dlv_0001.json']);
    });

    it('accepts a retry with other bytes after an earlier attempt was answered 503 and released', async () => {
      // Prepare
      const testbed = receiverTestbed();
      testbed.queue.failNext();
      const first = await testbed.send(deliveryEvent());

      // Act: the provider re-renders the body on its retry.
      const retryBody = { ...(PAYLOADS['job.completed'] as Record<string, unknown>), note: 're-rendered' };
      const retry = await testbed.send(deliveryEvent({ body: retryBody }));

      // Assess
      expect(first.statusCode).toBe(503);
      expect(retry.statusCode).toBe(202);
      expect(testbed.queue.messages).toHaveLength(1);
      expect(testbed.queue.messages[0].payload).toMatchObject({ note: 're-rendered' });
    });

    it('takes over an in-progress delivery whose lease lapsed and keeps its first receipt time', async () => {
      // Prepare
      const testbed = receiverTestbed();
      const event = deliveryEvent();
      const firstReceipt = new Date(NOW.getTime() - 3_600_000).toISOString();
      testbed.deliveries.records.set('dlv_0001', {
        deliveryId: 'dlv_0001',
        status: 'in_progress',
        bodySha256: sha256Of(event.body ?? ''),
        leaseExpiresAt: NOW.getTime() - 1,
        receivedAt: firstReceipt,
        expiresAt: NOW.getTime() / 1000 + 86400,
        attemptId: 'crashed-attempt',
      });

      // Act
      const answer = await testbed.send(event);

      // Assess
      expect(answer.statusCode).toBe(202);
      expect([...testbed.archive.objects.keys()]).toEqual(['raw/2026/11/27/09/dlv_0001.json']);
    });

    it('answers 409 conflict for an accepted id with another body, and counts it (the id was already acknowledged)', async () => {
      // Prepare
      const testbed = receiverTestbed();
      await testbed.send(deliveryEvent());

      // Act
      const answer = await testbed.send(deliveryEvent({ event: 'job.failed' }));

      // Assess
      expect(answer.statusCode).toBe(409);
      expect(answer.body).toMatchObject({ status: 'rejected', reason: 'conflict', deliveryId: 'dlv_0001' });
      expect(testbed.metrics.total(METRIC.conflict)).toBe(1);
      expect(testbed.queue.sends).toBe(1);
    });
  });

  describe('when a store fails', () => {
    it.each([
      ['the archive', (testbed: ReturnType<typeof receiverTestbed>) => testbed.archive.failNext(), METRIC.archiveFailure],
      ['the queue', (testbed: ReturnType<typeof receiverTestbed>) => testbed.queue.failNext(), METRIC.enqueueFailure],
    ])('answers 503 when %s fails, releases the delivery, and the retry succeeds', async (_name, breakIt, metric) => {
      // Prepare
      const testbed = receiverTestbed();
      breakIt(testbed);

      // Act
      const first = await testbed.send(deliveryEvent());
      testbed.setNow(new Date(NOW.getTime() + 1000));
      const retry = await testbed.send(deliveryEvent());

      // Assess
      expect(first).toEqual({ statusCode: 503, body: { status: 'error', reason: 'transient', deliveryId: 'dlv_0001' } });
      expect(testbed.deliveries.calls.slice(0, 2)).toEqual(['claim', 'release']);
      expect(testbed.metrics.total(metric)).toBe(1);
      expect(retry.statusCode).toBe(202);
      expect(testbed.deliveries.records.get('dlv_0001')?.status).toBe('accepted');
      expect(testbed.archive.objects.size).toBe(1);
    });

    it('answers 503 when the release fails too, and the retry succeeds once the lease lapses', async () => {
      // Prepare
      const testbed = receiverTestbed({ policy: { leaseSeconds: 30 } });
      testbed.queue.failNext();
      testbed.deliveries.failNext('release');

      // Act
      const first = await testbed.send(deliveryEvent());
      const early = await testbed.send(deliveryEvent());
      testbed.setNow(new Date(NOW.getTime() + 31_000));
      const late = await testbed.send(deliveryEvent({ timestamp: new Date(NOW.getTime() + 31_000).toISOString() }));

      // Assess
      expect(first.statusCode).toBe(503);
      expect(testbed.logger.lines).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringContaining('release failed') }));
      expect(early.body).toMatchObject({ reason: 'in_progress' });
      expect(late.statusCode).toBe(202);
    });

    it('treats a claim whose first answer was lost and whose SDK retry met its own lease as claimed', async () => {
      // Prepare: the in-memory store, like the adapter, recognises its own attempt id on a failed condition.
      const testbed = receiverTestbed();
      const event = deliveryEvent();
      testbed.deliveries.records.set('dlv_0001', {
        deliveryId: 'dlv_0001',
        status: 'in_progress',
        bodySha256: sha256Of(event.body ?? ''),
        leaseExpiresAt: NOW.getTime() + 30_000,
        receivedAt: NOW.toISOString(),
        expiresAt: NOW.getTime() / 1000 + 86400,
        attemptId: 'attempt-1',
      });

      // Act
      const answer = await testbed.send(event);

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(testbed.metrics.total(METRIC.inProgress)).toBe(0);
    });

    it('releases a claim whose outcome is unknown before answering 503, so the provider retry is accepted at once', async () => {
      // Prepare: the claim is applied, but every answer is lost.
      const testbed = receiverTestbed();
      testbed.deliveries.loseAnswerNext('claim');

      // Act
      const first = await testbed.send(deliveryEvent());
      const retry = await testbed.send(deliveryEvent());

      // Assess
      expect(first).toEqual({ statusCode: 503, body: { status: 'error', reason: 'transient', deliveryId: 'dlv_0001' } });
      expect(testbed.deliveries.calls.slice(0, 2)).toEqual(['claim', 'release']);
      expect(retry.statusCode).toBe(202);
      expect(testbed.archive.puts).toBe(1);
      expect(testbed.queue.sends).toBe(1);
    });

    it('answers 503 when DynamoDB fails the claim, before writing anything else', async () => {
      const testbed = receiverTestbed();
      testbed.deliveries.failNext('claim');
      const answer = await testbed.send(deliveryEvent());
      expect(answer).toEqual({ statusCode: 503, body: { status: 'error', reason: 'transient', deliveryId: 'dlv_0001' } });
      expect(testbed.archive.puts + testbed.queue.sends).toBe(0);
    });

    it('answers 503 when marking accepted fails, releases, and the retry re-archives the same key at once', async () => {
      // Prepare
      const testbed = receiverTestbed();
      testbed.deliveries.failNext('markAccepted');

      // Act
      const first = await testbed.send(deliveryEvent());
      const later = new Date(NOW.getTime() + 1_000);
      testbed.setNow(later);
      const retry = await testbed.send(deliveryEvent({ timestamp: later.toISOString() }));

      // Assess
      expect(first.statusCode).toBe(503);
      expect(testbed.deliveries.calls.slice(0, 3)).toEqual(['claim', 'markAccepted', 'release']);
      expect(retry.statusCode).toBe(202);
      expect([...testbed.archive.objects.keys()]).toEqual(['raw/2026/11/27/10/dlv_0001.json']);
      expect(testbed.queue.messages.map((message) => message.deliveryId)).toEqual(['dlv_0001', 'dlv_0001']);
    });

    it('answers 200 duplicate to the retry when the mark was applied but its answer lost', async () => {
      const testbed = receiverTestbed();
      testbed.deliveries.loseAnswerNext('markAccepted');
      const first = await testbed.send(deliveryEvent());
      const retry = await testbed.send(deliveryEvent());
      expect(first.statusCode).toBe(503);
      expect(retry.statusCode).toBe(200);
      expect(testbed.queue.sends).toBe(1);
    });

    it('answers 503 when the signing secret cannot be read', async () => {
      const testbed = receiverTestbed();
      testbed.secrets.failure = new Error('ThrottlingException');
      const answer = await testbed.send(deliveryEvent());
      expect(answer).toEqual({ statusCode: 503, body: { status: 'error', reason: 'transient', deliveryId: 'dlv_0001' } });
      expect(testbed.nothingWritten()).toBe(true);
    });
  });

  describe('when the signing secret is unset', () => {
    it.each([
      ['missing', {}],
      ['empty', { current: { value: '', createdAt: NOW } }],
      ['whitespace', { current: { value: '  \n', createdAt: NOW } }],
      ['the CDK placeholder', { current: { value: '{"unset":true,"key":"q8V3x0pLm2"}', createdAt: NOW } }],
    ])('fails closed with 503 signing_secret_unset when it is %s', async (_name, secrets) => {
      // Prepare
      const testbed = receiverTestbed({ secrets });

      // Act
      const answer = await testbed.send(deliveryEvent({ secret: '{"unset":true,"key":"q8V3x0pLm2"}' }));

      // Assess
      expect(answer).toEqual({ statusCode: 503, body: { status: 'error', reason: 'signing_secret_unset', deliveryId: 'dlv_0001' } });
      expect(testbed.metrics.total(METRIC.secretUnset)).toBe(1);
      expect(testbed.nothingWritten()).toBe(true);
    });

    it('answers 503 rather than 401 even for an unsigned delivery, so the provider keeps retrying', async () => {
      const testbed = receiverTestbed({ secrets: {} });
      const answer = await testbed.send(deliveryEvent({ signature: null }));
      expect(answer.body).toMatchObject({ reason: 'signing_secret_unset' });
    });
  });

  describe('secret rotation', () => {
    const rotatedAt = new Date(NOW.getTime() - 3_600_000);
    const rotated = {
      current: { value: 'whsec_new', createdAt: rotatedAt },
      previous: { value: SECRET, createdAt: new Date('2026-01-01T00:00:00Z') },
    };

    it('accepts a delivery signed with a secret put after the cache was filled, by reading the secret once more', async () => {
      // Prepare: the cache still holds the old secret; Secrets Manager already has the new one.
      const testbed = receiverTestbed();
      testbed.secrets.latest = rotated;

      // Act
      const answer = await testbed.send(deliveryEvent({ secret: 'whsec_new' }));
      const next = await testbed.send(deliveryEvent({ secret: 'whsec_new', deliveryId: 'dlv_0002' }));

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(next.statusCode).toBe(202);
      expect(testbed.secrets.refreshes).toBe(1);
      expect(testbed.metrics.total(METRIC.signatureInvalid)).toBe(0);
    });

    it('answers 503, never 401, when the secret cannot be read again after a mismatch', async () => {
      const testbed = receiverTestbed();
      testbed.secrets.refreshFailure = new Error('ServiceUnavailable');
      const answer = await testbed.send(deliveryEvent({ secret: 'whsec_new' }));
      expect(answer).toEqual({ statusCode: 503, body: { status: 'error', reason: 'transient', deliveryId: 'dlv_0001' } });
      expect(testbed.metrics.total(METRIC.signatureInvalid)).toBe(0);
    });

    it('answers 401 when the secret read again is the same and still does not match', async () => {
      const testbed = receiverTestbed();
      const answer = await testbed.send(deliveryEvent({ secret: 'whsec_forged' }));
      expect(answer.statusCode).toBe(401);
      expect(testbed.secrets.refreshes).toBe(1);
    });

    it('accepts a delivery signed with the previous secret inside the grace period and logs which version matched', async () => {
      const testbed = receiverTestbed({ secrets: rotated });
      expect((await testbed.send(deliveryEvent({ secret: SECRET }))).statusCode).toBe(202);
      expect(testbed.logger.lines).toContainEqual(expect.objectContaining({ attributes: expect.objectContaining({ secretVersion: 'AWSPREVIOUS' }) }));
    });

    it('rejects it after the grace period', async () => {
      const testbed = receiverTestbed({ secrets: rotated, policy: { rotationGraceSeconds: 1800 } });
      const answer = await testbed.send(deliveryEvent({ secret: SECRET }));
      expect(answer.body).toMatchObject({ reason: 'invalid_signature' });
    });

    it('accepts the current secret', async () => {
      const testbed = receiverTestbed({ secrets: rotated, policy: { rotationGraceSeconds: 0 } });
      expect((await testbed.send(deliveryEvent({ secret: 'whsec_new' }))).statusCode).toBe(202);
    });
  });

  describe('when signatures are explicitly not required', () => {
    it('accepts an unsigned delivery without reading the secret, and warns once', async () => {
      // Prepare
      const testbed = receiverTestbed({ policy: { requireSignature: false }, secrets: {} });

      // Act
      const first = await testbed.send(deliveryEvent({ signature: null, deliveryId: 'dlv_a' }));
      const second = await testbed.send(deliveryEvent({ signature: null, deliveryId: 'dlv_b' }));

      // Assess
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(testbed.secrets.fetches).toBe(0);
      expect(testbed.logger.lines.filter((line) => line.level === 'warn')).toHaveLength(1);
    });

    it('still rejects a signature that is present and wrong', async () => {
      const testbed = receiverTestbed({ policy: { requireSignature: false } });
      const answer = await testbed.send(deliveryEvent({ secret: 'whsec_wrong' }));
      expect(answer.body).toMatchObject({ reason: 'invalid_signature' });
    });
  });

  describe('when the request is malformed', () => {
    const validBody = rawBodyOf({});
    const cases: { name: string; event: () => ReturnType<typeof deliveryEvent>; statusCode: number; reason: string; policy?: object }[] = [
      {
        name: 'a body over the size limit',
        event: () => deliveryEvent({ body: { data: { job_id: 'j', pad: 'x'.repeat(2048) } } }),
        statusCode: 413,
        reason: 'payload_too_large',
        policy: { maxBodyBytes: 1024 },
      },
      {
        name: 'a base64 body whose bytes exceed the limit',
        event: () => deliveryEvent({ body: 'é'.repeat(600), base64: true }),
        statusCode: 413,
        reason: 'payload_too_large',
        policy: { maxBodyBytes: 1024 },
      },
      { name: 'no event header', event: () => deliveryEvent({ omitHeaders: ['event'] }), statusCode: 400, reason: 'missing_header' },
      { name: 'no delivery id header', event: () => deliveryEvent({ omitHeaders: ['deliveryId'] }), statusCode: 400, reason: 'missing_header' },
      { name: 'no timestamp header', event: () => deliveryEvent({ omitHeaders: ['timestamp'] }), statusCode: 400, reason: 'missing_header' },
      { name: 'an unknown event', event: () => deliveryEvent({ event: 'job.deleted', body: validBody }), statusCode: 400, reason: 'unknown_event' },
      { name: 'a delivery id with a slash', event: () => deliveryEvent({ deliveryId: '../etc/passwd' }), statusCode: 400, reason: 'invalid_delivery_id' },
      { name: 'a delivery id of 129 characters', event: () => deliveryEvent({ deliveryId: 'a'.repeat(129) }), statusCode: 400, reason: 'invalid_delivery_id' },
      { name: 'a delivery id with spaces', event: () => deliveryEvent({ deliveryId: 'dlv 1' }), statusCode: 400, reason: 'invalid_delivery_id' },
      { name: 'a timestamp without a zone', event: () => deliveryEvent({ timestamp: '2026-11-27T10:00:00' }), statusCode: 400, reason: 'malformed_timestamp' },
      { name: 'an epoch timestamp', event: () => deliveryEvent({ timestamp: '1795773600' }), statusCode: 400, reason: 'malformed_timestamp' },
      { name: 'a timestamp six minutes old', event: () => deliveryEvent({ timestamp: '2026-11-27T09:54:00Z' }), statusCode: 401, reason: 'stale_timestamp' },
      { name: 'a timestamp six minutes ahead', event: () => deliveryEvent({ timestamp: '2026-11-27T10:06:00Z' }), statusCode: 401, reason: 'stale_timestamp' },
      { name: 'no signature', event: () => deliveryEvent({ signature: null }), statusCode: 401, reason: 'missing_signature' },
      { name: 'a signature with another secret', event: () => deliveryEvent({ secret: 'whsec_other' }), statusCode: 401, reason: 'invalid_signature' },
      { name: 'an uppercase signature', event: () => deliveryEvent({ signature: providerSignature(validBody, NOW.toISOString(), SECRET).toUpperCase().replace('SHA256=', 'sha256=') }), statusCode: 401, reason: 'invalid_signature' },
      { name: 'a truncated signature', event: () => deliveryEvent({ signature: 'sha256=abc' }), statusCode: 401, reason: 'invalid_signature' },
      { name: 'a signature over a re-serialised body', event: () => ({ ...deliveryEvent(), body: JSON.stringify(JSON.parse(validBody), null, 2) }), statusCode: 401, reason: 'invalid_signature' },
      { name: 'a body that is not JSON', event: () => deliveryEvent({ body: '{"data":' }), statusCode: 400, reason: 'invalid_json' },
      { name: 'an empty body', event: () => deliveryEvent({ body: '' }), statusCode: 400, reason: 'invalid_json' },
      { name: 'JSON without a job id', event: () => deliveryEvent({ body: { event: 'job.completed', data: { output_url: 'https://x.example/o' } } }), statusCode: 400, reason: 'schema_violation' },
      { name: 'a completed job without output_url', event: () => deliveryEvent({ body: { data: { job_id: 'j' } } }), statusCode: 400, reason: 'schema_violation' },
      { name: 'a JSON array', event: () => deliveryEvent({ body: '[]' }), statusCode: 400, reason: 'schema_violation' },
      {
        name: 'an output_url longer than 8192 characters',
        event: () => deliveryEvent({ body: { data: { job_id: 'j', output_url: `https://cdn.example.com/${'a'.repeat(8192)}` } } }),
        statusCode: 400,
        reason: 'schema_violation',
      },
      { name: 'a body event that differs from the header', event: () => deliveryEvent({ event: 'job.completed', body: PAYLOADS['job.failed'] }), statusCode: 400, reason: 'event_mismatch' },
    ];

    it.each(cases)('answers $statusCode $reason for $name, logs it, and writes nothing', async ({ event, statusCode, reason, policy }) => {
      // Prepare
      const testbed = receiverTestbed({ policy });

      // Act
      const answer = await testbed.send(event());

      // Assess
      expect(answer.statusCode).toBe(statusCode);
      expect(answer.body).toMatchObject({ status: 'rejected', reason });
      expect(testbed.nothingWritten()).toBe(true);
      // A body refused for its size is never hashed.
      const hash = reason === 'payload_too_large' ? undefined : expect.stringMatching(/^[0-9a-f]{64}$/);
      expect(testbed.logger.lines).toContainEqual(
        expect.objectContaining({ message: 'Webhook rejected', attributes: expect.objectContaining({ reason, bodyBytes: expect.any(Number), bodySha256: hash }) }),
      );
      expect(testbed.metrics.counts).toContainEqual({ name: METRIC.rejected, dimensions: { reason } });
      expect(testbed.metrics.total(METRIC.rejected)).toBe(1);
    });

    it.each([false, true])('refuses a body over the limit from its length alone, before decoding or hashing it (base64: %s)', async (base64) => {
      // Prepare
      const testbed = receiverTestbed({ policy: { maxBodyBytes: 1024 } });
      const event = deliveryEvent({ body: 'é'.repeat(513), base64 });
      const from = jest.spyOn(Buffer, 'from');

      // Act
      const answer = await testbed.send(event);

      // Assess
      expect(answer.statusCode).toBe(413);
      expect(from.mock.calls.filter(([value]) => value === event.body)).toEqual([]);
      from.mockRestore();
      expect(testbed.logger.lines[0].attributes).toMatchObject({ reason: 'payload_too_large', bodyBytes: 1026 });
      expect(testbed.logger.lines[0].attributes.bodySha256).toBeUndefined();
    });

    it('accepts a base64 body of exactly the limit', async () => {
      const body = JSON.stringify({ data: { job_id: 'job_8f3a', output_url: 'https://cdn.example.com/o.webm' } });
      const testbed = receiverTestbed({ policy: { maxBodyBytes: Buffer.byteLength(body) } });
      expect((await testbed.send(deliveryEvent({ body, base64: true }))).statusCode).toBe(202);
    });

    it('rejects invalid UTF-8 as invalid_json once the signature over those bytes is valid', async () => {
      // Prepare
      const testbed = receiverTestbed();
      const bytes = Buffer.from([0x7b, 0xff, 0x7d]);
      const timestamp = NOW.toISOString();
      const signature = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.`).update(bytes).digest('hex')}`;
      const event = { ...deliveryEvent({ signature }), body: bytes.toString('base64'), isBase64Encoded: true };

      // Act
      const answer = await testbed.send(event);

      // Assess
      expect(answer.body).toMatchObject({ reason: 'invalid_json', issues: ['body is not valid UTF-8'] });
    });

    it('reads no secret before the header checks pass', async () => {
      const testbed = receiverTestbed();
      await testbed.send(deliveryEvent({ timestamp: 'yesterday' }));
      expect(testbed.secrets.fetches).toBe(0);
    });

    it('lists what is wrong in issues, without internals', async () => {
      const testbed = receiverTestbed();
      const answer = await testbed.send(deliveryEvent({ omitHeaders: ['event', 'timestamp'] }));
      expect(answer.body).toEqual({
        status: 'rejected',
        reason: 'missing_header',
        issues: ['x-webhook-event is required', 'x-webhook-timestamp is required'],
      });
    });

    it('does not echo an invalid delivery id back', async () => {
      const testbed = receiverTestbed();
      const answer = await testbed.send(deliveryEvent({ deliveryId: '<script>' }));
      expect(answer.body).not.toHaveProperty('deliveryId');
    });
  });

  describe('what it logs', () => {
    it('never logs the secret, the signature value or the body, on any path', async () => {
      // Prepare
      const testbed = receiverTestbed({ policy: { inlinePayloadMaxBytes: 10 } });
      const marker = 'BODY-MARKER-7f3e';
      const body = { event: 'job.completed', data: { job_id: 'job_x', output_url: 'https://cdn.example.com/o', note: marker } };
      const valid = deliveryEvent({ body });
      const signature = valid.headers['x-webhook-signature'] as string;

      // Act
      await testbed.send(valid);
      await testbed.send(valid);
      await testbed.send(deliveryEvent({ body, secret: 'whsec_other', deliveryId: 'dlv_2' }));
      await testbed.send(deliveryEvent({ body: `{"note":"${marker}"`, deliveryId: 'dlv_3' }));
      testbed.archive.failNext();
      await testbed.send(deliveryEvent({ body, deliveryId: 'dlv_4' }));

      // Assess
      const logged = testbed.logger.text();
      expect(logged).not.toContain(SECRET);
      expect(logged).not.toContain(signature.slice(7));
      expect(logged).not.toContain(marker);
      expect(logged).toContain('"signaturePresent":true');
    });

    it('logs each rejection with the request facts and the source ip', async () => {
      const testbed = receiverTestbed();
      await testbed.send(deliveryEvent({ secret: 'whsec_other', deliveryId: 'dlv_bad' }));
      const line = testbed.logger.lines.find((entry) => entry.message === 'Webhook rejected');
      expect(line).toMatchObject({
        correlationId: 'dlv_bad',
        attributes: {
          reason: 'invalid_signature',
          statusCode: 401,
          deliveryId: 'dlv_bad',
          event: 'job.completed',
          signaturePresent: true,
          sourceIp: '203.0.113.10',
          userAgent: 'provider-webhooks/1.0',
        },
      });
      expect(testbed.metrics.total(METRIC.signatureInvalid)).toBe(1);
    });
  });

  describe('its HTTP answer', () => {
    it('is JSON with a content type', async () => {
      const testbed = receiverTestbed();
      const result = await testbed.handle(deliveryEvent());
      expect(result).toMatchObject({ statusCode: 202, headers: { 'content-type': 'application/json' } });
    });

    it('answers 503 transient and logs when something unexpected escapes the core', async () => {
      // Prepare
      const testbed = receiverTestbed();
      const claim = testbed.deliveries.claim.bind(testbed.deliveries);
      testbed.deliveries.claim = async (request) => {
        const result = await claim(request);
        return { ...result, record: { ...result.record, receivedAt: 'not a date' } };
      };

      // Act
      const answer = await testbed.send(deliveryEvent());

      // Assess
      expect(answer).toEqual({ statusCode: 503, body: { status: 'error', reason: 'transient' } });
      expect(testbed.logger.lines).toContainEqual(expect.objectContaining({ level: 'error', message: 'Receiver failed unexpectedly' }));
      expect(testbed.metrics.publishCalls).toBe(1);
    });
  });
});
