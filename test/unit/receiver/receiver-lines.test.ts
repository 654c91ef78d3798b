/**
 * What the receiver says, beyond its status code: the issues a sender reads,
 * the log line an operator searches for each outcome (its message, level and
 * keys), the counts behind the alarms, and the Retry-After a provider waits.
 * The receiver-handler tests prove the outcomes; these pin how each is told.
 */
import { METRIC } from '../../../lambda/core/contract';
import { SecretUnavailableError } from '../../../lambda/core/errors';
import { transientResult } from '../../../lambda/core/receive';
import { deliveryEvent, NOW, rawBodyOf, receiverTestbed, SECRET, sha256Of } from './support/factories';

const BODY = rawBodyOf({});
/** What every line about the default delivery says of its request. */
const REQUEST = {
  deliveryId: 'dlv_0001',
  event: 'job.completed',
  webhookTimestamp: NOW.toISOString(),
  signaturePresent: true,
  userAgent: 'provider-webhooks/1.0',
  sourceIp: '203.0.113.10',
  bodyBytes: Buffer.byteLength(BODY),
  bodySha256: sha256Of(BODY),
};
const after = (ms: number): Date => new Date(NOW.getTime() + ms);

type Testbed = ReturnType<typeof receiverTestbed>;
const linesOf = (testbed: Testbed, level: 'info' | 'warn' | 'error') =>
  testbed.logger.lines.filter((line) => line.level === level).map(({ message, attributes }) => ({ message, attributes }));

/** Another attempt's live lease on dlv_0001, over `body`, lapsing at `leaseExpiresAt`. */
function leaseHeldElsewhere(testbed: Testbed, leaseExpiresAt: number, body = BODY): void {
  testbed.deliveries.records.set('dlv_0001', {
    deliveryId: 'dlv_0001',
    status: 'in_progress',
    bodySha256: sha256Of(body),
    leaseExpiresAt,
    receivedAt: NOW.toISOString(),
    expiresAt: NOW.getTime() / 1000 + 86400,
    attemptId: 'other-attempt',
  });
}

describe('the receiver tells each outcome', () => {
  it('answers a failure the core could not classify 503 transient', () => {
    expect(transientResult()).toEqual({ statusCode: 503, body: { status: 'error', reason: 'transient' } });
  });

  it.each([
    ['an unknown event', { event: 'job.deleted', body: BODY }, 'unknown_event', 'x-webhook-event must be one of job.started, job.completed, job.failed'],
    ['a bad delivery id', { deliveryId: 'dlv/1' }, 'invalid_delivery_id', 'x-webhook-delivery-id must be 1-128 characters of A-Z a-z 0-9 . _ : -'],
    ['a timestamp without a zone', { timestamp: '2026-11-27T10:00:00' }, 'malformed_timestamp', 'x-webhook-timestamp must be ISO 8601 with a zone'],
  ])('names the rule %s breaks', async (_name, options, reason, issue) => {
    const answer = await receiverTestbed().send(deliveryEvent(options));
    expect(answer.body).toMatchObject({ status: 'rejected', reason, issues: [issue] });
  });

  it('answers a stale timestamp or a missing signature without issues, and logs the skew', async () => {
    const testbed = receiverTestbed();
    const stale = await testbed.send(deliveryEvent({ timestamp: '2026-11-27T09:54:00.000Z' }));
    const unsigned = await testbed.send(deliveryEvent({ signature: null }));
    expect(stale.body).toEqual({ status: 'rejected', reason: 'stale_timestamp', deliveryId: 'dlv_0001' });
    expect(unsigned.body).toEqual({ status: 'rejected', reason: 'missing_signature', deliveryId: 'dlv_0001' });
    expect(linesOf(testbed, 'info')[0]).toEqual({
      message: 'Webhook rejected',
      attributes: { reason: 'stale_timestamp', statusCode: 401, ...REQUEST, webhookTimestamp: '2026-11-27T09:54:00.000Z', skewSeconds: 360 },
    });
    expect(linesOf(testbed, 'info')[1].attributes).toEqual({ reason: 'missing_signature', statusCode: 401, ...REQUEST, signaturePresent: false });
  });

  it('logs a rejection with every request fact and its issues, and counts it in total and by reason', async () => {
    const testbed = receiverTestbed();
    await testbed.send(deliveryEvent({ body: '{"data":' }));
    expect(linesOf(testbed, 'info')).toEqual([
      {
        message: 'Webhook rejected',
        attributes: {
          reason: 'invalid_json',
          statusCode: 400,
          ...REQUEST,
          bodyBytes: 8,
          bodySha256: sha256Of('{"data":'),
          issues: [expect.any(String)],
        },
      },
    ]);
    expect(testbed.metrics.counts).toEqual([{ name: METRIC.rejected }, { name: METRIC.rejected, dimensions: { reason: 'invalid_json' } }]);
  });

  it('logs at most 160 characters of a header it refused, marked as cut', async () => {
    const testbed = receiverTestbed();
    await testbed.send(deliveryEvent({ deliveryId: 'd'.repeat(200), event: 'e'.repeat(160), body: BODY }));
    expect(linesOf(testbed, 'info')[0].attributes).toMatchObject({ deliveryId: 'd'.repeat(200).slice(0, 160) + '...', event: 'e'.repeat(160) });
    const event = deliveryEvent({ deliveryId: 'dlv/1' });
    await testbed.send({ ...event, headers: { ...event.headers, 'user-agent': 'u'.repeat(161) } });
    expect(linesOf(testbed, 'info')[1].attributes).toMatchObject({ userAgent: 'u'.repeat(160) + '...' });
  });

  it('takes a header without a value for an absent one', async () => {
    const testbed = receiverTestbed();
    const event = deliveryEvent({ signature: null });
    const answer = await testbed.send({ ...event, headers: { ...event.headers, 'x-webhook-signature': undefined } });
    expect(answer.body).toMatchObject({ reason: 'missing_signature' });
    expect(linesOf(testbed, 'info')[0].attributes).toMatchObject({ signaturePresent: false });
  });

  it('reads an absent text body as empty: not JSON', async () => {
    const testbed = receiverTestbed();
    const answer = await testbed.send({ ...deliveryEvent({ body: '' }), body: undefined });
    expect(answer.body).toMatchObject({ reason: 'invalid_json' });
  });

  it('logs one accepted line per delivery with few keys, and the payload route only when it is its own object', async () => {
    const objects = receiverTestbed({ policy: { inlinePayloadMaxBytes: 10 } });
    await objects.send(deliveryEvent());
    await objects.send(deliveryEvent({ deliveryId: 'dlv_0002' }));
    const batched = receiverTestbed({ batched: true });
    await batched.send(deliveryEvent());
    const accepted = { deliveryId: 'dlv_0001', event: 'job.completed', jobId: 'job_8f3a', bodyBytes: REQUEST.bodyBytes, sourceIp: REQUEST.sourceIp };
    expect(objects.metrics.lines[0]).toEqual({
      message: 'Webhook accepted',
      attributes: { ...accepted, archive: 'object', payloadInline: false },
      counts: [METRIC.accepted],
    });
    expect(batched.metrics.lines).toEqual([{ message: 'Webhook accepted', attributes: { ...accepted, archive: 'batch' }, counts: [METRIC.accepted] }]);
    const inline = receiverTestbed();
    await inline.send(deliveryEvent());
    expect(inline.metrics.lines[0].attributes).toMatchObject({ archive: 'object', payloadInline: true });
  });

  describe('when the delivery id is known', () => {
    it('logs a duplicate and counts it; counts a conflict and says why', async () => {
      const testbed = receiverTestbed();
      await testbed.send(deliveryEvent());
      await testbed.send(deliveryEvent());
      const conflict = await testbed.send(deliveryEvent({ body: { ...JSON.parse(BODY), note: 'other' } }));
      expect(linesOf(testbed, 'info').find((line) => line.message === 'Duplicate delivery ignored')).toEqual({
        message: 'Duplicate delivery ignored',
        attributes: REQUEST,
      });
      expect(conflict.body).toMatchObject({ reason: 'conflict', issues: ['delivery id was already accepted with a different body'] });
      expect([testbed.metrics.total(METRIC.duplicate), testbed.metrics.total(METRIC.conflict)]).toEqual([1, 1]);
    });

    it.each([
      ['half a second into a 30 s lease', 30_000, 500, '30'],
      ['a tenth of a second before it lapses', 30_000, 29_900, '1'],
      ['the very moment it lapses', 30_000, 30_000, '1'],
    ])('asks for a retry after the rest of the lease, rounded up (%s)', async (_name, lease, elapsed, retryAfter) => {
      const testbed = receiverTestbed();
      leaseHeldElsewhere(testbed, NOW.getTime() + lease);
      testbed.setNow(after(elapsed));
      await testbed.send(deliveryEvent());
      expect(testbed.lastHeaders()['retry-after']).toBe(retryAfter);
    });

    it('logs whose lease it met, until when, and whether the bodies match', async () => {
      const testbed = receiverTestbed();
      leaseHeldElsewhere(testbed, NOW.getTime() + 9_500, 'other bytes');
      await testbed.send(deliveryEvent());
      expect(linesOf(testbed, 'info')).toEqual([
        {
          message: 'Delivery in progress in another attempt',
          attributes: { ...REQUEST, statusCode: 503, leaseExpiresAt: after(9_500).toISOString(), sameBody: false },
        },
      ]);
      const same = receiverTestbed();
      leaseHeldElsewhere(same, NOW.getTime() + 9_500);
      await same.send(deliveryEvent());
      expect(linesOf(same, 'info')[0].attributes).toMatchObject({ sameBody: true });
    });
  });

  describe('when a dependency fails', () => {
    it('logs an unreadable secret with the error and its cause, and counts a transient failure', async () => {
      const testbed = receiverTestbed();
      testbed.secrets.failure = new SecretUnavailableError('could not read the signing secret', {
        cause: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
      });
      await testbed.send(deliveryEvent());
      expect(linesOf(testbed, 'error')).toEqual([
        {
          message: 'Signing secret unavailable',
          attributes: {
            ...REQUEST,
            error: { name: 'SecretUnavailableError', message: 'could not read the signing secret', cause: { name: 'ThrottlingException', message: 'Rate exceeded' } },
          },
        },
      ]);
      expect(testbed.metrics.total(METRIC.transientFailure)).toBe(1);
    });

    it('summarises an error that is not its own, or not an Error at all, by name and message only', async () => {
      const plain = receiverTestbed();
      plain.secrets.failure = new TypeError('fetch failed');
      await plain.send(deliveryEvent());
      expect(linesOf(plain, 'error')[0].attributes.error).toEqual({ name: 'TypeError', message: 'fetch failed' });
      const thrown = receiverTestbed();
      thrown.secrets.failure = 'socket closed' as unknown as Error;
      await thrown.send(deliveryEvent());
      expect(linesOf(thrown, 'error')[0].attributes.error).toEqual({ name: 'Unknown', message: 'socket closed' });
    });

    it('logs an unset secret as an error and a secret unreadable after a mismatch as transient', async () => {
      const unset = receiverTestbed({ secrets: {} });
      await unset.send(deliveryEvent());
      expect(linesOf(unset, 'error')).toEqual([
        { message: 'Signing secret unset or malformed: answering 503 until ops store the plain provider secret', attributes: REQUEST },
      ]);
      const refresh = receiverTestbed();
      refresh.secrets.refreshFailure = new Error('ServiceUnavailable');
      await refresh.send(deliveryEvent({ secret: 'whsec_new' }));
      expect(linesOf(refresh, 'error')).toEqual([
        {
          message: 'Signing secret unavailable after a signature mismatch',
          attributes: { ...REQUEST, error: { name: 'Error', message: 'ServiceUnavailable' } },
        },
      ]);
      expect(refresh.metrics.total(METRIC.transientFailure)).toBe(1);
    });

    it('does not verify against a secret that reads back unset after a mismatch', async () => {
      const testbed = receiverTestbed();
      testbed.secrets.latest = {};
      const answer = await testbed.send(deliveryEvent({ secret: 'whsec_new' }));
      expect(answer.body).toMatchObject({ reason: 'invalid_signature' });
      expect(testbed.metrics.total(METRIC.signatureInvalid)).toBe(1);
    });

    it.each([
      ['archive', 'object', (testbed: Testbed) => testbed.archive.failNext(), 'Archive failed', METRIC.archiveFailure, 'ArchiveError'],
      ['enqueue', 'object', (testbed: Testbed) => testbed.queue.failNext(), 'Enqueue failed', METRIC.enqueueFailure, 'QueueError'],
      ['batch append', 'batch', (testbed: Testbed) => testbed.batchArchive?.failNext(), 'Archive failed', METRIC.archiveFailure, 'BatchArchiveError'],
    ])('logs a failed %s with its route and error, and counts it beside the transient failure', async (_name, route, breakIt, message, metric, errorName) => {
      const testbed = receiverTestbed({ batched: route === 'batch' });
      breakIt(testbed);
      await testbed.send(deliveryEvent());
      expect(linesOf(testbed, 'error')).toEqual([{ message, attributes: { ...REQUEST, archive: route, error: expect.objectContaining({ name: errorName }) } }]);
      expect([testbed.metrics.total(metric), testbed.metrics.total(METRIC.transientFailure)]).toEqual([1, 1]);
    });

    it('logs a claim or a mark that failed with the delivery id and error, and a failed release beside it', async () => {
      const claim = receiverTestbed();
      claim.deliveries.failNext('claim');
      claim.deliveries.failNext('release');
      await claim.send(deliveryEvent());
      expect(linesOf(claim, 'error')).toEqual([
        {
          message: 'Delivery release failed; its lease lapses on its own',
          attributes: { ...REQUEST, error: { name: 'DeliveryStoreError', message: 'deliveries table release failed (ProvisionedThroughputExceededException)' } },
        },
        {
          message: 'Delivery claim failed',
          attributes: { deliveryId: 'dlv_0001', error: { name: 'DeliveryStoreError', message: 'deliveries table claim failed (ProvisionedThroughputExceededException)' } },
        },
      ]);
      const mark = receiverTestbed();
      mark.deliveries.failNext('markAccepted');
      await mark.send(deliveryEvent());
      expect(linesOf(mark, 'error')).toEqual([{ message: 'Marking delivery accepted failed', attributes: { deliveryId: 'dlv_0001', error: expect.objectContaining({ name: 'DeliveryStoreError' }) } }]);
      expect(mark.metrics.total(METRIC.transientFailure)).toBe(1);
    });
  });

  describe('signature versions and the unsigned mode', () => {
    const rotated = {
      current: { value: 'whsec_new', createdAt: new Date(NOW.getTime() - 3_600_000) },
      previous: { value: SECRET, createdAt: new Date('2026-01-01T00:00:00Z') },
    };

    it('says when the previous secret matched, and says nothing when the current one did', async () => {
      const previous = receiverTestbed({ secrets: rotated });
      await previous.send(deliveryEvent());
      expect(linesOf(previous, 'info')).toContainEqual({
        message: 'Signature matched the previous secret version',
        attributes: { deliveryId: 'dlv_0001', secretVersion: 'AWSPREVIOUS' },
      });
      const current = receiverTestbed({ secrets: rotated });
      await current.send(deliveryEvent({ secret: 'whsec_new' }));
      expect(current.logger.lines.map((line) => line.message)).not.toContain('Signature matched the previous secret version');
    });

    it('warns that verification is off, and still verifies a signature that is sent', async () => {
      const testbed = receiverTestbed({ policy: { requireSignature: false } });
      const signed = await testbed.send(deliveryEvent());
      expect(signed.statusCode).toBe(202);
      expect(testbed.secrets.fetches).toBe(1);
      expect(linesOf(testbed, 'warn')).toEqual([]);
      await testbed.send(deliveryEvent({ signature: null, deliveryId: 'dlv_0002' }));
      expect(linesOf(testbed, 'warn')).toEqual([
        { message: 'Signature verification is disabled: accepting unsigned deliveries', attributes: { requireSignature: false } },
      ]);
    });
  });
});
