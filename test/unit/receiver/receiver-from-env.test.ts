import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { StaticSecretSource } from '../../../lambda/adapters/static-secret-source';
import { ENV } from '../../../lambda/core/contract';
import { createReceiverHandler, handler, receiverDependenciesFromEnv } from '../../../lambda/handlers/receiver';
import { deliveryEvent, NOW, SECRET } from './support/factories';

const ENVIRONMENT = {
  [ENV.deliveriesTable]: 'deliveries',
  [ENV.archiveBucket]: 'archive-bucket',
  [ENV.queueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work',
};

const dynamo = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);

/** Everything Powertools writes (it prints through its own Console on stdout and stderr). */
function captureOutput(): { lines: () => string[]; restore: () => void } {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    lines: () => chunks.join('').split('\n').filter((line) => line.trim() !== ''),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

function claimedItem(bodySha256: string) {
  return {
    deliveryId: { S: 'dlv_env' },
    status: { S: 'in_progress' },
    bodySha256: { S: bodySha256 },
    leaseExpiresAt: { N: String(Date.now() + 30_000) },
    receivedAt: { S: NOW.toISOString() },
    expiresAt: { N: String(Math.floor(Date.now() / 1000) + 86400) },
    attemptId: { S: 'a' },
  };
}

beforeEach(() => {
  dynamo.reset();
  s3.reset();
  sqs.reset();
});

describe('receiverDependenciesFromEnv', () => {
  it('wires the AWS adapters to injected clients, as the local stack does', async () => {
    // Prepare
    const event = deliveryEvent({ deliveryId: 'dlv_env', timestamp: new Date().toISOString() });
    const bodySha256 = createHash('sha256').update(event.body ?? '').digest('hex');
    dynamo.on(UpdateItemCommand).resolves({ Attributes: claimedItem(bodySha256) });
    s3.on(PutObjectCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const output = captureOutput();

    // Act
    const receive = createReceiverHandler(
      receiverDependenciesFromEnv(ENVIRONMENT, {
        secrets: new StaticSecretSource(SECRET),
        dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
        s3: new S3Client({ region: 'eu-west-1' }),
        sqs: new SQSClient({ region: 'eu-west-1' }),
      }),
    );
    const result = await receive(event);
    output.restore();

    // Assess
    expect(result).toMatchObject({ statusCode: 202 });
    expect(dynamo.commandCalls(UpdateItemCommand)).toHaveLength(2);
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({ Bucket: 'archive-bucket', Key: 'raw/2026/11/27/10/dlv_env.json' });
    expect(sqs.commandCalls(SendMessageCommand)[0].args[0].input.QueueUrl).toBe(ENVIRONMENT[ENV.queueUrl]);
  });

  it('requires a secret ARN unless a secret source is injected or signatures are opted out', () => {
    expect(() => receiverDependenciesFromEnv(ENVIRONMENT)).toThrow(`${ENV.signingSecretArn} is required`);
    expect(() => receiverDependenciesFromEnv({ ...ENVIRONMENT, [ENV.requireSignature]: 'false' })).not.toThrow();
    expect(() => receiverDependenciesFromEnv({ ...ENVIRONMENT, [ENV.signingSecretArn]: 'arn:aws:secretsmanager:eu-west-1:1:secret:s' })).not.toThrow();
  });
});

describe('with the real Powertools logger and metrics', () => {
  it('writes structured lines with the correlation id and reason, and never the secret, signature or body', async () => {
    // Prepare
    const marker = 'BODY-MARKER-93ab';
    const body = { event: 'job.completed', data: { job_id: 'job_1', output_url: 'https://cdn.example.com/o', note: marker } };
    const wrong = deliveryEvent({ body, deliveryId: 'dlv_wrong', timestamp: new Date().toISOString(), secret: 'whsec_other' });
    const unsigned = deliveryEvent({ body, deliveryId: 'dlv_unsigned', timestamp: new Date().toISOString(), signature: null });
    const receive = createReceiverHandler(receiverDependenciesFromEnv(ENVIRONMENT, { secrets: new StaticSecretSource(SECRET) }));
    const output = captureOutput();

    // Act
    await receive(wrong);
    await receive(unsigned);
    output.restore();

    // Assess
    const text = output.lines().join('\n');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain((wrong.headers['x-webhook-signature'] as string).slice(7));
    expect(text).not.toContain(marker);
    const logs = output.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs).toContainEqual(
      expect.objectContaining({ message: 'Webhook rejected', reason: 'invalid_signature', correlation_id: 'dlv_wrong', signaturePresent: true }),
    );
    expect(logs).toContainEqual(expect.objectContaining({ message: 'Webhook rejected', reason: 'missing_signature', correlation_id: 'dlv_unsigned' }));
    const metricNames = logs.flatMap((line) => {
      const aws = line._aws as { CloudWatchMetrics?: { Metrics: { Name: string }[]; Dimensions: string[][] }[] } | undefined;
      return aws?.CloudWatchMetrics?.flatMap((entry) => entry.Metrics.map((metric) => `${metric.Name}[${entry.Dimensions.flat().join(',')}]`)) ?? [];
    });
    expect(metricNames).toEqual(
      expect.arrayContaining(['DeliveryRejected[service,reason]', 'DeliveryRejected[service]', 'SignatureInvalid[service]']),
    );
  });
});

describe('handler', () => {
  it('answers 503 and logs every configuration problem when the environment is incomplete', async () => {
    // Prepare
    const output = captureOutput();

    // Act
    const result = await handler(deliveryEvent());
    output.restore();

    // Assess
    expect(result).toMatchObject({ statusCode: 503, body: JSON.stringify({ status: 'error', reason: 'transient' }) });
    const line = JSON.parse(output.lines()[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ message: 'Receiver configuration invalid', problems: expect.arrayContaining([`${ENV.deliveriesTable} is required`]) });
  });
});
