/**
 * Least privilege, read off the synthesized template: every role of the stack,
 * every statement of every policy attached to it, expanded into (action,
 * resource) pairs and compared with the exact set each function needs. A new
 * action, a wider resource or a new role fails here first. Resource policies
 * may only deny (TLS enforcement), never allow to everyone.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ARCHIVE_PREFIX, STACK_NAME } from '../../lambda/core/contract';
import { WebhookIngestionStack } from '../../lib/webhook-ingestion-stack';
import { type CfnJson, type Statement, logicalId, synthesize, projectApp } from './support/synth';

type Pair = string;

function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Every (action, resource) an identity policy of the role allows, as `action on resource-json`. */
function pairsOf(template: Template, roleId: string): Pair[] {
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy: CfnJson) => list(policy.Properties.Roles).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })))
    .flatMap((policy: CfnJson) => policy.Properties.PolicyDocument.Statement as (Statement & Record<string, unknown>)[]);
  for (const statement of statements) {
    expect(statement.Effect).toBe('Allow');
    expect(statement).not.toHaveProperty('NotAction');
    expect(statement).not.toHaveProperty('NotResource');
  }
  return [
    ...new Set(statements.flatMap((s) => list(s.Action).flatMap((action) => list(s.Resource).map((resource) => `${action} on ${JSON.stringify(resource)}`)))),
  ].sort();
}

const arn = (id: string): string => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
const ref = (id: string): string => JSON.stringify({ Ref: id });
const under = (bucketId: string): string => JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${ARCHIVE_PREFIX}*`]] });
const pairs = (entries: [string[], string][]): Pair[] => entries.flatMap(([actions, resource]) => actions.map((action) => `${action} on ${resource}`)).sort();

describe('IAM least privilege', () => {
  const { stack, template } = synthesize({}, { bundle: false });
  const ids = {
    receiverRole: logicalId(stack.ingestion.receiverRole),
    workerRole: logicalId(stack.worker.workerRole),
    receiverLogs: logicalId(stack.ingestion.receiverLogGroup),
    workerLogs: logicalId(stack.worker.workerLogGroup),
    deliveries: logicalId(stack.ingestion.deliveriesTable),
    jobs: logicalId(stack.worker.jobsTable as never),
    archive: logicalId(stack.ingestion.archiveBucket),
    queue: logicalId(stack.ingestion.queue),
    dlq: logicalId(stack.ingestion.deadLetterQueue),
    secret: logicalId(stack.ingestion.signingSecret as never),
    reconcilerRole: logicalId(stack.reconciler!.reconcilerRole),
    reconcilerLogs: logicalId(stack.reconciler!.reconcilerLogGroup),
    reconciler: logicalId(stack.reconciler!.reconciler),
    scheduleRole: logicalId(stack.reconciler!.scheduleRole),
    publisherRole: logicalId(stack.jobEvents!.publisherRole),
    publisherLogs: logicalId(stack.jobEvents!.publisherLogGroup),
    bus: logicalId(stack.jobEvents!.eventBus as never),
    failureQueue: logicalId(stack.jobEvents!.failureQueue),
    reviewQueue: logicalId(stack.jobEvents!.reviewQueue!),
    reviewDeadLetterQueue: logicalId(stack.jobEvents!.reviewDeadLetterQueue!),
    reviewRule: logicalId(stack.jobEvents!.qualityReviewRule!),
    streamRole: logicalId(stack.ingestion.archiveStream?.role as never),
    stream: logicalId(stack.ingestion.archiveStream as never),
    streamLogs: logicalId(stack.ingestion.archiveStream?.errorLogGroup as never),
  };
  const underErrors = JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.archive, 'Arn'] }, '/archive-errors/*']] });

  it("has exactly the functions' own roles, the schedule's and the archive stream's, with no managed or inline policies", () => {
    const roles = template.findResources('AWS::IAM::Role');
    expect(Object.keys(roles).sort()).toEqual([ids.receiverRole, ids.workerRole, ids.reconcilerRole, ids.scheduleRole, ids.publisherRole, ids.streamRole].sort());
    for (const [id, role] of Object.entries(roles)) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
      const trust =
        id === ids.scheduleRole
          ? [
              {
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
                Effect: 'Allow',
                Principal: { Service: 'scheduler.amazonaws.com' },
              },
            ]
          : id === ids.streamRole
            ? // Firehose's documented trust: only on behalf of this account.
              [{ Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } }, Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' } }]
            : [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }];
      expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument.Statement)).toBe(JSON.stringify(trust));
    }
  });

  it('lets the reconciler query the open-jobs index, mark jobs, enqueue, archive, and nothing else (no key: no secret read)', () => {
    expect(pairsOf(template, ids.reconcilerRole)).toEqual(
      pairs([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], arn(ids.reconcilerLogs)],
        [['dynamodb:Query'], JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.jobs, 'Arn'] }, '/index/open-jobs']] })],
        [['dynamodb:UpdateItem'], arn(ids.jobs)],
        [['sqs:SendMessage'], arn(ids.queue)],
        [['s3:PutObject'], under(ids.archive)],
      ]),
    );
  });

  it('lets the schedule invoke the reconciler function only', () => {
    expect(pairsOf(template, ids.scheduleRole)).toEqual(
      pairs([
        [['lambda:InvokeFunction'], arn(ids.reconciler)],
        [['lambda:InvokeFunction'], JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.reconciler, 'Arn'] }, ':*']] })],
      ]),
    );
  });

  it('lets the archive stream write batched objects under raw/ (and its error prefix), never delete, and log its errors', () => {
    expect(pairsOf(template, ids.streamRole)).toEqual(
      pairs([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], arn(ids.streamLogs)],
        [['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], arn(ids.archive)],
        [['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], under(ids.archive)],
        [['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], underErrors],
      ]),
    );
  });

  it("lets the receiver do exactly its pipeline's calls on its own resources", () => {
    expect(pairsOf(template, ids.receiverRole)).toEqual(
      pairs([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], arn(ids.receiverLogs)],
        [['dynamodb:UpdateItem'], arn(ids.deliveries)],
        [['s3:PutObject'], under(ids.archive)],
        [['firehose:PutRecordBatch'], arn(ids.stream)],
        [['sqs:SendMessage'], arn(ids.queue)],
        [['secretsmanager:GetSecretValue'], ref(ids.secret)],
      ]),
    );
  });

  it('lets the worker do exactly its calls on its own resources', () => {
    expect(pairsOf(template, ids.workerRole)).toEqual(
      pairs([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], arn(ids.workerLogs)],
        [['dynamodb:UpdateItem'], arn(ids.jobs)],
        [['s3:GetObject'], under(ids.archive)],
        [['s3:ListBucket'], arn(ids.archive)],
        [['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], arn(ids.queue)],
        // A record that can never succeed goes to the DLQ at once, with its reason.
        [['sqs:SendMessage'], arn(ids.dlq)],
      ]),
    );
  });

  it('lets the job-events publisher put events on its bus only, read the jobs stream and record given-up batches', () => {
    expect(pairsOf(template, ids.publisherRole)).toEqual(
      pairs([
        [['logs:CreateLogStream', 'logs:PutLogEvents'], arn(ids.publisherLogs)],
        [['events:PutEvents'], arn(ids.bus)],
        [['sqs:SendMessage'], arn(ids.failureQueue)],
        [['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], JSON.stringify({ 'Fn::GetAtt': [ids.jobs, 'StreamArn'] })],
        // The stream event source's ListStreams supports no resource-level permissions.
        [['dynamodb:ListStreams'], '"*"'],
      ]),
    );
  });

  it("lets the worker list the archive only under raw/, so a missing claim-check object reads NoSuchKey, not AccessDenied", () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy: CfnJson) => list(policy.Properties.Roles).some((roleRef) => JSON.stringify(roleRef) === ref(ids.workerRole)))
      .flatMap((policy: CfnJson) => policy.Properties.PolicyDocument.Statement as (Statement & Record<string, unknown>)[]);
    expect(statements.filter((statement) => list(statement.Action).includes('s3:ListBucket'))).toEqual([
      expect.objectContaining({ Condition: { StringLike: { 's3:prefix': [`${ARCHIVE_PREFIX}*`] } } }),
    ]);
  });

  it("grants no wildcard action, and no '*' resource but ListStreams; the only other wildcards are the archive's raw/* (and the stream's error) prefixes", () => {
    for (const roleId of [ids.receiverRole, ids.workerRole, ids.reconcilerRole, ids.publisherRole, ids.streamRole]) {
      for (const pair of pairsOf(template, roleId)) {
        const [action, resource] = pair.split(' on ');
        expect(action).not.toContain('*');
        if (resource === '"*"') expect(action).toBe('dynamodb:ListStreams');
        else if (resource.includes('*')) expect([under(ids.archive), ...(roleId === ids.streamRole ? [underErrors] : [])]).toContain(resource);
      }
    }
  });

  it('has resource policies that deny, and allow only S3 server access logging into the log bucket and the review rule into its queues', () => {
    const policies = {
      ...template.findResources('AWS::S3::BucketPolicy'),
      ...template.findResources('AWS::SQS::QueuePolicy'),
      ...template.findResources('AWS::SNS::TopicPolicy'),
    };
    expect(Object.keys(policies).length).toBeGreaterThan(0);
    const allows = Object.values(policies)
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as (Statement & { Principal?: unknown })[])
      .filter((statement) => statement.Effect !== 'Deny');
    expect(allows).toEqual([
      {
        Action: 's3:PutObject',
        Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.archive, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.ingestion.accessLogsBucket), 'Arn'] }, '/archive/*']] },
      },
      ...[ids.reviewDeadLetterQueue, ids.reviewQueue].map((queueId) => ({
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.reviewRule, 'Arn'] } } },
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
      })),
    ]);
  });
});

describe('IAM least privilege with a customer managed key', () => {
  const app = projectApp({ bundle: false });
  const keys = new Stack(app, 'Keys');
  const key = new kms.Key(keys, 'Key', { enableKeyRotation: true });
  const stack = new WebhookIngestionStack(app, STACK_NAME, { ingestionProps: { encryptionKey: key }, workerProps: { encryptionKey: key } });
  const template = Template.fromStack(stack);
  // The key's ARN from the other stack: an export, or (with the recommended flags) Fn::GetStackOutput of the Keys stack.
  const keyArn = (pair: Pair): boolean =>
    pair.includes('"Keys:ExportsOutput') || pair.includes('KeyArn') || /"StackName":"Keys".*"OutputName":"[^"]*Key[^"]*Arn/.test(pair);

  it('adds only KMS actions on that key, and only those each function needs', () => {
    const receiverKms = pairsOf(template, logicalId(stack.ingestion.receiverRole)).filter((pair) => pair.startsWith('kms:'));
    const workerKms = pairsOf(template, logicalId(stack.worker.workerRole)).filter((pair) => pair.startsWith('kms:'));
    expect(receiverKms.length).toBeGreaterThan(0);
    expect(workerKms.length).toBeGreaterThan(0);
    for (const pair of [...receiverKms, ...workerKms]) expect(keyArn(pair)).toBe(true);
    const actions = (list: Pair[]): string[] => [...new Set(list.map((pair) => pair.split(' on ')[0]))].sort();
    // Exact data-key use: never key management, never a wildcard action, never another key.
    expect(actions(receiverKms)).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
    expect(actions(workerKms)).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
  });
});
