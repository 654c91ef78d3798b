/**
 * SDK calls as IAM sees them (Service Authorization Reference: the action, its
 * resource type and the condition keys each request carries).
 */
import { iamRequestsOf, queueArnFromUrl, type SdkCall } from '../../../local/iam/sdk-requests';

const base = { region: 'eu-west-1', account: '111122223333' };
const call = (service: string, command: string, input: Record<string, unknown>): SdkCall => ({ service, command, input, ...base });
const DLQ_ARN = 'arn:aws:sqs:eu-west-1:111122223333:dlq';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:111122223333:work';

describe('IAM requests of SDK calls', () => {
  describe('SQS', () => {
    it('names a queue by the ARN its URL stands for, deployed or emulated', () => {
      expect(queueArnFromUrl('https://sqs.eu-west-1.amazonaws.com/111122223333/work', 'us-east-1')).toBe(QUEUE_ARN);
      expect(queueArnFromUrl('http://sqs.us-east-1.localhost:4566/000000000000/webhook-queue', 'eu-west-1')).toBe('arn:aws:sqs:us-east-1:000000000000:webhook-queue');
      expect(queueArnFromUrl('http://127.0.0.1:4566/000000000000/q', 'eu-west-1')).toBe('arn:aws:sqs:eu-west-1:000000000000:q');
    });

    it('authorizes a batch as its single action: SendMessageBatch is sqs:SendMessage, DeleteMessageBatch sqs:DeleteMessage', () => {
      const url = 'https://sqs.eu-west-1.amazonaws.com/111122223333/work';
      expect(iamRequestsOf(call('SQS', 'SendMessageBatchCommand', { QueueUrl: url }))).toEqual([{ action: 'sqs:SendMessage', resource: QUEUE_ARN, context: {} }]);
      expect(iamRequestsOf(call('SQS', 'DeleteMessageBatchCommand', { QueueUrl: url }))?.[0].action).toBe('sqs:DeleteMessage');
      expect(iamRequestsOf(call('SQS', 'ChangeMessageVisibilityBatchCommand', { QueueUrl: url }))?.[0].action).toBe('sqs:ChangeMessageVisibility');
    });

    it('adds what a move task does as the caller: receive, delete and read the source, send to the destination', () => {
      const requests = iamRequestsOf(call('SQS', 'StartMessageMoveTaskCommand', { SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN }));
      expect(requests).toEqual([
        { action: 'sqs:StartMessageMoveTask', resource: DLQ_ARN, context: {} },
        { action: 'sqs:ReceiveMessage', resource: DLQ_ARN, context: {}, implied: true },
        { action: 'sqs:DeleteMessage', resource: DLQ_ARN, context: {}, implied: true },
        { action: 'sqs:GetQueueAttributes', resource: DLQ_ARN, context: {}, implied: true },
        { action: 'sqs:SendMessage', resource: QUEUE_ARN, context: {}, implied: true },
      ]);
    });

    it('cannot name the queues of a move task back to its sources, so leaves it unmapped', () => {
      expect(iamRequestsOf(call('SQS', 'StartMessageMoveTaskCommand', { SourceArn: DLQ_ARN }))).toBeUndefined();
    });
  });

  describe('S3', () => {
    it('puts and gets objects by their object ARN', () => {
      expect(iamRequestsOf(call('S3', 'PutObjectCommand', { Bucket: 'archive', Key: 'raw/a.json' }))?.[0]).toMatchObject({
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::archive/raw/a.json',
      });
      expect(iamRequestsOf(call('S3', 'GetObjectCommand', { Bucket: 'archive', Key: 'raw/a.json', VersionId: 'v1' }))?.[0].action).toBe('s3:GetObjectVersion');
    });

    it('lists as s3:ListBucket on the bucket, with the prefix, delimiter and max-keys as condition keys only when sent', () => {
      const [listed] = iamRequestsOf(call('S3', 'ListObjectsV2Command', { Bucket: 'archive', Prefix: 'raw/2026/', MaxKeys: 1000 })) ?? [];
      expect(listed).toMatchObject({ action: 's3:ListBucket', resource: 'arn:aws:s3:::archive', context: { 's3:prefix': 'raw/2026/', 's3:max-keys': 1000 } });
      expect(listed.context).not.toHaveProperty('s3:delimiter');
      const [bare] = iamRequestsOf(call('S3', 'ListObjectsV2Command', { Bucket: 'archive' })) ?? [];
      expect(bare.context).not.toHaveProperty('s3:prefix');
    });
  });

  describe('DynamoDB', () => {
    it('names tables and indexes by ARN, in the caller\'s region and account', () => {
      expect(iamRequestsOf(call('DynamoDB', 'UpdateItemCommand', { TableName: 'jobs', ReturnValues: 'ALL_NEW' }))).toEqual([
        { action: 'dynamodb:UpdateItem', resource: 'arn:aws:dynamodb:eu-west-1:111122223333:table/jobs', context: { 'dynamodb:ReturnValues': 'ALL_NEW' } },
      ]);
      expect(iamRequestsOf(call('DynamoDB', 'QueryCommand', { TableName: 'jobs', IndexName: 'open' }))?.[0].resource).toBe(
        'arn:aws:dynamodb:eu-west-1:111122223333:table/jobs/index/open',
      );
    });

    it('authorizes each item of a transaction as its own action on its own table', () => {
      const requests = iamRequestsOf(
        call('DynamoDB', 'TransactWriteItemsCommand', { TransactItems: [{ Put: { TableName: 'a' } }, { ConditionCheck: { TableName: 'b' } }] }),
      );
      expect(requests?.map((request) => `${request.action} ${request.resource.split('/')[1]}`)).toEqual(['dynamodb:PutItem a', 'dynamodb:ConditionCheckItem b']);
    });

    it('reads stream records as dynamodb:GetRecords on the stream its shard iterator starts with', () => {
      const stream = 'arn:aws:dynamodb:eu-west-1:111122223333:table/jobs/stream/2026-01-01T00:00:00.000';
      expect(iamRequestsOf(call('DynamoDBStreams', 'GetRecordsCommand', { ShardIterator: `${stream}|1|AAAA` }))?.[0]).toMatchObject({ action: 'dynamodb:GetRecords', resource: stream });
    });
  });

  describe('other services', () => {
    it('reads a secret by stage, with the stage as a condition key', () => {
      const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:signing-AbCdEf';
      expect(iamRequestsOf(call('SecretsManager', 'GetSecretValueCommand', { SecretId: arn, VersionStage: 'AWSPREVIOUS' }))).toEqual([
        { action: 'secretsmanager:GetSecretValue', resource: arn, context: { 'secretsmanager:SecretId': arn, 'secretsmanager:VersionStage': 'AWSPREVIOUS' } },
      ]);
    });

    it('puts events on the named bus, or the default one, with source and detail-type', () => {
      const requests = iamRequestsOf(call('EventBridge', 'PutEventsCommand', { Entries: [{ EventBusName: 'jobs', Source: 's', DetailType: 'Job Completed' }, { Source: 's' }] }));
      expect(requests?.map((request) => request.resource)).toEqual([
        'arn:aws:events:eu-west-1:111122223333:event-bus/jobs',
        'arn:aws:events:eu-west-1:111122223333:event-bus/default',
      ]);
      expect(requests?.[0].context).toEqual({ 'events:source': 's', 'events:detail-type': 'Job Completed' });
    });

    it('puts Firehose records on the delivery stream', () => {
      expect(iamRequestsOf(call('Firehose', 'PutRecordBatchCommand', { DeliveryStreamName: 'archive' }))?.[0]).toMatchObject({
        action: 'firehose:PutRecordBatch',
        resource: 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/archive',
      });
    });

    it('leaves a command it does not know unmapped, so the check fails on it', () => {
      expect(iamRequestsOf(call('SQS', 'TagQueueCommand', { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' }))).toBeUndefined();
      expect(iamRequestsOf(call('Athena', 'StartQueryExecutionCommand', {}))).toBeUndefined();
    });
  });
});
