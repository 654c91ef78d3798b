/**
 * `npm start`: the whole pipeline on one machine, no AWS account.
 *
 *   DynamoDB Local (java, 127.0.0.1)   fauxqs SQS+S3 (its own node process, 127.0.0.1)
 *   resources shaped like the synthesized stack
 *   POST http://127.0.0.1:$PORT/webhooks -> receiver handler (API Gateway payload 2.0)
 *   queue runner -> worker handler (SQS event source semantics)
 *   jobs table stream -> stream runner -> job-events handler -> EventBridge stand-in -> fauxqs queues (+ tap)
 *
 * Writes `.local/outputs.json` in the `cdk deploy --outputs-file` shape, plus the
 * emulator endpoints, for the ops tools and the tests. Ctrl-C, SIGTERM or SIGHUP (to this
 * process or to the npm that runs it: `npm start` execs it, so npm's signal reaches it) stops
 * everything; so does the death of its parent. A second start in the same state directory refuses
 * while this one is alive and answering. A bad environment value stops the start (exit code 2).
 *
 * Environment: WEBHOOK_SIGNING_SECRET (default: a printed dev-only secret), PORT
 * (default 3000; 0 = any free port), LOCAL_DYNAMODB_PORT and LOCAL_FAUXQS_PORT
 * (default: free ports), LOCAL_STATE_DIR (default .local), LOCAL_CACHE_DIR (default:
 * the state dir; the compiled launcher and template cache), LOCAL_WORKER_POLLERS
 * (default 3), LOCAL_RETRY_DELAY_SECONDS (default 2), LOCAL_STACK_TEMPLATE
 * (`synth` (default), `contract`, or the path of a synthesized template JSON),
 * LOCAL_LAMBDA_CODE (`sources` (default), `bundles`: synthesize `cdk.out`, or LOCAL_CDK_OUT, and
 * run the deployed bundles, each function in its own process; or the directory of an existing
 * cloud assembly to run as it is), LOCAL_START_TIMEOUT_SECONDS (default 300: the cap of each emulator's start-up wait,
 * which otherwise lasts while the emulator is alive and still starting, printing progress),
 * LOCAL_EXIT_WITH_PARENT (default 1: stop when the parent process goes away; 0 to outlive it),
 * AWS_ACCESS_LOG_DIR (record every AWS call the handlers make, by principal, for
 * the IAM check: local/iam/; off by default),
 * LOCAL_RECONCILE_INTERVAL_SECONDS (default 30), LOCAL_STUCK_AFTER_SECONDS (default: the
 * template's, 2 h), LOCAL_PROVIDER_API_PORT (default: a free port).
 *
 * The receiver, the worker and the worker's event source get their own SDK
 * clients, as each Lambda function has its own role: a recorded call names the
 * principal that made it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as path from 'node:path';
import { DEFAULTS, SERVICE_NAMES, STACK_NAME } from '../lambda/core/contract';
import { StaticSecretSource } from '../lambda/adapters/static-secret-source';
import { createLogger } from '../lambda/adapters/observability';
import { powertoolsLogger } from '../lambda/adapters/powertools-ports';
import { createReceiverHandler, receiverDependenciesFromEnv } from '../lambda/handlers/receiver';
import { createWorkerHandler, workerDependenciesFromEnv } from '../lambda/handlers/worker';
import { startLocalReconciler } from './reconciler';
import { LOCAL_REGION, localClients, type AwsClients } from '../ops/lib/clients';
import { resolveSigningSecret } from '../ops/lib/dev-secret';
import { writeOutputsFile, type StackOutputs } from '../ops/lib/outputs';
import { localLogFile } from '../ops/lib/receiver-logs';
import { startApiServer, type ApiServer } from './api-server';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local';
import { openHandlerLogFile, teeInvocationLogger } from './handler-log';
import { FAUXQS_PROCESS_MARKER, startFauxqs, type LocalFauxqs } from './fauxqs';
import { DEFAULT_STATE_DIR, OUTPUTS_FILE_NAME, PID_FILE_NAME, TEMPLATE_FILE_NAME, ensureDir } from './paths';
import { AlreadyRunningError, claimPidFile, localStackRecord, writePidFile, type PidRecord } from './pid-file';
import { startQueueRunner, type QueueRunner, type QueueRunnerStats } from './queue-runner';
import { LOCAL_ACCOUNT, LOCAL_NAMES, createLocalResources, localHandlerEnvironment, startArchiveStream } from './resources';
import { AWS_SERVICE, DEPLOYER } from './iam/access-log';
import { ARCHIVE_STREAM_PRINCIPAL } from './iam/template-policies';
import { RECORDING_ENV, startRecording, type Recording } from './iam/recording';
import { readJobEventsShape } from './events-shape';
import { startLocalJobEvents, type LocalJobEvents } from './job-events';
import { readStackShape, type CfnTemplate, type StackShape } from './stack-shape';
import { loadStackTemplate } from './synth';
import { Cleanups } from './cleanups';
import { prepareBundles, type DeployedBundles, type LambdaCode } from './lambda-code';
import { READY_PREFIX } from './stack-child';
import { StartEnvironmentError, readStartEnvironment } from './start-env';
import { startTimeoutMs } from './startup-wait';


const RECEIVER_FUNCTION_NAME = 'webhook-receiver-local';
const WORKER_FUNCTION_NAME = 'webhook-worker-local';

export interface LocalStackOptions {
  /** API port; 0 picks a free one. Default 3000. */
  readonly port?: number;
  readonly dynamodbPort?: number;
  readonly fauxqsPort?: number;
  readonly signingSecret?: string;
  /** Outputs, pid file and the template used; default `.local`. */
  readonly stateDir?: string;
  /** Content-hashed caches (compiled launcher, synthesized template), shareable between stacks; default the state dir. */
  readonly cacheDir?: string;
  readonly region?: string;
  readonly pollers?: number;
  readonly retryDelaySeconds?: number;
  /** `synth` (default), `contract` (skip the CDK app; contract.ts values), or a template JSON path. */
  readonly template?: string;
  /**
   * The handlers' sources in this process, or the deployed bundles of a cloud assembly, each in its
   * own process, with a Secrets Manager stand-in for the receiver's secret (local/lambda-code.ts).
   * @default { kind: 'sources' }
   */
  readonly lambdaCode?: LambdaCode;
  /** Record every AWS call of the handlers into this directory (local/iam/recording.ts). @default - off */
  readonly recordAwsCallsDir?: string;
  /** The stage throttle, modelled by the API server (see `startApiServer`). @default - none */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** The route's path, e.g. `/webhooks/<token>` for a stack with `webhookPathToken`. @default `/webhooks` */
  readonly webhookPath?: string;
  /** Longest wait of the local archive stream before it writes (the template's interval if shorter). @default 2 */
  readonly archiveFlushSeconds?: number;
  readonly log?: (message: string) => void;
}

export interface LocalStack {
  readonly outputs: StackOutputs;
  readonly outputsFile: string;
  readonly webhookUrl: string;
  readonly signingSecret: string;
  readonly shape: StackShape;
  readonly pids: { readonly dynamodb: number; readonly fauxqs: number };
  readonly workerStats: () => QueueRunnerStats;
  /** The stream runner, publisher and bus stand-in; absent when the template has no job events. */
  readonly jobEvents?: LocalJobEvents;
  stop(): Promise<void>;
}

async function loadTemplate(option: string, cacheDir: string, log: (message: string) => void): Promise<CfnTemplate> {
  if (option === 'contract') {
    log('WARNING: LOCAL_STACK_TEMPLATE=contract: resources from contract.ts defaults, NOT from the synthesized stack');
    return {};
  }
  if (option !== 'synth') {
    const file = path.resolve(option);
    log(`template: ${file}`);
    return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
  }
  const loaded = await loadStackTemplate({ cacheDir });
  log(`template: ${loaded.source === 'cache' ? 'cached synth' : 'synthesized'} in ${loaded.millis} ms`);
  return loaded.template;
}

function startStackRecording(dir: string, principals: Record<'archiveStream' | 'setup' | 'receiver' | 'worker' | 'workerEventSource' | 'reconciler', AwsClients>): Recording {
  const recording = startRecording({ dir, name: `local-stack-${process.pid}`, origin: process.env[RECORDING_ENV.origin] || 'local', account: LOCAL_ACCOUNT });
  const tag = (set: AwsClients, principal: string, via?: string): void => {
    for (const client of [set.dynamodb, set.s3, set.sqs, set.firehose]) if (client) recording.recorder.attach(client, { principal, via });
  };
  tag(principals.setup, DEPLOYER);
  tag(principals.archiveStream, ARCHIVE_STREAM_PRINCIPAL);
  tag(principals.receiver, SERVICE_NAMES.receiver);
  tag(principals.worker, SERVICE_NAMES.worker);
  tag(principals.workerEventSource, SERVICE_NAMES.worker, 'lambda-event-source-mapping');
  tag(principals.reconciler, SERVICE_NAMES.reconciler);
  return recording;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started = Date.now();
  const log = options.log ?? ((message: string) => console.log(`[local] ${message}`));
  const stateDir = ensureDir(path.resolve(options.stateDir ?? DEFAULT_STATE_DIR));
  const cacheDir = ensureDir(path.resolve(options.cacheDir ?? stateDir));
  const region = options.region ?? LOCAL_REGION;
  const outputsFile = path.join(stateDir, OUTPUTS_FILE_NAME);
  const pidFile = path.join(stateDir, PID_FILE_NAME);
  const { secret: signingSecret } = resolveSigningSecret(process.env, options.signingSecret);

  // A start in the directory of a live stack refuses; a crashed run's leftovers are stopped.
  await claimPidFile(pidFile, { stateDir, startingGraceMs: 2 * startTimeoutMs(), log });
  const startedAt = new Date().toISOString();
  // Stale outputs would point tools at dead ports until this run writes its own.
  rmSync(outputsFile, { force: true });

  const cleanups = new Cleanups(log);
  const stopAll = (): Promise<void> => cleanups.runAll();
  cleanups.push(async () => rmSync(pidFile, { force: true }));
  const code: LambdaCode = options.lambdaCode ?? { kind: 'sources' };
  let bundles: DeployedBundles | undefined;

  try {
    const [dynamodb, fauxqs, template] = await Promise.all([
      startDynamoDbLocal({ port: options.dynamodbPort ?? 0, cacheDir, log }).then((server: DynamoDbLocal) => {
        cleanups.push(() => server.stop());
        return server;
      }),
      startFauxqs({ port: options.fauxqsPort ?? 0, region, log }).then((server: LocalFauxqs) => {
        cleanups.push(() => server.stop());
        return server;
      }),
      code.kind === 'sources'
        ? loadTemplate(options.template ?? 'synth', cacheDir, log)
        : prepareBundles(code, { region, account: LOCAL_ACCOUNT, signingSecret, log }).then((prepared) => {
            cleanups.push(() => prepared.stop());
            bundles = prepared;
            return prepared.template;
          }),
    ]);
    const processes: PidRecord[] = [
      localStackRecord(process.pid),
      { pid: dynamodb.pid, role: 'DynamoDB Local', markers: ['LoopbackDynamoDBLocal', 'DynamoDBLocal.jar'] },
      { pid: fauxqs.pid, role: 'fauxqs', markers: [FAUXQS_PROCESS_MARKER] },
    ];
    writePidFile(pidFile, processes, { startedAt });

    // The template this run was built from, for anyone checking the local resources against it.
    writeFileSync(path.join(stateDir, TEMPLATE_FILE_NAME), JSON.stringify(template));
    const shape = readStackShape(template);
    for (const fallback of shape.fallbacks) log(`from contract.ts: ${fallback}`);

    const emulators = { region, dynamodb: dynamodb.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint };
    // The stream's own writes to S3 are Firehose's, with its destination role: a principal of their own.
    const streamClients = localClients(emulators);
    cleanups.push(async () => streamClients.destroy());
    const archiveStream = await startArchiveStream(
      shape,
      { region, archiveBucketName: LOCAL_NAMES.archiveBucket, archiveStreamName: LOCAL_NAMES.archiveStream },
      { s3: streamClients.s3, log, maxIntervalSeconds: options.archiveFlushSeconds },
    );
    // Registered after the clients' cleanup, so it runs first: the last buffered records reach S3.
    if (archiveStream) cleanups.push(() => archiveStream.stop());
    if (archiveStream) log(`archive stream: ${LOCAL_NAMES.archiveStream} on the local Firehose stand-in (${archiveStream.endpoint})`);
    const endpoints = { ...emulators, ...(archiveStream ? { firehose: archiveStream.endpoint } : {}) };
    // One set per principal: what CloudFormation would create, each function's role, and Lambda's poller (the worker's role).
    const principals = {
      archiveStream: streamClients,
      setup: localClients(endpoints),
      receiver: localClients(endpoints),
      worker: localClients(endpoints),
      workerEventSource: localClients(endpoints),
      reconciler: localClients(endpoints),
    } satisfies Record<string, AwsClients>;
    cleanups.push(async () => Object.entries(principals).forEach(([name, set]) => name !== 'archiveStream' && set.destroy()));
    const recording = options.recordAwsCallsDir !== undefined ? startStackRecording(options.recordAwsCallsDir, principals) : undefined;
    if (recording) cleanups.push(async () => recording.stop());
    const resources = await createLocalResources(shape, principals.setup, region);
    if (recording) recording.log.resources = Object.fromEntries(resources.byLogicalId);

    // The receiver's lines also go to a file, the local stand-in for its log group (the ops console reads it;
    // a receiver bundle in its own process logs to that process's output instead).
    const logsDir = ensureDir(path.join(stateDir, 'logs'));
    const receiverLogFile = localLogFile(logsDir, SERVICE_NAMES.receiver);
    rmSync(receiverLogFile, { force: true });
    const receiverLog = openHandlerLogFile(receiverLogFile);
    cleanups.push(() => receiverLog.close());

    const receiverEnv = localHandlerEnvironment(shape.receiver, resources, bundles?.envOverrides);
    const workerEnv = localHandlerEnvironment(shape.worker, resources);
    const receiver = bundles
      ? bundles.handler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>(shape.receiver, RECEIVER_FUNCTION_NAME, receiverEnv.env, endpoints)
      : createReceiverHandler(
          receiverDependenciesFromEnv(receiverEnv.env, {
            secrets: new StaticSecretSource(signingSecret),
            dynamodb: principals.receiver.dynamodb,
            s3: principals.receiver.s3,
            sqs: principals.receiver.sqs,
            firehose: principals.receiver.firehose,
            logger: teeInvocationLogger(powertoolsLogger(createLogger(SERVICE_NAMES.receiver)), receiverLog, SERVICE_NAMES.receiver),
          }),
        );
    const worker = bundles
      ? bundles.handler<SQSEvent, SQSBatchResponse>(shape.worker, WORKER_FUNCTION_NAME, workerEnv.env, endpoints)
      : createWorkerHandler(
          workerDependenciesFromEnv(workerEnv.env, { dynamodb: principals.worker.dynamodb, s3: principals.worker.s3, sqs: principals.worker.sqs }),
        );
    // The bundles' init phase now: a bundle that cannot load fails the start, not the first delivery.
    await bundles?.ready();

    const api: ApiServer = await startApiServer({
      handler: receiver,
      port: options.port ?? 3000,
      region,
      timeoutSeconds: shape.receiver.timeoutSeconds ?? DEFAULTS.receiverTimeoutSeconds,
      functionName: RECEIVER_FUNCTION_NAME,
      throttle: options.throttle,
      webhookPath: options.webhookPath,
      log,
    });
    cleanups.push(() => api.close());
    // From now on a second start finds this one answering, and refuses.
    writePidFile(pidFile, [...processes, ...(bundles?.processes() ?? [])], { startedAt, webhookUrl: api.webhookUrl });

    const runner: QueueRunner = startQueueRunner({
      sqs: principals.workerEventSource.sqs,
      queueUrl: resources.queueUrl,
      queueArn: resources.queueArn,
      region,
      handler: worker,
      functionName: WORKER_FUNCTION_NAME,
      batchSize: shape.workerEventSource.batchSize,
      maxBatchingWindowSeconds: shape.workerEventSource.maxBatchingWindowSeconds,
      reportBatchItemFailures: shape.workerEventSource.reportBatchItemFailures,
      pollers: options.pollers ?? Math.min(3, shape.workerEventSource.maxConcurrency ?? 3),
      retryDelaySeconds: options.retryDelaySeconds,
      functionTimeoutSeconds: shape.worker.timeoutSeconds ?? DEFAULTS.workerTimeoutSeconds,
      log,
    });
    cleanups.push(() => runner.stop());

    // Open jobs (docs/architecture.md): the provider API simulator and the reconciler on a short schedule.
    const reconcile = await startLocalReconciler({ shape, resources, clients: principals.reconciler, log, env: process.env });
    cleanups.push(() => reconcile.stop());

    const eventsShape = readJobEventsShape(template);
    const jobEvents = eventsShape
      ? await startLocalJobEvents({
          shape: eventsShape,
          region,
          jobsTableName: resources.jobsTableName,
          dynamodbEndpoint: dynamodb.endpoint,
          endpoints,
          dynamodb: principals.setup.dynamodb,
          sqs: principals.setup.sqs,
          log,
          recordAs: recording ? (client, via) => recording.recorder.attach(client as never, { principal: SERVICE_NAMES.jobEvents, via }) : undefined,
          recordAsService: recording ? (client) => recording.recorder.attach(client as never, { principal: AWS_SERVICE }) : undefined,
        })
      : undefined;
    if (jobEvents) cleanups.push(() => jobEvents.stop());
    if (recording && jobEvents) recording.log.resources = { ...recording.log.resources, ...Object.fromEntries(jobEvents.byLogicalId) };

    const outputs: StackOutputs = {
      WebhookUrl: api.webhookUrl,
      JobsTableName: resources.jobsTableName,
      DeliveriesTableName: resources.deliveriesTableName,
      ArchiveBucketName: resources.archiveBucketName,
      QueueUrl: resources.queueUrl,
      DeadLetterQueueUrl: resources.deadLetterQueueUrl,
      ...reconcile.outputs,
      ...jobEvents?.outputs,
      Endpoints: { ...endpoints, ...reconcile.endpoints, ...(jobEvents ? { events: jobEvents.bus.endpoint } : {}), logs: logsDir },
    };
    writeOutputsFile(outputsFile, outputs, STACK_NAME);
    cleanups.push(async () => rmSync(outputsFile, { force: true }));
    log(`outputs: ${outputsFile}`);
    log(`started in ${Date.now() - started} ms`);

    let stopping: Promise<void> | undefined;
    return {
      outputs,
      outputsFile,
      webhookUrl: api.webhookUrl,
      signingSecret,
      shape,
      pids: { dynamodb: dynamodb.pid, fauxqs: fauxqs.pid },
      workerStats: () => runner.stats(),
      jobEvents,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function main(): Promise<void> {
  // Checked before anything starts: a bad value is one line and exit code 2.
  const environment = readStartEnvironment();
  // EMF metric blobs on stdout only make sense inside Lambda; set it to "false" to see them.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { secret, isDevDefault } = environment.signingSecret;
  const stack = await startLocalStack({
    port: environment.port,
    dynamodbPort: environment.dynamodbPort,
    fauxqsPort: environment.fauxqsPort,
    stateDir: environment.stateDir,
    cacheDir: environment.cacheDir,
    pollers: environment.pollers,
    retryDelaySeconds: environment.retryDelaySeconds,
    template: environment.template,
    archiveFlushSeconds: environment.archiveFlushSeconds,
    lambdaCode: environment.lambdaCode,
    recordAwsCallsDir: environment.recordAwsCallsDir,
    signingSecret: secret,
  });

  let firstSignalAt: number | undefined;
  const shutdown = (signal: string): void => {
    if (firstSignalAt !== undefined) {
      // Ctrl-C reaches this process twice, from the terminal's process group and forwarded by npm:
      // only a second signal a moment later is someone who wants out now.
      if (Date.now() - firstSignalAt < 1000) return;
      console.log(`[local] ${signal} again: exiting now`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    console.log(`[local] ${signal}: stopping`);
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  if (environment.exitWithParent) {
    // Whatever started the stack (npm, a shell, a test runner) may die without
    // signalling it (SIGKILL, a crash, a shell that does not forward signals):
    // the stack and its emulators must not outlive it.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) shutdown('parent exited');
    }, 1000).unref();
  }

  if (isDevDefault) {
    console.log(`[local] signing secret (DEV ONLY, set WEBHOOK_SIGNING_SECRET to choose one): ${secret}`);
  } else {
    console.log('[local] signing secret: from WEBHOOK_SIGNING_SECRET');
  }
  console.log(`[local] webhook URL: ${stack.webhookUrl}`);
  console.log(`[local] try: npm run send -- job.started`);
  console.log(`${READY_PREFIX}${stack.webhookUrl}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof StartEnvironmentError) {
      console.error(`[local] cannot start: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof AlreadyRunningError) {
      console.error(`[local] ${error.message}`);
      process.exit(1);
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`[local] failed to start: port ${process.env.PORT ?? 3000} is in use by another program. Set PORT to a free port, or PORT=0 for any.`);
      process.exit(1);
    }
    console.error(`[local] failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
}
