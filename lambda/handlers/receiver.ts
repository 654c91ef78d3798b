/**
 * Receiver Lambda: API Gateway HTTP API event -> receiver core -> JSON answer.
 * Everything decided about a delivery lives in `lambda/core/receive.ts`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { RECEIVER_TIMEOUTS, clientOptions } from '../adapters/client-config';
import { DynamoDeliveryStore } from '../adapters/dynamo-delivery-store';
import { FirehoseArchive } from '../adapters/firehose-archive';
import { createLogger, createMetrics } from '../adapters/observability';
import { powertoolsLogger, powertoolsMetrics, type InvocationLogger, type InvocationMetrics } from '../adapters/powertools-ports';
import { S3Archive } from '../adapters/s3-archive';
import { SecretsManagerSource } from '../adapters/secrets-manager-source';
import { SqsQueue } from '../adapters/sqs-queue';
import { StaticSecretSource } from '../adapters/static-secret-source';
import { ENV, SERVICE_NAMES } from '../core/contract';
import { ConfigurationError } from '../core/errors';
import type { Archive, BatchArchive, DeliveryStore, Queue, SecretSource } from '../core/ports';
import { createReceiver, transientResult, type ReceiveResult } from '../core/receive';
import { loadReceiverConfig, type ReceiverPolicy } from '../core/receiver-config';

const SERVICE_NAME = SERVICE_NAMES.receiver;

export interface ReceiverDependencies {
  readonly policy: ReceiverPolicy;
  readonly archiveBucket: string;
  readonly secrets: SecretSource;
  readonly deliveries: DeliveryStore;
  readonly archive: Archive;
  readonly batchArchive?: BatchArchive;
  readonly queue: Queue;
  readonly logger: InvocationLogger;
  readonly metrics: InvocationMetrics;
  /** Receipt time of a request; injectable for tests. */
  readonly now?: () => Date;
  readonly newAttemptId?: () => string;
}

/** Everything `receiverDependenciesFromEnv` can take instead of building it from the environment. */
export interface ReceiverOverrides {
  readonly secrets?: SecretSource;
  readonly dynamodb?: DynamoDBClient;
  readonly s3?: S3Client;
  readonly sqs?: SQSClient;
  readonly firehose?: FirehoseClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly logger?: InvocationLogger;
  readonly metrics?: InvocationMetrics;
}

export type ReceiverHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyResultV2>;

function toHttp(result: ReceiveResult): APIGatewayProxyResultV2 {
  return {
    statusCode: result.statusCode,
    headers: { 'content-type': 'application/json', ...result.headers },
    body: JSON.stringify(result.body),
  };
}

export function createReceiverHandler(deps: ReceiverDependencies): ReceiverHandler {
  const receive = createReceiver(deps);
  const now = deps.now ?? (() => new Date());
  return async (event, context) => {
    deps.logger.beginInvocation(context);
    deps.metrics.beginInvocation?.(context);
    try {
      const result = await receive({
        headers: event.headers ?? {},
        body: event.body,
        isBase64Encoded: event.isBase64Encoded === true,
        receivedAt: now(),
        sourceIp: event.requestContext?.http?.sourceIp,
      });
      return toHttp(result);
    } catch (error) {
      // The core converts every expected failure itself; this is the net for bugs.
      deps.logger.error('Receiver failed unexpectedly', { error: error instanceof Error ? error.name : 'Unknown' });
      return toHttp(transientResult());
    } finally {
      deps.metrics.publish();
    }
  };
}

/**
 * Options of the receiver's SDK clients beyond the defaults (exported so the
 * benchmarks build exactly these clients).
 * - SQS `md5: false`: the client otherwise hashes every message body with MD5
 *   and compares it with the MD5OfMessageBody in the answer, on every send:
 *   negligible for 1 KiB payloads, ~90 µs of CPU per send for a 48 KiB inline
 *   payload (bench, section 2). TLS already guarantees the bytes arrive as
 *   sent, and a message is never the only copy: the archive holds the exact
 *   raw body with its SHA-256, from which a replay rebuilds the message.
 * - S3 needs nothing: the archive adapter sends ChecksumSHA256 (the hash the
 *   receiver computed anyway), and the SDK's flexible-checksums middleware skips
 *   its own checksum whenever an x-amz-checksum-* header is already set, so
 *   `requestChecksumCalculation` would change nothing here.
 */
export const RECEIVER_CLIENT_CONFIG: { readonly common: ReturnType<typeof clientOptions>; readonly sqs: SQSClientConfig } = {
  // Every client: a hung dependency fails the call in time for a 503 (see client-config.ts).
  common: clientOptions(RECEIVER_TIMEOUTS),
  sqs: { md5: false },
};

// SDK clients live for the whole Lambda environment: created on first use, reused after.
const sharedClients: { dynamodb?: DynamoDBClient; s3?: S3Client; sqs?: SQSClient; firehose?: FirehoseClient; secretsManager?: SecretsManagerClient } = {};

export function receiverDependenciesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  overrides: ReceiverOverrides = {},
): ReceiverDependencies {
  const config = loadReceiverConfig(env);
  const secrets =
    overrides.secrets ?? secretsFromArn(config.signingSecretArn, config.requireSignature, config.secretCacheSeconds, overrides.secretsManager);
  const dynamodb = overrides.dynamodb ?? (sharedClients.dynamodb ??= new DynamoDBClient(RECEIVER_CLIENT_CONFIG.common));
  const s3 = overrides.s3 ?? (sharedClients.s3 ??= new S3Client(RECEIVER_CLIENT_CONFIG.common));
  const sqs = overrides.sqs ?? (sharedClients.sqs ??= new SQSClient({ ...RECEIVER_CLIENT_CONFIG.common, ...RECEIVER_CLIENT_CONFIG.sqs }));
  const stream = config.archiveStream;
  const logger = overrides.logger ?? powertoolsLogger(createLogger(SERVICE_NAME));
  const firehose = stream === undefined ? undefined : (overrides.firehose ?? (sharedClients.firehose ??= new FirehoseClient(RECEIVER_CLIENT_CONFIG.common)));
  return {
    policy: config,
    archiveBucket: config.archiveBucket,
    secrets,
    deliveries: new DynamoDeliveryStore(dynamodb, config.deliveriesTable),
    archive: new S3Archive(s3, config.archiveBucket),
    batchArchive: firehose === undefined || stream === undefined ? undefined : new FirehoseArchive(firehose, stream),
    queue: new SqsQueue(sqs, config.queueUrl),
    logger,
    metrics: overrides.metrics ?? powertoolsMetrics(createMetrics(SERVICE_NAME), logger),
  };
}

function secretsFromArn(
  arn: string | undefined,
  requireSignature: boolean,
  cacheSeconds: number,
  client: SecretsManagerClient | undefined,
): SecretSource {
  if (arn === undefined) {
    // Without a secret a signing receiver could only fail closed: refuse to start instead.
    if (requireSignature) throw new ConfigurationError([`${ENV.signingSecretArn} is required unless ${ENV.requireSignature} is false`]);
    // Opted out of signing: signed deliveries still meet the unset-secret answer (503), never an open door.
    return new StaticSecretSource(undefined);
  }
  const secretsManager = client ?? (sharedClients.secretsManager ??= new SecretsManagerClient(RECEIVER_CLIENT_CONFIG.common));
  return new SecretsManagerSource(secretsManager, arn, { cacheSeconds });
}

let lambdaHandler: ReceiverHandler | undefined;

export const handler: ReceiverHandler = async (event, context) => {
  try {
    lambdaHandler ??= createReceiverHandler(receiverDependenciesFromEnv(process.env));
  } catch (error) {
    // A misconfigured function answers 503 so the provider keeps retrying
    // until a fixed deploy can accept the deliveries; nothing is lost.
    const problems = error instanceof ConfigurationError ? error.problems : [error instanceof Error ? error.name : 'Unknown'];
    createLogger(SERVICE_NAME).error('Receiver configuration invalid', { problems });
    return toHttp(transientResult());
  }
  return lambdaHandler(event, context);
};
