/**
 * The ingress side: HTTP API -> receiver Lambda -> deliveries table (dedupe),
 * archive bucket (exact raw bytes) and work queue (+ DLQ), with the signing secret.
 */
import { Annotations, Duration, RemovalPolicies, RemovalPolicy, type Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ARCHIVE_PREFIX, DEFAULTS, ENV, SERVICE_LIMITS, SERVICE_NAMES, TABLE_KEYS, WEBHOOK_PATH } from '../lambda/core/contract';
import { ArchiveStream, checkArchiveBuffering } from './archive-stream';
import {
  DEFAULT_LOG_RETENTION,
  DEFAULT_QUEUE_VISIBILITY_TIMEOUT_SECONDS,
  LAMBDA_MEMORY_MAX_MB,
  LAMBDA_MEMORY_MIN_MB,
  ProblemCollector,
  VISIBILITY_TIMEOUT_FACTOR,
  acknowledgeWildcardResource,
  grantKeyUse,
  withoutDeprecatedPitr,
  createNodeFunction,
} from './secure-defaults';

/** API Gateway HTTP API's payload quota (10 MB, not adjustable). */
export const HTTP_API_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Lambda's synchronous invocation payload quota (6 MB): the whole event JSON must fit. */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/**
 * The event around the body: HTTP API allows 10,240 bytes of request line and
 * headers, which the event carries JSON-escaped, plus the request context.
 */
export const EVENT_ENVELOPE_RESERVE_BYTES = 32 * 1024;
/**
 * The largest body the receiver can ever be handed: Lambda's payload is the
 * tighter limit, and a body API Gateway base64-encodes grows by 4/3 inside it
 * (4,694,016 bytes, about 4.48 MiB). A larger `maxBodyBytes` would promise a
 * 413 that the receiver never gets to give.
 */
export const MAX_BODY_BYTES_LIMIT = Math.floor(((Math.min(LAMBDA_SYNC_PAYLOAD_BYTES, HTTP_API_MAX_PAYLOAD_BYTES) - EVENT_ENVELOPE_RESERVE_BYTES) * 3) / 4);
/** SQS's 1 MiB message limit, less room for the message attributes (which count toward it). */
export const INLINE_PAYLOAD_MAX_BYTES_LIMIT = SERVICE_LIMITS.sqsMaxMessageBytes - 1024;
/** Beyond an hour, the timestamp window stops protecting against replayed captures. */
export const TIMESTAMP_TOLERANCE_MAX_SECONDS = 3600;
/** The placeholder the receiver recognises as "no secret yet" and fails closed on. */
export const SIGNING_SECRET_PLACEHOLDER_TEMPLATE = JSON.stringify({ unset: true });

const DEFAULT_RECEIVER_MEMORY_MB = 512;
const DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS = 30;
const DEAD_LETTER_RETENTION = Duration.days(14);
const S3_ACCESS_LOGS_USE_BUCKET_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

export interface WebhookIngestionProps {
  /**
   * The provider's signing secret, when it already lives in Secrets Manager.
   * Its value must be the raw secret string the provider shows.
   *
   * @default - a new secret holding a placeholder (`{"unset":true,...}`); the receiver
   * answers 503 and the secret-unset alarm fires until ops run
   * `aws secretsmanager put-secret-value --secret-id <arn> --secret-string <provider secret>`.
   */
  readonly existingSigningSecret?: secretsmanager.ISecret;

  /**
   * DANGER: accepts deliveries that carry NO signature. Anyone who learns the URL can
   * then forge job events (mark jobs completed, point output URLs anywhere).
   * Only for a provider account that has no signing secret configured, and only
   * until it has one. Signatures that ARE present are still verified.
   *
   * @default false - every delivery must carry a valid signature
   */
  readonly allowUnsignedDeliveries?: boolean;

  /** Accepted clock skew between the provider's timestamp and ours, both directions. @default 300 */
  readonly timestampToleranceSeconds?: number;
  /**
   * Larger bodies are answered 413 before any AWS call. At most 4,694,016 bytes: what
   * Lambda's 6 MB invocation payload can carry base64-encoded beside the headers.
   * @default 1048576
   */
  readonly maxBodyBytes?: number;
  /** How long a delivery id is remembered for deduplication. @default 30 */
  readonly dedupeTtlDays?: number;
  /** How long an in-progress attempt owns its delivery id; must exceed the receiver timeout (10 s). @default 15 */
  readonly leaseSeconds?: number;
  /** How long AWSPREVIOUS stays valid after a new secret version is put. @default 86400 */
  readonly rotationGraceSeconds?: number;
  /** How long the receiver caches the secret. @default 60 */
  readonly secretCacheSeconds?: number;
  /**
   * Queue messages up to this size carry the payload inline (and the delivery
   * is archived in a batch); larger ones carry only its archive key (claim
   * check, one object per delivery). At most SQS's 1 MiB less 1 KiB for the attributes.
   *
   * @default 1047552
   */
  readonly inlinePayloadMaxBytes?: number;

  /**
   * Archive deliveries through an Amazon Data Firehose stream into batched,
   * GZIP-compressed objects (one JSON line per delivery). Without it every
   * delivery is archived as its own object, which costs one S3 PUT each.
   *
   * @default true
   */
  readonly deployArchiveStream?: boolean;
  /** How long Firehose buffers archive lines before writing an object (0-900 s). @default Duration.seconds(60) */
  readonly archiveBufferingInterval?: Duration;
  /** Buffer size that makes Firehose write early (1-128 MiB, before compression). @default Size.mebibytes(64) */
  readonly archiveBufferingSize?: Size;

  /** Days after which archived objects move to S3 Glacier Instant Retrieval. @default 30 */
  readonly archiveColdAfterDays?: number;
  /** Days after which archived objects expire; must exceed `archiveColdAfterDays`. @default 365 */
  readonly archiveRetentionDays?: number;
  /** Days after which overwritten or deleted archive versions are removed. @default 30 */
  readonly archiveNoncurrentVersionExpirationDays?: number;

  /**
   * Abuse mitigation (docs/security.md, Abuse): route the webhook only at
   * `POST /webhooks/<token>`, so the provider's route has the stage throttle to
   * itself. A flood from anyone who does not know the token matches no route:
   * API Gateway answers 404 itself, invokes nothing and spends none of the
   * route's throttle, so it cannot push the provider into 429s (which a strict
   * provider never retries). The token is an address, not a key (the HMAC
   * still authenticates every delivery): keep it out of public places, put the
   * full `WebhookUrl` output into the provider's webhook settings, and rotate it
   * by deploying a new token and updating the provider. At least 32 characters
   * of `A-Z a-z 0-9 _ -`, for example `openssl rand -hex 24`.
   *
   * @default - no token: the provider posts to `/webhooks`
   */
  readonly webhookPathToken?: string;

  /** Steady-state requests per second the stage lets through. @default 100 */
  readonly throttleRateLimit?: number;
  /** Burst the stage lets through. @default 200 */
  readonly throttleBurstLimit?: number;

  /** @default 512 */
  readonly receiverMemorySize?: number;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** Reserve (and cap) the receiver's concurrency. @default - none: the stage throttle bounds it */
  readonly receiverReservedConcurrency?: number;
  /** Active X-Ray tracing on the receiver. @default false */
  readonly enableTracing?: boolean;
  /** Retention of the receiver's and the API's log groups. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A customer managed key for the deliveries table, the archive bucket and both queues.
   *
   * @default - AWS managed keys (DynamoDB), S3 managed keys (archive) and SQS managed keys (queues)
   */
  readonly encryptionKey?: kms.IKey;
  /** Applied to the deliveries table, the buckets and a created secret. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Dev and test stacks only: everything this construct creates is deleted with
   * the stack (or when it leaves the stack) (the deliveries table, the secret, the log groups; the archive and access-log buckets are emptied first by CDK's auto-delete custom resource, since CloudFormation cannot delete a non-empty versioned bucket), instead of being
   * retained. Never in production: the archive is the only copy of the raw deliveries.
   *
   * @default false - retained (see the README's teardown section)
   */
  readonly destroyOnRemoval?: boolean;

  /**
   * Overrides for the deliveries table. The key schema, TTL attribute and
   * point-in-time recovery are enforced.
   *
   * @default - on-demand, encrypted, retained
   */
  readonly deliveriesTableProps?: Partial<dynamodb.TableProps>;
  /**
   * Overrides for the archive bucket. Block public access, TLS-only, versioning,
   * disabled ACLs, server access logs and the retention lifecycle are enforced;
   * extra lifecycle rules are added to ours.
   *
   * @default - S3 managed encryption, retained
   */
  readonly archiveBucketProps?: s3.BucketProps;
  /**
   * Overrides for the work queue. TLS-only and the DLQ wiring are enforced; the
   * visibility timeout must stay at least six times the worker timeout.
   *
   * @default - SQS managed encryption, 4 days retention, visibility timeout 181 s
   */
  readonly queueProps?: sqs.QueueProps;
  /**
   * Overrides for the dead-letter queue. TLS-only and 14 days retention are enforced.
   *
   * @default - SQS managed encryption
   */
  readonly deadLetterQueueProps?: sqs.QueueProps;
}

/**
 * Public webhook endpoint with verification, deduplication, archive and enqueue.
 * Every resource is a public field so the stack wires it with `grant*` calls.
 */
export class WebhookIngestion extends Construct {
  public readonly httpApi: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly receiver: lambda.Function;
  public readonly receiverRole: iam.Role;
  public readonly receiverLogGroup: logs.LogGroup;
  public readonly deliveriesTable: dynamodb.Table;
  public readonly archiveBucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly signingSecret: secretsmanager.ISecret;
  /** The batched archive (absent when `deployArchiveStream` is false). */
  public readonly archiveStream?: ArchiveStream;

  /** The secret's ARN for IAM: a partial ARN (a secret imported by name) gets its random suffix matched. */
  public get signingSecretResourceArn(): string {
    return this.signingSecret.secretFullArn ?? `${this.signingSecret.secretArn}-??????`;
  }
  /** The full URL the provider is configured with; ends in `/webhooks` (or `/webhooks/<token>`). */
  public readonly webhookUrl: string;
  /** The route's path: `/webhooks`, or `/webhooks/<webhookPathToken>`. */
  public readonly webhookPath: string;

  constructor(scope: Construct, id: string, props: WebhookIngestionProps = {}) {
    super(scope, id);
    validateWebhookIngestionProps(props);
    // Access-log delivery through a bucket policy, not ACLs (disabled below by
    // BUCKET_OWNER_ENFORCED), whatever feature flags the app sets.
    this.node.setContext(S3_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    const destroyOnRemoval = props.destroyOnRemoval ?? false;
    const removalPolicy = destroyOnRemoval ? RemovalPolicy.DESTROY : (props.removalPolicy ?? RemovalPolicy.RETAIN);
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    const key = props.encryptionKey;

    this.deliveriesTable = new dynamodb.Table(this, 'DeliveriesTable', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: key,
      removalPolicy,
      ...withoutDeprecatedPitr(props.deliveriesTableProps),
      partitionKey: { name: TABLE_KEYS.deliveries.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: undefined,
      timeToLiveAttribute: TABLE_KEYS.deliveries.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // Server access log delivery supports only S3 managed keys on the target bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Needs no access logs of its own: cdk-nag S1 accepts a bucket that is another's log target.
      lifecycleRules: [
        { id: 'ExpireAccessLogs', expiration: Duration.days(props.archiveRetentionDays ?? DEFAULTS.archiveRetentionDays) },
      ],
      removalPolicy,
      autoDeleteObjects: destroyOnRemoval,
    });
    this.archiveBucket = new s3.Bucket(this, 'ArchiveBucket', {
      encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: key,
      bucketKeyEnabled: key ? true : undefined,
      removalPolicy,
      ...props.archiveBucketProps,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      publicReadAccess: false,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      autoDeleteObjects: destroyOnRemoval,
      lifecycleRules: [
        {
          id: 'ArchiveRetention',
          // Instant Retrieval keeps replays synchronous (no restore step) at a colder price.
          transitions: [
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(props.archiveColdAfterDays ?? DEFAULTS.archiveColdAfterDays),
            },
          ],
          expiration: Duration.days(props.archiveRetentionDays ?? DEFAULTS.archiveRetentionDays),
          noncurrentVersionExpiration: Duration.days(
            props.archiveNoncurrentVersionExpirationDays ?? DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS,
          ),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        // Expiration on a versioned bucket leaves delete markers behind; remove them once alone.
        { id: 'RemoveExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
        ...(props.archiveBucketProps?.lifecycleRules ?? []),
      ],
    });

    const queueEncryption = key
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...queueEncryption,
      // As large as the work queue's: the worker moves a message here with its body unchanged.
      maxMessageSizeBytes: SERVICE_LIMITS.sqsMaxMessageBytes,
      ...props.deadLetterQueueProps,
      enforceSSL: true,
      // The maximum SQS allows: the DLQ is where a human looks, possibly after a weekend.
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...queueEncryption,
      visibilityTimeout: Duration.seconds(DEFAULT_QUEUE_VISIBILITY_TIMEOUT_SECONDS),
      // Shorter than the DLQ's, so a message moved there late still has time to be inspected.
      retentionPeriod: Duration.days(4),
      ...props.queueProps,
      enforceSSL: true,
      // What lets payloads ride inline up to 1 MiB (the receiver's inline limit assumes it).
      maxMessageSizeBytes: SERVICE_LIMITS.sqsMaxMessageBytes,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: DEFAULTS.maxReceiveCount },
    });

    if (props.deployArchiveStream ?? true) {
      this.archiveStream = new ArchiveStream(this, 'ArchiveStream', {
        bucket: this.archiveBucket,
        encryptionKey: key,
        bufferingInterval: props.archiveBufferingInterval,
        bufferingSize: props.archiveBufferingSize,
        logRetention,
        removalPolicy,
      });
    }

    this.signingSecret = props.existingSigningSecret ?? this.createPlaceholderSecret(removalPolicy);

    const allowUnsigned = props.allowUnsignedDeliveries ?? false;
    if (allowUnsigned) {
      Annotations.of(this).addWarningV2(
        'webhook-ingestion:unsigned-deliveries',
        'allowUnsignedDeliveries is true: deliveries without a signature are accepted and can be forged by anyone who knows the URL.',
      );
    }

    const receiverParts = createNodeFunction(this, 'Receiver', {
      entry: 'lambda/handlers/receiver.ts',
      description: 'Verifies, deduplicates, archives and enqueues provider webhook deliveries',
      serviceName: SERVICE_NAMES.receiver,
      timeout: Duration.seconds(DEFAULTS.receiverTimeoutSeconds),
      memorySize: props.receiverMemorySize ?? DEFAULT_RECEIVER_MEMORY_MB,
      architecture: props.architecture,
      reservedConcurrentExecutions: props.receiverReservedConcurrency,
      enableTracing: props.enableTracing,
      logRetention,
      // Names and numbers only: the secret's value is fetched at run time, never placed here.
      environment: {
        [ENV.deliveriesTable]: this.deliveriesTable.tableName,
        [ENV.archiveBucket]: this.archiveBucket.bucketName,
        [ENV.queueUrl]: this.queue.queueUrl,
        [ENV.signingSecretArn]: this.signingSecret.secretArn,
        [ENV.requireSignature]: String(!allowUnsigned),
        [ENV.timestampToleranceSeconds]: String(props.timestampToleranceSeconds ?? DEFAULTS.timestampToleranceSeconds),
        [ENV.maxBodyBytes]: String(props.maxBodyBytes ?? DEFAULTS.maxBodyBytes),
        [ENV.dedupeTtlDays]: String(props.dedupeTtlDays ?? DEFAULTS.dedupeTtlDays),
        [ENV.leaseSeconds]: String(props.leaseSeconds ?? DEFAULTS.leaseSeconds),
        [ENV.rotationGraceSeconds]: String(props.rotationGraceSeconds ?? DEFAULTS.rotationGraceSeconds),
        [ENV.secretCacheSeconds]: String(props.secretCacheSeconds ?? DEFAULTS.secretCacheSeconds),
        [ENV.inlinePayloadMaxBytes]: String(props.inlinePayloadMaxBytes ?? DEFAULTS.inlinePayloadMaxBytes),
        [ENV.claimCheckDelaySeconds]: String(DEFAULTS.claimCheckDelaySeconds),
        ...(this.archiveStream ? { [ENV.archiveStream]: this.archiveStream.streamName } : {}),
      },
    });
    this.receiver = receiverParts.fn;
    this.receiverRole = receiverParts.role;
    this.receiverLogGroup = receiverParts.logGroup;
    this.grantReceiverAccess(this.receiverRole);

    this.accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `${Stack.of(this).stackName}-webhooks`,
      description: 'Provider webhook endpoint (POST /webhooks only)',
      // Our own stage below, because the implicit one cannot carry throttling or access logs.
      createDefaultStage: false,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttleRateLimit ?? DEFAULTS.throttleRateLimit,
        burstLimit: props.throttleBurstLimit ?? DEFAULTS.throttleBurstLimit,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        // No headers: the signature header must never reach a log.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.webhookPath = webhookPathFor(props.webhookPathToken);
    this.httpApi.addRoutes({
      path: this.webhookPath,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('ReceiverIntegration', this.receiver, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Public webhook endpoint called by the provider, which cannot present AWS or OAuth credentials: authenticity is checked by HMAC-SHA256 over the raw body in the receiver.',
    });

    this.webhookUrl = `${this.httpApi.apiEndpoint}${this.webhookPath}`;
    // Also the log groups and anything else below that defaults to retained.
    if (destroyOnRemoval) RemovalPolicies.of(this).destroy();
  }

  private createPlaceholderSecret(removalPolicy: RemovalPolicy): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description:
        'Webhook signing secret issued by the provider. Holds a placeholder until ops run put-secret-value with the real secret.',
      // CloudFormation generates a random nonce server-side, so no value ever appears in the template.
      generateSecretString: {
        secretStringTemplate: SIGNING_SECRET_PLACEHOLDER_TEMPLATE,
        generateStringKey: 'nonce',
        excludePunctuation: true,
      },
      removalPolicy,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is issued by the webhook provider, not by us: rotation happens at the provider and is applied with put-secret-value; the receiver accepts AWSPREVIOUS for a grace period, so no rotation Lambda is needed.',
    });
    return secret;
  }

  /** Exactly the actions the receiver's conditional-UpdateItem store, archives (objects, batch) and enqueue need. */
  private grantReceiverAccess(role: iam.IRole): void {
    this.deliveriesTable.grant(role, 'dynamodb:UpdateItem');
    grantKeyUse(this.deliveriesTable.encryptionKey, role, 'readWrite');

    const archiveObjects = this.archiveBucket.arnForObjects(`${ARCHIVE_PREFIX}*`);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [archiveObjects] }));
    acknowledgeWildcardResource(
      role,
      archiveObjects,
      'The receiver writes one object per delivery under the archive prefix; keys are generated per delivery, so the resource is the raw/* prefix of this bucket only (PutObject only).',
    );
    grantKeyUse(this.archiveBucket.encryptionKey, role, 'readWrite');

    this.archiveStream?.grantAppend(role);

    this.queue.grant(role, 'sqs:SendMessage');
    grantKeyUse(this.queue.encryptionMasterKey, role, 'readWrite');

    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.signingSecretResourceArn],
      }),
    );
    this.signingSecret.encryptionKey?.grantDecrypt(role);
  }
}

/** Long enough not to be guessed or enumerated; URL-safe so it is one path segment as given. */
export const WEBHOOK_PATH_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,128}$/;

export function webhookPathFor(token: string | undefined): string {
  return token === undefined ? WEBHOOK_PATH : `${WEBHOOK_PATH}/${token}`;
}

/** Every problem with the props, in one error. */
export function validateWebhookIngestionProps(props: WebhookIngestionProps): void {
  const problems = new ProblemCollector('WebhookIngestion');
  problems.check(
    !(props.destroyOnRemoval && props.removalPolicy !== undefined && props.removalPolicy !== RemovalPolicy.DESTROY),
    `destroyOnRemoval deletes every resource; it contradicts removalPolicy ${props.removalPolicy}`,
  );
  if (props.webhookPathToken !== undefined) {
    problems.check(
      !Token.isUnresolved(props.webhookPathToken) && WEBHOOK_PATH_TOKEN_PATTERN.test(props.webhookPathToken),
      'webhookPathToken must be 32 to 128 characters of A-Z a-z 0-9 _ - (for example the output of openssl rand -hex 24), given as a plain string',
    );
  }
  problems.integerInRange('timestampToleranceSeconds', props.timestampToleranceSeconds, 1, TIMESTAMP_TOLERANCE_MAX_SECONDS);
  if (props.maxBodyBytes !== undefined) {
    problems.check(
      Number.isInteger(props.maxBodyBytes) && props.maxBodyBytes >= 1 && props.maxBodyBytes <= MAX_BODY_BYTES_LIMIT,
      `maxBodyBytes must be an integer between 1 and ${MAX_BODY_BYTES_LIMIT} (got ${props.maxBodyBytes}): Lambda's 6 MB invocation payload holds the body base64-encoded (4/3 larger) beside up to 10 KiB of headers, so a larger body never reaches the receiver`,
    );
  }
  problems.integerInRange('dedupeTtlDays', props.dedupeTtlDays, 1);
  problems.integerInRange('leaseSeconds', props.leaseSeconds, DEFAULTS.receiverTimeoutSeconds + 1);
  problems.integerInRange('rotationGraceSeconds', props.rotationGraceSeconds, 0);
  problems.integerInRange('secretCacheSeconds', props.secretCacheSeconds, 0, 3600);
  problems.integerInRange('inlinePayloadMaxBytes', props.inlinePayloadMaxBytes, 0, INLINE_PAYLOAD_MAX_BYTES_LIMIT);
  problems.integerInRange('archiveColdAfterDays', props.archiveColdAfterDays, 1);
  problems.integerInRange('archiveRetentionDays', props.archiveRetentionDays, 1);
  problems.integerInRange('archiveNoncurrentVersionExpirationDays', props.archiveNoncurrentVersionExpirationDays, 1);
  checkArchiveBuffering(problems, props.archiveBufferingInterval, props.archiveBufferingSize);
  problems.check(
    props.deployArchiveStream !== false || (props.archiveBufferingInterval === undefined && props.archiveBufferingSize === undefined),
    'archiveBufferingInterval and archiveBufferingSize need deployArchiveStream',
  );
  const coldAfter = props.archiveColdAfterDays ?? DEFAULTS.archiveColdAfterDays;
  const retention = props.archiveRetentionDays ?? DEFAULTS.archiveRetentionDays;
  problems.check(
    retention > coldAfter,
    `archiveRetentionDays (${retention}) must be greater than archiveColdAfterDays (${coldAfter})`,
  );
  if (props.throttleRateLimit !== undefined) {
    problems.check(
      Number.isFinite(props.throttleRateLimit) && props.throttleRateLimit > 0,
      `throttleRateLimit must be a number > 0 (got ${props.throttleRateLimit})`,
    );
  }
  problems.integerInRange('throttleBurstLimit', props.throttleBurstLimit, 1);
  problems.integerInRange('receiverMemorySize', props.receiverMemorySize, LAMBDA_MEMORY_MIN_MB, LAMBDA_MEMORY_MAX_MB);
  problems.integerInRange('receiverReservedConcurrency', props.receiverReservedConcurrency, 1);

  problems.check(
    props.archiveBucketProps?.encryption !== s3.BucketEncryption.UNENCRYPTED,
    'archiveBucketProps.encryption must not be UNENCRYPTED',
  );
  problems.check(
    props.queueProps?.encryption !== sqs.QueueEncryption.UNENCRYPTED,
    'queueProps.encryption must not be UNENCRYPTED',
  );
  problems.check(
    props.deadLetterQueueProps?.encryption !== sqs.QueueEncryption.UNENCRYPTED,
    'deadLetterQueueProps.encryption must not be UNENCRYPTED',
  );
  const visibility = props.queueProps?.visibilityTimeout?.toSeconds();
  const minVisibility = VISIBILITY_TIMEOUT_FACTOR * DEFAULTS.workerTimeoutSeconds;
  problems.check(
    visibility === undefined || visibility >= minVisibility,
    `queueProps.visibilityTimeout (${visibility} s) must be at least ${VISIBILITY_TIMEOUT_FACTOR}x the worker timeout (${minVisibility} s)`,
  );
  problems.throwIfAny();
}
