import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEFAULTS } from '../../lambda/core/contract';
import { JobWorker, type JobWorkerProps } from '../../lib/job-worker';
import { Operations, type OperationsProps } from '../../lib/operations';
import { DEFAULT_QUEUE_VISIBILITY_TIMEOUT_SECONDS, PropsValidationError } from '../../lib/secure-defaults';
import { MAX_BODY_BYTES_LIMIT, WebhookIngestion, type WebhookIngestionProps } from '../../lib/webhook-ingestion';
import { projectApp } from './support/synth';

const MiB = 1024 * 1024;

function newStack(): Stack {
  // Validation runs before any function is built, so nothing is bundled here.
  return new Stack(projectApp({ bundle: false }), 'Validation');
}

function errorOf(build: () => unknown): PropsValidationError {
  try {
    build();
  } catch (error) {
    if (error instanceof PropsValidationError) return error;
    throw error;
  }
  throw new Error('expected a PropsValidationError');
}

describe('WebhookIngestion props validation', () => {
  const build = (props: WebhookIngestionProps) => () => new WebhookIngestion(newStack(), 'Ingestion', props);

  it.each<[string, WebhookIngestionProps, string]>([
    ['a zero timestamp tolerance', { timestampToleranceSeconds: 0 }, 'timestampToleranceSeconds must be an integer between 1 and 3600 (got 0)'],
    ['a tolerance over an hour', { timestampToleranceSeconds: 7200 }, 'timestampToleranceSeconds must be an integer between 1 and 3600 (got 7200)'],
    ['a body limit above what Lambda can receive', { maxBodyBytes: 11 * MiB }, `maxBodyBytes must be an integer between 1 and 4694016 (got ${11 * MiB}): Lambda's 6 MB invocation payload`],
    ['a body limit that fits API Gateway but not base64-encoded in Lambda', { maxBodyBytes: 5 * MiB }, `maxBodyBytes must be an integer between 1 and 4694016 (got ${5 * MiB})`],
    ['a zero body limit', { maxBodyBytes: 0 }, 'maxBodyBytes must be an integer between 1'],
    ['a guessable webhook path token', { webhookPathToken: 'secret' }, 'webhookPathToken must be 32 to 128 characters of A-Z a-z 0-9 _ -'],
    ['a webhook path token with a slash', { webhookPathToken: `${'a'.repeat(32)}/x` }, 'webhookPathToken must be 32 to 128 characters'],
    ['a dedupe TTL under a day', { dedupeTtlDays: 0 }, 'dedupeTtlDays must be an integer >= 1 (got 0)'],
    ['a lease no longer than the receiver timeout', { leaseSeconds: DEFAULTS.receiverTimeoutSeconds }, `leaseSeconds must be an integer >= ${DEFAULTS.receiverTimeoutSeconds + 1}`],
    ['a negative rotation grace', { rotationGraceSeconds: -1 }, 'rotationGraceSeconds must be an integer >= 0 (got -1)'],
    ['a secret cache over an hour', { secretCacheSeconds: 3601 }, 'secretCacheSeconds must be an integer between 0 and 3600 (got 3601)'],
    ['an inline payload limit beyond the queue message', { inlinePayloadMaxBytes: MiB }, `inlinePayloadMaxBytes must be an integer between 0 and ${MiB - 1024}`],
    ['an archive buffering interval beyond Firehose\'s 900 s', { archiveBufferingInterval: Duration.seconds(901) }, 'archiveBufferingInterval must be between 0 and 900 seconds (got 901)'],
    ['an archive buffer beyond Firehose\'s 128 MiB', { archiveBufferingSize: Size.mebibytes(129) }, 'archiveBufferingSize must be between 1 and 128 MiB (got 129)'],
    ['archive buffering without the archive stream', { deployArchiveStream: false, archiveBufferingInterval: Duration.seconds(30) }, 'archiveBufferingInterval and archiveBufferingSize need deployArchiveStream'],
    ['a cold transition at day zero', { archiveColdAfterDays: 0 }, 'archiveColdAfterDays must be an integer >= 1 (got 0)'],
    ['a fractional archive retention', { archiveRetentionDays: 400.5 }, 'archiveRetentionDays must be an integer >= 1 (got 400.5)'],
    ['a zero noncurrent version expiry', { archiveNoncurrentVersionExpirationDays: 0 }, 'archiveNoncurrentVersionExpirationDays must be an integer >= 1 (got 0)'],
    ['a retention shorter than the cold transition', { archiveRetentionDays: 20, archiveColdAfterDays: 30 }, 'archiveRetentionDays (20) must be greater than archiveColdAfterDays (30)'],
    ['a retention equal to the cold transition', { archiveRetentionDays: 30 }, 'archiveRetentionDays (30) must be greater than archiveColdAfterDays (30)'],
    ['a zero rate limit', { throttleRateLimit: 0 }, 'throttleRateLimit must be a number > 0 (got 0)'],
    ['a zero burst limit', { throttleBurstLimit: 0 }, 'throttleBurstLimit must be an integer >= 1 (got 0)'],
    ['too little receiver memory', { receiverMemorySize: 64 }, 'receiverMemorySize must be an integer between 128 and 10240 (got 64)'],
    ['too much receiver memory', { receiverMemorySize: 20_000 }, 'receiverMemorySize must be an integer between 128 and 10240 (got 20000)'],
    ['a zero reserved concurrency', { receiverReservedConcurrency: 0 }, 'receiverReservedConcurrency must be an integer >= 1 (got 0)'],
    ['an unencrypted archive', { archiveBucketProps: { encryption: s3.BucketEncryption.UNENCRYPTED } }, 'archiveBucketProps.encryption must not be UNENCRYPTED'],
    ['an unencrypted queue', { queueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } }, 'queueProps.encryption must not be UNENCRYPTED'],
    ['an unencrypted DLQ', { deadLetterQueueProps: { encryption: sqs.QueueEncryption.UNENCRYPTED } }, 'deadLetterQueueProps.encryption must not be UNENCRYPTED'],
    ['a visibility timeout under six worker timeouts', { queueProps: { visibilityTimeout: Duration.seconds(60) } }, 'queueProps.visibilityTimeout (60 s) must be at least 6x the worker timeout (180 s)'],
    ['destroyOnRemoval with a retained removal policy', { destroyOnRemoval: true, removalPolicy: RemovalPolicy.RETAIN }, 'destroyOnRemoval deletes every resource; it contradicts removalPolicy retain'],
  ])('rejects %s', (_case, props, message) => {
    expect(errorOf(build(props)).problems).toEqual([expect.stringContaining(message)]);
  });

  it('reports every problem in one error', () => {
    const error = errorOf(build({ timestampToleranceSeconds: 0, maxBodyBytes: 11 * MiB, receiverMemorySize: 1 }));
    expect(error.problems).toHaveLength(3);
    expect(error.message).toMatch(/^Invalid WebhookIngestion props:\n {2}- timestampToleranceSeconds.*\n {2}- maxBodyBytes.*\n {2}- receiverMemorySize/);
  });

  it('accepts the largest body limit Lambda can still be handed base64-encoded', () => {
    expect(build({ maxBodyBytes: MAX_BODY_BYTES_LIMIT })).not.toThrow();
    expect(MAX_BODY_BYTES_LIMIT).toBe(Math.floor(((6 * MiB - 32 * 1024) * 3) / 4));
  });

  it('accepts the defaults and sensible overrides', () => {
    expect(build({})).not.toThrow();
    expect(build({ timestampToleranceSeconds: 60, archiveColdAfterDays: 60, archiveRetentionDays: 90, throttleRateLimit: 0.5 })).not.toThrow();
  });
});

describe('JobWorker props validation', () => {
  // A generous visibility timeout by default, so each case below trips only its own rule.
  function build(overrides: Partial<JobWorkerProps>, visibilitySeconds = 12 * 3600) {
    return () => {
      const stack = newStack();
      const props: JobWorkerProps = {
        queue: new sqs.Queue(stack, 'Queue', { visibilityTimeout: Duration.seconds(visibilitySeconds) }),
        deadLetterQueue: new sqs.Queue(stack, 'Dlq'),
        archiveBucket: new s3.Bucket(stack, 'Archive'),
        ...overrides,
      };
      return new JobWorker(stack, 'Worker', props);
    };
  }

  it.each<[string, Partial<JobWorkerProps>, string]>([
    ['too little worker memory', { workerMemorySize: 100 }, 'workerMemorySize must be an integer between 128 and 10240 (got 100)'],
    ['a zero batch size', { batchSize: 0 }, 'batchSize must be an integer between 1 and 10000 (got 0)'],
    ['a max concurrency below Lambda\'s minimum', { maxConcurrency: 1 }, 'maxConcurrency must be an integer between 2 and 1000 (got 1)'],
    ['a batching window over five minutes', { maxBatchingWindow: Duration.minutes(6) }, 'maxBatchingWindow must be between 0 and 300 seconds (got 360)'],
    ['a batch over 10 without a batching window', { batchSize: 50, maxBatchingWindow: Duration.seconds(0) }, 'batchSize above 10 needs a maxBatchingWindow greater than 0'],
    ['an existing table with table props', { existingJobsTable: {} as dynamodb.ITable, jobsTableProps: {} }, 'existingJobsTable and jobsTableProps are mutually exclusive'],
    ['destroyOnRemoval with a snapshot removal policy', { destroyOnRemoval: true, removalPolicy: RemovalPolicy.SNAPSHOT }, 'destroyOnRemoval deletes every resource; it contradicts removalPolicy snapshot'],
  ])('rejects %s', (_case, overrides, message) => {
    expect(errorOf(build(overrides)).problems).toEqual([expect.stringContaining(message)]);
  });

  it("rejects a queue whose visibility timeout is under six worker timeouts plus the batching window", () => {
    expect(errorOf(build({}, 6 * DEFAULTS.workerTimeoutSeconds)).problems).toEqual([
      `the queue's visibility timeout (180 s) must be at least 6x the worker timeout plus the batching window (${6 * DEFAULTS.workerTimeoutSeconds + DEFAULTS.workerBatchingWindowSeconds} s)`,
    ]);
  });

  it('reports every problem in one error', () => {
    expect(errorOf(build({ workerMemorySize: 1, batchSize: 0, maxConcurrency: 0 })).problems).toHaveLength(3);
  });

  it("accepts the defaults with the ingress side's default queue", () => {
    expect(build({}, DEFAULT_QUEUE_VISIBILITY_TIMEOUT_SECONDS)).not.toThrow();
  });
});

describe('Operations props validation', () => {
  function build(overrides: Partial<OperationsProps>) {
    return () => {
      const stack = newStack();
      const ingestion = new WebhookIngestion(stack, 'Ingestion');
      const worker = new JobWorker(stack, 'Worker', {
        queue: ingestion.queue,
        deadLetterQueue: ingestion.deadLetterQueue,
        archiveBucket: ingestion.archiveBucket,
      });
      return new Operations(stack, 'Operations', { ingestion, worker, ...overrides });
    };
  }

  it.each<[string, Partial<OperationsProps>, string]>([
    ['an alarm email that is not an address', { alarmEmail: 'ops-team' }, 'alarmEmail must be an email address (got "ops-team")'],
    ['a zero signature failure threshold', { signatureFailureThreshold: 0 }, 'signatureFailureThreshold must be an integer >= 1 (got 0)'],
    ['a zero server error threshold', { serverErrorThreshold: 0 }, 'serverErrorThreshold must be an integer >= 1 (got 0)'],
    ['an oldest-message threshold under a minute', { oldestMessageAgeThreshold: Duration.seconds(30) }, 'oldestMessageAgeThreshold must be at least 60 seconds (got 30)'],
  ])('rejects %s', (_case, overrides, message) => {
    expect(errorOf(build(overrides)).problems).toEqual([message]);
  });

  it('reports every problem in one error', () => {
    expect(errorOf(build({ alarmEmail: 'x', signatureFailureThreshold: 0 })).problems).toHaveLength(2);
  });
});
