/**
 * SDK clients for the ops tools and the local stack, built from an outputs file:
 * with local `Endpoints` they talk to the emulators (explicit endpoints, path-style
 * S3, throwaway credentials); without, they use the default AWS credential chain.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { OPS_TIMEOUTS, clientOptions } from '../../lambda/adapters/client-config';
import type { LocalEndpoints, StackOutputs } from './outputs';

/** The emulators accept any credentials; fixed ones keep a developer's real profile out of play. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** The archive stream's API, locally the stand-in's (absent when the endpoints name none). */
  readonly firehose?: FirehoseClient;
  destroy(): void;
}

export function localClients(endpoints: LocalEndpoints): AwsClients {
  const common = { ...clientOptions(OPS_TIMEOUTS), region: endpoints.region, credentials: LOCAL_CREDENTIALS };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb });
  // fauxqs serves S3 on one host: virtual-hosted buckets would need DNS it does not have.
  const s3 = new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true });
  // Queue URLs name an unresolvable host (sqs.<region>.localhost): the endpoint must be explicit.
  const sqs = new SQSClient({ ...common, endpoint: endpoints.sqs });
  const firehose = endpoints.firehose === undefined ? undefined : new FirehoseClient({ ...common, endpoint: endpoints.firehose });
  return { dynamodb, s3, sqs, firehose, destroy: () => [dynamodb, s3, sqs, firehose].forEach((client) => client?.destroy()) };
}

/** A deployed queue URL names its region (`https://sqs.<region>.amazonaws.com/...`), so tools need no --region. */
export function regionFromQueueUrl(queueUrl: string): string | undefined {
  try {
    return /^sqs\.([a-z0-9-]+)\./.exec(new URL(queueUrl).hostname)?.[1];
  } catch {
    return undefined;
  }
}

export function clientsForOutputs(outputs: StackOutputs, region?: string): AwsClients {
  if (outputs.Endpoints !== undefined) return localClients(outputs.Endpoints);
  const resolved = region ?? regionFromQueueUrl(outputs.QueueUrl);
  const config = { ...clientOptions(OPS_TIMEOUTS), ...(resolved !== undefined ? { region: resolved } : {}) };
  const dynamodb = new DynamoDBClient(config);
  const s3 = new S3Client(config);
  const sqs = new SQSClient(config);
  return { dynamodb, s3, sqs, destroy: () => [dynamodb, s3, sqs].forEach((client) => client.destroy()) };
}
