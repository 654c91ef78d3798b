/**
 * The batched archive: an Amazon Data Firehose stream (Direct PUT) that writes
 * the receiver's archive lines to the archive bucket as GZIP objects under the
 * receipt-hour prefix (`raw/YYYY/MM/DD/HH/batch/…jsonl.gz`).
 *
 * Built from the L1 resource with its own role: the L2 `S3Bucket` destination
 * grants `grantReadWrite` on the whole bucket, DeleteObject included, which an
 * evidence archive should not hand out. This role has the actions AWS documents
 * for an S3 destination, on the archive's two prefixes only.
 */
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_BATCH_EXTENSION, ARCHIVE_PREFIX } from '../lambda/core/contract';
import { ARCHIVE_BATCH_PREFIX_EXPRESSION, ARCHIVE_ERROR_PREFIX_EXPRESSION } from '../lambda/core/archive-key';
import { DEFAULT_LOG_RETENTION, ProblemCollector, acknowledgeWildcardResource, grantKeyUse } from './secure-defaults';

/** Firehose's bounds for an S3 destination without dynamic partitioning or format conversion. */
export const ARCHIVE_BUFFERING_INTERVAL_MAX_SECONDS = 900;
export const ARCHIVE_BUFFERING_SIZE_MIN_MIB = 1;
export const ARCHIVE_BUFFERING_SIZE_MAX_MIB = 128;
/**
 * A minute: replay and ops find a delivery in the archive a minute after its
 * ack, and at any traffic an object holds a minute of deliveries (fewer
 * objects, fewer PUTs, fewer listings). The records are Firehose's to keep
 * meanwhile (it keeps them up to 24 h while the destination fails).
 */
export const DEFAULT_ARCHIVE_BUFFERING_INTERVAL = Duration.seconds(60);
/** Large: a busy minute still makes one object (objects, PUTs and lifecycle transitions are billed each). */
export const DEFAULT_ARCHIVE_BUFFERING_SIZE = Size.mebibytes(64);

export interface ArchiveStreamProps {
  /** The archive bucket the batched objects are written to. */
  readonly bucket: s3.IBucket;
  /** Encrypts the stream's records and, when the bucket uses it, the objects. @default - an AWS owned key (stream), the bucket's default encryption (objects) */
  readonly encryptionKey?: kms.IKey;
  /** Longest time a record waits in the buffer (0-900 s). @default Duration.seconds(60) */
  readonly bufferingInterval?: Duration;
  /** Buffer size that flushes early (1-128 MiB, before compression). @default Size.mebibytes(64) */
  readonly bufferingSize?: Size;
  /** Retention of the stream's delivery-error log group. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class ArchiveStream extends Construct {
  public readonly stream: firehose.CfnDeliveryStream;
  public readonly role: iam.Role;
  /** Where Firehose logs records it could not deliver (it keeps retrying them for 24 h). */
  public readonly errorLogGroup: logs.LogGroup;
  public readonly streamName: string;
  public readonly streamArn: string;

  constructor(scope: Construct, id: string, props: ArchiveStreamProps) {
    super(scope, id);
    validateArchiveStreamProps(props);
    const { bucket } = props;
    const account = Stack.of(this).account;

    this.role = new iam.Role(this, 'Role', {
      description: 'Lets Firehose write the batched webhook archive (raw/ prefix) and its error prefix',
      // AWS's documented trust for a Firehose delivery role: only for this account's streams.
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': account } } }),
    });
    const objects = [bucket.arnForObjects(`${ARCHIVE_PREFIX}*`), bucket.arnForObjects('archive-errors/*')];
    const policy = new iam.Policy(this, 'Policy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [bucket.bucketArn],
        }),
        new iam.PolicyStatement({ actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], resources: objects }),
      ],
    });
    this.role.attachInlinePolicy(policy);
    for (const resource of objects) {
      acknowledgeWildcardResource(
        policy,
        resource,
        'Firehose names each batched object itself (stream name, time and a UUID), so the resource is a key prefix of the archive bucket; the actions are the ones AWS documents for an S3 destination, without delete.',
      );
    }
    grantKeyUse(props.encryptionKey ?? bucket.encryptionKey, this.role, 'readWrite');

    this.errorLogGroup = new logs.LogGroup(this, 'ErrorLogs', {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const errorLogStream = new logs.LogStream(this, 'ErrorLogStream', { logGroup: this.errorLogGroup, removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN });
    this.errorLogGroup.grantWrite(this.role);

    const key = props.encryptionKey;
    this.stream = new firehose.CfnDeliveryStream(this, 'Resource', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: key
        ? { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: key.keyArn }
        : { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: this.role.roleArn,
        prefix: ARCHIVE_BATCH_PREFIX_EXPRESSION,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX_EXPRESSION,
        compressionFormat: 'GZIP',
        fileExtension: ARCHIVE_BATCH_EXTENSION,
        customTimeZone: 'UTC',
        bufferingHints: {
          intervalInSeconds: (props.bufferingInterval ?? DEFAULT_ARCHIVE_BUFFERING_INTERVAL).toSeconds(),
          sizeInMBs: (props.bufferingSize ?? DEFAULT_ARCHIVE_BUFFERING_SIZE).toMebibytes(),
        },
        encryptionConfiguration: key ? { kmsEncryptionConfig: { awskmsKeyArn: key.keyArn } } : { noEncryptionConfig: 'NoEncryption' },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: this.errorLogGroup.logGroupName, logStreamName: errorLogStream.logStreamName },
      },
    });
    // The role must hold its grants before Firehose first assumes it.
    this.stream.node.addDependency(policy);
    this.streamName = this.stream.ref;
    this.streamArn = this.stream.attrArn;
  }

  /** Exactly what a producer of archive entries calls. */
  public grantAppend(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['firehose:PutRecordBatch'], resourceArns: [this.streamArn] });
  }
}

export function validateArchiveStreamProps(props: ArchiveStreamProps): void {
  const problems = new ProblemCollector('ArchiveStream');
  checkArchiveBuffering(problems, props.bufferingInterval, props.bufferingSize);
  problems.throwIfAny();
}

/** Firehose's buffering bounds, for this construct's validation and for the props of the construct that builds it. */
export function checkArchiveBuffering(problems: ProblemCollector, interval?: Duration, size?: Size): void {
  const seconds = interval?.toSeconds();
  if (seconds !== undefined) {
    problems.check(
      Number.isInteger(seconds) && seconds >= 0 && seconds <= ARCHIVE_BUFFERING_INTERVAL_MAX_SECONDS,
      `archiveBufferingInterval must be between 0 and ${ARCHIVE_BUFFERING_INTERVAL_MAX_SECONDS} seconds (got ${seconds})`,
    );
  }
  const mebibytes = size?.toMebibytes();
  if (mebibytes !== undefined) {
    problems.check(
      Number.isInteger(mebibytes) && mebibytes >= ARCHIVE_BUFFERING_SIZE_MIN_MIB && mebibytes <= ARCHIVE_BUFFERING_SIZE_MAX_MIB,
      `archiveBufferingSize must be between ${ARCHIVE_BUFFERING_SIZE_MIN_MIB} and ${ARCHIVE_BUFFERING_SIZE_MAX_MIB} MiB (got ${mebibytes})`,
    );
  }
}
