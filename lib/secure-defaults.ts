/**
 * Defaults shared by every construct in `lib/`: the Lambda runtime and bundling,
 * the per-function role and log group, and the prop-validation collector.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
// The very function cdk-nag's IAM5 rule uses to name a finding, so our acknowledgements cannot drift from it.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { Construct, IConstruct } from 'constructs';
import { DEFAULTS } from '../lambda/core/contract';
import { FUNCTION_HANDLER, functionCode } from './function-code';

/**
 * Pinned rather than `NODEJS_LATEST`: a CDK upgrade must not change the runtime
 * silently. 24.x is the newest Node.js runtime this aws-cdk-lib knows, which is
 * what cdk-nag AwsSolutions-L1 demands.
 */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Lambda's own bounds for `memorySize`. */
export const LAMBDA_MEMORY_MIN_MB = 128;
export const LAMBDA_MEMORY_MAX_MB = 10_240;

/**
 * AWS's guidance for SQS event sources: the queue's visibility timeout is at least
 * six times the function timeout (plus the batching window), so a batch retried
 * after throttling is not redelivered while a previous attempt still runs.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/**
 * Short: the worker is latency-tolerant but the provider's events should land
 * within seconds; long enough that a batch gathers what arrives meanwhile
 * (fewer invocations and delete calls per delivery, bench section 5).
 */
export const WORKER_MAX_BATCHING_WINDOW_SECONDS = DEFAULTS.workerBatchingWindowSeconds;
/** The default visibility timeout of the work queue, derived so the ratio above holds. */
export const DEFAULT_QUEUE_VISIBILITY_TIMEOUT_SECONDS =
  VISIBILITY_TIMEOUT_FACTOR * DEFAULTS.workerTimeoutSeconds + WORKER_MAX_BATCHING_WINDOW_SECONDS;

/** What every construct reports when its props are inconsistent: all problems at once. */
export class PropsValidationError extends Error {
  constructor(
    readonly construct: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${construct} props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PropsValidationError';
  }
}

/** Collects prop problems so a caller fixes them in one round instead of one per deploy. */
export class ProblemCollector {
  private readonly problems: string[] = [];

  constructor(private readonly construct: string) {}

  check(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }

  /** Positive integers within optional bounds; `undefined` means "use the default". */
  integerInRange(name: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (value === undefined) return;
    this.check(
      Number.isInteger(value) && value >= min && value <= max,
      max === Number.MAX_SAFE_INTEGER
        ? `${name} must be an integer >= ${min} (got ${value})`
        : `${name} must be an integer between ${min} and ${max} (got ${value})`,
    );
  }

  throwIfAny(): void {
    if (this.problems.length > 0) throw new PropsValidationError(this.construct, this.problems);
  }
}

/** Function and access logs: a year of evidence for support and audits. */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

export interface NodeFunctionOptions {
  /** Path under `lambda/handlers`, relative to the project root. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  readonly environment: Record<string, string>;
  readonly serviceName: string;
  /** @default false */
  readonly enableTracing?: boolean;
  /** @default DEFAULT_LOG_RETENTION */
  readonly logRetention?: logs.RetentionDays;
  readonly reservedConcurrentExecutions?: number;
}

export interface NodeFunctionParts {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * A bundled Node.js function (lib/function-code.ts) with its own role and log group. The explicit role
 * replaces AWSLambdaBasicExecutionRole (which may write to every log group in the
 * account) with write access to this function's log group only.
 */
export function createNodeFunction(scope: Construct, id: string, options: NodeFunctionOptions): NodeFunctionParts {
  const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
    retention: options.logRetention ?? DEFAULT_LOG_RETENTION,
    // Logs are evidence for incident review: they outlive a stack deletion.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of the ${options.serviceName} function (least privilege)`,
  });
  logGroup.grantWrite(role);

  const fn = new lambda.Function(scope, id, {
    // Bundled with lib/bundling.ts's options: from the sources in a checkout, prebuilt in an installed package.
    code: functionCode(options.entry),
    handler: FUNCTION_HANDLER,
    description: options.description,
    runtime: LAMBDA_RUNTIME,
    architecture: options.architecture ?? lambda.Architecture.ARM_64,
    timeout: options.timeout,
    memorySize: options.memorySize,
    role,
    logGroup,
    reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    // JSON logs with Lambda's own START/END/REPORT lines off (system level WARN):
    // those are 300-400 B per invocation that Duration and Errors metrics already
    // say; Powertools writes JSON, which Lambda passes through untouched.
    loggingFormat: lambda.LoggingFormat.JSON,
    systemLogLevelV2: lambda.SystemLogLevel.WARN,
    applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
    tracing: options.enableTracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
    environment: {
      POWERTOOLS_SERVICE_NAME: options.serviceName,
      ...options.environment,
    },
  });

  if (options.enableTracing) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions: Resource "*" is the only form.',
    });
  }

  return { fn, role, logGroup };
}

/**
 * Acknowledges cdk-nag's IAM5 for exactly one wildcard resource (an object-key
 * prefix) on a role (or any construct holding a policy); any other wildcard on
 * it still fails the check.
 */
export function acknowledgeWildcardResource(role: IConstruct, resourceArn: string, reason: string): void {
  const finding = `Resource::${flattenCfnReference(Stack.of(role).resolve(resourceArn))}`;
  Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
}

/**
 * Table overrides minus the deprecated `pointInTimeRecovery` flag, which could
 * otherwise contradict the enforced `pointInTimeRecoverySpecification`.
 */
export function withoutDeprecatedPitr(overrides: Partial<dynamodb.TableProps> | undefined): Partial<dynamodb.TableProps> {
  const { pointInTimeRecovery: _ignored, ...rest } = overrides ?? {};
  return rest;
}

/**
 * Exact KMS actions per use of a customer managed key. CDK's
 * `grantEncryptDecrypt` adds `kms:ReEncrypt*` and `kms:GenerateDataKey*`, which no
 * call here needs and which cdk-nag rightly flags (IAM5).
 */
export const KMS_ACTIONS = {
  /** Writes: DynamoDB items, SSE-KMS objects (PutObject), SSE-KMS queue messages (SendMessage). */
  readWrite: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
  read: ['kms:Decrypt', 'kms:DescribeKey'],
} as const;

export function grantKeyUse(key: kms.IKey | undefined, grantee: iam.IGrantable, use: keyof typeof KMS_ACTIONS): void {
  key?.grant(grantee, ...KMS_ACTIONS[use]);
}
