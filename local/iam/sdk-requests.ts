/**
 * What IAM authorizes for one SDK call: the action as IAM names it, the
 * resource ARN it touches and the condition keys the request carries. Follows
 * each service's "Actions, resources, and condition keys" page of the Service
 * Authorization Reference, for the commands this project (and its emulation
 * of Lambda's event sources) sends; any other command is reported as unmapped,
 * so the check fails instead of guessing.
 *
 * Some calls make the service act with the caller's permissions beyond the
 * call's own action: SQS's message move task receives and deletes from the
 * source queue and sends to the destination as the caller (SQS Developer
 * Guide, "Configure queue permissions for dead-letter queue redrive"); those
 * are listed as `implied` requests and evaluated like the rest.
 *
 * Pure: no SDK import.
 */

export type ContextValue = string | number | boolean | readonly string[];

export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Request-specific condition keys (global keys such as aws:SecureTransport are added by the evaluation). */
  readonly context: Readonly<Record<string, ContextValue>>;
  /** Authorized because the service acts for the caller, not the call's own action. */
  readonly implied?: boolean;
}

export interface SdkCall {
  /** Client name without `Client`: `SQS`, `DynamoDB`, `S3`, ... */
  readonly service: string;
  /** Command class name: `SendMessageCommand`, ... */
  readonly command: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly region: string;
  /** The account the call's resources live in when the input does not say (DynamoDB table names, bus names). */
  readonly account: string;
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const isArn = (value: string): boolean => value.startsWith('arn:');

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` (or an emulator's URL of that path shape) -> the queue ARN. */
export function queueArnFromUrl(queueUrl: string, region: string): string {
  const url = new URL(queueUrl);
  const [account, name] = url.pathname.split('/').filter((part) => part.length > 0);
  if (account === undefined || name === undefined) throw new Error(`not a queue URL: ${queueUrl}`);
  const hostRegion = /^sqs\.([a-z0-9-]+)\./.exec(url.hostname)?.[1] ?? /^([a-z0-9-]+)\.queue\./.exec(url.hostname)?.[1];
  const queueRegion = hostRegion ?? region;
  return `arn:${partitionOf(queueRegion)}:sqs:${queueRegion}:${account}:${name}`;
}

function tableArn(call: SdkCall, table: string): string {
  return isArn(table) ? table : `arn:${partitionOf(call.region)}:dynamodb:${call.region}:${call.account}:table/${table}`;
}

function one(action: string, resource: string, context: Record<string, ContextValue> = {}): IamRequest[] {
  return [{ action, resource, context }];
}

type Mapper = (call: SdkCall) => IamRequest[] | undefined;

const DYNAMODB_ITEM_COMMANDS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'DescribeTable', 'ConditionCheckItem'];
const TRANSACT_ACTIONS: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };

function dynamodbContext(input: Readonly<Record<string, unknown>>): Record<string, ContextValue> {
  const returnValues = str(input.ReturnValues);
  return returnValues !== undefined ? { 'dynamodb:ReturnValues': returnValues } : {};
}

function dynamodb(call: SdkCall): IamRequest[] | undefined {
  const operation = call.command.replace(/Command$/, '');
  const table = str(call.input.TableName);
  if (DYNAMODB_ITEM_COMMANDS.includes(operation) && table !== undefined) {
    return one(`dynamodb:${operation}`, tableArn(call, table), dynamodbContext(call.input));
  }
  if ((operation === 'Query' || operation === 'Scan') && table !== undefined) {
    const index = str(call.input.IndexName);
    const base = tableArn(call, table);
    return one(`dynamodb:${operation}`, index !== undefined ? `${base}/index/${index}` : base, dynamodbContext(call.input));
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    const tables = Object.keys((call.input.RequestItems ?? {}) as Record<string, unknown>);
    return tables.length > 0 ? tables.map((name) => ({ action: `dynamodb:${operation}`, resource: tableArn(call, name), context: {} })) : undefined;
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = (call.input.TransactItems ?? []) as Array<Record<string, { TableName?: string } | undefined>>;
    const requests: IamRequest[] = [];
    for (const item of items) {
      for (const [kind, body] of Object.entries(item)) {
        const name = str(body?.TableName);
        if (name === undefined || TRANSACT_ACTIONS[kind] === undefined) return undefined;
        requests.push({ action: `dynamodb:${TRANSACT_ACTIONS[kind]}`, resource: tableArn(call, name), context: {} });
      }
    }
    return requests.length > 0 ? requests : undefined;
  }
  return undefined;
}

/** DynamoDB Streams: the actions are in the `dynamodb` namespace, on the stream's ARN. */
function dynamodbStreams(call: SdkCall): IamRequest[] | undefined {
  const operation = call.command.replace(/Command$/, '');
  if (operation === 'DescribeStream' || operation === 'GetShardIterator') {
    const stream = str(call.input.StreamArn);
    return stream !== undefined ? one(`dynamodb:${operation}`, stream) : undefined;
  }
  if (operation === 'GetRecords') {
    // A shard iterator starts with its stream's ARN, then `|`.
    const iterator = str(call.input.ShardIterator);
    const stream = iterator?.split('|')[0];
    return stream !== undefined && isArn(stream) ? one('dynamodb:GetRecords', stream) : undefined;
  }
  if (operation === 'ListStreams') {
    const table = str(call.input.TableName);
    return one('dynamodb:ListStreams', table !== undefined ? `${tableArn(call, table)}/stream/*` : '*');
  }
  return undefined;
}

/** S3's own condition keys of a request made by the SDK over TLS with SigV4 in headers. */
const S3_REQUEST_CONTEXT: Record<string, ContextValue> = { 's3:authType': 'REST-HEADER', 's3:signatureversion': 'AWS4-HMAC-SHA256' };

function s3(call: SdkCall): IamRequest[] | undefined {
  const operation = call.command.replace(/Command$/, '');
  const bucket = str(call.input.Bucket);
  if (bucket === undefined) return undefined;
  const partition = partitionOf(call.region);
  const bucketArn = `arn:${partition}:s3:::${bucket}`;
  const key = str(call.input.Key);
  const object = key !== undefined ? `${bucketArn}/${key}` : undefined;
  const versioned = str(call.input.VersionId) !== undefined;
  switch (operation) {
    case 'PutObject':
      return object !== undefined ? one('s3:PutObject', object, S3_REQUEST_CONTEXT) : undefined;
    case 'GetObject':
    case 'HeadObject':
      return object !== undefined ? one(versioned ? 's3:GetObjectVersion' : 's3:GetObject', object, S3_REQUEST_CONTEXT) : undefined;
    case 'DeleteObject':
      return object !== undefined ? one(versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', object, S3_REQUEST_CONTEXT) : undefined;
    case 'ListObjectsV2':
    case 'ListObjects': {
      const context: Record<string, ContextValue> = { ...S3_REQUEST_CONTEXT };
      // Only keys the request carries: a policy testing s3:prefix must not match a listing without one.
      if (typeof call.input.Prefix === 'string') context['s3:prefix'] = call.input.Prefix;
      if (typeof call.input.Delimiter === 'string') context['s3:delimiter'] = call.input.Delimiter;
      if (typeof call.input.MaxKeys === 'number') context['s3:max-keys'] = call.input.MaxKeys;
      return one('s3:ListBucket', bucketArn, context);
    }
    default:
      return undefined;
  }
}

const SQS_QUEUE_ACTIONS: Record<string, string> = {
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
  PurgeQueue: 'sqs:PurgeQueue',
};

function sqs(call: SdkCall): IamRequest[] | undefined {
  const operation = call.command.replace(/Command$/, '');
  const queueUrl = str(call.input.QueueUrl);
  const queueAction = SQS_QUEUE_ACTIONS[operation];
  if (queueAction !== undefined) return queueUrl !== undefined ? one(queueAction, queueArnFromUrl(queueUrl, call.region)) : undefined;
  if (operation === 'GetQueueUrl') {
    const name = str(call.input.QueueName);
    const owner = str(call.input.QueueOwnerAWSAccountId) ?? call.account;
    return name !== undefined ? one('sqs:GetQueueUrl', `arn:${partitionOf(call.region)}:sqs:${call.region}:${owner}:${name}`) : undefined;
  }
  if (operation === 'ListMessageMoveTasks') {
    const source = str(call.input.SourceArn);
    return source !== undefined ? one('sqs:ListMessageMoveTasks', source) : undefined;
  }
  if (operation === 'StartMessageMoveTask') {
    const source = str(call.input.SourceArn);
    // Without a destination the messages go back to their own source queues, which the input does not name.
    const destination = str(call.input.DestinationArn);
    if (source === undefined || destination === undefined) return undefined;
    return [
      { action: 'sqs:StartMessageMoveTask', resource: source, context: {} },
      ...['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].map((action) => ({ action, resource: source, context: {}, implied: true })),
      { action: 'sqs:SendMessage', resource: destination, context: {}, implied: true },
    ];
  }
  return undefined;
}

function secretsManager(call: SdkCall): IamRequest[] | undefined {
  const operation = call.command.replace(/Command$/, '');
  const secretId = str(call.input.SecretId);
  if (secretId === undefined || !['GetSecretValue', 'DescribeSecret', 'ListSecretVersionIds'].includes(operation)) return undefined;
  // A secret named rather than by ARN: IAM sees the full ARN, whose random suffix the caller does not know.
  const resource = isArn(secretId) ? secretId : `arn:${partitionOf(call.region)}:secretsmanager:${call.region}:${call.account}:secret:${secretId}-??????`;
  const context: Record<string, ContextValue> = { 'secretsmanager:SecretId': secretId };
  const stage = str(call.input.VersionStage);
  if (stage !== undefined) context['secretsmanager:VersionStage'] = stage;
  const version = str(call.input.VersionId);
  if (version !== undefined) context['secretsmanager:VersionId'] = version;
  return one(`secretsmanager:${operation}`, resource, context);
}

function eventBridge(call: SdkCall): IamRequest[] | undefined {
  if (call.command !== 'PutEventsCommand') return undefined;
  const entries = (call.input.Entries ?? []) as Array<{ EventBusName?: string; Source?: string; DetailType?: string }>;
  if (entries.length === 0) return undefined;
  const partition = partitionOf(call.region);
  return entries.map((entry) => {
    const bus = str(entry.EventBusName) ?? 'default';
    const context: Record<string, ContextValue> = {};
    if (str(entry.Source) !== undefined) context['events:source'] = entry.Source as string;
    if (str(entry.DetailType) !== undefined) context['events:detail-type'] = entry.DetailType as string;
    return { action: 'events:PutEvents', resource: isArn(bus) ? bus : `arn:${partition}:events:${call.region}:${call.account}:event-bus/${bus}`, context };
  });
}

function firehose(call: SdkCall): IamRequest[] | undefined {
  const operation = call.command.replace(/Command$/, '');
  const stream = str(call.input.DeliveryStreamName);
  if (stream === undefined || !['PutRecord', 'PutRecordBatch', 'DescribeDeliveryStream'].includes(operation)) return undefined;
  return one(`firehose:${operation}`, `arn:${partitionOf(call.region)}:firehose:${call.region}:${call.account}:deliverystream/${stream}`);
}

function kms(call: SdkCall): IamRequest[] | undefined {
  const operation = call.command.replace(/Command$/, '');
  const keyId = str(call.input.KeyId);
  if (keyId === undefined || !['Decrypt', 'Encrypt', 'GenerateDataKey', 'DescribeKey'].includes(operation)) return undefined;
  return one(`kms:${operation}`, isArn(keyId) ? keyId : `arn:${partitionOf(call.region)}:kms:${call.region}:${call.account}:key/${keyId}`);
}

function cloudWatch(call: SdkCall): IamRequest[] | undefined {
  // Neither supports a resource-level permission.
  if (call.command === 'GetMetricDataCommand') return one('cloudwatch:GetMetricData', '*');
  if (call.command !== 'PutMetricDataCommand') return undefined;
  const namespace = str(call.input.Namespace);
  return one('cloudwatch:PutMetricData', '*', namespace !== undefined ? { 'cloudwatch:namespace': namespace } : {});
}

/**
 * FilterLogEvents on one log group (by name, or by ARN as logGroupIdentifier).
 * IAM checks it against the log group's ARN with a trailing `:*`, the form the
 * CloudWatch Logs API reference gives for every action but the tagging ones
 * (and CDK's `logGroupArn`).
 */
function cloudWatchLogs(call: SdkCall): IamRequest[] | undefined {
  if (call.command !== 'FilterLogEventsCommand') return undefined;
  const identifier = str(call.input.logGroupIdentifier);
  if (identifier !== undefined && isArn(identifier)) return one('logs:FilterLogEvents', identifier.endsWith(':*') ? identifier : `${identifier}:*`);
  const name = identifier ?? str(call.input.logGroupName);
  if (name === undefined) return undefined;
  return one('logs:FilterLogEvents', `arn:${partitionOf(call.region)}:logs:${call.region}:${call.account}:log-group:${name}:*`);
}

const MAPPERS: Record<string, Mapper> = {
  DynamoDB: dynamodb,
  DynamoDBStreams: dynamodbStreams,
  S3: s3,
  SQS: sqs,
  SecretsManager: secretsManager,
  EventBridge: eventBridge,
  Firehose: firehose,
  KMS: kms,
  CloudWatch: cloudWatch,
  CloudWatchLogs: cloudWatchLogs,
};

/** The IAM requests of one call; undefined when this module does not know the command (the check then fails). */
export function iamRequestsOf(call: SdkCall): IamRequest[] | undefined {
  const mapper = MAPPERS[call.service];
  return mapper?.(call);
}
