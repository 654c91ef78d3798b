/**
 * Which code the local stack runs for each Lambda function:
 *
 * - `sources` (default): the handlers' TypeScript, in the stack's own process,
 *   with SDK clients it hands them (one set per function, for the IAM recording)
 *   and the signing secret as a static value;
 * - `bundles`: the deployed artifacts, the bundles of a cloud assembly
 *   (cloud-assembly.ts), each function in its own Node process
 *   (runners/bundle-function.ts) with only its environment: the SDK clients,
 *   config parsing and dependencies inside the bundle are the ones deployed,
 *   and the receiver reads its secret through the real Secrets Manager adapter
 *   from the local stand-in (stand-ins/secrets-manager.ts), seeded with the
 *   signing secret as AWSCURRENT.
 *
 * In bundles mode the handlers' AWS calls are not recorded for the IAM check:
 * the recorder attaches to clients in this process, and a bundle's are its own.
 */
import * as path from 'node:path';
import type { Context } from 'aws-lambda';
import { ENV } from '../lambda/core/contract';
import { LOCAL_CREDENTIALS } from '../ops/lib/clients';
import type { LocalEndpoints } from '../ops/lib/outputs';
import { readCloudAssembly, synthesizeCloudAssembly, type CloudAssembly } from './cloud-assembly';
import { queueUrlOrigin } from './fauxqs';
import { REPO_ROOT } from './paths';
import type { PidRecord } from './pid-file';
import { BUNDLE_RUNTIME_MARKER, startBundleFunction, type BundleFunction } from './runners/bundle-function';
import type { CfnTemplate, FunctionShape } from './stack-shape';
import { startLocalSecretsManager, type LocalSecretsManager } from './stand-ins/secrets-manager';

export type LambdaCode =
  | { readonly kind: 'sources' }
  /** `synthesize`: write a fresh assembly (bundles included) into `assemblyDir` first; otherwise run the one there. */
  | { readonly kind: 'bundles'; readonly assemblyDir: string; readonly synthesize: boolean };

export const DEFAULT_CDK_OUT = path.join(REPO_ROOT, 'cdk.out');
export const LOCAL_SIGNING_SECRET_NAME = 'webhook-signing-secret';

export interface DeployedBundles {
  readonly assemblyDir: string;
  readonly template: CfnTemplate;
  readonly secretsManager: LocalSecretsManager;
  readonly signingSecretArn: string;
  /** The environment overrides of a function whose bundle runs here (the local signing secret's ARN). */
  readonly envOverrides: Readonly<Record<string, string>>;
  /** The function's bundle in its own process, as a handler the API server or queue runner can call. */
  handler<E, R>(fn: FunctionShape, functionName: string, env: Readonly<Record<string, string>>, endpoints: LocalEndpoints): (event: E, context: Context) => Promise<R>;
  /** Resolves once every function's environment has loaded its bundle (rejects with the first init error). */
  ready(): Promise<void>;
  /** The functions' running processes, for the pid file. */
  processes(): PidRecord[];
  stop(): Promise<void>;
}

/** What a Lambda function's process sees besides its own variables: region, role credentials, service endpoints. */
export function lambdaRuntimeEnvironment(functionName: string, endpoints: LocalEndpoints, secretsManagerEndpoint: string): Record<string, string> {
  const passThrough = ['PATH', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_DEV'].flatMap((name) =>
    process.env[name] === undefined ? [] : [[name, process.env[name] as string]],
  );
  return {
    ...Object.fromEntries(passThrough),
    AWS_REGION: endpoints.region,
    AWS_DEFAULT_REGION: endpoints.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    // The queue URLs' own origin: the SQS client sends to the queue URL's host anyway, and warns when its endpoint differs.
    AWS_ENDPOINT_URL_SQS: queueUrlOrigin(endpoints.sqs, endpoints.region),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManagerEndpoint,
    // The local archive stream (the Firehose stand-in), when the template has one.
    ...(endpoints.firehose === undefined ? {} : { AWS_ENDPOINT_URL_FIREHOSE: endpoints.firehose }),
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    TZ: 'UTC',
    // Nothing of the stack's own process (its TypeScript loader, a preload) reaches the bundle.
    NODE_OPTIONS: '',
  };
}

export async function prepareBundles(
  code: Extract<LambdaCode, { kind: 'bundles' }>,
  options: { readonly region: string; readonly account: string; readonly signingSecret: string; readonly log: (message: string) => void },
): Promise<DeployedBundles> {
  const started = Date.now();
  const assembly: CloudAssembly = code.synthesize ? await synthesizeCloudAssembly(code.assemblyDir) : readCloudAssembly(code.assemblyDir);
  options.log(`bundles: ${code.synthesize ? 'synthesized into' : 'running the assembly in'} ${code.assemblyDir} (${Date.now() - started} ms)`);
  const secretsManager = await startLocalSecretsManager({ region: options.region, account: options.account });
  const signingSecretArn = secretsManager.createSecret(LOCAL_SIGNING_SECRET_NAME, options.signingSecret);
  options.log(`Secrets Manager stand-in ${secretsManager.endpoint}: ${signingSecretArn} (AWSCURRENT)`);
  const functions: { readonly name: string; readonly running: BundleFunction }[] = [];

  return {
    assemblyDir: code.assemblyDir,
    template: assembly.template,
    secretsManager,
    signingSecretArn,
    envOverrides: { [ENV.signingSecretArn]: signingSecretArn },
    handler<E, R>(fn: FunctionShape, functionName: string, env: Readonly<Record<string, string>>, endpoints: LocalEndpoints) {
      if (fn.logicalId === undefined) throw new Error(`the template has no function for ${functionName}`);
      const bundle = assembly.bundleOf(fn.logicalId);
      const running = startBundleFunction({
        name: functionName,
        bundleFile: bundle.file,
        exportName: bundle.exportName,
        env: { ...lambdaRuntimeEnvironment(functionName, endpoints, secretsManager.endpoint), ...env },
      });
      functions.push({ name: functionName, running });
      options.log(`${functionName}: ${bundle.file.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, bundle.file) : bundle.file}, in its own process`);
      // The bundle's answer crosses the IPC channel as JSON, the way Lambda returns it.
      return (event: E, context: Context) => running.invoke(event, context) as Promise<R>;
    },
    async ready() {
      await Promise.all(functions.map((fn) => fn.running.warm()));
    },
    processes: () =>
      functions.flatMap(({ name, running }) => {
        const pid = running.pid();
        return pid === undefined ? [] : [{ pid, role: `${name} (bundle)`, markers: [BUNDLE_RUNTIME_MARKER] }];
      }),
    async stop() {
      await Promise.all(functions.map((fn) => fn.running.stop()));
      await secretsManager.stop();
    },
  };
}
