/**
 * A fake AWS behind the SDK's own transport: requests are built, serialized and
 * signed by the real clients, answers are parsed by the real deserializers; only
 * the socket is replaced. That keeps every cost the Lambda pays except the
 * network (the benchmarks), and lets the IAM check drive code paths no local
 * emulator serves, such as SQS message move tasks (local/iam/offline-paths.ts).
 *
 * Answers, after the services' API references: DynamoDB UpdateItem (a claimed
 * record for ReturnValues ALL_NEW, else empty), SQS SendMessage (with the MD5
 * the client checks), GetQueueAttributes (QueueArn from the URL, zero counts),
 * StartMessageMoveTask (a task handle) and ListMessageMoveTasks (that task,
 * COMPLETED), Secrets Manager GetSecretValue (AWSCURRENT; AWSPREVIOUS is
 * ResourceNotFoundException, a never-rotated secret), S3 PUT and GET of objects,
 * CloudWatch GetMetricData (every query Complete, no datapoints: a quiet stack)
 * and CloudWatch Logs FilterLogEvents (no event, no next token). Anything else throws.
 */
import { createHash, randomUUID } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

interface WireResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export interface FakeAwsOptions {
  readonly secret: string;
  /** Added to every call (a timer, not CPU): lets a trace show which calls overlap. */
  readonly delayMs?: number;
}

const JSON_10 = 'application/x-amz-json-1.0';
const FAKE_TASK_HANDLE = 'fake-move-task';
const JSON_11 = 'application/x-amz-json-1.1';
const encoder = new TextEncoder();

function json(body: unknown, contentType: string, statusCode = 200, extra: Record<string, string> = {}): WireResponse {
  return {
    statusCode,
    headers: { 'content-type': contentType, 'x-amzn-requestid': 'bench', ...extra },
    body: encoder.encode(JSON.stringify(body)),
  };
}

const decoder = new TextDecoder();

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  // Decoded as bytes: the SDK's JSON bodies warn when string methods are called on them.
  if (body instanceof Uint8Array) return decoder.decode(body);
  return '';
}

/** A claimed delivery record, as UpdateItem ReturnValues ALL_NEW returns it. */
export function claimedItem(attemptId: string = randomUUID()): { Attributes: Record<string, AttributeValue> } {
  const now = Date.now();
  return {
    Attributes: {
      deliveryId: { S: 'dlv_bench' },
      status: { S: 'in_progress' },
      bodySha256: { S: '0'.repeat(64) },
      leaseExpiresAt: { N: String(now + 30_000) },
      receivedAt: { S: new Date(now).toISOString() },
      expiresAt: { N: String(Math.floor(now / 1000) + 2_592_000) },
      attemptId: { S: attemptId },
    },
  };
}

export class FakeAws {
  /** Time spent inside the fake itself, to subtract from handler timings. */
  stubNanos = 0n;
  calls = 0;
  readonly objects = new Map<string, Uint8Array>();
  private readonly claimResponse = json(claimedItem(), JSON_10);
  private readonly emptyDynamo = json({}, JSON_10);

  constructor(private readonly options: FakeAwsOptions) {}

  /** A `requestHandler` for any SDK v3 client. */
  get requestHandler(): { handle(request: WireRequest): Promise<{ response: WireResponse }> } {
    return {
      handle: async (request) => {
        const started = process.hrtime.bigint();
        const response = this.answer(request);
        this.stubNanos += process.hrtime.bigint() - started;
        this.calls += 1;
        if (this.options.delayMs) await new Promise((resolve) => setTimeout(resolve, this.options.delayMs));
        return { response };
      },
    };
  }

  /** `config` adds per-service options, e.g. the receiver's own (RECEIVER_CLIENT_CONFIG). */
  clients(config: { sqs?: SQSClientConfig } = {}): {
    dynamodb: DynamoDBClient;
    s3: S3Client;
    sqs: SQSClient;
    firehose: FirehoseClient;
    secretsManager: SecretsManagerClient;
    cloudwatch: CloudWatchClient;
    logs: CloudWatchLogsClient;
  } {
    // Static credentials and a region, as a Lambda has from its environment: no provider chain lookups.
    const common = {
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench', sessionToken: 'bench' },
      requestHandler: this.requestHandler as never,
    };
    return {
      dynamodb: new DynamoDBClient(common),
      s3: new S3Client(common),
      sqs: new SQSClient({ ...config.sqs, ...common }),
      firehose: new FirehoseClient(common),
      secretsManager: new SecretsManagerClient(common),
      cloudwatch: new CloudWatchClient(common),
      logs: new CloudWatchLogsClient(common),
    };
  }

  private answer(request: WireRequest): WireResponse {
    const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
    if (target === undefined) return this.s3(request);
    const [service, operation] = target.split('.');
    if (service.startsWith('DynamoDB')) {
      if (operation === 'UpdateItem') return bodyText(request.body).includes('"ReturnValues":"ALL_NEW"') ? this.claimResponse : this.emptyDynamo;
      return this.emptyDynamo;
    }
    if (service === 'AmazonSQS' && operation === 'SendMessage') {
      const input = JSON.parse(bodyText(request.body)) as { MessageBody: string };
      // The SQS client checks the MD5 of what it sent, so the fake must compute it.
      const md5 = createHash('md5').update(input.MessageBody, 'utf8').digest('hex');
      return json({ MessageId: randomUUID(), MD5OfMessageBody: md5 }, JSON_10);
    }
    if (service === 'AmazonSQS') {
      const input = JSON.parse(bodyText(request.body)) as { QueueUrl?: string; SourceArn?: string };
      if (operation === 'GetQueueAttributes' && input.QueueUrl !== undefined) {
        const [account, name] = new URL(input.QueueUrl).pathname.split('/').filter(Boolean);
        const attributes = { QueueArn: `arn:aws:sqs:us-east-1:${account}:${name}`, ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' };
        return json({ Attributes: attributes }, JSON_10);
      }
      if (operation === 'StartMessageMoveTask') return json({ TaskHandle: FAKE_TASK_HANDLE }, JSON_10);
      if (operation === 'ListMessageMoveTasks') {
        const task = { TaskHandle: FAKE_TASK_HANDLE, Status: 'COMPLETED', SourceArn: input.SourceArn, ApproximateNumberOfMessagesMoved: 0, ApproximateNumberOfMessagesToMove: 0 };
        return json({ Results: [task] }, JSON_10);
      }
    }
    if (service === 'Firehose_20150804' && operation === 'PutRecordBatch') {
      const input = JSON.parse(bodyText(request.body)) as { Records?: unknown[] };
      return json({ FailedPutCount: 0, Encrypted: false, RequestResponses: (input.Records ?? []).map(() => ({ RecordId: randomUUID() })) }, JSON_11);
    }
    if (service === 'secretsmanager' && operation === 'GetSecretValue') {
      const input = JSON.parse(bodyText(request.body)) as { VersionStage?: string };
      if (input.VersionStage === 'AWSPREVIOUS') {
        return json({ __type: 'ResourceNotFoundException', message: 'no AWSPREVIOUS version' }, JSON_11, 400, {
          'x-amzn-errortype': 'ResourceNotFoundException',
        });
      }
      return json(
        { ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench', Name: 'bench', SecretString: this.options.secret, CreatedDate: 1_700_000_000, VersionId: 'v1', VersionStages: ['AWSCURRENT'] },
        JSON_11,
      );
    }
    if (service === 'GraniteServiceVersion20100801' && operation === 'GetMetricData') {
      const input = JSON.parse(bodyText(request.body)) as { MetricDataQueries?: Array<{ Id: string }> };
      const results = (input.MetricDataQueries ?? []).map((query) => ({ Id: query.Id, Label: query.Id, Timestamps: [], Values: [], StatusCode: 'Complete' }));
      return json({ MetricDataResults: results, Messages: [] }, JSON_10);
    }
    if (service === 'Logs_20140328' && operation === 'FilterLogEvents') return json({ events: [], searchedLogStreams: [] }, JSON_11);
    throw new Error(`fake AWS has no answer for ${target}`);
  }

  private s3(request: WireRequest): WireResponse {
    if (request.method === 'PUT') {
      if (request.body instanceof Uint8Array) this.objects.set(request.path, request.body);
      return { statusCode: 200, headers: { etag: '"bench"', 'x-amz-request-id': 'bench' }, body: new Uint8Array(0) };
    }
    const object = this.objects.get(request.path);
    if (request.method === 'GET' && object) {
      return { statusCode: 200, headers: { 'content-length': String(object.length), 'content-type': 'application/json' }, body: object };
    }
    return { statusCode: 404, headers: { 'content-type': 'application/xml' }, body: encoder.encode('<Error><Code>NoSuchKey</Code></Error>') };
  }
}
