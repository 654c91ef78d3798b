/**
 * Section 2: what the receiver costs per request with everything but the network.
 * Cases, interleaved per round:
 *   stubbed - the definition and the goal's figure: the real handler,
 *             adapters, Powertools logger and metrics, and real SDK clients
 *             whose `send` is replaced on the instance, so every command is
 *             built by our adapters but never serialized, signed or parsed;
 *   quiet   - the same with no-op logging and metrics: what the logs cost;
 *   sdk     - the deployed shape with the SDK's full middleware stack (build,
 *             serialize, SigV4-sign, parse) over a fake transport: only the
 *             socket is missing. Shown for honesty: this is what Lambda pays.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ENV } from '../lambda/core/contract';
import { createReceiverHandler, RECEIVER_CLIENT_CONFIG, receiverDependenciesFromEnv, type ReceiverHandler } from '../lambda/handlers/receiver';
import { CallRecorder, sequentialStages, type InstrumentableClient } from './aws-calls';
import { newDelivery, toHttpApiEvent } from './deliveries';
import { claimedItem, FakeAws } from '../local/fake-aws';
import { cpuMicros, interleaved, median, pairedRatio, relativeSpread } from './stats';

const SECRET = 'whsec-bench-receiver-0123456789abcdef';
const ENVIRONMENT: Record<string, string> = {
  [ENV.deliveriesTable]: 'bench-deliveries',
  [ENV.archiveBucket]: 'bench-archive',
  [ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-queue',
  [ENV.signingSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
  // As deployed: the batched archive (a delivery that fits goes to Firehose).
  [ENV.archiveStream]: 'bench-archive-stream',
};

export type CaseName = 'stubbed' | 'quiet' | 'sdk';
const CASES: readonly CaseName[] = ['stubbed', 'quiet', 'sdk'];

export interface ReceiverOverheadOptions {
  readonly rounds: number;
  readonly batch: number;
  /** Requests per case before measuring. */
  readonly warmup: number;
  readonly bodyBytes: number;
  /** A second body size, measured briefly for the cost model. */
  readonly largeBodyBytes: number;
  readonly log: (message: string) => void;
}

export interface ReceiverOverheadResult {
  readonly rounds: number;
  readonly batch: number;
  readonly warmup: number;
  readonly bodyBytes: number;
  /** Median CPU µs per request, per case (sdk net of the fake transport's own time). */
  readonly microsPerRequest: Record<CaseName, number>;
  /** CPU µs per request of the sdk case including the fake transport. */
  readonly sdkGrossMicros: number;
  /** Wall µs per request of the sdk case: includes time other tenants held the core. */
  readonly sdkWallMicros: number;
  readonly stubMicros: number;
  readonly spread: Record<CaseName, number>;
  /** sdk over stubbed: how much the SDK's middleware multiplies our own code's cost. */
  readonly sdkOverStubbed: number;
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
const noopMetrics = { count: () => undefined, publishWith: () => undefined, publish: () => undefined };

type Send = (command: { input: Record<string, unknown>; constructor: { name: string } }) => Promise<unknown>;

/**
 * Replaces `send` on the clients' instances: the adapters still build every
 * command object (inputs, expressions, metadata, the checksum), but nothing is
 * serialized, signed or parsed. Answers are constants, so the stub itself costs
 * an async call and a property read (well under 1 µs a request, not subtracted).
 */
function stubSends(clients: ReturnType<FakeAws['clients']>): void {
  const claimed = { $metadata: {}, ...claimedItem('attempt-bench') };
  const empty = { $metadata: {} };
  const sent = { $metadata: {}, MessageId: 'bench' };
  const dynamodb: Send = async (command) => (command.input.ReturnValues === 'ALL_NEW' ? claimed : empty);
  const s3: Send = async () => empty;
  const sqs: Send = async () => sent;
  const firehose: Send = async (command) => ({ $metadata: {}, FailedPutCount: 0, RequestResponses: ((command.input.Records ?? []) as unknown[]).map(() => ({ RecordId: 'bench' })) });
  const secret = { $metadata: {}, SecretString: SECRET, CreatedDate: new Date(0), VersionStages: ['AWSCURRENT'] };
  const secretsManager: Send = async (command) => {
    if (command.input.VersionStage === 'AWSPREVIOUS') throw new ResourceNotFoundException({ message: 'no AWSPREVIOUS version', $metadata: {} });
    return secret;
  };
  (clients.dynamodb as unknown as { send: Send }).send = dynamodb;
  (clients.s3 as unknown as { send: Send }).send = s3;
  (clients.sqs as unknown as { send: Send }).send = sqs;
  (clients.firehose as unknown as { send: Send }).send = firehose;
  (clients.secretsManager as unknown as { send: Send }).send = secretsManager;
}

interface Built {
  readonly handler: ReceiverHandler;
  readonly fake?: FakeAws;
  readonly clients?: InstrumentableClient[];
}

/** Exported for profiling one case on its own (node --cpu-prof). */
export function build(name: CaseName, delayMs?: number): Built {
  const fake = new FakeAws({ secret: SECRET, delayMs });
  // The receiver's own client options (md5: false on SQS), as the handler builds them.
  const clients = fake.clients(RECEIVER_CLIENT_CONFIG);
  if (name !== 'sdk') stubSends(clients);
  const deps = receiverDependenciesFromEnv(ENVIRONMENT, {
    ...clients,
    ...(name === 'quiet' ? { logger: noopLogger, metrics: noopMetrics } : {}),
  });
  const handler = createReceiverHandler(deps);
  if (name === 'quiet') silentHandlers.add(handler);
  return {
    handler,
    fake: name === 'sdk' || delayMs !== undefined ? fake : undefined,
    clients: [clients.dynamodb, clients.s3, clients.sqs, clients.firehose, clients.secretsManager] as unknown as InstrumentableClient[],
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

function buildTraced(): Built {
  const fake = new FakeAws({ secret: SECRET, delayMs: 5 });
  const clients = fake.clients(RECEIVER_CLIENT_CONFIG);
  const handler = createReceiverHandler(receiverDependenciesFromEnv(ENVIRONMENT, { ...clients, logger: noopLogger, metrics: noopMetrics }));
  silentHandlers.add(handler);
  return { handler, fake, clients: [clients.dynamodb, clients.s3, clients.sqs, clients.firehose, clients.secretsManager] as unknown as InstrumentableClient[] };
}

async function stageTrace(): Promise<ReceiverOverheadResult['stages']> {
  // A 5 ms timer per call makes overlap visible without any CPU noise in it
  // (the fake transport under the full SDK, so the recorder's middleware sees every call).
  const built = buildTraced();
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
    // Warm-up: the cached secret, the SDK's lazily built middleware stacks, and
    // the JIT. Measured here: after 200 requests a case still runs at 2-3x its
    // steady-state cost (Powertools and the core are not yet optimized), after
    // ~2,000 it has settled, which is what a warm Lambda environment runs.
    for (const name of CASES) for (const event of events(options.warmup, options.bodyBytes)) await expectAccepted(built[name].handler, event);

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
      warmup: options.warmup,
      bodyBytes: options.bodyBytes,
      microsPerRequest: { stubbed: median(samples.stubbed), quiet: median(samples.quiet), sdk: median(samples.sdk) },
      sdkGrossMicros: median(grossMicros),
      sdkWallMicros: median(wallMicros),
      stubMicros: median(stubMicros),
      spread: { stubbed: relativeSpread(samples.stubbed), quiet: relativeSpread(samples.quiet), sdk: relativeSpread(samples.sdk) },
      sdkOverStubbed: pairedRatio(samples.sdk, samples.stubbed),
      commandMicros,
      logBytesPerRequest: logBytes / logRequests,
      largeBodyBytes: options.largeBodyBytes,
      warningsPerRequest: [...capture.warnings].map(([message, count]) => ({ message, perRequest: count / Math.max(1, loggedRequests) })),
      largeBodyCpuMicros: median(largeSamples),
      stages,
    };
    options.log(
      `receiver: stubbed ${result.microsPerRequest.stubbed.toFixed(1)} µs, quiet ${result.microsPerRequest.quiet.toFixed(1)} µs, sdk ${result.microsPerRequest.sdk.toFixed(1)} µs (gross ${result.sdkGrossMicros.toFixed(1)}), logs ${Math.round(result.logBytesPerRequest)} B/req, stages warm ${stages.warm.count} cold ${stages.cold.count}`,
    );
    return result;
  } finally {
    capture.restore();
  }
}
