/**
 * What reaches the logs, with the real Powertools logger of each handler and
 * everything it prints captured: never the signing secret, never a signature
 * value, never a body or a value from inside one. Receiver paths beyond the
 * happy one are covered by the bad-input property tests; these add the worker,
 * and pin down a finding: schema rejections echo body values.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { StaticSecretSource } from '../../../lambda/adapters/static-secret-source';
import { ENV, QUEUE_MESSAGE_VERSION } from '../../../lambda/core/contract';
import { createReceiverHandler, receiverDependenciesFromEnv } from '../../../lambda/handlers/receiver';
import { createWorkerHandler, workerDependenciesFromEnv } from '../../../lambda/handlers/worker';
import { deliveryEvent, providerSignature, SECRET } from '../receiver/support/factories';

const CANARY = 'log-canary-7f3e9a';

const dynamo = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);

/** Everything Powertools prints (through its own Console, on stdout and stderr). */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const capture = (chunk: unknown): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    text: () => chunks.join(''),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

function receiver() {
  return createReceiverHandler(
    receiverDependenciesFromEnv(
      { [ENV.deliveriesTable]: 'deliveries', [ENV.archiveBucket]: 'archive', [ENV.queueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work' },
      { secrets: new StaticSecretSource(SECRET), dynamodb: new DynamoDBClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }), sqs: new SQSClient({ region: 'eu-west-1' }) },
    ),
  );
}

function worker() {
  return createWorkerHandler(
    workerDependenciesFromEnv({ [ENV.jobsTable]: 'jobs', [ENV.archiveBucket]: 'archive' }, { dynamodb: new DynamoDBClient({ region: 'eu-west-1' }), s3: new S3Client({ region: 'eu-west-1' }) }),
  );
}

function queueRecord(messageId: string, deliveryId: string, event: string, payload: unknown): SQSEvent['Records'][number] {
  const body = JSON.stringify({
    v: QUEUE_MESSAGE_VERSION,
    deliveryId,
    event,
    jobId: 'job_log',
    timestamp: '2026-11-27T10:00:00.000Z',
    receivedAt: '2026-11-27T10:00:01.000Z',
    archive: { bucket: 'archive', key: `raw/2026/11/27/10/${deliveryId}.json` },
    payload,
  });
  return { messageId, receiptHandle: 'r', body, attributes: {}, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'eu-west-1' } as unknown as SQSEvent['Records'][number];
}

beforeEach(() => {
  dynamo.reset();
  s3.reset();
  sqs.reset();
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

describe('log lines', () => {
  describe('of the receiver', () => {
    it('carry neither the secret, the signature nor any body value when a delivery is accepted', async () => {
      dynamo.on(UpdateItemCommand).resolves({
        Attributes: {
          deliveryId: { S: 'dlv_log' },
          status: { S: 'in_progress' },
          bodySha256: { S: 'x' },
          leaseExpiresAt: { N: String(Date.now() + 30_000) },
          receivedAt: { S: new Date().toISOString() },
          expiresAt: { N: '9999999999' },
          attemptId: { S: 'a' },
        },
      });
      const body = { event: 'job.completed', data: { job_id: 'job_log', output_url: `https://cdn.example.com/${CANARY}.webm`, note: CANARY } };
      const event = deliveryEvent({ deliveryId: 'dlv_log', body, timestamp: new Date().toISOString() });
      const output = captureOutput();
      let answer;
      try {
        answer = await receiver()(event);
      } finally {
        output.restore();
      }

      expect(answer).toMatchObject({ statusCode: 202 });
      const text = output.text();
      expect(text).toContain('Webhook accepted');
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(event.headers['x-webhook-signature']?.slice('sha256='.length) ?? 'never');
      expect(text).not.toContain(CANARY);
    });

    // valibot's own issue messages quote the value they received; the receiver
    // logs only where and what failed, so a token in a signed body's URL stays out.
    it('carry no value from a validly signed body that breaks the schema', async () => {
      const body = { event: 'job.completed', data: { job_id: 'job_log', output_url: `not a url ${CANARY}` } };
      const timestamp = new Date().toISOString();
      const event = deliveryEvent({ deliveryId: 'dlv_log_bad', body, timestamp, signature: providerSignature(JSON.stringify(body), timestamp, SECRET) });
      const output = captureOutput();
      let answer;
      try {
        answer = await receiver()(event);
      } finally {
        output.restore();
      }

      expect(answer).toMatchObject({ statusCode: 400 });
      expect(output.text()).not.toContain(CANARY);
    });
  });

  describe('of the worker', () => {
    it('carry no body value when an event is applied', async () => {
      dynamo.on(UpdateItemCommand).resolves({});
      const payload = { event: 'job.completed', data: { job_id: 'job_log', output_url: `https://cdn.example.com/${CANARY}.webm`, note: CANARY } };
      const output = captureOutput();
      let result;
      try {
        result = await worker()({ Records: [queueRecord('m1', 'dlv_w1', 'job.completed', payload)] });
      } finally {
        output.restore();
      }

      expect(result.batchItemFailures).toEqual([]);
      expect(output.text()).toContain('Batch processed');
      expect(output.text()).not.toContain(CANARY);
    });

    it('carry no body value when the job store fails', async () => {
      dynamo.on(UpdateItemCommand).rejects(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }));
      const payload = { event: 'job.started', data: { job_id: 'job_log', video_url: `https://uploads.example.com/${CANARY}.mp4` } };
      const output = captureOutput();
      let result;
      try {
        result = await worker()({ Records: [queueRecord('m2', 'dlv_w2', 'job.started', payload)] });
      } finally {
        output.restore();
      }

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
      expect(output.text()).toContain('Record failed');
      expect(output.text()).not.toContain(CANARY);
    });

    // The worker logs a poison message's issues the same way: paths and kinds, no values.
    it('carry no value from a poison message payload', async () => {
      const payload = { event: 'job.completed', data: { job_id: 'job_log', output_url: `not a url ${CANARY}` } };
      const output = captureOutput();
      let result;
      try {
        result = await worker()({ Records: [queueRecord('m3', 'dlv_w3', 'job.completed', payload)] });
      } finally {
        output.restore();
      }

      expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm3' }]);
      expect(output.text()).toContain('Poison message');
      expect(output.text()).not.toContain(CANARY);
    });
  });
});
