/**
 * `npm start`'s environment (names and defaults: local/README.md), read and checked before anything starts: every bad
 * value is reported at once, on one line, and the start stops with exit code 2
 * (the caller's mistake, nothing launched), instead of a stack trace half-way
 * through or, worse, a stack that says "ready" and then answers 503 to everything.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DEV_SIGNING_SECRET, SIGNING_SECRET_ENV, signingSecretProblem, type ResolvedSecret } from '../ops/lib/dev-secret';
import { RECORDING_ENV } from './iam/recording';
import { DEFAULT_CDK_OUT, type LambdaCode } from './lambda-code';
import { startTimeoutMs } from './startup-wait';

export interface StartEnvironment {
  readonly port: number;
  readonly dynamodbPort?: number;
  readonly fauxqsPort?: number;
  readonly pollers?: number;
  readonly retryDelaySeconds?: number;
  /** The local archive stream's buffering interval (Firehose allows 0 to 900 s). */
  readonly archiveFlushSeconds?: number;
  readonly stateDir?: string;
  readonly cacheDir?: string;
  readonly template?: string;
  readonly lambdaCode: LambdaCode;
  readonly signingSecret: ResolvedSecret;
  readonly exitWithParent: boolean;
  readonly recordAwsCallsDir?: string;
}

export class StartEnvironmentError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'StartEnvironmentError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function set(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function readStartEnvironment(env: Env = process.env): StartEnvironment {
  const problems: string[] = [];
  const integer = (name: string, min: number, max: number): number | undefined => {
    const value = set(env, name);
    if (value === undefined) return undefined;
    const parsed = Number(value.trim());
    if (Number.isInteger(parsed) && parsed >= min && parsed <= max) return parsed;
    problems.push(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
    return undefined;
  };
  const choice = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = set(env, name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    return fallback;
  };

  const port = integer('PORT', 0, 65_535);
  const dynamodbPort = integer('LOCAL_DYNAMODB_PORT', 0, 65_535);
  const fauxqsPort = integer('LOCAL_FAUXQS_PORT', 0, 65_535);
  const pollers = integer('LOCAL_WORKER_POLLERS', 1, 64);
  const retryDelaySeconds = integer('LOCAL_RETRY_DELAY_SECONDS', 0, 43_200);
  const archiveFlushSeconds = integer('LOCAL_ARCHIVE_FLUSH_SECONDS', 0, 900);
  try {
    startTimeoutMs(env);
  } catch (error) {
    problems.push((error as Error).message);
  }

  const template = set(env, 'LOCAL_STACK_TEMPLATE');
  if (template !== undefined && template !== 'synth' && template !== 'contract' && !existsSync(path.resolve(template))) {
    problems.push(`LOCAL_STACK_TEMPLATE must be synth, contract or the path of a template JSON; no file at ${path.resolve(template)}`);
  }
  const lambdaCode = readLambdaCode(env, problems);
  if (lambdaCode.kind === 'bundles' && template !== undefined && template !== 'synth') {
    problems.push('LOCAL_STACK_TEMPLATE and LOCAL_LAMBDA_CODE exclude each other: the bundles run with their cloud assembly\'s template');
  }
  const exitWithParent = choice('LOCAL_EXIT_WITH_PARENT', ['0', '1'], '1') === '1';

  const configuredSecret = env[SIGNING_SECRET_ENV];
  const secretProblem = configuredSecret === undefined ? undefined : signingSecretProblem(configuredSecret);
  if (secretProblem !== undefined) problems.push(secretProblem);

  if (problems.length > 0) throw new StartEnvironmentError(problems);
  return {
    port: port ?? 3000,
    dynamodbPort,
    fauxqsPort,
    pollers,
    retryDelaySeconds,
    archiveFlushSeconds,
    stateDir: set(env, 'LOCAL_STATE_DIR'),
    cacheDir: set(env, 'LOCAL_CACHE_DIR'),
    template,
    lambdaCode,
    signingSecret: configuredSecret === undefined ? { secret: DEV_SIGNING_SECRET, isDevDefault: true } : { secret: configuredSecret, isDevDefault: false },
    exitWithParent,
    recordAwsCallsDir: set(env, RECORDING_ENV.dir),
  };
}

/**
 * `LOCAL_LAMBDA_CODE`: `sources` (default), `bundles` (synthesize a cloud assembly, bundles
 * included, into `LOCAL_CDK_OUT`, default `cdk.out`, and run its bundles), or the directory of
 * an existing cloud assembly to run as it is (what a deploy used).
 */
function readLambdaCode(env: Env, problems: string[]): LambdaCode {
  const value = set(env, 'LOCAL_LAMBDA_CODE');
  if (value === undefined || value === 'sources') return { kind: 'sources' };
  if (value === 'bundles') return { kind: 'bundles', assemblyDir: path.resolve(set(env, 'LOCAL_CDK_OUT') ?? DEFAULT_CDK_OUT), synthesize: true };
  const dir = path.resolve(value);
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    problems.push(`LOCAL_LAMBDA_CODE must be sources, bundles or the directory of a cloud assembly; ${dir} has no manifest.json`);
  }
  return { kind: 'bundles', assemblyDir: dir, synthesize: false };
}
