/**
 * The reconciler handler with its real Powertools logger and metrics, its
 * real adapters on mocked SDK clients, and a scripted provider: the API key
 * never reaches a log line, an error or a URL, whatever the provider answers,
 * and the environment is checked as a whole.
 */
import { DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { FetchLike } from '../../../lambda/adapters/provider-job-api';
import { ENV } from '../../../lambda/core/contract';
import { createReconcilerHandler, reconcilerDependenciesFromEnv, reconcilerSettingsFromEnv } from '../../../lambda/handlers/reconciler';

const KEY = 'pk_live_key_canary_5c1d0e';
const dynamo = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const sm = mockClient(SecretsManagerClient);

const ENVIRONMENT = {
  [ENV.jobsTable]: 'jobs',
  [ENV.queueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work',
  [ENV.archiveBucket]: 'archive',
  [ENV.providerApiKeySecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf',
  [ENV.stuckAfterSeconds]: '7200',
  [ENV.providerRequestsPerSecond]: '1000',
};

function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const capture = (chunk: unknown): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return { text: () => chunks.join(''), restore: () => (out.mockRestore(), err.mockRestore()) };
}

function handler(fetch: FetchLike) {
  return createReconcilerHandler(
    reconcilerDependenciesFromEnv(ENVIRONMENT, {
      dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
      s3: new S3Client({ region: 'eu-west-1' }),
      sqs: new SQSClient({ region: 'eu-west-1' }),
      secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
      fetch,
      // The pace and the back-off are the sweep's (tested there); here they would only make the test slow.
      sleep: async () => undefined,
    }),
  );
}

describe('the reconciler handler', () => {
  beforeEach(() => {
    for (const mock of [dynamo, s3, sqs, sm]) mock.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: KEY });
    dynamo.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, { N?: string }> }) => ({
      Items: ['1', '2', '3', '4', '5'].map((n) => ({ jobId: { S: `job_${input.ExpressionAttributeValues[':shard'].N}_${n}` }, openedAt: { S: '2026-01-01T00:00:00.000Z' } })),
    }));
    dynamo.on(UpdateItemCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({});
  });

  it('never prints the API key, whatever the provider answers', async () => {
    // Prepare: every kind of answer, some echoing the key back.
    let call = 0;
    const fetch: FetchLike = async (url, init) => {
      expect(init.headers['x-api-key']).toBe(KEY);
      expect(url).not.toContain(KEY);
      call += 1;
      const id = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
      switch (call % 6) {
        case 0:
          throw new TypeError(`connect ECONNREFUSED with header x-api-key: ${KEY}`);
        case 1:
          return new Response(JSON.stringify({ id, status: 'completed', output_url: 'https://cdn.example.com/x.webm' }), { status: 200 });
        case 2:
          return new Response(JSON.stringify({ id, status: 'processing', note: KEY }), { status: 200 });
        case 3:
          return new Response(`{"error":"bad key ${KEY}"`, { status: 200 });
        case 4:
          return new Response(JSON.stringify({ id: 'other', status: 'failed', error: KEY }), { status: 200 });
        default:
          return new Response(`{"message":"invalid key ${KEY}"}`, { status: 500 });
      }
    };
    const output = captureOutput();

    // Act
    let summary;
    try {
      summary = await handler(fetch)({ stuckAfterSeconds: 0 }, { getRemainingTimeInMillis: () => 300_000 });
    } finally {
      output.restore();
    }

    // Assess
    expect(summary.checked).toBeGreaterThan(5);
    expect(summary.repaired).toBeGreaterThan(0);
    expect(output.text()).toContain('Sweep finished');
    expect(output.text()).not.toContain(KEY);
    expect(JSON.stringify(summary)).not.toContain(KEY);
  });

  it('only detects, and counts an error, when the key cannot be read', async () => {
    // Prepare
    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const fetch = jest.fn<ReturnType<FetchLike>, Parameters<FetchLike>>();
    const output = captureOutput();

    // Act
    let summary;
    try {
      summary = await handler(fetch)({ stuckAfterSeconds: 0 }, { getRemainingTimeInMillis: () => 300_000 });
    } finally {
      output.restore();
    }

    // Assess
    expect(summary).toMatchObject({ detectOnly: true, checked: 0, errors: 1, stoppedEarly: 'provider API key could not be read (AccessDeniedException)' });
    expect(fetch).not.toHaveBeenCalled();
    expect(output.text()).toContain('Provider API key unavailable; this sweep only detects');
  });

  it('lists every configuration problem at once', () => {
    expect(() => reconcilerSettingsFromEnv({ [ENV.providerApiUrl]: 'http://api.example.com', [ENV.providerRequestsPerSecond]: '0', [ENV.maxJobsPerSweep]: '1.5' })).toThrow(
      /PROVIDER_API_URL: the provider API base URL must be https.*JOBS_TABLE_NAME is not set; QUEUE_URL is not set; ARCHIVE_BUCKET_NAME is not set; MAX_JOBS_PER_SWEEP must be a non-negative integer; PROVIDER_REQUESTS_PER_SECOND must be greater than 0/,
    );
  });
});
