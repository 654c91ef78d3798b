/**
 * The local stack rebuilt from the local stack's own building blocks, with
 * the hooks fault injection needs (start.ts takes no client overrides):
 *
 * - every handler client reaches its emulator through a wire fault proxy of
 *   its role (`wire-proxy.ts`) and then an outage relay, and carries the fault
 *   middleware; it is configured like the Lambdas' own clients (a request
 *   timeout with throwOnRequestTimeout, and two attempts, as
 *   `lambda/adapters/client-config.ts` gives them), scaled down, so the SDK's
 *   own retries are part of every scenario;
 * - the worker handler is wrapped so a scenario can crash it mid-batch;
 * - time limits are scaled down together, keeping the contract's order
 *   (client timeout < receiver timeout < dedupe lease; worker timeout <
 *   queue visibility timeout), so a lost lease or a lost message comes back
 *   within seconds instead of minutes.
 *
 * Inspection clients talk to the emulators directly, never through a proxy.
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { StaticSecretSource } from '../../lambda/adapters/static-secret-source';
import { ENV, SERVICE_NAMES } from '../../lambda/core/contract';
import { createReceiverHandler, receiverDependenciesFromEnv } from '../../lambda/handlers/receiver';
import { createWorkerHandler, workerDependenciesFromEnv } from '../../lambda/handlers/worker';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../ops/lib/clients';
import { startApiServer, type ApiServer } from '../../local/api-server';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { startFauxqs } from '../../local/fauxqs';
import { ensureDir } from '../../local/paths';
import { startQueueRunner, type QueueRunner } from '../../local/queue-runner';
import { LOCAL_NAMES, createLocalResources, localHandlerEnvironment, startArchiveStream, type LocalResources } from '../../local/resources';
import type { FirehoseStandIn } from '../../local/stand-ins/firehose';
import { ARCHIVE_STREAM_PRINCIPAL } from '../../local/iam/template-policies';
import { readStackShape, type StackShape } from '../../local/stack-shape';
import { loadStackTemplate } from '../../local/synth';
import { startHangServer, startOutageProxy, type HangServer, type OutageProxy } from './fault-servers';
import type { Role } from './fault-types';
import { startHarnessJobEvents, type HarnessJobEvents } from './events-harness';
import { FaultInjector, archiveLineDeliveryId } from './faults';
import { startWireProxies, wireDecider } from './wire-faults';
import { startWireFaultProxy, type WireProxy } from './wire-proxy';
import { Cleanups } from '../../local/cleanups';
import type { CallRecorder } from '../../local/aws-call-recorder';
import { AWS_SERVICE, DEPLOYER, OPERATOR } from '../../local/iam/access-log';

/** The scaled-down clock of the harness; see the module comment for the order it keeps. */
export const TIMING = {
  /** DynamoDB Local on a loaded 2-core machine answers a conditional write in up to ~1 s. */
  clientRequestTimeoutMs: 1500,
  clientConnectionTimeoutMs: 500,
  /** As the Lambdas' clients (RECEIVER_TIMEOUTS, WORKER_TIMEOUTS): one SDK retry. */
  clientMaxAttempts: 2,
  /** A hung call costs two attempts (3 s): a hung claim and the release after it still answer 503 in time. */
  receiverTimeoutSeconds: 7,
  leaseSeconds: 9,
  workerTimeoutSeconds: 8,
  visibilityTimeoutSeconds: 10,
  retryDelaySeconds: 1,
  pollers: 3,
} as const;

export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
/** Wraps the real worker handler; scenarios install one to crash it mid-batch. */
export type WorkerWrapper = (real: WorkerHandler, event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface HarnessClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
}

export interface HarnessStack {
  readonly webhookUrl: string;
  readonly signingSecret: string;
  readonly resources: LocalResources;
  readonly shape: StackShape;
  readonly faults: FaultInjector;
  /** Faults on the wire, below the SDK's retries (plans as for `faults`, wire kinds). */
  readonly wireFaults: FaultInjector;
  readonly wire: Readonly<Record<Role, { readonly dynamodb: WireProxy; readonly fauxqs: WireProxy }>>;
  /** The receiver's wire fault proxy in front of the Firehose stand-in (absent without the archive stream). */
  readonly archiveWire?: WireProxy;
  readonly hang: HangServer;
  readonly outage: { readonly dynamodb: OutageProxy; readonly fauxqs: OutageProxy };
  /** Direct clients for inspection and for scenarios that act outside the handlers. */
  readonly direct: HarnessClients;
  /** The local Firehose stand-in of the batched archive (flushed before each snapshot). */
  readonly archiveStream?: FirehoseStandIn;
  /** The worker handler as the queue runner calls it (wrapper included). */
  readonly worker: WorkerHandler;
  setWorkerWrapper(wrapper: WorkerWrapper | undefined): void;
  /** Stops the queue runner and starts a fresh one, as a redeploy or a crashed poller host would. */
  restartRunner(): Promise<void>;
  runnerRestarts(): number;
  /** The stream runner, publisher and EventBridge stand-in, with their fault hooks. */
  readonly jobEvents: HarnessJobEvents;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** Records the handlers' AWS calls by principal for the IAM check; inspection clients count as the deployer's. @default - off */
  readonly recorder?: CallRecorder;
  readonly seed: number;
  readonly signingSecret: string;
  readonly stateDir: string;
  readonly cacheDir: string;
  readonly log: (message: string) => void;
}

function clientsFor(endpoints: { dynamodb: string; s3: string; sqs: string }, timeouts: boolean): HarnessClients {
  const common = {
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    ...(timeouts
      ? {
          maxAttempts: TIMING.clientMaxAttempts,
          requestHandler: {
            requestTimeout: TIMING.clientRequestTimeoutMs,
            connectionTimeout: TIMING.clientConnectionTimeoutMs,
            throwOnRequestTimeout: true,
          },
        }
      : {}),
  };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    s3: new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true }),
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
  };
}

export async function startHarnessStack(options: HarnessOptions): Promise<HarnessStack> {
  const { log } = options;
  const cleanups = new Cleanups(log);
  const stopAll = (): Promise<void> => cleanups.runAll();

  try {
    ensureDir(options.stateDir);
    const [dynamodb, fauxqs, loaded] = await Promise.all([
      startDynamoDbLocal({ port: 0, cacheDir: options.cacheDir, log }).then((server) => {
        cleanups.push(() => server.stop());
        return server;
      }),
      startFauxqs({ port: 0, region: LOCAL_REGION, log }).then((server) => {
        cleanups.push(() => server.stop());
        return server;
      }),
      loadStackTemplate({ cacheDir: options.cacheDir }),
    ]);
    const synthesized = readStackShape(loaded.template);
    const shape: StackShape = {
      ...synthesized,
      queue: { ...synthesized.queue, visibilityTimeoutSeconds: TIMING.visibilityTimeoutSeconds },
    };

    const hang = await startHangServer();
    cleanups.push(() => hang.stop());
    const dynamodbProxy = await startOutageProxy(dynamodb.port);
    cleanups.push(() => dynamodbProxy.stop());
    const fauxqsProxy = await startOutageProxy(fauxqs.port);
    cleanups.push(() => fauxqsProxy.stop());

    const wireFaults = new FaultInjector(options.seed ^ 0x5eed, hang.port);
    const wire = await startWireProxies(wireFaults, { dynamodb: dynamodbProxy.endpoint, fauxqs: fauxqsProxy.endpoint });
    cleanups.push(() => Promise.all(Object.values(wire).flatMap((pair) => [pair.dynamodb.stop(), pair.fauxqs.stop()])).then(() => undefined));

    const direct = clientsFor({ dynamodb: dynamodb.endpoint, s3: fauxqs.endpoint, sqs: fauxqs.endpoint }, false);
    const through = (role: Role) => ({ dynamodb: wire[role].dynamodb.endpoint, s3: wire[role].fauxqs.endpoint, sqs: wire[role].fauxqs.endpoint });
    const receiverClients = clientsFor(through('receiver'), true);
    const workerClients = clientsFor(through('worker'), true);
    // The event source's own polling: through the outage relay (an SQS outage must reach it), never faulted,
    // with a timeout past its long poll.
    const runnerSqs = new SQSClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: fauxqsProxy.endpoint,
      requestHandler: { requestTimeout: 5_000, connectionTimeout: TIMING.clientConnectionTimeoutMs, throwOnRequestTimeout: true },
    });
    cleanups.push(() => {
      [direct, receiverClients, workerClients].forEach((set) => Object.values(set).forEach((client) => client.destroy()));
      runnerSqs.destroy();
    });

    if (options.recorder) {
      const tag = (set: HarnessClients, principal: string): void => Object.values(set).forEach((client) => options.recorder?.attach(client, { principal }));
      tag(direct, DEPLOYER);
      tag(receiverClients, SERVICE_NAMES.receiver);
      tag(workerClients, SERVICE_NAMES.worker);
      // The event source polls with the worker's role, as Lambda's poller does.
      options.recorder.attach(runnerSqs, { principal: SERVICE_NAMES.worker, via: 'lambda-event-source-mapping' });
    }
    const faults = new FaultInjector(options.seed, hang.port);
    faults.attach(receiverClients.dynamodb, 'receiver', 'dynamodb');
    faults.attach(receiverClients.s3, 'receiver', 's3');
    faults.attach(receiverClients.sqs, 'receiver', 'sqs');
    faults.attach(workerClients.dynamodb, 'worker', 'dynamodb');
    faults.attach(workerClients.s3, 'worker', 's3');

    const resources = await createLocalResources(shape, direct, LOCAL_REGION);
    // The stand-in refuses a record inside a 200 answer when a plan says so (a partial batch failure).
    // Firehose's own writes, with its destination role; straight to fauxqs (the archive stream is not a function's dependency to take down).
    const streamS3 = clientsFor({ dynamodb: dynamodb.endpoint, s3: fauxqs.endpoint, sqs: fauxqs.endpoint }, false).s3;
    cleanups.push(() => streamS3.destroy());
    options.recorder?.attach(streamS3, { principal: ARCHIVE_STREAM_PRINCIPAL });
    const archiveStream = await startArchiveStream(shape, { region: LOCAL_REGION, archiveBucketName: resources.archiveBucketName, archiveStreamName: LOCAL_NAMES.archiveStream }, {
      s3: streamS3,
      maxIntervalSeconds: 1,
      recordFault: (data) => {
        const deliveryId = archiveLineDeliveryId(data);
        return deliveryId !== undefined && faults.decide('receiver.archiveRecord', deliveryId) !== undefined ? 'ServiceUnavailableException' : undefined;
      },
      log,
    });
    if (archiveStream) cleanups.push(() => archiveStream.stop());
    // The receiver reaches the stand-in through a wire fault proxy of its own, as it reaches the emulators.
    const archiveWire = archiveStream ? await startWireFaultProxy({ upstream: archiveStream.endpoint, decide: wireDecider(wireFaults, 'receiver') }) : undefined;
    if (archiveWire) cleanups.push(() => archiveWire.stop());
    const receiverFirehose = archiveWire
      ? new FirehoseClient({
          region: LOCAL_REGION,
          credentials: LOCAL_CREDENTIALS,
          endpoint: archiveWire.endpoint,
          maxAttempts: TIMING.clientMaxAttempts,
          requestHandler: { requestTimeout: TIMING.clientRequestTimeoutMs, connectionTimeout: TIMING.clientConnectionTimeoutMs, throwOnRequestTimeout: true },
        })
      : undefined;
    if (receiverFirehose) {
      options.recorder?.attach(receiverFirehose, { principal: SERVICE_NAMES.receiver });
      faults.attach(receiverFirehose, 'receiver', 'firehose');
      cleanups.push(() => receiverFirehose.destroy());
    }
    const receiverEnv = localHandlerEnvironment(shape.receiver, resources, {
      [ENV.leaseSeconds]: String(TIMING.leaseSeconds),
      // Past the harness's shorter receiver timeout, as the contract's delay is past the deployed one.
      [ENV.claimCheckDelaySeconds]: String(TIMING.receiverTimeoutSeconds + 1),
    });
    const workerEnv = localHandlerEnvironment(shape.worker, resources);
    const receiver = createReceiverHandler(
      receiverDependenciesFromEnv(receiverEnv.env, {
        secrets: new StaticSecretSource(options.signingSecret),
        dynamodb: receiverClients.dynamodb,
        s3: receiverClients.s3,
        sqs: receiverClients.sqs,
        firehose: receiverFirehose,
      }),
    );
    const realWorker = createWorkerHandler(
      workerDependenciesFromEnv(workerEnv.env, { dynamodb: workerClients.dynamodb, s3: workerClients.s3, sqs: workerClients.sqs }),
    ) as WorkerHandler;
    let wrapper: WorkerWrapper | undefined;
    const worker: WorkerHandler = (event, context) => (wrapper ? wrapper(realWorker, event, context) : realWorker(event, context));

    const api: ApiServer = await startApiServer({
      handler: receiver,
      port: 0,
      region: LOCAL_REGION,
      timeoutSeconds: TIMING.receiverTimeoutSeconds,
      functionName: 'webhook-receiver-reliability',
      log,
    });
    cleanups.push(() => api.close());

    const newRunner = (): QueueRunner =>
      startQueueRunner({
        sqs: runnerSqs,
        queueUrl: resources.queueUrl,
        queueArn: resources.queueArn,
        region: LOCAL_REGION,
        handler: worker,
        batchSize: shape.workerEventSource.batchSize,
        maxBatchingWindowSeconds: shape.workerEventSource.maxBatchingWindowSeconds,
        reportBatchItemFailures: shape.workerEventSource.reportBatchItemFailures,
        pollers: TIMING.pollers,
        retryDelaySeconds: TIMING.retryDelaySeconds,
        functionTimeoutSeconds: TIMING.workerTimeoutSeconds,
        waitTimeSeconds: 1,
        log,
      });
    let runner = newRunner();
    let restarts = 0;
    cleanups.push(() => runner.stop());

    const jobEvents = await startHarnessJobEvents({
      template: loaded.template,
      resources,
      endpoints: { region: LOCAL_REGION, dynamodb: dynamodb.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint },
      direct,
      log,
      recordAs: options.recorder ? (client, via) => options.recorder?.attach(client as never, { principal: SERVICE_NAMES.jobEvents, via }) : undefined,
      recordAsService: options.recorder ? (client) => options.recorder?.attach(client as never, { principal: AWS_SERVICE }) : undefined,
      recordAsOperator: options.recorder ? (client) => options.recorder?.attach(client as never, { principal: OPERATOR }) : undefined,
    });
    cleanups.push(() => jobEvents.stop());

    let stopping: Promise<void> | undefined;
    return {
      webhookUrl: api.webhookUrl,
      signingSecret: options.signingSecret,
      resources,
      shape,
      faults,
      wireFaults,
      wire,
      archiveWire,
      hang,
      outage: { dynamodb: dynamodbProxy, fauxqs: fauxqsProxy },
      direct,
      archiveStream,
      worker,
      setWorkerWrapper: (next) => {
        wrapper = next;
      },
      restartRunner: async () => {
        const old = runner;
        runner = newRunner();
        restarts += 1;
        await old.stop();
      },
      runnerRestarts: () => restarts,
      jobEvents,
      stop: () => (stopping ??= stopAll().then(() => rmSync(path.join(options.stateDir, 'outputs.json'), { force: true }))),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
