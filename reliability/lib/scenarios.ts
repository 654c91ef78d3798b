/**
 * The scenarios of a run. Each one sends a workload through the harness stack
 * while something fails, waits for the queue to drain, and checks every
 * invariant against what the emulators hold.
 */
import * as path from 'node:path';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { LOCAL_REGION } from '../../ops/lib/clients';
import { writeOutputsFile } from '../../ops/lib/outputs';
import { main as redriveMain } from '../../ops/redrive';
import { main as replayMain } from '../../ops/replay';
import { QUEUE_MESSAGE_VERSION } from '../../lambda/core/contract';
import { STEPS, type FaultPlan, type Step } from './fault-types';
import type { HarnessStack } from './harness-stack';
import { STRICT_PROVIDER, sendAll, type SendContext, type SendOutcome } from './provider-sim';
import { startWireFaultProxy, WIRE_FAULT_KINDS, type WireFaultKind } from './wire-proxy';
import { prng, uniform } from './seeded';
import { evaluate, takeSnapshot, waitForDrain, type Figures } from './state';
import { crashingWorker, killedConsumer, type CrashCounter } from './worker-chaos';
import { buildWorkload, type Workload } from './workload';

export interface ScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly figures: Figures;
  readonly faults: Readonly<Record<string, number>>;
  readonly violations: readonly string[];
  readonly seconds: number;
  readonly extra?: Readonly<Record<string, number | string>>;
}

export interface RunContext {
  readonly stack: HarnessStack;
  readonly seed: number;
  readonly signatures: Set<string>;
  readonly bodies: Set<string>;
  readonly say: (message: string) => void;
  /** Longest wait for the queue to drain after a scenario's sends. */
  readonly drainTimeoutMs: number;
}

export interface Pending {
  readonly name: string;
  readonly description: string;
  readonly workload: Workload;
  readonly outcomes: Promise<SendOutcome[]>;
  readonly started: number;
  readonly poisonIds?: ReadonlySet<string>;
  readonly allowRetriesToRunOut?: boolean;
  readonly extra?: () => Record<string, number | string>;
}

export function sendContext(context: RunContext): SendContext {
  return { url: context.stack.webhookUrl, secret: context.stack.signingSecret, policy: STRICT_PROVIDER, signatures: context.signatures };
}

export function workload(context: RunContext, prefix: string, deliveries: number, options: Partial<Parameters<typeof buildWorkload>[0]> = {}): Workload {
  const built = buildWorkload({ prefix, deliveries, random: prng(context.seed ^ hash(prefix)), ...options });
  for (const delivery of built.deliveries) context.bodies.add(delivery.body);
  return built;
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (Math.imul(value, 31) + char.charCodeAt(0)) | 0;
  return value;
}

/** Waits for the sends, drains the queue once, and evaluates every pending scenario against one snapshot. */
export async function settle(context: RunContext, pending: readonly Pending[]): Promise<ScenarioResult[]> {
  const outcomes = await Promise.all(pending.map((item) => item.outcomes));
  const drained = await waitForDrain(context.stack.direct, context.stack.resources.queueUrl, context.drainTimeoutMs);
  // Batched archive lines reach S3 when the stream flushes; the snapshot reads S3.
  await context.stack.archiveStream?.flush();
  const snapshot = await takeSnapshot(context.stack.direct, context.stack.resources);
  const results: ScenarioResult[] = [];
  for (const [index, item] of pending.entries()) {
    const evaluation = await evaluate({
      prefix: item.workload.prefix,
      deliveries: item.workload.deliveries,
      outcomes: outcomes[index],
      snapshot,
      clients: context.stack.direct,
      bucket: context.stack.resources.archiveBucketName,
      poisonIds: item.poisonIds,
      drained,
      allowRetriesToRunOut: item.allowRetriesToRunOut,
    });
    results.push({
      name: item.name,
      description: item.description,
      figures: evaluation.figures,
      faults: { ...context.stack.faults.injected(item.workload.prefix), ...context.stack.wireFaults.injected(item.workload.prefix) },
      violations: evaluation.violations,
      seconds: Math.round((Date.now() - item.started) / 100) / 10,
      extra: {
        jobs: item.workload.jobs,
        outOfOrderJobs: item.workload.outOfOrderJobs,
        conflictingJobs: item.workload.conflictingJobs,
        ...item.extra?.(),
      },
    });
    context.stack.faults.deactivate(item.workload.prefix);
    context.stack.wireFaults.deactivate(item.workload.prefix);
  }
  return results;
}

/**
 * DynamoDB Local's JVM answers its first few hundred writes slowly (the JIT is
 * still compiling), past the harness's client timeouts: a warm-up run, not
 * counted, so the scenarios measure the pipeline rather than the emulator's
 * start. Real DynamoDB has no such phase.
 */
export async function warmUp(context: RunContext, deliveries: number): Promise<number> {
  const built = workload(context, 'warmup-', deliveries);
  const outcomes = await sendAll(built.sends, 8, sendContext(context));
  await waitForDrain(context.stack.direct, context.stack.resources.queueUrl, context.drainTimeoutMs);
  return outcomes.filter((outcome) => outcome.acknowledged).length;
}

const ALL_KINDS = ['error', 'hang', 'lost-response'] as const;

/**
 * A body just under the receiver's 1 MiB limit whose queue message (payload,
 * envelope, attributes) passes SQS's 1 MiB: the claim-check route.
 */
export const CLAIM_CHECK_PADDING_BYTES = 1_047_600;

interface StepScenario {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly description: string;
  /** Claim-check scenarios need bodies too big to travel inline. */
  readonly paddingBytes?: number;
}

export const STEP_SCENARIOS: readonly StepScenario[] = [
  { name: 'claim', steps: ['receiver.claim'], description: 'receiver: dedupe claim (UpdateItem on deliveries) fails' },
  { name: 'archive', steps: ['receiver.archive', 'receiver.release'], description: 'receiver: the archive append (Firehose PutRecordBatch) fails, and so does the release that follows' },
  { name: 'enqueue', steps: ['receiver.enqueue'], description: 'receiver: SendMessage fails' },
  { name: 'mark-accepted', steps: ['receiver.markAccepted'], description: 'receiver: mark-accepted UpdateItem fails' },
  {
    name: 'read-archive',
    steps: ['worker.readArchive'],
    description: 'worker: claim-check GetObject fails (bodies too large for the queue message: their own object, a delayed message)',
    paddingBytes: CLAIM_CHECK_PADDING_BYTES,
  },
  { name: 'update-job', steps: ['worker.updateJob'], description: 'worker: job UpdateItem fails' },
];

/** One fault scenario as the fault phases start it. */
export interface FaultScenarioStart {
  readonly name: string;
  readonly description: string;
  /** Scoped to its delivery-id prefix, so scenarios run side by side. */
  readonly plan: FaultPlan;
  readonly deliveries: number;
  readonly paddingBytes?: number;
}

/** Activates a scenario's fault plan and starts sending its workload (10 % resent, 4 at a time). */
export function startFaultScenario(context: RunContext, scenario: FaultScenarioStart): Pending {
  context.stack.faults.activate(scenario.plan);
  const built = workload(context, scenario.plan.prefix, scenario.deliveries, { resendRate: 0.1, paddingBytes: scenario.paddingBytes });
  return {
    name: `fault: ${scenario.name}`,
    description: scenario.description,
    workload: built,
    started: Date.now(),
    outcomes: sendAll(built.sends, 4, sendContext(context)),
  };
}

/** Phase 1: one scenario per pipeline step, side by side (fault plans are scoped by delivery-id prefix). */
export async function runStepFaults(context: RunContext, deliveriesEach: number, rate: number): Promise<ScenarioResult[]> {
  const pending = STEP_SCENARIOS.map((scenario) =>
    startFaultScenario(context, {
      ...scenario,
      plan: {
        prefix: `f-${scenario.name}-`,
        // Two faults per delivery and step at most: enough to hit every retry path
        // (including a fault on the retry itself) and still finish inside the
        // provider's retries and under the queue's five receives.
        rules: scenario.steps.map((step) => ({ step, rate, kinds: ALL_KINDS, maxPerDelivery: 2 })),
      },
      deliveries: deliveriesEach,
    }),
  );
  return settle(context, pending);
}

/**
 * Phase 1b: faults on the wire, below the SDK's retries, at one rate on every
 * receiver and worker step, uncapped: a late answer, a connection dropped after
 * the emulator applied the request, a 5xx. Half the bodies are over the
 * inline limit, so the worker's claim-check read is on the wire too.
 */
export async function runWireFaults(context: RunContext, deliveries: number, rate: number): Promise<ScenarioResult[]> {
  const variants = [
    { name: 'inline', paddingBytes: undefined, share: 0.5 },
    { name: 'claim check', paddingBytes: 70 * 1024, share: 0.5 },
  ];
  const pending = variants.map((variant): Pending => {
    const prefix = `x-${variant.name.replace(' ', '-')}-`;
    context.stack.wireFaults.activate({
      prefix,
      rules: STEPS.map((step) => ({ step, rate, kinds: WIRE_FAULT_KINDS, maxPerDelivery: Number.POSITIVE_INFINITY })),
    });
    const built = workload(context, prefix, Math.round(deliveries * variant.share), { resendRate: 0.1, paddingBytes: variant.paddingBytes });
    return {
      name: `wire: ${Math.round(rate * 100)}% on every step, ${variant.name}`,
      description: `every receiver and worker request faulted on the wire at ${Math.round(rate * 100)}% (5xx, answer held past the client timeout, connection dropped after the emulator applied it), uncapped; SDK clients with 2 attempts; strict provider with 3 retries`,
      workload: built,
      started: Date.now(),
      outcomes: sendAll(built.sends, 8, sendContext(context)),
      allowRetriesToRunOut: true,
    };
  });
  return settle(context, pending);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Phase 2: the worker crashes mid-batch, a consumer is killed holding a batch, the runner restarts; plus real poison. */
export async function runWorkerDeath(context: RunContext, deliveries: number): Promise<ScenarioResult[]> {
  const prefix = 'w-death-';
  const counter: CrashCounter = { crashes: 0, appliedBeforeCrash: 0 };
  const kills = { consumers: 0, received: 0, applied: 0 };
  context.stack.setWorkerWrapper(crashingWorker(prefix, 3, counter));
  const built = workload(context, prefix, deliveries, { resendRate: 0.1 });
  const poisonIds = new Set<string>();
  for (let index = 0; index < 3; index += 1) {
    const deliveryId = `${prefix}poison-${index}`;
    poisonIds.add(deliveryId);
    // Well-formed queue messages whose payload can never be valid: the worker must send them to the DLQ.
    await context.stack.direct.sqs.send(
      new SendMessageCommand({
        QueueUrl: context.stack.resources.queueUrl,
        MessageBody: JSON.stringify({
          v: QUEUE_MESSAGE_VERSION,
          deliveryId,
          event: 'job.completed',
          jobId: `${prefix}poison-job`,
          timestamp: new Date().toISOString(),
          receivedAt: new Date().toISOString(),
          archive: { bucket: context.stack.resources.archiveBucketName, key: `raw/none/${deliveryId}.json` },
          payload: { data: { job_id: `${prefix}poison-job` } },
        }),
        MessageAttributes: { deliveryId: { DataType: 'String', StringValue: deliveryId } },
      }),
    );
  }
  const started = Date.now();
  const outcomes = sendAll(built.sends, 8, sendContext(context));
  const chaos = (async () => {
    for (let round = 0; round < 4; round += 1) {
      await sleep(1500);
      try {
        const killed = await killedConsumer(context.stack);
        if (killed.received > 0) kills.consumers += 1;
        kills.received += killed.received;
        kills.applied += killed.applied;
      } catch {
        // A crash inside the killed consumer is still a dead consumer.
        kills.consumers += 1;
      }
      if (round === 1) await context.stack.restartRunner();
    }
  })();
  const pending: Pending = {
    name: 'worker death',
    description: 'worker crashes after part of every third batch; consumers killed holding a batch; runner restarted mid-run; 3 poison messages',
    workload: built,
    started,
    outcomes: Promise.all([outcomes, chaos]).then(([result]) => result),
    poisonIds,
    extra: () => ({
      crashes: counter.crashes,
      recordsAppliedBeforeCrash: counter.appliedBeforeCrash,
      killedConsumers: kills.consumers,
      recordsAppliedByKilledConsumers: kills.applied,
      runnerRestarts: context.stack.runnerRestarts(),
      poisonInjected: poisonIds.size,
    }),
  };
  try {
    return await settle(context, [pending]);
  } finally {
    context.stack.setWorkerWrapper(undefined);
  }
}

/**
 * Phase 3: an emulator becomes unreachable for a few seconds mid-run. Both
 * emulators keep their state only in memory, so a real restart would erase
 * every table, queue and object, which is not what a restart of DynamoDB, SQS
 * or S3 means; instead every connection to it is reset and refused for the
 * outage, which is what clients see of a crash, a failover or a partition.
 */
export async function runOutage(context: RunContext, target: 'dynamodb' | 'fauxqs', deliveries: number, outageMs: number): Promise<ScenarioResult[]> {
  const prefix = `o-${target}-`;
  const proxy = context.stack.outage[target];
  const built = workload(context, prefix, deliveries, { resendRate: 0.1 });
  const started = Date.now();
  const resetsBefore = proxy.resets();
  // Paced so the stream runs before, through and after the outage.
  const outcomes = sendAll(built.sends, 8, sendContext(context), 30);
  const outage = (async () => {
    await sleep(1500);
    proxy.down();
    await sleep(outageMs);
    proxy.up();
  })();
  return settle(context, [
    {
      name: `outage: ${target === 'dynamodb' ? 'DynamoDB' : 'SQS + S3'}`,
      description: `${target === 'dynamodb' ? 'DynamoDB Local' : 'fauxqs (SQS and S3)'} unreachable for ${outageMs / 1000} s mid-run: open connections reset, new ones refused`,
      workload: built,
      started,
      outcomes: Promise.all([outcomes, outage]).then(([result]) => result),
      extra: () => ({ outageSeconds: outageMs / 1000, connectionsReset: proxy.resets() - resetsBefore }),
    },
  ]);
}

/** Phase 5: sustained load with duplicates, out-of-order events and conflicting terminal events. */
export async function runLoad(context: RunContext, concurrency: number, deliveries: number): Promise<ScenarioResult[]> {
  const prefix = `l-c${concurrency}-`;
  const built = workload(context, prefix, deliveries, { resendRate: 0.1, conflictRate: 0.05 });
  const started = Date.now();
  let sendSeconds = 0;
  let requests = 0;
  const outcomes = sendAll(built.sends, concurrency, sendContext(context)).then((result) => {
    sendSeconds = (Date.now() - started) / 1000;
    requests = result.reduce((sum, outcome) => sum + outcome.statuses.length, 0);
    return result;
  });
  return settle(context, [
    {
      name: `load: concurrency ${concurrency}`,
      description: `${deliveries} deliveries, 10% re-sent, 5% of jobs with two terminal events, shuffled, ${concurrency} in flight`,
      workload: built,
      started,
      outcomes,
      extra: () => ({
        concurrency,
        requestsPerSecond: Math.round((requests / Math.max(sendSeconds, 0.001)) * 10) / 10,
      }),
    },
  ]);
}

/**
 * Phase 0b: the ops CLIs on a faulty wire. Deliveries are accepted cleanly,
 * their job items deleted, then `npm run replay` (its real `main`, with the
 * outputs file pointing its clients at wire fault proxies) rebuilds them from
 * the archive; then the same messages are put into the DLQ and `npm run
 * redrive` moves them back. Every request of the CLIs is faulted at `rate`:
 * a 5xx, or the connection dropped after the emulator applied it (a replayed
 * or redriven message sent twice). Answers held past a client timeout are left
 * out here only because the CLIs' timeout is 30 s (OPS_TIMEOUTS); the handlers'
 * scenarios cover that kind.
 */
/**
 * The jobs of phase 0: it deletes their items and rebuilds them with the replay
 * CLI, so each of their transitions is written, and published, twice.
 */
export const REBUILT_JOBS_PREFIX = 'ops-';

export async function runOpsWireFaults(context: RunContext, deliveries: number, rate: number, stateDir: string): Promise<ScenarioResult[]> {
  const { stack } = context;
  const prefix = REBUILT_JOBS_PREFIX;
  const started = new Date();
  const built = workload(context, prefix, deliveries);
  const outcomes = await sendAll(built.sends, 8, sendContext(context));
  await waitForDrain(stack.direct, stack.resources.queueUrl, context.drainTimeoutMs);

  let requestIndex = 0;
  const decide = (): WireFaultKind | undefined => {
    requestIndex += 1;
    const draw = uniform(context.seed, 'ops', requestIndex);
    if (draw >= rate) return undefined;
    return draw < rate / 2 ? 'server-error' : 'drop-after-apply';
  };
  const proxies = {
    dynamodb: await startWireFaultProxy({ upstream: stack.outage.dynamodb.endpoint, decide }),
    fauxqs: await startWireFaultProxy({ upstream: stack.outage.fauxqs.endpoint, decide }),
  };
  const outputsFile = path.join(stateDir, 'ops-outputs.json');
  writeOutputsFile(outputsFile, {
    WebhookUrl: stack.webhookUrl,
    JobsTableName: stack.resources.jobsTableName,
    DeliveriesTableName: stack.resources.deliveriesTableName,
    ArchiveBucketName: stack.resources.archiveBucketName,
    QueueUrl: stack.resources.queueUrl,
    DeadLetterQueueUrl: stack.resources.deadLetterQueueUrl,
    Endpoints: { region: LOCAL_REGION, dynamodb: proxies.dynamodb.endpoint, s3: proxies.fauxqs.endpoint, sqs: proxies.fauxqs.endpoint },
  });
  const jobIds = [...new Set(built.deliveries.map((delivery) => delivery.jobId))];
  const deleteJobs = (): Promise<unknown> =>
    Promise.all(jobIds.map((jobId) => stack.direct.dynamodb.send(new DeleteItemCommand({ TableName: stack.resources.jobsTableName, Key: { jobId: { S: jobId } } }))));
  const evaluateNow = async (
    name: string,
    description: string,
    since: number,
    baseline: { readonly dynamodb: Record<string, number>; readonly fauxqs: Record<string, number> },
    exitCode: number,
  ): Promise<ScenarioResult> => {
    const drained = await waitForDrain(stack.direct, stack.resources.queueUrl, context.drainTimeoutMs);
    const snapshot = await takeSnapshot(stack.direct, stack.resources);
    const evaluation = await evaluate({
      prefix,
      deliveries: built.deliveries,
      outcomes,
      snapshot,
      clients: stack.direct,
      bucket: stack.resources.archiveBucketName,
      drained,
    });
    const counts = { dynamodb: proxies.dynamodb.counts(), fauxqs: proxies.fauxqs.counts() };
    const faults: Record<string, number> = {};
    for (const [target, record] of Object.entries(counts)) {
      for (const kind of WIRE_FAULT_KINDS) {
        const count = record[kind] - (baseline[target as 'dynamodb' | 'fauxqs'][kind] ?? 0);
        if (count > 0) faults[`${name.split(' ')[1]}→${target} ${kind}`] = count;
      }
    }
    const violations = [...evaluation.violations, ...(exitCode === 0 ? [] : [`the CLI exited ${exitCode}`])];
    return { name, description, figures: evaluation.figures, faults, violations, seconds: Math.round((Date.now() - since) / 100) / 10, extra: { exitCode } };
  };

  try {
    // Replay: the job items are gone; the archive rebuilds them.
    await deleteJobs();
    const replayStarted = Date.now();
    const replayBaseline = { dynamodb: proxies.dynamodb.counts(), fauxqs: proxies.fauxqs.counts() };
    const replayCode = await replayMain(['--from', started.toISOString(), '--to', new Date(Date.now() + 60_000).toISOString(), '--outputs', outputsFile, '--quiet']);
    const replay = await evaluateNow(
      'ops: replay on the wire',
      `npm run replay rebuilds ${jobIds.length} deleted job items from the archive while ${Math.round(rate * 100)}% of its requests get a 5xx or lose their answer after being applied`,
      replayStarted,
      replayBaseline,
      replayCode,
    );

    // Redrive: the same messages wait in the DLQ; the job items are gone again.
    await deleteJobs();
    for (const delivery of built.deliveries) {
      const message = {
        v: QUEUE_MESSAGE_VERSION,
        deliveryId: delivery.deliveryId,
        event: delivery.event,
        jobId: delivery.jobId,
        timestamp: delivery.eventAt,
        receivedAt: delivery.eventAt,
        archive: { bucket: stack.resources.archiveBucketName, key: `raw/redrive/${delivery.deliveryId}.json` },
        payload: JSON.parse(delivery.body) as unknown,
      };
      await stack.direct.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.deadLetterQueueUrl, MessageBody: JSON.stringify(message) }));
    }
    const redriveStarted = Date.now();
    const redriveBaseline = { dynamodb: proxies.dynamodb.counts(), fauxqs: proxies.fauxqs.counts() };
    const redriveCode = await redriveMain(['--outputs', outputsFile]);
    const redrive = await evaluateNow(
      'ops: redrive on the wire',
      `npm run redrive moves ${built.deliveries.length} messages from the DLQ back while ${Math.round(rate * 100)}% of its requests get a 5xx or lose their answer after being applied`,
      redriveStarted,
      redriveBaseline,
      redriveCode,
    );
    return [replay, redrive];
  } finally {
    await Promise.all([proxies.dynamodb.stop(), proxies.fauxqs.stop()]);
  }
}
