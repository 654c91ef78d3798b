/**
 * Every rejected request gets its 4xx and leaves no trace: no dedupe record,
 * no job item, no archive object and no queue message.
 */
import { DEFAULTS } from '../../lambda/core/contract';
import { buildDelivery, signDelivery, type Delivery } from '../../ops/lib/provider';
import {
  archivedEntriesFor,
  waitForArchiveFlushed,
  connect,
  getDeliveryRecord,
  getJob,
  inspectQueue,
  send,
  signedDelivery,
  uniqueId,
  waitForQueueDrained,
  type E2eStack,
} from './support/stack';

// The project's testTimeout is a global-only option in Jest, so each e2e file sets its own.
jest.setTimeout(120_000);

describe('rejected requests', () => {
  let stack: E2eStack;

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  /** The delivery with one header replaced (names as the provider spells them). */
  function withHeader(delivery: Delivery, name: string, value: string | undefined): Delivery {
    const headers = { ...delivery.headers };
    if (value === undefined) delete headers[name];
    else headers[name] = value;
    return { ...delivery, headers };
  }

  function signedRaw(body: string, options: { event?: string; timestamp?: string; deliveryId?: string } = {}): Delivery {
    return buildDelivery({
      event: options.event ?? 'job.completed',
      body,
      deliveryId: options.deliveryId ?? uniqueId('dlv'),
      timestamp: options.timestamp,
      secret: stack.context.signingSecret,
    });
  }

  const cases: Array<{ name: string; status: number; reason: string; build: (jobId: string) => Delivery }> = [
    {
      name: 'a body changed after signing',
      status: 401,
      reason: 'invalid_signature',
      build: (jobId) => {
        const delivery = signedDelivery(stack, 'job.completed', { jobId });
        return { ...delivery, body: (delivery.body as string).replace('"credits_used":12', '"credits_used":1') };
      },
    },
    {
      name: 'a signature made with another secret',
      status: 401,
      reason: 'invalid_signature',
      build: (jobId) => {
        const delivery = signedDelivery(stack, 'job.completed', { jobId });
        return withHeader(delivery, 'X-Webhook-Signature', signDelivery('not-the-secret', delivery.timestamp, delivery.body));
      },
    },
    {
      name: 'a signature of the wrong length',
      status: 401,
      reason: 'invalid_signature',
      build: (jobId) => withHeader(signedDelivery(stack, 'job.completed', { jobId }), 'X-Webhook-Signature', 'sha256=abc'),
    },
    {
      name: 'no signature at all',
      status: 401,
      reason: 'missing_signature',
      build: (jobId) => withHeader(signedDelivery(stack, 'job.completed', { jobId }), 'X-Webhook-Signature', undefined),
    },
    {
      name: 'a correctly signed but stale timestamp',
      status: 401,
      reason: 'stale_timestamp',
      build: (jobId) =>
        signedDelivery(stack, 'job.completed', { jobId, timestamp: new Date(Date.now() - (DEFAULTS.timestampToleranceSeconds + 60) * 1000).toISOString() }),
    },
    {
      name: 'a correctly signed timestamp too far in the future',
      status: 401,
      reason: 'stale_timestamp',
      build: (jobId) =>
        signedDelivery(stack, 'job.completed', { jobId, timestamp: new Date(Date.now() + (DEFAULTS.timestampToleranceSeconds + 60) * 1000).toISOString() }),
    },
    {
      name: 'a timestamp without a zone',
      status: 400,
      reason: 'malformed_timestamp',
      build: (jobId) => signedDelivery(stack, 'job.completed', { jobId, timestamp: new Date().toISOString().replace('Z', '') }),
    },
    {
      name: 'a signed body that is not JSON',
      status: 400,
      reason: 'invalid_json',
      build: (jobId) => signedRaw(`{"event":"job.completed","data":{"job_id":"${jobId}"`),
    },
    {
      name: 'a job.completed without output_url',
      status: 400,
      reason: 'schema_violation',
      build: (jobId) => signedRaw(JSON.stringify({ event: 'job.completed', data: { job_id: jobId, status: 'completed' } })),
    },
    {
      name: 'a body event that disagrees with the header',
      status: 400,
      reason: 'event_mismatch',
      build: (jobId) =>
        signedRaw(JSON.stringify({ event: 'job.started', data: { job_id: jobId, output_url: 'https://cdn.example.com/x.webm' } }), {
          event: 'job.completed',
        }),
    },
    {
      name: 'an unknown event',
      status: 400,
      reason: 'unknown_event',
      build: (jobId) => signedRaw(JSON.stringify({ data: { job_id: jobId } }), { event: 'job.deleted' }),
    },
    {
      name: 'a missing delivery id',
      status: 400,
      reason: 'missing_header',
      build: (jobId) => withHeader(signedDelivery(stack, 'job.completed', { jobId }), 'X-Webhook-Delivery-Id', undefined),
    },
    {
      name: 'a delivery id with forbidden characters',
      status: 400,
      reason: 'invalid_delivery_id',
      build: (jobId) => signedDelivery(stack, 'job.completed', { jobId, deliveryId: `bad/${uniqueId('dlv')}` }),
    },
    {
      name: 'a body over the receiver limit',
      status: 413,
      reason: 'payload_too_large',
      build: (jobId) => signedRaw(JSON.stringify({ event: 'job.completed', data: { job_id: jobId, padding: 'x'.repeat(DEFAULTS.maxBodyBytes) } })),
    },
  ];

  describe.each(cases)('$name', ({ status, reason, build }) => {
    it(`is answered ${status} ${reason} and changes nothing`, async () => {
      // Prepare
      const jobId = uniqueId('job');
      const delivery = build(jobId);

      // Act
      const answer = await send(stack, delivery);
      await waitForQueueDrained(stack);

      // Assess
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ status: 'rejected', reason });
      expect(JSON.stringify(answer.body)).not.toContain(stack.context.signingSecret);
      expect(await getDeliveryRecord(stack, delivery.deliveryId)).toBeUndefined();
      expect(await getJob(stack, jobId)).toBeUndefined();
      await waitForArchiveFlushed(stack);
      expect(await archivedEntriesFor(stack, delivery.deliveryId)).toEqual([]);
      const queued = [...(await inspectQueue(stack, stack.outputs.QueueUrl)), ...(await inspectQueue(stack, stack.outputs.DeadLetterQueueUrl))];
      expect(queued.filter((message) => message.body.includes(jobId) || message.body.includes(delivery.deliveryId))).toEqual([]);
    });
  });

  describe('a body over API Gateway\'s 10 MB limit', () => {
    it('is answered 413 before it reaches the receiver', async () => {
      // Prepare
      const jobId = uniqueId('job');
      const delivery = signedRaw(JSON.stringify({ event: 'job.completed', data: { job_id: jobId, padding: 'x'.repeat(10 * 1024 * 1024) } }));

      // Act
      const answer = await send(stack, delivery);

      // Assess
      expect(answer).toMatchObject({ status: 413, body: { message: 'Request Entity Too Large' } });
      expect(await getDeliveryRecord(stack, delivery.deliveryId)).toBeUndefined();
    });
  });

  describe('another route or method', () => {
    it('is answered 404 like an HTTP API with one route', async () => {
      // Act
      const other = await fetch(stack.outputs.WebhookUrl.replace(/\/webhooks$/, '/other'), { method: 'POST', body: '{}' });
      const get = await fetch(stack.outputs.WebhookUrl);

      // Assess
      expect(other.status).toBe(404);
      expect(get.status).toBe(404);
      expect(await get.json()).toEqual({ message: 'Not Found' });
    });
  });
});
