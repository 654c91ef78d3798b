/**
 * Section 2: what the receiver costs per request with everything but the network:
 * the real handler and adapters, the real SDK clients building, serializing and
 * signing the commands and parsing the answers, over a fake transport.
 * Cases, interleaved per round:
 *   sdk    - the deployed shape (SDK clients, Powertools logger and metrics);
 *   ports  - the same handler over in-memory ports: the core alone;
 *   quiet  - SDK clients with no-op logging and metrics: what the logs cost.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ENV } from '../lambda/core/contract';
import type { Archive, ClaimRequest, ClaimResult, DeliveryStore, Queue } from '../lambda/core/ports';
import { createReceiverHandler, receiverDependenciesFromEnv, type ReceiverHandler } from '../lambda/handlers/receiver';
import { CallRecorder, sequentialStages, type InstrumentableClient } from './aws-calls';
import { newDelivery, toHttpApiEvent } from './deliveries';
import { FakeAws } from './fake-aws';
import { cpuMicros, interleaved, median, pairedRatio, relativeSpread } from './stats';

const SECRET = 'whsec-bench-receiver-0123456789abcdef';
const ENVIRONMENT: Record<string, string> = {
  [ENV.deliveriesTable]: 'bench-deliveries',
  [ENV.archiveBucket]: 'bench-archive',
  [ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-queue',
  [ENV.signingSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
};

type CaseName = 'sdk' | 'ports' | 'quiet';
const CASES: readonly CaseName[] = ['sdk', 'ports', 'quiet'];

export interface ReceiverOverheadOptions {
  readonly rounds: number;
  readonly batch: number;
  readonly bodyBytes: number;
  /** A second body size, measured briefly for the cost model. */
  readonly largeBodyBytes: number;
  readonly log: (message: string) => void;
}

export interface ReceiverOverheadResult {
  readonly rounds: number;
  readonly batch: number;
  readonly bodyBytes: number;
  /** Median CPU µs per request, per case (sdk and quiet net of the fake transport's own time). */
  readonly microsPerRequest: Record<CaseName, number>;
  /** CPU µs per request of the sdk case including the fake transport. */
  readonly sdkGrossMicros: number;
  /** Wall µs per request of the sdk case: includes time other tenants held the core. */
  readonly sdkWallMicros: number;
  readonly stubMicros: number;
  readonly spread: Record<CaseName, number>;
  /** sdk over ports: how much the SDK path multiplies the core's cost. */
  readonly sdkOverPorts: number;
  /** Median µs of each command inside the SDK (no network): serialize, sign, parse. */
  readonly commandMicros: { key: string; micros: number }[];
  /** Bytes the receiver writes to stdout (logs and EMF metrics) per accepted request. */
  readonly logBytesPerRequest: number;
  readonly largeBodyBytes: number;
  /** WARN lines the logger emitted about our own calls, per accepted request. */
  readonly warningsPerRequest: { message: string; perRequest: number }[];
  /** CPU µs per request of the sdk case (fake transport included) at largeBodyBytes. */
  readonly largeBodyCpuMicros: number;
  readonly stages: { cold: { count: number; stages: string[][] }; warm: { count: number; stages: string[][] } };
}

const noopLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setCorrelationId: () => undefined,
  beginInvocation: () => undefined,
};
const noopMetrics = { count: () => undefined, publish: () => undefined };

/** In-memory ports with the same outcomes as the adapters, for the core-only case. */
function memoryPorts(): { deliveries: DeliveryStore; archive: Archive; queue: Queue } {
  const records = new Map<string, string>();
  return {
    deliveries: {
      async claim(request: ClaimRequest): Promise<ClaimResult> {
        records.set(request.deliveryId, request.attemptId);
        return {
          kind: 'claimed',
          record: {
            deliveryId: request.deliveryId,
            status: 'in_progress',
            bodySha256: request.bodySha256,
            leaseExpiresAt: request.now.getTime() + request.leaseSeconds * 1000,
            receivedAt: request.now.toISOString(),
            expiresAt: Math.floor(request.now.getTime() / 1000) + request.ttlSeconds,
            attemptId: request.attemptId,
          },
        };
      },
      async markAccepted() {},
      async release() {},
    },
    archive: {
      async put(key: string) {
        return { bucket: ENVIRONMENT[ENV.archiveBucket], key };
      },
      async get() {
        throw new Error('not used');
      },
    },
    queue: { async send() {} },
  };
}

interface Built {
  readonly handler: ReceiverHandler;
  readonly fake?: FakeAws;
  readonly clients?: InstrumentableClient[];
}

function build(name: CaseName, delayMs?: number): Built {
  if (name === 'ports') {
    const sdk = receiverDependenciesFromEnv(ENVIRONMENT, { secrets: { getSigningSecrets: async () => ({ current: { value: SECRET, createdAt: new Date(0) } }) } });
    return { handler: createReceiverHandler({ ...sdk, ...memoryPorts() }) };
  }
  const fake = new FakeAws({ secret: SECRET, delayMs });
  const clients = fake.clients();
  const deps = receiverDependenciesFromEnv(ENVIRONMENT, {
    ...clients,
    ...(name === 'quiet' ? { logger: noopLogger, metrics: noopMetrics } : {}),
  });
  const handler = createReceiverHandler(deps);
  if (name === 'quiet') silentHandlers.add(handler);
  return {
    handler,
    fake,
    clients: [clients.dynamodb, clients.s3, clients.sqs, clients.secretsManager] as unknown as InstrumentableClient[],
  };
}

function events(count: number, bodyBytes: number): APIGatewayProxyEventV2[] {
  return Array.from({ length: count }, () => toHttpApiEvent(newDelivery(SECRET, bodyBytes)));
}

/** Requests answered by handlers that log (every case but quiet and the stage trace). */
let loggedRequests = 0;
const silentHandlers = new WeakSet<ReceiverHandler>();

async function expectAccepted(handler: ReceiverHandler, event: APIGatewayProxyEventV2): Promise<void> {
  if (!silentHandlers.has(handler)) loggedRequests += 1;
  const result = (await handler(event)) as APIGatewayProxyStructuredResultV2;
  if (result.statusCode !== 202) throw new Error(`receiver answered ${result.statusCode}: ${String(result.body)}`);
}

/**
 * Counts and swallows stdout and stderr, where Powertools writes log lines and EMF
 * metrics: Lambda ships both streams to CloudWatch Logs, so both are billed.
 */
function captureOutput(): { bytes: () => number; warnings: Map<string, number>; restore: () => void } {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  const warnings = new Map<string, number>();
  let bytes = 0;
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      // Powertools' own warnings cost log bytes on every request; name them in the report.
      const text = typeof chunk === 'string' ? chunk : '';
      const warning = /"level":"WARN","message":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1]?.replace(/\\"/g, '"');
      if (warning !== undefined) warnings.set(warning, (warnings.get(warning) ?? 0) + 1);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return {
    bytes: () => bytes,
    warnings,
    restore: () => streams.forEach((stream, i) => (stream.write = originals[i])),
  };
}

async function stageTrace(): Promise<ReceiverOverheadResult['stages']> {
  // A 5 ms timer per call makes overlap visible without any CPU noise in it.
  const built = build('quiet', 5);
  const recorder = new CallRecorder();
  for (const client of built.clients ?? []) recorder.attach(client);
  const [first, second] = events(2, 1024);
  await expectAccepted(built.handler, first);
  const cold = sequentialStages(recorder.records);
  recorder.clear();
  await expectAccepted(built.handler, second);
  const warm = sequentialStages(recorder.records);
  return { cold, warm };
}

export async function runReceiverOverhead(options: ReceiverOverheadOptions): Promise<ReceiverOverheadResult> {
  const capture = captureOutput();
  loggedRequests = 0;
  try {
    const built = Object.fromEntries(CASES.map((name) => [name, build(name)])) as Record<CaseName, Built>;
    // Warm-up: JIT, the cached secret, the SDK's lazily built middleware stacks.
    for (const name of CASES) for (const event of events(200, options.bodyBytes)) await expectAccepted(built[name].handler, event);

    let logBytes = 0;
    let logRequests = 0;
    const stubMicros: number[] = [];
    const grossMicros: number[] = [];
    const wallMicros: number[] = [];
    const samples = await interleaved(options.rounds, CASES, async (name) => {
      const batch = events(options.batch, options.bodyBytes);
      const { handler, fake } = built[name];
      const stubBefore = fake?.stubNanos ?? 0n;
      const bytesBefore = capture.bytes();
      const start = cpuMicros();
      const wallStart = performance.now();
      for (const event of batch) await expectAccepted(handler, event);
      const elapsed = (cpuMicros() - start) / options.batch;
      const wall = ((performance.now() - wallStart) * 1000) / options.batch;
      const stub = fake ? Number(fake.stubNanos - stubBefore) / 1000 / options.batch : 0;
      if (name === 'sdk') {
        logBytes += capture.bytes() - bytesBefore;
        logRequests += options.batch;
        stubMicros.push(stub);
        grossMicros.push(elapsed);
        wallMicros.push(wall);
      }
      return elapsed - stub;
    });

    // One traced batch: per-command time inside the SDK with no network under it.
    const recorder = new CallRecorder();
    for (const client of built.sdk.clients ?? []) recorder.attach(client);
    for (const event of events(options.batch, options.bodyBytes)) await expectAccepted(built.sdk.handler, event);
    const perKey = new Map<string, number[]>();
    for (const record of recorder.records) perKey.set(record.key, [...(perKey.get(record.key) ?? []), (record.end - record.start) * 1000]);
    const commandMicros = [...perKey].map(([key, values]) => ({ key, micros: median(values) }));

    // The large body only for the cost model's CPU figure: few rounds, the sdk case alone.
    const largeSamples: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const batch = events(10, options.largeBodyBytes);
      const start = cpuMicros();
      for (const event of batch) await expectAccepted(built.sdk.handler, event);
      largeSamples.push((cpuMicros() - start) / batch.length);
    }

    const stages = await stageTrace();
    const result: ReceiverOverheadResult = {
      rounds: options.rounds,
      batch: options.batch,
      bodyBytes: options.bodyBytes,
      microsPerRequest: { sdk: median(samples.sdk), ports: median(samples.ports), quiet: median(samples.quiet) },
      sdkGrossMicros: median(grossMicros),
      sdkWallMicros: median(wallMicros),
      stubMicros: median(stubMicros),
      spread: { sdk: relativeSpread(samples.sdk), ports: relativeSpread(samples.ports), quiet: relativeSpread(samples.quiet) },
      sdkOverPorts: pairedRatio(samples.sdk, samples.ports),
      commandMicros,
      logBytesPerRequest: logBytes / logRequests,
      largeBodyBytes: options.largeBodyBytes,
      warningsPerRequest: [...capture.warnings].map(([message, count]) => ({ message, perRequest: count / Math.max(1, loggedRequests) })),
      largeBodyCpuMicros: median(largeSamples),
      stages,
    };
    options.log(
      `receiver: sdk ${result.microsPerRequest.sdk.toFixed(1)} µs (gross ${result.sdkGrossMicros.toFixed(1)}), ports ${result.microsPerRequest.ports.toFixed(1)} µs, quiet ${result.microsPerRequest.quiet.toFixed(1)} µs, logs ${Math.round(result.logBytesPerRequest)} B/req, stages warm ${stages.warm.count} cold ${stages.cold.count}`,
    );
    return result;
  } finally {
    capture.restore();
  }
}
