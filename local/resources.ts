/**
 * Creates the stack's data resources in the emulators, shaped like the synthesized
 * template (`stack-shape.ts`), under fixed local names.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS, ENV } from '../lambda/core/contract';
import { startFirehoseStandIn, type FirehoseStandIn, type FirehoseStandInOptions } from './stand-ins/firehose';
import type { EnvValue, FunctionShape, QueueShape, StackShape, TableShape } from './stack-shape';

export const LOCAL_NAMES = {
  deliveriesTable: 'webhook-deliveries',
  jobsTable: 'webhook-jobs',
  archiveBucket: 'webhook-archive',
  queue: 'webhook-queue',
  deadLetterQueue: 'webhook-dlq',
  archiveStream: 'webhook-archive-stream',
} as const;

/** fauxqs and DynamoDB Local both use this account id in ARNs. */
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalResources {
  readonly region: string;
  readonly deliveriesTableName: string;
  readonly jobsTableName: string;
  readonly archiveBucketName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  /** The archive stream the local Firehose stand-in serves, when the template has one. */
  readonly archiveStreamName?: string;
  /** Local value of each template resource a handler's environment may reference. */
  readonly byLogicalId: ReadonlyMap<string, { readonly ref: string; readonly attributes: Readonly<Record<string, string>> }>;
}

export interface ResourceClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
}

/** Creates the table (a reused emulator may have it); returns its stream's ARN when it has one. */
async function createTable(dynamodb: DynamoDBClient, name: string, shape: TableShape): Promise<string | undefined> {
  const input: CreateTableCommandInput = {
    TableName: name,
    KeySchema: [...shape.keySchema],
    AttributeDefinitions: [...shape.attributeDefinitions],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes:
      shape.globalSecondaryIndexes.length > 0
        ? shape.globalSecondaryIndexes.map((index) => ({
            IndexName: index.IndexName,
            KeySchema: [...index.KeySchema],
            Projection: {
              ProjectionType: index.Projection.ProjectionType as 'ALL' | 'KEYS_ONLY' | 'INCLUDE' | undefined,
              NonKeyAttributes: index.Projection.NonKeyAttributes ? [...index.Projection.NonKeyAttributes] : undefined,
            },
          }))
        : undefined,
    ...(shape.streamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: shape.streamViewType as 'NEW_AND_OLD_IMAGES' } } : {}),
  };
  let streamArn: string | undefined;
  try {
    streamArn = (await dynamodb.send(new CreateTableCommand(input))).TableDescription?.LatestStreamArn;
  } catch (error) {
    // A reused emulator already has it; its keys came from the same template.
    if (!(error instanceof ResourceInUseException)) throw error;
    if (shape.streamViewType) streamArn = (await dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table?.LatestStreamArn;
  }
  if (shape.ttlAttribute !== undefined) {
    try {
      await dynamodb.send(
        new UpdateTimeToLiveCommand({ TableName: name, TimeToLiveSpecification: { AttributeName: shape.ttlAttribute, Enabled: true } }),
      );
    } catch (error) {
      // "TimeToLive is already enabled" on a reused emulator.
      if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
    }
  }
  return streamArn;
}

export function queueAttributes(shape: QueueShape): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (shape.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(shape.visibilityTimeoutSeconds);
  if (shape.messageRetentionSeconds !== undefined) attributes.MessageRetentionPeriod = String(shape.messageRetentionSeconds);
  if (shape.receiveWaitTimeSeconds !== undefined) attributes.ReceiveMessageWaitTimeSeconds = String(shape.receiveWaitTimeSeconds);
  if (shape.maximumMessageSizeBytes !== undefined) attributes.MaximumMessageSize = String(shape.maximumMessageSizeBytes);
  return attributes;
}

export async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (url === undefined) throw new Error(`CreateQueue ${name} returned no URL`);
  const described = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = described.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`queue ${name} has no ARN`);
  return { url, arn };
}

export async function createLocalResources(shape: StackShape, clients: ResourceClients, region: string): Promise<LocalResources> {
  const names = LOCAL_NAMES;
  const [, jobsStreamArn, , dlq] = await Promise.all([
    createTable(clients.dynamodb, names.deliveriesTable, shape.deliveriesTable),
    createTable(clients.dynamodb, names.jobsTable, shape.jobsTable),
    clients.s3.send(new CreateBucketCommand({ Bucket: names.archiveBucket })),
    createQueue(clients.sqs, names.deadLetterQueue, queueAttributes(shape.deadLetterQueue)),
  ]);
  const maxReceiveCount = shape.queue.maxReceiveCount ?? DEFAULTS.maxReceiveCount;
  const queue = await createQueue(clients.sqs, names.queue, {
    ...queueAttributes(shape.queue),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
  });

  const byLogicalId = new Map<string, { ref: string; attributes: Record<string, string> }>();
  const tableEntry = (name: string) => ({
    ref: name,
    attributes: { Arn: `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${name}` },
  });
  if (shape.deliveriesTable.logicalId) byLogicalId.set(shape.deliveriesTable.logicalId, tableEntry(names.deliveriesTable));
  if (shape.jobsTable.logicalId) {
    const entry = tableEntry(names.jobsTable);
    byLogicalId.set(shape.jobsTable.logicalId, jobsStreamArn ? { ...entry, attributes: { ...entry.attributes, StreamArn: jobsStreamArn } } : entry);
  }
  if (shape.archiveBucket.logicalId) {
    byLogicalId.set(shape.archiveBucket.logicalId, {
      ref: names.archiveBucket,
      attributes: { Arn: `arn:aws:s3:::${names.archiveBucket}` },
    });
  }
  if (shape.archiveStream) {
    byLogicalId.set(shape.archiveStream.logicalId, {
      ref: names.archiveStream,
      attributes: { Arn: `arn:aws:firehose:${region}:${LOCAL_ACCOUNT}:deliverystream/${names.archiveStream}` },
    });
  }
  if (shape.queue.logicalId) byLogicalId.set(shape.queue.logicalId, { ref: queue.url, attributes: { Arn: queue.arn, QueueName: names.queue, QueueUrl: queue.url } });
  if (shape.deadLetterQueue.logicalId) {
    byLogicalId.set(shape.deadLetterQueue.logicalId, {
      ref: dlq.url,
      attributes: { Arn: dlq.arn, QueueName: names.deadLetterQueue, QueueUrl: dlq.url },
    });
  }

  return {
    region,
    deliveriesTableName: names.deliveriesTable,
    jobsTableName: names.jobsTable,
    archiveBucketName: names.archiveBucket,
    queueUrl: queue.url,
    queueArn: queue.arn,
    deadLetterQueueUrl: dlq.url,
    deadLetterQueueArn: dlq.arn,
    archiveStreamName: shape.archiveStream ? names.archiveStream : undefined,
    byLogicalId,
  };
}

/**
 * The template's archive stream on the local Firehose stand-in, writing to the
 * local archive bucket with the template's prefix, compression and extension;
 * undefined when the template has none.
 */
export async function startArchiveStream(
  shape: StackShape,
  resources: Pick<LocalResources, 'region' | 'archiveBucketName'> & { readonly archiveStreamName: string },
  options: Pick<FirehoseStandInOptions, 's3' | 'maxIntervalSeconds' | 'recordFault' | 'log'>,
): Promise<FirehoseStandIn | undefined> {
  const stream = shape.archiveStream;
  if (stream === undefined) return undefined;
  return startFirehoseStandIn({
    ...options,
    region: resources.region,
    streams: [
      {
        name: resources.archiveStreamName,
        bucket: resources.archiveBucketName,
        prefix: stream.prefix,
        compression: stream.compression,
        fileExtension: stream.fileExtension,
        bufferingIntervalSeconds: stream.bufferingIntervalSeconds,
        bufferingSizeMiB: stream.bufferingSizeMiB,
      },
    ],
  });
}

function resolveEnvValue(value: EnvValue, resources: LocalResources): string | undefined {
  switch (value.kind) {
    case 'literal':
      return value.value;
    case 'ref':
      return resources.byLogicalId.get(value.logicalId)?.ref;
    case 'attr':
      return resources.byLogicalId.get(value.logicalId)?.attributes[value.attribute];
    default:
      return undefined;
  }
}

export interface HandlerEnvironment {
  readonly env: Record<string, string>;
  /** Template variables with no local counterpart (for example the secret's ARN): left out, reported at start. */
  readonly unresolved: readonly string[];
}

/**
 * The handler's environment as the template defines it, with every resource
 * reference replaced by its local counterpart. The resource names are then set
 * explicitly, so a handler finds its tables even if the template names them
 * through something this reader does not follow.
 */
export function localHandlerEnvironment(fn: FunctionShape, resources: LocalResources, overrides: Record<string, string> = {}): HandlerEnvironment {
  const env: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [name, value] of Object.entries(fn.environment)) {
    const resolved = resolveEnvValue(value, resources);
    if (resolved === undefined) unresolved.push(name);
    else env[name] = resolved;
  }
  Object.assign(env, {
    [ENV.deliveriesTable]: resources.deliveriesTableName,
    [ENV.jobsTable]: resources.jobsTableName,
    [ENV.archiveBucket]: resources.archiveBucketName,
    [ENV.queueUrl]: resources.queueUrl,
    ...overrides,
  });
  return { env, unresolved: unresolved.filter((name) => !(name in env)) };
}
