/**
 * Section 4: the whole local pipeline (`npm start`'s emulators, receiver, queue
 * runner, worker) driven over loopback HTTP, beside the same AWS calls issued
 * straight at the emulators with no pipeline, at the same concurrency, in the
 * same rounds. Also runs the counted phases the cost section bills.
 */
import { type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDeliveryStore } from '../lambda/adapters/dynamo-delivery-store';
import { FirehoseArchive } from '../lambda/adapters/firehose-archive';
import { S3Archive } from '../lambda/adapters/s3-archive';
import { SqsQueue } from '../lambda/adapters/sqs-queue';
import { archiveKey } from '../lambda/core/archive-key';
import { QUEUE_MESSAGE_VERSION, SERVICE_NAMES, type EventType } from '../lambda/core/contract';
import { localClients, type AwsClients } from '../ops/lib/clients';
import { mapWithConcurrency } from '../ops/lib/concurrency';
import { readOutputsFile, type StackOutputs } from '../ops/lib/outputs';
import { startStackChild } from '../local/stack-child';
import { processCpuMs as processCpuMsOf } from '../local/startup-wait';
import { LOCAL_NAMES } from '../local/resources';
import { postDelivery } from '../ops/lib/provider';
import { diffSummaries, type CallSummary } from './aws-calls';
import { newDelivery, type BenchDelivery } from './deliveries';
import { isEventsCall } from './events-cost';
import { cpuMicros, median, pairedRatio, percentile, sleep } from './stats';

export const E2E_SECRET = 'bench-signing-secret-local-only';

export interface E2eOptions {
  readonly stateDir: string;
  readonly rounds: number;
  /** Deliveries per (round, level, case). */
  readonly perBatch: number;
  readonly levels: readonly number[];
  /** Deliveries of each kind per warm-up chunk. */
  readonly warmup: number;
  readonly costDeliveries: { readonly small: number; readonly large: number };
  readonly log: (message: string) => void;
}

export interface LevelResult {
  readonly concurrency: number;
  readonly deliveries: number;
  readonly pipelinePerSecond: number;
  readonly directPerSecond: number;
  /** Pipeline deliveries/s over direct calls/s, median of per-round ratios. */
  readonly ratio: number;
  readonly ackP50: number;
  readonly ackP99: number;
  readonly directP50: number;
  readonly directP99: number;
  /** Ack to the job item updated (negative when the worker applied it before the answer arrived). */
  readonly jobP50: number;
  readonly jobP99: number;
  /** POST sent to the job item updated. */
  readonly sendToJobP50: number;
  readonly sendToJobP99: number;
  readonly jobMissing: number;
  readonly failures: number;
  /** CPU ms per delivery by process, median over rounds; batches include the worker applying them. */
  readonly cpu: { readonly pipeline: CpuPerDelivery; readonly direct: CpuPerDelivery };
}

export interface CostPhase {
  readonly bodyBytes: number;
  readonly deliveries: number;
  readonly calls: CallSummary[];
  /** Stack stdout+stderr bytes (receiver and worker logs, EMF metrics) per delivery. */
  readonly logBytesPerDelivery: number;
  /** The job-events publisher's log lines (service job-events) per delivery, billed on their own line. */
  readonly eventsLogBytesPerDelivery: number;
  /** The same per local invocation that published (its info line and EMF metrics). */
  readonly eventsLogBytesPerInvocation: number;
  /** Receiver invocations per delivery is 1; worker invocations are the non-empty receives. */
  readonly workerInvocations: number;
  /**
   * Worker invocations when the event source gathers a batch over several
   * receives: the worker's one line per batch, counted in the phase's log.
   */
  readonly workerBatches?: number;
  /** Ack latency of the phase's deliveries (8 in flight): the same measure for both designs in one run. */
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
}

export interface Breakdown {
  /** Mean ms per call seen by the stack at concurrency 1 (SDK work plus the emulator round trip). */
  readonly callMs: { key: string; ms: number }[];
  readonly ackMeanMs: number;
  readonly directMeanMs: number;
}

export interface E2eResult {
  readonly startupMs: number;
  readonly rounds: number;
  readonly perBatch: number;
  readonly levels: LevelResult[];
  readonly breakdown: Breakdown;
  readonly cost: { readonly small: CostPhase; readonly large: CostPhase };
  readonly wallSeconds: number;
}

interface Stack {
  readonly child: ChildProcess;
  /** DynamoDB Local's java process and fauxqs's node process, from the stack's own pid file. */
  readonly dynamodbPid?: number;
  readonly fauxqsPid?: number;
  readonly outputs: StackOutputs;
  readonly logFile: string;
  readonly callsFile: string;
  readonly startupMs: number;
}

/**
 * As test/e2e/global-setup.ts starts it, plus the call counter preloaded.
 * `root` is the checkout whose stack runs: this one, or the old design's.
 */
async function startStack(stateDir: string, log: (message: string) => void, root: string = path.resolve(__dirname, '..'), cacheDir?: string): Promise<Stack> {
  mkdirSync(stateDir, { recursive: true });
  const logFile = path.join(stateDir, 'stack.log');
  const callsFile = path.join(stateDir, 'calls.json');
  rmSync(callsFile, { force: true });
  log(`e2e: local stack starting (log ${path.relative(process.cwd(), logFile)})`);
  const { child, startupMs } = await startStackChild({
    root,
    logFile,
    preloads: ['./bench/child-call-counter.ts'],
    env: {
      ...process.env,
      PORT: '0',
      LOCAL_STATE_DIR: stateDir,
      ...(cacheDir !== undefined ? { LOCAL_CACHE_DIR: cacheDir } : {}),
      LOCAL_ARCHIVE_FLUSH_SECONDS: String(BENCH_ARCHIVE_FLUSH_SECONDS),
      LOCAL_EXIT_WITH_PARENT: '1',
      WEBHOOK_SIGNING_SECRET: E2E_SECRET,
      // As deployed: INFO logs and EMF metrics, so their cost is in the figures.
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
      BENCH_CALLS_FILE: callsFile,
    },
    log: (message) => log(`e2e: ${message}`),
  });
  const outputs = readOutputsFile(path.join(stateDir, 'outputs.json'));
  let dynamodbPid: number | undefined;
  let fauxqsPid: number | undefined;
  try {
    const pids = JSON.parse(readFileSync(path.join(stateDir, 'local-stack.pid.json'), 'utf8')) as { processes: { pid: number; role: string }[] };
    dynamodbPid = pids.processes.find((p) => /dynamodb/i.test(p.role))?.pid;
    fauxqsPid = pids.processes.find((p) => /fauxqs/i.test(p.role))?.pid;
  } catch {
    // Without it the CPU breakdown just lacks the emulator columns.
  }
  return { child, outputs, logFile, callsFile, dynamodbPid, fauxqsPid, startupMs };
}

/** Stops only the process this run started, by its pid. */
export async function stopStack(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
  if (timedOut && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
}

/** CPU ms a process has used so far; NaN where /proc is not there. */
function processCpuMs(pid: number | undefined): number {
  return processCpuMsOf(pid) ?? Number.NaN;
}

export interface CpuPerDelivery {
  /** The stack's Node process: HTTP server, receiver, queue runner, worker. */
  readonly stack: number;
  readonly dynamodbLocal: number;
  /** fauxqs's own Node process (SQS and S3). */
  readonly fauxqs: number;
  /** This process: the load generator (and, for direct, the SDK calls themselves). */
  readonly bench: number;
}

/** Fields an older recorder (the old design's checkout) does not write count as zero. */
const SUMMARY_DEFAULTS = { records: 0, billedBytes: 0 } as const;

function readCalls(file: string): CallSummary[] {
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { summary: CallSummary[] }).summary.map((summary) => ({ ...SUMMARY_DEFAULTS, ...summary }));
}

/** Waits until the stack's PutEvents count stops growing (the publisher has caught up with the stream). */
async function waitPublished(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const putEvents = (): number => readCalls(file).filter((c) => c.key.startsWith('EventBridge.PutEvents')).reduce((sum, c) => sum + c.count, 0);
  let last = -1;
  let stableFor = 0;
  while (Date.now() < deadline && stableFor < 3) {
    await sleep(700);
    const now = putEvents();
    stableFor = now === last ? stableFor + 1 : 0;
    last = now;
  }
}

/** Waits for the preload's next write so a snapshot includes every call made so far. */
async function snapshot(file: string): Promise<CallSummary[]> {
  await sleep(450);
  return readCalls(file);
}

interface Sent {
  readonly delivery: BenchDelivery;
  readonly latencyMs: number;
  /** Epoch ms when the POST started and when its answer arrived. */
  readonly sentAt: number;
  readonly ackAt: number;
  readonly ok: boolean;
}

async function sendPipeline(url: string, deliveries: BenchDelivery[], concurrency: number): Promise<Sent[]> {
  return mapWithConcurrency(deliveries, concurrency, async (delivery) => {
    const sentAt = Date.now();
    const start = performance.now();
    let ok: boolean;
    try {
      const answer = await postDelivery(url, delivery, { timeoutMs: 30_000 });
      ok = answer.status === 202;
    } catch {
      ok = false;
    }
    return { delivery, latencyMs: performance.now() - start, sentAt, ackAt: Date.now(), ok };
  });
}

/** The accept path's AWS calls through the same adapters, with no HTTP, handler, checks or logs. */
async function sendDirect(
  clients: AwsClients,
  outputs: StackOutputs,
  deliveries: BenchDelivery[],
  concurrency: number,
  archiveStreamName?: string,
): Promise<Sent[]> {
  const store = new DynamoDeliveryStore(clients.dynamodb, outputs.DeliveriesTableName);
  const archive = new S3Archive(clients.s3, outputs.ArchiveBucketName);
  // The pipeline's own route: a batched record when the stack has an archive stream.
  const batched = clients.firehose !== undefined && archiveStreamName !== undefined ? new FirehoseArchive(clients.firehose, archiveStreamName) : undefined;
  const queue = new SqsQueue(clients.sqs, outputs.QueueUrl);
  return mapWithConcurrency(deliveries, concurrency, async (delivery) => {
    const rawBody = Buffer.from(delivery.body);
    const bodySha256 = createHash('sha256').update(rawBody).digest('hex');
    const attemptId = randomUUID();
    const sentAt = Date.now();
    const start = performance.now();
    let ok: boolean;
    try {
      const claim = await store.claim({ deliveryId: delivery.deliveryId, bodySha256, attemptId, now: new Date(), leaseSeconds: 30, ttlSeconds: 2_592_000 });
      const receivedAt = claim.record.receivedAt;
      const key = archiveKey(receivedAt, delivery.deliveryId);
      const event = delivery.event as EventType;
      const archived = { rawBody, event, deliveryId: delivery.deliveryId, timestamp: delivery.timestamp, signature: undefined, receivedAt, bodySha256, jobId: delivery.jobId };
      await Promise.all([
        batched ? batched.append([archived]) : archive.put(key, archived),
        // A valid message for a fresh job: the worker applies it, as it does the pipeline's.
        queue.send({
          v: QUEUE_MESSAGE_VERSION,
          deliveryId: delivery.deliveryId,
          event,
          jobId: delivery.jobId,
          timestamp: delivery.timestamp,
          receivedAt,
          archive: { bucket: outputs.ArchiveBucketName, key },
          payload: JSON.parse(String(delivery.body)) as unknown,
        }),
      ]);
      await store.markAccepted(delivery.deliveryId, attemptId);
      ok = true;
    } catch {
      ok = false;
    }
    return { delivery, latencyMs: performance.now() - start, sentAt, ackAt: Date.now(), ok };
  });
}

/**
 * Waits until the worker has applied every delivery (the job's lastDeliveryId),
 * then returns ack-to-applied times from the worker's own `updatedAt` stamp:
 * same machine, same clock, and no polling load during the measured batch.
 */
async function waitApplied(
  clients: AwsClients,
  table: string,
  sent: Sent[],
  timeoutMs: number,
): Promise<{ lagMs: number[]; sendToAppliedMs: number[]; missing: number }> {
  const pending = new Map(sent.filter((s) => s.ok).map((s) => [s.delivery.jobId, s]));
  const lagMs: number[] = [];
  const sendToAppliedMs: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    const ids = [...pending.keys()];
    for (let i = 0; i < ids.length; i += 100) {
      const output = await clients.dynamodb.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: ids.slice(i, i + 100).map((jobId) => ({ jobId: { S: jobId } })),
              ProjectionExpression: 'jobId, lastDeliveryId, updatedAt',
            },
          },
        }),
      );
      for (const item of output.Responses?.[table] ?? []) {
        const jobId = item.jobId?.S;
        const entry = jobId === undefined ? undefined : pending.get(jobId);
        if (entry && item.lastDeliveryId?.S === entry.delivery.deliveryId && item.updatedAt?.S) {
          const appliedAt = Date.parse(item.updatedAt.S);
          lagMs.push(appliedAt - entry.ackAt);
          sendToAppliedMs.push(appliedAt - entry.sentAt);
          pending.delete(entry.delivery.jobId);
        }
      }
    }
    if (pending.size > 0) await sleep(200);
  }
  return { lagMs, sendToAppliedMs, missing: pending.size };
}

async function waitQueueEmpty(clients: AwsClients, queueUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const output = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    const visible = Number(output.Attributes?.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(output.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    if (visible === 0 && inFlight === 0) return;
    await sleep(200);
  }
}

function deliveriesOf(count: number, bodyBytes: number): BenchDelivery[] {
  return Array.from({ length: count }, () => newDelivery(E2E_SECRET, bodyBytes));
}

function perSecond(sent: Sent[], wallMs: number): number {
  return (sent.filter((s) => s.ok).length * 1000) / wallMs;
}

/**
 * The local archive stream's longest wait before it writes, for the bench:
 * longer than `npm start`'s 2 s, so a counted phase's batched objects hold
 * about what a deployed stream's would at a modest rate (its buffer is 60 s).
 */
export const BENCH_ARCHIVE_FLUSH_SECONDS = 10;
const ARCHIVE_FLUSH_MS = BENCH_ARCHIVE_FLUSH_SECONDS * 1000 + 1500;

async function costPhase(stack: Stack, clients: AwsClients, bodyBytes: number, count: number): Promise<CostPhase> {
  await waitQueueEmpty(clients, stack.outputs.QueueUrl, 30_000);
  // The job events of the rounds before trail behind the worker: none of them may be billed to this phase.
  await waitPublished(stack.callsFile, 120_000);
  if (stack.outputs.Endpoints?.firehose !== undefined) await sleep(ARCHIVE_FLUSH_MS);
  const before = await snapshot(stack.callsFile);
  const logBefore = statSync(stack.logFile).size;
  const sent = await sendPipeline(stack.outputs.WebhookUrl, deliveriesOf(count, bodyBytes), 8);
  const ok = sent.filter((s) => s.ok).length;
  const acked = sent.filter((s) => s.ok).map((s) => s.latencyMs);
  await waitApplied(clients, stack.outputs.JobsTableName, sent, 120_000);
  // Deletes follow the handler's return: the queue is empty only once they are done.
  await waitQueueEmpty(clients, stack.outputs.QueueUrl, 60_000);
  // The job events of this phase's writes are published shortly after: wait until the last one is out.
  await waitPublished(stack.callsFile);
  // Firehose's objects are written when the stream flushes: they belong to this phase.
  if (stack.outputs.Endpoints?.firehose !== undefined) await sleep(ARCHIVE_FLUSH_MS);
  const calls = diffSummaries(before, await snapshot(stack.callsFile));
  const logText = readFileSync(stack.logFile).subarray(logBefore);
  const eventsLines = logText
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes(`"service":"${SERVICE_NAMES.jobEvents}"`));
  const eventsLogBytes = eventsLines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  // One "Job events published" line per invocation that published (its EMF blob beside it).
  const publishingInvocations = eventsLines.filter((line) => line.includes('"message":"Job events published"')).length;
  const logBytes = logText.length - eventsLogBytes;
  const receives = calls.filter((c) => c.key.startsWith('SQS.ReceiveMessage') && !isEventsCall(c.key));
  const batches = logText.toString('utf8').split('"message":"Batch processed"').length - 1;
  return {
    bodyBytes,
    deliveries: ok,
    calls,
    logBytesPerDelivery: logBytes / Math.max(1, ok),
    eventsLogBytesPerDelivery: eventsLogBytes / Math.max(1, ok),
    eventsLogBytesPerInvocation: eventsLogBytes / Math.max(1, publishingInvocations),
    workerInvocations: receives.reduce((sum, c) => sum + c.nonEmpty, 0),
    workerBatches: batches > 0 ? batches : undefined,
    ackP50Ms: percentile(acked, 50),
    ackP99Ms: percentile(acked, 99),
  };
}

/** The old design's counted cost phases, from its own checkout (bench/baseline.ts prepares it). */
export async function runCostPhases(options: {
  readonly root: string;
  readonly stateDir: string;
  readonly cacheDir?: string;
  readonly costDeliveries: { readonly small: number; readonly large: number };
  readonly warmup: number;
  readonly log: (message: string) => void;
}): Promise<{ small: CostPhase; large: CostPhase; templateFile: string }> {
  const stack = await startStack(options.stateDir, options.log, options.root, options.cacheDir);
  const cleanup = (): void => {
    if (stack.child.pid !== undefined && stack.child.exitCode === null) process.kill(stack.child.pid, 'SIGTERM');
  };
  process.once('exit', cleanup);
  const endpoints = stack.outputs.Endpoints;
  if (!endpoints) throw new Error('local outputs lack Endpoints');
  const clients = localClients(endpoints);
  try {
    options.log(`baseline: stack ready in ${stack.startupMs} ms`);
    const warm = await sendPipeline(stack.outputs.WebhookUrl, deliveriesOf(options.warmup, 1024), 8);
    await waitApplied(clients, stack.outputs.JobsTableName, warm, 60_000);
    const small = await costPhase(stack, clients, 1024, options.costDeliveries.small);
    const large = await costPhase(stack, clients, 256 * 1024, options.costDeliveries.large);
    return { small, large, templateFile: path.join(options.stateDir, 'template.json') };
  } finally {
    clients.destroy();
    await stopStack(stack.child);
    process.removeListener('exit', cleanup);
  }
}

export async function runE2e(options: E2eOptions): Promise<E2eResult> {
  const started = performance.now();
  const stack = await startStack(options.stateDir, options.log);
  const cleanup = (): void => {
    if (stack.child.pid !== undefined && stack.child.exitCode === null) process.kill(stack.child.pid, 'SIGTERM');
  };
  process.once('exit', cleanup);
  const endpoints = stack.outputs.Endpoints;
  if (!endpoints) throw new Error('local outputs lack Endpoints');
  const clients = localClients(endpoints);
  const archiveStreamName = endpoints.firehose !== undefined ? LOCAL_NAMES.archiveStream : undefined;
  try {
    options.log(`e2e: stack ready in ${stack.startupMs} ms at ${stack.outputs.WebhookUrl}`);
    // Warm-up: DynamoDB Local's JIT takes hundreds of writes to settle (rates rose
    // 4-fold across rounds with a 40-delivery warm-up), plus connection pools and our own JIT.
    // Chunks until the pipeline's rate stops climbing (within 15 % of the previous chunk), at most 8.
    let previousRate = 0;
    for (let chunk = 0; chunk < 8; chunk += 1) {
      const t0 = performance.now();
      const warm = await sendPipeline(stack.outputs.WebhookUrl, deliveriesOf(options.warmup, 1024), 16);
      const rate = perSecond(warm, performance.now() - t0);
      await sendDirect(clients, stack.outputs, deliveriesOf(options.warmup, 1024), 16, archiveStreamName);
      await waitApplied(clients, stack.outputs.JobsTableName, warm, 60_000);
      await waitQueueEmpty(clients, stack.outputs.QueueUrl, 30_000);
      options.log(`e2e: warm-up chunk ${chunk + 1}: pipeline ${rate.toFixed(0)}/s`);
      if (chunk > 0 && rate < previousRate * 1.15) break;
      previousRate = rate;
    }

    type Cpu = { stack: number[]; dynamodbLocal: number[]; fauxqs: number[]; bench: number[] };
    type Acc = {
      pipeline: Sent[];
      direct: Sent[];
      pipeRate: number[];
      directRate: number[];
      lag: number[];
      sendToApplied: number[];
      missing: number;
      cpu: { pipeline: Cpu; direct: Cpu };
    };
    const emptyCpu = (): Cpu => ({ stack: [], dynamodbLocal: [], fauxqs: [], bench: [] });
    const acc = new Map<number, Acc>(options.levels.map((c) => [c, { pipeline: [], direct: [], pipeRate: [], directRate: [], lag: [], sendToApplied: [], missing: 0, cpu: { pipeline: emptyCpu(), direct: emptyCpu() } }]));
    let callsAtOne: CallSummary[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      for (const [levelIndex, concurrency] of options.levels.entries()) {
        const a = acc.get(concurrency) as Acc;
        const order = (round + levelIndex) % 2 === 0 ? (['pipeline', 'direct'] as const) : (['direct', 'pipeline'] as const);
        for (const kind of order) {
          const batch = deliveriesOf(options.perBatch, 1024);
          const before = concurrency === 1 && kind === 'pipeline' ? await snapshot(stack.callsFile) : undefined;
          const cpuBefore = {
            stack: processCpuMs(stack.child.pid),
            dynamodbLocal: processCpuMs(stack.dynamodbPid),
            fauxqs: processCpuMs(stack.fauxqsPid),
            bench: cpuMicros() / 1000,
          };
          const t0 = performance.now();
          const sent =
            kind === 'pipeline'
              ? await sendPipeline(stack.outputs.WebhookUrl, batch, concurrency)
              : await sendDirect(clients, stack.outputs, batch, concurrency, archiveStreamName);
          const wallMs = performance.now() - t0;
          if (before) callsAtOne = mergeSummaries(callsAtOne, diffSummaries(before, await snapshot(stack.callsFile)));
          const applied = await waitApplied(clients, stack.outputs.JobsTableName, sent, 60_000);
          await waitQueueEmpty(clients, stack.outputs.QueueUrl, 30_000);
          const done = sent.filter((x) => x.ok).length || 1;
          const cpu = a.cpu[kind];
          cpu.stack.push((processCpuMs(stack.child.pid) - cpuBefore.stack) / done);
          cpu.dynamodbLocal.push((processCpuMs(stack.dynamodbPid) - cpuBefore.dynamodbLocal) / done);
          cpu.fauxqs.push((processCpuMs(stack.fauxqsPid) - cpuBefore.fauxqs) / done);
          // The bench's own share excludes nothing: it also polls the jobs table and the queue between batches, for both kinds alike.
          cpu.bench.push((cpuMicros() / 1000 - cpuBefore.bench) / done);
          if (kind === 'pipeline') {
            a.pipeline.push(...sent);
            a.pipeRate.push(perSecond(sent, wallMs));
            a.lag.push(...applied.lagMs);
            a.sendToApplied.push(...applied.sendToAppliedMs);
            a.missing += applied.missing;
          } else {
            a.direct.push(...sent);
            a.directRate.push(perSecond(sent, wallMs));
          }
        }
        options.log(
          `e2e round ${round + 1}/${options.rounds} c=${concurrency}: pipeline ${a.pipeRate.at(-1)?.toFixed(0)}/s, direct ${a.directRate.at(-1)?.toFixed(0)}/s`,
        );
      }
    }

    const levels: LevelResult[] = options.levels.map((concurrency) => {
      const a = acc.get(concurrency) as Acc;
      const ok = (sent: Sent[]): number[] => sent.filter((s) => s.ok).map((s) => s.latencyMs);
      return {
        concurrency,
        deliveries: a.pipeline.length,
        pipelinePerSecond: median(a.pipeRate),
        directPerSecond: median(a.directRate),
        ratio: pairedRatio(a.pipeRate, a.directRate),
        ackP50: percentile(ok(a.pipeline), 50),
        ackP99: percentile(ok(a.pipeline), 99),
        directP50: percentile(ok(a.direct), 50),
        directP99: percentile(ok(a.direct), 99),
        jobP50: percentile(a.lag, 50),
        jobP99: percentile(a.lag, 99),
        sendToJobP50: percentile(a.sendToApplied, 50),
        sendToJobP99: percentile(a.sendToApplied, 99),
        jobMissing: a.missing,
        failures: a.pipeline.filter((s) => !s.ok).length + a.direct.filter((s) => !s.ok).length,
        cpu: {
          pipeline: cpuMedians(a.cpu.pipeline),
          direct: cpuMedians(a.cpu.direct),
        },
      };
    });
    const one = acc.get(options.levels[0]) as Acc;
    const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
    const breakdown: Breakdown = {
      callMs: callsAtOne
        .filter((c) => /UpdateItem \(.*[Dd]eliver|PutObject|PutRecordBatch|SendMessage/.test(c.key) && !isEventsCall(c.key))
        .map((c) => ({ key: c.key, ms: c.totalMs / Math.max(1, c.count) })),
      ackMeanMs: mean(one.pipeline.filter((s) => s.ok).map((s) => s.latencyMs)),
      directMeanMs: mean(one.direct.filter((s) => s.ok).map((s) => s.latencyMs)),
    };

    options.log('e2e: counted cost phases (1 KiB, 256 KiB)');
    const small = await costPhase(stack, clients, 1024, options.costDeliveries.small);
    const large = await costPhase(stack, clients, 256 * 1024, options.costDeliveries.large);
    return {
      startupMs: stack.startupMs,
      rounds: options.rounds,
      perBatch: options.perBatch,
      levels,
      breakdown,
      cost: { small, large },
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    clients.destroy();
    await stopStack(stack.child);
    process.removeListener('exit', cleanup);
    options.log('e2e: local stack stopped');
  }
}

function cpuMedians(cpu: { stack: number[]; dynamodbLocal: number[]; fauxqs: number[]; bench: number[] }): CpuPerDelivery {
  return { stack: median(cpu.stack), dynamodbLocal: median(cpu.dynamodbLocal), fauxqs: median(cpu.fauxqs), bench: median(cpu.bench) };
}

function mergeSummaries(a: CallSummary[], b: CallSummary[]): CallSummary[] {
  const byKey = new Map(a.map((s) => [s.key, { ...s }]));
  for (const s of b) {
    const existing = byKey.get(s.key);
    if (!existing) {
      byKey.set(s.key, { ...s });
      continue;
    }
    existing.count += s.count;
    existing.totalMs += s.totalMs;
  }
  return [...byKey.values()];
}
