/**
 * Reads what the local stack must reproduce from the synthesized CloudFormation
 * template: table keys and TTL, queue timeouts and redrive, the worker's event
 * source mapping and the handlers' environment. The template is the source of
 * truth (style principle 5); `contract.ts` only fills what a template cannot carry.
 *
 * Pure: no CDK import, so it can be unit-tested on a JSON fixture.
 */
import { DEFAULTS, ENV, OUTPUT_KEYS, TABLE_KEYS } from '../lambda/core/contract';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value?: unknown }>;
}

export interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

export interface AttributeDefinition {
  readonly AttributeName: string;
  readonly AttributeType: 'S' | 'N' | 'B';
}

export interface TableShape {
  readonly logicalId?: string;
  readonly keySchema: readonly KeySchemaElement[];
  readonly attributeDefinitions: readonly AttributeDefinition[];
  readonly ttlAttribute?: string;
  readonly globalSecondaryIndexes: readonly GlobalSecondaryIndexShape[];
  /** The table's stream, when it has one (`NEW_AND_OLD_IMAGES` for the jobs table). */
  readonly streamViewType?: string;
}

export interface GlobalSecondaryIndexShape {
  readonly IndexName: string;
  readonly KeySchema: readonly KeySchemaElement[];
  readonly Projection: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
}

export interface QueueShape {
  readonly logicalId?: string;
  readonly visibilityTimeoutSeconds?: number;
  readonly messageRetentionSeconds?: number;
  readonly receiveWaitTimeSeconds?: number;
  readonly maximumMessageSizeBytes?: number;
  readonly maxReceiveCount?: number;
}

export interface EventSourceShape {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly maxConcurrency?: number;
}

/** An environment value: a literal, or a reference to another resource of the template. */
export type EnvValue =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'ref'; readonly logicalId: string }
  | { readonly kind: 'attr'; readonly logicalId: string; readonly attribute: string }
  | { readonly kind: 'unresolvable' };

export interface FunctionShape {
  readonly logicalId?: string;
  readonly timeoutSeconds?: number;
  readonly environment: Readonly<Record<string, EnvValue>>;
}

/** The batched archive's Firehose stream, as the local stand-in reproduces it. */
export interface ArchiveStreamShape {
  readonly logicalId: string;
  readonly prefix: string;
  readonly errorOutputPrefix?: string;
  readonly compression: 'GZIP' | 'UNCOMPRESSED';
  readonly fileExtension?: string;
  readonly bufferingIntervalSeconds: number;
  readonly bufferingSizeMiB: number;
}

export interface StackShape {
  readonly deliveriesTable: TableShape;
  readonly jobsTable: TableShape;
  readonly archiveBucket: { readonly logicalId?: string };
  /** Absent when the template has no stream writing to the archive bucket (every delivery is then its own object). */
  readonly archiveStream?: ArchiveStreamShape;
  readonly queue: QueueShape;
  readonly deadLetterQueue: QueueShape;
  readonly workerEventSource: EventSourceShape;
  readonly receiver: FunctionShape;
  readonly worker: FunctionShape;
  /** The reconciler (the function that knows the provider API URL); empty when the stack has none. */
  readonly reconciler: FunctionShape;
  /** What came from the contract because the template did not say; printed at start-up. */
  readonly fallbacks: readonly string[];
}

function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

/** The logical id an output (or any value) points at through `Ref` or `Fn::GetAtt`. */
export function referencedLogicalId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

function outputTarget(template: CfnTemplate, outputKey: string, type: string): string | undefined {
  const logicalId = referencedLogicalId(template.Outputs?.[outputKey]?.Value);
  return logicalId !== undefined && template.Resources?.[logicalId]?.Type === type ? logicalId : undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function hashKeyOf(resource: CfnResource): string | undefined {
  const keySchema = resource.Properties?.KeySchema as KeySchemaElement[] | undefined;
  return keySchema?.find((key) => key.KeyType === 'HASH')?.AttributeName;
}

function findTable(template: CfnTemplate, outputKey: string, partitionKey: string): [string, CfnResource] | undefined {
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
  const byOutput = outputTarget(template, outputKey, 'AWS::DynamoDB::Table');
  if (byOutput !== undefined) return tables.find(([id]) => id === byOutput);
  return tables.find(([, resource]) => hashKeyOf(resource) === partitionKey);
}

function tableShape(
  found: [string, CfnResource] | undefined,
  fallback: { readonly partitionKey: string; readonly ttlAttribute?: string },
  label: string,
  fallbacks: string[],
): TableShape {
  if (found === undefined) {
    fallbacks.push(`${label}: no table in the template, keys from contract.ts`);
    return {
      keySchema: [{ AttributeName: fallback.partitionKey, KeyType: 'HASH' }],
      attributeDefinitions: [{ AttributeName: fallback.partitionKey, AttributeType: 'S' }],
      ttlAttribute: fallback.ttlAttribute,
      globalSecondaryIndexes: [],
    };
  }
  const [logicalId, resource] = found;
  const properties = resource.Properties ?? {};
  const ttl = properties.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  const indexes = (properties.GlobalSecondaryIndexes as Array<Record<string, unknown>> | undefined) ?? [];
  const stream = properties.StreamSpecification as { StreamViewType?: string } | undefined;
  return {
    logicalId,
    keySchema: properties.KeySchema as KeySchemaElement[],
    attributeDefinitions: properties.AttributeDefinitions as AttributeDefinition[],
    ttlAttribute: ttl?.Enabled === false ? undefined : ttl?.AttributeName,
    globalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.IndexName as string,
      KeySchema: index.KeySchema as KeySchemaElement[],
      Projection: (index.Projection as GlobalSecondaryIndexShape['Projection']) ?? { ProjectionType: 'ALL' },
    })),
    ...(stream?.StreamViewType ? { streamViewType: stream.StreamViewType } : {}),
  };
}

export function queueShape(template: CfnTemplate, logicalId: string | undefined): QueueShape {
  if (logicalId === undefined) return {};
  const properties = template.Resources?.[logicalId]?.Properties ?? {};
  const redrive = properties.RedrivePolicy as { maxReceiveCount?: unknown } | undefined;
  return {
    logicalId,
    visibilityTimeoutSeconds: asNumber(properties.VisibilityTimeout),
    messageRetentionSeconds: asNumber(properties.MessageRetentionPeriod),
    receiveWaitTimeSeconds: asNumber(properties.ReceiveMessageWaitTimeSeconds),
    maximumMessageSizeBytes: asNumber(properties.MaximumMessageSize),
    maxReceiveCount: asNumber(redrive?.maxReceiveCount),
  };
}

function findQueues(template: CfnTemplate): { queue?: string; deadLetterQueue?: string } {
  const queue = outputTarget(template, OUTPUT_KEYS.queueUrl, 'AWS::SQS::Queue');
  const deadLetterQueue = outputTarget(template, OUTPUT_KEYS.deadLetterQueueUrl, 'AWS::SQS::Queue');
  if (queue !== undefined && deadLetterQueue !== undefined) return { queue, deadLetterQueue };
  // Without outputs: the work queue is the one whose redrive policy names another queue.
  const queues = resourcesOfType(template, 'AWS::SQS::Queue');
  for (const [id, resource] of queues) {
    const redrive = resource.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
    const target = referencedLogicalId(redrive?.deadLetterTargetArn);
    if (target !== undefined) return { queue: queue ?? id, deadLetterQueue: deadLetterQueue ?? target };
  }
  return { queue, deadLetterQueue };
}

function envValue(value: unknown): EnvValue {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return { kind: 'literal', value: String(value) };
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string') return { kind: 'ref', logicalId: record.Ref };
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && typeof getAtt[1] === 'string') {
      return { kind: 'attr', logicalId: getAtt[0], attribute: getAtt[1] };
    }
  }
  return { kind: 'unresolvable' };
}

export function functionShape(template: CfnTemplate, logicalId: string | undefined): FunctionShape {
  if (logicalId === undefined) return { environment: {} };
  const properties = template.Resources?.[logicalId]?.Properties ?? {};
  const variables = ((properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<
    string,
    unknown
  >;
  const environment: Record<string, EnvValue> = {};
  for (const [name, value] of Object.entries(variables)) environment[name] = envValue(value);
  return { logicalId, timeoutSeconds: asNumber(properties.Timeout), environment };
}

function hasEnv(resource: CfnResource, name: string): boolean {
  const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  return variables !== undefined && name in variables;
}

/** Firehose's documented defaults for an S3 destination's buffering hints. */
const FIREHOSE_DEFAULT_BUFFERING = { intervalSeconds: 300, sizeMiB: 5 } as const;

/** The Direct PUT stream whose S3 destination is the archive bucket. */
function archiveStreamShape(template: CfnTemplate, bucketId: string | undefined): ArchiveStreamShape | undefined {
  if (bucketId === undefined) return undefined;
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::KinesisFirehose::DeliveryStream')) {
    const destination = resource.Properties?.ExtendedS3DestinationConfiguration as Record<string, unknown> | undefined;
    if (destination === undefined || referencedLogicalId(destination.BucketARN) !== bucketId) continue;
    const hints = (destination.BufferingHints ?? {}) as { IntervalInSeconds?: unknown; SizeInMBs?: unknown };
    const compression = destination.CompressionFormat === 'GZIP' ? 'GZIP' : 'UNCOMPRESSED';
    return {
      logicalId,
      prefix: typeof destination.Prefix === 'string' ? destination.Prefix : '',
      errorOutputPrefix: typeof destination.ErrorOutputPrefix === 'string' ? destination.ErrorOutputPrefix : undefined,
      compression,
      fileExtension: typeof destination.FileExtension === 'string' ? destination.FileExtension : undefined,
      bufferingIntervalSeconds: asNumber(hints.IntervalInSeconds) ?? FIREHOSE_DEFAULT_BUFFERING.intervalSeconds,
      bufferingSizeMiB: asNumber(hints.SizeInMBs) ?? FIREHOSE_DEFAULT_BUFFERING.sizeMiB,
    };
  }
  return undefined;
}

/** Without outputs: the bucket that is not some other bucket's access-log destination. */
function findArchiveBucket(template: CfnTemplate): string | undefined {
  const buckets = resourcesOfType(template, 'AWS::S3::Bucket');
  const logDestinations = new Set(
    buckets
      .map(([, bucket]) => referencedLogicalId((bucket.Properties?.LoggingConfiguration as { DestinationBucketName?: unknown } | undefined)?.DestinationBucketName))
      .filter((id): id is string => id !== undefined),
  );
  return buckets.find(([id]) => !logDestinations.has(id))?.[0];
}

export function readStackShape(template: CfnTemplate): StackShape {
  const fallbacks: string[] = [];
  const deliveriesTable = tableShape(
    findTable(template, OUTPUT_KEYS.deliveriesTableName, TABLE_KEYS.deliveries.partitionKey),
    TABLE_KEYS.deliveries,
    'deliveries table',
    fallbacks,
  );
  const jobsTable = tableShape(findTable(template, OUTPUT_KEYS.jobsTableName, TABLE_KEYS.jobs.partitionKey), TABLE_KEYS.jobs, 'jobs table', fallbacks);

  const bucketId = outputTarget(template, OUTPUT_KEYS.archiveBucketName, 'AWS::S3::Bucket') ?? findArchiveBucket(template);

  const { queue: queueId, deadLetterQueue: dlqId } = findQueues(template);
  const queue = queueShape(template, queueId);
  const deadLetterQueue = queueShape(template, dlqId);
  if (queueId === undefined) fallbacks.push('queue: not in the template, attributes from contract.ts');
  if (queue.maxReceiveCount === undefined) fallbacks.push(`queue: maxReceiveCount from contract.ts (${DEFAULTS.maxReceiveCount})`);

  const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').find(
    ([, resource]) => queueId !== undefined && referencedLogicalId(resource.Properties?.EventSourceArn) === queueId,
  )?.[1];
  const mappingProps = mapping?.Properties ?? {};
  if (mapping === undefined) fallbacks.push(`worker event source: not in the template, batch size from contract.ts (${DEFAULTS.workerBatchSize})`);
  const workerEventSource: EventSourceShape = {
    // Lambda's own default batch size for SQS is 10.
    batchSize: asNumber(mappingProps.BatchSize) ?? (mapping ? 10 : DEFAULTS.workerBatchSize),
    maxBatchingWindowSeconds: asNumber(mappingProps.MaximumBatchingWindowInSeconds) ?? 0,
    reportBatchItemFailures: mapping
      ? ((mappingProps.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures')
      : true,
    maxConcurrency: asNumber((mappingProps.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)?.MaximumConcurrency),
  };

  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const workerId = referencedLogicalId(mappingProps.FunctionName) ?? functions.find(([, fn]) => hasEnv(fn, ENV.jobsTable) && !hasEnv(fn, ENV.deliveriesTable))?.[0];
  const receiverId = functions.find(([id, fn]) => id !== workerId && hasEnv(fn, ENV.queueUrl) && hasEnv(fn, ENV.deliveriesTable))?.[0];
  const reconcilerId = functions.find(([, fn]) => hasEnv(fn, ENV.providerApiUrl))?.[0];
  if (receiverId === undefined) fallbacks.push('receiver: no function in the template, handler defaults apply');
  if (workerId === undefined) fallbacks.push('worker: no function in the template, handler defaults apply');

  return {
    deliveriesTable,
    jobsTable,
    archiveBucket: { logicalId: bucketId },
    archiveStream: archiveStreamShape(template, bucketId),
    queue,
    deadLetterQueue,
    workerEventSource,
    receiver: functionShape(template, receiverId),
    worker: functionShape(template, workerId),
    reconciler: functionShape(template, reconcilerId),
    fallbacks,
  };
}
