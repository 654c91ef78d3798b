import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARCHIVE_BATCH_EXTENSION, ARCHIVE_PREFIX, DEFAULTS, ENV, SERVICE_LIMITS, TABLE_KEYS, WEBHOOK_PATH } from '../../lambda/core/contract';
import { ARCHIVE_BATCH_PREFIX_EXPRESSION, ARCHIVE_ERROR_PREFIX_EXPRESSION } from '../../lambda/core/archive-key';
import { SIGNING_SECRET_PLACEHOLDER_TEMPLATE, WebhookIngestion } from '../../lib/webhook-ingestion';
import { type Synthesized, actionsOf, getAtt, logicalId, objectsUnder, resourcesFor, roleStatements, synthesize, type CfnJson, projectApp } from './support/synth';

let synth: Synthesized;
let ids: { table: string; archive: string; logs: string; queue: string; dlq: string; secret: string; receiver: string };

beforeAll(() => {
  synth = synthesize();
  const { ingestion } = synth.stack;
  ids = {
    table: logicalId(ingestion.deliveriesTable),
    archive: logicalId(ingestion.archiveBucket),
    logs: logicalId(ingestion.accessLogsBucket),
    queue: logicalId(ingestion.queue),
    dlq: logicalId(ingestion.deadLetterQueue),
    secret: logicalId(ingestion.signingSecret),
    receiver: logicalId(ingestion.receiver),
  };
});

/** The deny-unless-TLS statement CDK's `enforceSSL` adds to a resource policy. */
const denyInsecureTransport = Match.objectLike({
  Effect: 'Deny',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('WebhookIngestion', () => {
  describe('the HTTP API', () => {
    it('exposes only POST /webhooks', () => {
      const routes = synth.template.findResources('AWS::ApiGatewayV2::Route');
      expect(Object.values(routes).map((r) => r.Properties.RouteKey)).toEqual([`POST ${WEBHOOK_PATH}`]);
    });

    it('hands the receiver the payload format 2.0 event', () => {
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: Match.objectLike({ 'Fn::GetAtt': [ids.receiver, 'Arn'] }),
      });
    });

    it('throttles the default stage with the contract defaults', () => {
      synth.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: DEFAULTS.throttleRateLimit,
          ThrottlingBurstLimit: DEFAULTS.throttleBurstLimit,
        },
      });
    });

    it('writes JSON access logs, without any header, to a retained log group', () => {
      const stage = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Stage'))[0];
      const settings = stage.Properties.AccessLogSettings;
      expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalId(synth.stack.ingestion.accessLogGroup), 'Arn'] });
      const format = JSON.parse(settings.Format) as Record<string, string>;
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
      expect(settings.Format).not.toMatch(/header|signature/i);
      synth.template.hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: Match.anyValue() },
        DeletionPolicy: 'Retain',
      });
    });

    it('lets only this API invoke the receiver', () => {
      synth.template.hasResourceProperties('AWS::Lambda::Permission', {
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [ids.receiver, 'Arn'] },
        SourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
      });
    });
  });

  describe('the receiver function', () => {
    let fn: CfnJson;
    beforeAll(() => {
      fn = synth.template.findResources('AWS::Lambda::Function')[ids.receiver].Properties;
    });

    it('runs on the newest Node.js runtime cdk-nag accepts (22 or later), on arm64', () => {
      const major = Number(/^nodejs(\d+)\.x$/.exec(fn.Runtime)?.[1]);
      expect(major).toBeGreaterThanOrEqual(22);
      expect(fn.Architectures).toEqual(['arm64']);
    });

    it('times out after the contract receiver timeout, well inside the dedupe lease', () => {
      expect(fn.Timeout).toBe(DEFAULTS.receiverTimeoutSeconds);
      expect(Number(fn.Environment.Variables[ENV.leaseSeconds])).toBeGreaterThan(fn.Timeout);
    });

    it('gets exactly the contract environment, with the secret ARN but never its value', () => {
      const env = fn.Environment.Variables as Record<string, unknown>;
      const expected = [
        ENV.deliveriesTable,
        ENV.archiveBucket,
        ENV.queueUrl,
        ENV.signingSecretArn,
        ENV.requireSignature,
        ENV.timestampToleranceSeconds,
        ENV.maxBodyBytes,
        ENV.dedupeTtlDays,
        ENV.leaseSeconds,
        ENV.rotationGraceSeconds,
        ENV.secretCacheSeconds,
        ENV.inlinePayloadMaxBytes,
        ENV.claimCheckDelaySeconds,
        ENV.archiveStream,
        'POWERTOOLS_SERVICE_NAME',
      ];
      expect(Object.keys(env).sort()).toEqual([...expected].sort());
      expect(env[ENV.signingSecretArn]).toEqual({ Ref: ids.secret });
      expect(env[ENV.requireSignature]).toBe('true');
      expect(env[ENV.timestampToleranceSeconds]).toBe(String(DEFAULTS.timestampToleranceSeconds));
      expect(env[ENV.maxBodyBytes]).toBe(String(DEFAULTS.maxBodyBytes));
      expect(env[ENV.dedupeTtlDays]).toBe(String(DEFAULTS.dedupeTtlDays));
      expect(env[ENV.archiveStream]).toEqual({ Ref: logicalId(synth.stack.ingestion.archiveStream as never) });
      // Longer than the function's timeout: an attempt that answers 2xx has written its claim-check object first.
      expect(Number(env[ENV.claimCheckDelaySeconds])).toBeGreaterThan(fn.Timeout as number);
    });

    it('is bundled as minified ESM with a require shim and the AWS SDK inside the bundle', () => {
      const assembly = synth.app.synth();
      const hash = String(fn.Code.S3Key).replace(/\.zip$/, '');
      const bundle = fs.readFileSync(path.join(assembly.directory, `asset.${hash}`, 'index.mjs'), 'utf8');
      expect(fn.Handler).toBe('index.handler');
      expect(bundle.startsWith("import { createRequire } from 'module';")).toBe(true);
      // No bare import of the SDK: it is pinned in the bundle, not taken from the runtime.
      expect(bundle).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(bundle).not.toMatch(/\.map$/m);
    });

    it('logs JSON to its own retained log group, without Lambda\'s START/END/REPORT lines, instead of the account-wide basic execution policy', () => {
      const roleId = logicalId(synth.stack.ingestion.receiverRole);
      const role = synth.template.findResources('AWS::IAM::Role')[roleId];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(fn.LoggingConfig).toEqual({
        LogGroup: { Ref: logicalId(synth.stack.ingestion.receiverLogGroup) },
        LogFormat: 'JSON',
        SystemLogLevel: 'WARN',
        ApplicationLogLevel: 'INFO',
      });
    });
  });

  describe("the receiver's permissions", () => {
    it('are exactly: write its logs, update deliveries, append to the archive stream, put archive objects, send to the queue, read the secret', () => {
      const statements = roleStatements(synth.template, synth.stack.ingestion.receiverRole);
      expect(actionsOf(statements)).toEqual([
        'dynamodb:UpdateItem',
        'firehose:PutRecordBatch',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessage',
      ]);
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    });

    it('can write only the deliveries table', () => {
      const statements = roleStatements(synth.template, synth.stack.ingestion.receiverRole);
      expect(resourcesFor(statements, 'dynamodb:UpdateItem')).toEqual([getAtt(ids.table)]);
    });

    it('can put only under raw/ in the archive bucket', () => {
      const statements = roleStatements(synth.template, synth.stack.ingestion.receiverRole);
      expect(resourcesFor(statements, 's3:PutObject')).toEqual([objectsUnder(ids.archive, ARCHIVE_PREFIX)]);
    });

    it('can send only to the work queue', () => {
      const statements = roleStatements(synth.template, synth.stack.ingestion.receiverRole);
      expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([getAtt(ids.queue)]);
    });

    it('can read only the signing secret', () => {
      const statements = roleStatements(synth.template, synth.stack.ingestion.receiverRole);
      expect(resourcesFor(statements, 'secretsmanager:GetSecretValue')).toEqual([JSON.stringify({ Ref: ids.secret })]);
    });
  });

  describe('the deliveries table', () => {
    it('is keyed by delivery id, on demand, with TTL and point-in-time recovery', () => {
      synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: TABLE_KEYS.deliveries.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: TABLE_KEYS.deliveries.partitionKey, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: TABLE_KEYS.deliveries.ttlAttribute, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('is encrypted with a KMS key and retained when the stack is deleted', () => {
      const table = synth.template.findResources('AWS::DynamoDB::Table')[ids.table];
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table.DeletionPolicy).toBe('Retain');
    });
  });

  describe('the archive bucket', () => {
    let bucket: CfnJson;
    beforeAll(() => {
      bucket = synth.template.findResources('AWS::S3::Bucket')[ids.archive];
    });

    it('blocks every form of public access and disables ACLs', () => {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    });

    it('is encrypted, versioned and retained', () => {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.DeletionPolicy).toBe('Retain');
    });

    it('moves objects to a colder class, then expires them and their old versions', () => {
      const rules = bucket.Properties.LifecycleConfiguration.Rules as CfnJson[];
      const retention = rules.find((r) => r.Id === 'ArchiveRetention');
      expect(retention).toMatchObject({
        Status: 'Enabled',
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: DEFAULTS.archiveColdAfterDays }],
        ExpirationInDays: DEFAULTS.archiveRetentionDays,
        NoncurrentVersionExpiration: { NoncurrentDays: expect.any(Number) },
      });
      expect(rules.some((r) => r.ExpiredObjectDeleteMarker === true)).toBe(true);
    });

    it('sends server access logs to a separate, private, TLS-only bucket', () => {
      expect(bucket.Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: ids.logs },
        LogFilePrefix: 'archive/',
      });
      synth.template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicPolicy: true }),
        BucketEncryption: Match.anyValue(),
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: Match.anyValue() })] },
      });
    });

    it.each([
      ['archive', () => ids.archive],
      ['access log', () => ids.logs],
    ])('the %s bucket refuses requests without TLS', (_name, id) => {
      synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id() },
        PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
      });
    });
  });

  describe('the queues', () => {
    it('move a message to the DLQ after the contract receive count', () => {
      synth.template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] }, maxReceiveCount: DEFAULTS.maxReceiveCount },
      });
      expect(DEFAULTS.maxReceiveCount).toBe(5);
    });

    it('keep the work queue invisible for at least six worker timeouts', () => {
      const queue = synth.template.findResources('AWS::SQS::Queue')[ids.queue];
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * DEFAULTS.workerTimeoutSeconds);
    });

    it('let the work queue and the DLQ carry 1 MiB messages, what the inline payload limit assumes (the worker moves bodies to the DLQ unchanged)', () => {
      const queues = synth.template.findResources('AWS::SQS::Queue');
      expect(queues[ids.queue].Properties.MaximumMessageSize).toBe(SERVICE_LIMITS.sqsMaxMessageBytes);
      expect(queues[ids.dlq].Properties.MaximumMessageSize).toBe(SERVICE_LIMITS.sqsMaxMessageBytes);
      expect(DEFAULTS.inlinePayloadMaxBytes).toBeLessThan(SERVICE_LIMITS.sqsMaxMessageBytes);
    });

    it('keep dead letters for 14 days', () => {
      const dlq = synth.template.findResources('AWS::SQS::Queue')[ids.dlq];
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    });

    it.each([
      ['work queue', () => ids.queue],
      ['dead-letter queue', () => ids.dlq],
    ])('the %s is encrypted and refuses requests without TLS', (_name, id) => {
      const queue = synth.template.findResources('AWS::SQS::Queue')[id()];
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      synth.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id() }],
        PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
      });
    });
  });

  describe('the signing secret', () => {
    it('is created holding only a placeholder the receiver treats as unset', () => {
      synth.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({
          SecretStringTemplate: SIGNING_SECRET_PLACEHOLDER_TEMPLATE,
          GenerateStringKey: 'nonce',
        }),
      });
      expect(JSON.parse(SIGNING_SECRET_PLACEHOLDER_TEMPLATE)).toEqual({ unset: true });
    });

    it('never carries a value in the template', () => {
      const secret = synth.template.findResources('AWS::SecretsManager::Secret')[ids.secret];
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(synth.json.match(/"SecretString"\s*:|whsec_/g)).toBeNull();
    });
  });
});

describe('WebhookIngestion with overrides', () => {
  describe('when unsigned deliveries are allowed', () => {
    let unsigned: Synthesized;
    beforeAll(() => {
      unsigned = synthesize({ ingestionProps: { allowUnsignedDeliveries: true } }, { bundle: false });
    });

    it('tells the receiver signatures are optional', () => {
      unsigned.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.requireSignature]: 'false' }) },
      });
    });

    it('warns at synth time that the endpoint can be forged', () => {
      const warnings = Annotations.fromStack(unsigned.stack).findWarning('*', Match.stringLikeRegexp('allowUnsignedDeliveries'));
      expect(warnings).toHaveLength(1);
    });
  });

  describe('when a webhook path token is given (abuse mitigation)', () => {
    const token = 'a3f9c0e17b5d42c8a6e1f0b9d7c35e21f4a8b6c0';
    let tokened: Synthesized;
    beforeAll(() => {
      tokened = synthesize({ ingestionProps: { webhookPathToken: token } }, { bundle: false });
    });

    it('routes only POST /webhooks/<token>, so requests without the token reach no function and spend none of its throttle', () => {
      const routes = tokened.template.findResources('AWS::ApiGatewayV2::Route');
      expect(Object.values(routes).map((r) => r.Properties.RouteKey)).toEqual([`POST ${WEBHOOK_PATH}/${token}`]);
      tokened.template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    });

    it('keeps the stage throttle on that route and gives the provider the full URL with the token', () => {
      tokened.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        DefaultRouteSettings: { ThrottlingRateLimit: DEFAULTS.throttleRateLimit, ThrottlingBurstLimit: DEFAULTS.throttleBurstLimit },
      });
      const output = tokened.template.findOutputs('WebhookUrl').WebhookUrl;
      expect(JSON.stringify(output.Value)).toContain(`${WEBHOOK_PATH}/${token}`);
    });
  });

  describe('when an existing secret is imported', () => {
    it('creates no secret and lets the receiver read only that one (any version suffix)', () => {
      const stack = new Stack(projectApp({ bundle: false }), 'Imported');
      const existing = secretsmanager.Secret.fromSecretNameV2(stack, 'Existing', 'provider/webhook-secret');
      const ingestion = new WebhookIngestion(stack, 'Ingestion', { existingSigningSecret: existing });
      const template = Template.fromStack(stack);

      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      const resources = resourcesFor(roleStatements(template, ingestion.receiverRole), 'secretsmanager:GetSecretValue');
      expect(resources).toHaveLength(1);
      expect(resources[0]).toContain(':secret:provider/webhook-secret-??????');
    });
  });

  describe('the archive stream', () => {
    const stream = (): CfnJson => Object.values(synth.template.findResources('AWS::KinesisFirehose::DeliveryStream'))[0];

    it('takes Direct PUT records, encrypted at rest, and writes GZIP objects of JSON lines under the receipt-hour batch folder', () => {
      const properties = stream().Properties;
      expect(properties.DeliveryStreamType).toBe('DirectPut');
      expect(properties.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
      expect(properties.ExtendedS3DestinationConfiguration).toMatchObject({
        BucketARN: { 'Fn::GetAtt': [ids.archive, 'Arn'] },
        // The expressions' rendering is the unit tests' (test/unit/receiver/archive-key.test.ts).
        Prefix: ARCHIVE_BATCH_PREFIX_EXPRESSION,
        ErrorOutputPrefix: ARCHIVE_ERROR_PREFIX_EXPRESSION,
        CompressionFormat: 'GZIP',
        FileExtension: ARCHIVE_BATCH_EXTENSION,
        CustomTimeZone: 'UTC',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
        CloudWatchLoggingOptions: expect.objectContaining({ Enabled: true }),
      });
    });

    it('takes the buffering overrides, and is left out when deployArchiveStream is false', () => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Buffering');
      new WebhookIngestion(stack, 'Ingestion', { archiveBufferingInterval: Duration.seconds(300), archiveBufferingSize: Size.mebibytes(16) });
      Template.fromStack(stack).hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
        ExtendedS3DestinationConfiguration: Match.objectLike({ BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 16 } }),
      });

      const without = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'PerObject');
      const ingestion = new WebhookIngestion(without, 'Ingestion', { deployArchiveStream: false });
      const template = Template.fromStack(without);
      template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
      expect(ingestion.archiveStream).toBeUndefined();
      const receiver = Object.values(template.findResources('AWS::Lambda::Function')).find((fn) => fn.Properties.Environment?.Variables?.[ENV.deliveriesTable]);
      expect(receiver?.Properties.Environment.Variables).not.toHaveProperty(ENV.archiveStream);
      expect(actionsOf(roleStatements(template, ingestion.receiverRole))).not.toContain('firehose:PutRecordBatch');
    });
  });

  describe('when a customer managed key is given', () => {
    it('encrypts table, archive and queues with it and grants the receiver only what its calls need', () => {
      const stack = new Stack(projectApp({ bundle: false }), 'Cmk');
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const ingestion = new WebhookIngestion(stack, 'Ingestion', { encryptionKey: key });
      const template = Template.fromStack(stack);
      const keyArn = getAtt(logicalId(key));

      template.hasResourceProperties('AWS::DynamoDB::Table', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(key), 'Arn'] } },
      });
      template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(key), 'Arn'] } });
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
          ],
        },
      });
      const statements = roleStatements(template, ingestion.receiverRole);
      expect(resourcesFor(statements, 'kms:GenerateDataKey')).toEqual([keyArn]);
      expect(resourcesFor(statements, 'kms:Decrypt')).toEqual([keyArn]);
      template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
        DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: { 'Fn::GetAtt': [logicalId(key), 'Arn'] } },
        ExtendedS3DestinationConfiguration: Match.objectLike({ EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: { 'Fn::GetAtt': [logicalId(key), 'Arn'] } } } }),
      });
    });
  });
});
