/**
 * The local stack is built from the same template as the deployed one: the
 * emulators' tables and queues carry the keys, TTL, timeouts and redrive policy
 * of the synthesized CDK stack (the template the stack wrote beside its outputs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { readStackShape, type CfnTemplate, type TableShape } from '../../local/stack-shape';
import { readContext } from './support/context';
import { connect, send, signedDelivery, uniqueId, waitForArchived, type E2eStack } from './support/stack';

// The project's testTimeout is a global-only option in Jest, so each e2e file sets its own.
jest.setTimeout(120_000);

/** The template the running stack was built from (the e2e setup always synthesizes it). */
function stackTemplate(): CfnTemplate {
  const file = readContext().templateFile;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate) : {};
}

const template = stackTemplate();

describe('the local resources', () => {
  it('were built from a synthesized template with resources', () => {
    expect(Object.keys(template.Resources ?? {}).length).toBeGreaterThan(0);
  });

  let stack: E2eStack;
  const shape = readStackShape(template);

  beforeAll(() => {
    stack = connect();
  });

  afterAll(() => {
    stack.clients.destroy();
  });

  it('take everything from the template, nothing from contract fallbacks', () => {
    expect(shape.fallbacks).toEqual([]);
  });

  describe.each([
    ['deliveries', () => stack.outputs.DeliveriesTableName, shape.deliveriesTable],
    ['jobs', () => stack.outputs.JobsTableName, shape.jobsTable],
  ] as Array<[string, () => string, TableShape]>)('the %s table', (_label, tableName, expected) => {
    it('has the template key schema and TTL', async () => {
      // Act
      const { Table } = await stack.clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName() }));
      const ttl = await stack.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName() }));

      // Assess
      expect(Table?.KeySchema).toEqual(expected.keySchema);
      expect(Table?.AttributeDefinitions).toEqual(expect.arrayContaining([...expected.attributeDefinitions]));
      if (expected.ttlAttribute === undefined) {
        expect(ttl.TimeToLiveDescription?.TimeToLiveStatus ?? 'DISABLED').toBe('DISABLED');
      } else {
        expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: expected.ttlAttribute, TimeToLiveStatus: 'ENABLED' });
      }
    });

    it('has the template stream, if any', async () => {
      const { Table } = await stack.clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName() }));
      expect(Table?.StreamSpecification?.StreamViewType).toBe(expected.streamViewType);
    });
  });

  it('stream the jobs table with new and old images, as the job events need', () => {
    expect(shape.jobsTable.streamViewType).toBe('NEW_AND_OLD_IMAGES');
  });

  describe('the work queue', () => {
    it('has the template visibility timeout, retention and redrive to the DLQ', async () => {
      // Act
      const queue = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.outputs.QueueUrl, AttributeNames: ['All'] }));
      const dlq = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.outputs.DeadLetterQueueUrl, AttributeNames: ['All'] }));

      // Assess
      expect(Number(queue.Attributes?.VisibilityTimeout)).toBe(shape.queue.visibilityTimeoutSeconds);
      expect(Number(queue.Attributes?.MaximumMessageSize)).toBe(shape.queue.maximumMessageSizeBytes);
      if (shape.queue.messageRetentionSeconds !== undefined) {
        expect(Number(queue.Attributes?.MessageRetentionPeriod)).toBe(shape.queue.messageRetentionSeconds);
      }
      expect(JSON.parse(queue.Attributes?.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: dlq.Attributes?.QueueArn,
        maxReceiveCount: shape.queue.maxReceiveCount,
      });
      if (shape.deadLetterQueue.messageRetentionSeconds !== undefined) {
        expect(Number(dlq.Attributes?.MessageRetentionPeriod)).toBe(shape.deadLetterQueue.messageRetentionSeconds);
      }
    });
  });

  describe('the archive bucket', () => {
    it('exists', async () => {
      await expect(stack.clients.s3.send(new HeadBucketCommand({ Bucket: stack.outputs.ArchiveBucketName }))).resolves.toBeDefined();
    });
  });

  describe('the archive stream', () => {
    it("is served by the local Firehose stand-in, writing the template's prefix, extension and compression", async () => {
      // Prepare
      expect(shape.archiveStream).toMatchObject({ compression: 'GZIP', fileExtension: '.jsonl.gz' });
      expect(stack.outputs.Endpoints?.firehose).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const delivery = signedDelivery(stack, 'job.started', { jobId: uniqueId('job_stream') });

      // Act
      await send(stack, delivery);
      const [entry] = await waitForArchived(stack, delivery.deliveryId);
      const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.outputs.ArchiveBucketName, Key: entry.key }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());

      // Assess: <prefix evaluated at the oldest record's arrival><stream>-<version>-<time>-<uuid><extension>
      const prefix = String(shape.archiveStream?.prefix).replace('!{timestamp:yyyy/MM/dd/HH}', '\\d{4}/\\d{2}/\\d{2}/\\d{2}');
      expect(entry.key).toMatch(new RegExp(`^${prefix}webhook-archive-stream-1-\\d{4}(-\\d{2}){5}-[0-9a-f-]{36}\\.jsonl\\.gz$`));
      expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    });
  });
});
