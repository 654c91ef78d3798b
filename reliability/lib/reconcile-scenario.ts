/**
 * The reconciler under an outage longer than the strict provider's retries
 * (docs/architecture.md, "Open jobs and the reconciler"): the receiver is unreachable while some jobs finish, the
 * provider (a strict one: a few retries within seconds, then it gives up) never
 * delivers their terminal webhooks, and after the outage the reconciler's
 * sweeps, asking the provider API simulator, must bring every job to the
 * provider's own truth: finished ones to their outcome, still-running ones left
 * open, nothing applied twice.
 */
import { createHash } from 'node:crypto';
import { ENV, type EventType } from '../../lambda/core/contract';
import { openJobShard } from '../../lambda/core/reconcile/open-jobs';
import { createReconcilerHandler, reconcilerDependenciesFromEnv } from '../../lambda/handlers/reconciler';
import { buildPayload } from '../../ops/lib/provider';
import { startProviderApi } from '../../local/stand-ins/provider-api';
import { startOutageProxy } from './fault-servers';
import type { RunContext, ScenarioResult } from './scenarios';
import { type RetryPolicy, sendAll, STRICT_PROVIDER, type SendContext } from './provider-sim';
import { prng } from './seeded';
import { takeSnapshot, waitForDrain, type Figures } from './state';
import type { PlannedDelivery } from './workload';

/**
 * The harness's strict provider (a 4xx is final; only time-outs and 5xx are
 * retried, at most 3 times), with its retries compressed further so the outage
 * that outlasts them stays short.
 */
export const STRICT_RETRIES: RetryPolicy = { ...STRICT_PROVIDER, baseDelayMs: 250, maxDelayMs: 1000, requestTimeoutMs: 3000 };

type Truth = 'completed' | 'failed' | 'processing';

function delivery(jobId: string, event: EventType, at: Date, index: number): PlannedDelivery {
  const body = JSON.stringify(buildPayload(event, { jobId, createdAt: at.toISOString() }));
  return {
    deliveryId: `${jobId}-${event.slice(4)}-${index}`,
    jobId,
    event,
    eventAt: at.toISOString(),
    body,
    bodySha256: createHash('sha256').update(body).digest('hex'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runReconcileAfterOutage(context: RunContext, jobs: number, outageMs: number): Promise<ScenarioResult[]> {
  const started = Date.now();
  const prefix = 'r-outage-';
  const { stack } = context;
  const random = prng(context.seed ^ 0x5eed);
  const simulator = await startProviderApi();
  const proxy = await startOutageProxy(Number(new URL(stack.webhookUrl).port));
  const url = `http://127.0.0.1:${proxy.port}${new URL(stack.webhookUrl).pathname}`;
  const send: SendContext = { url, secret: stack.signingSecret, policy: STRICT_RETRIES, signatures: context.signatures };
  const violations: string[] = [];

  try {
    // The provider's truth per job: most finish, some during the outage, some keep running.
    const truth = new Map<string, Truth>();
    const duringOutage = new Set<string>();
    for (let i = 0; i < jobs; i += 1) {
      const jobId = `${prefix}job-${i}`;
      const roll = random();
      truth.set(jobId, roll < 0.45 ? 'completed' : roll < 0.8 ? 'failed' : 'processing');
      if (truth.get(jobId) !== 'processing' && random() < 0.6) duringOutage.add(jobId);
    }
    const base = Date.now();
    const startedEvents = [...truth.keys()].map((jobId, i) => delivery(jobId, 'job.started', new Date(base + i), 0));
    const terminal = [...truth.entries()].filter(([, t]) => t !== 'processing').map(([jobId, t], i) => delivery(jobId, `job.${t}` as EventType, new Date(base + 60_000 + i), 1));
    for (const d of [...startedEvents, ...terminal]) {
      context.bodies.add(d.body);
      // The provider's state changes whether or not its webhook gets through.
      simulator.record(d.event, JSON.parse(d.body));
    }

    // 1. Every job starts while the receiver is up.
    const startedOutcomes = await sendAll(startedEvents, 8, send);
    // 2. The receiver goes down for longer than the provider retries; the jobs finishing meanwhile lose their webhooks.
    proxy.down();
    const outageStarted = Date.now();
    const lostOutcomes = await sendAll(terminal.filter((d) => duringOutage.has(d.jobId)), 8, send);
    await sleep(Math.max(0, outageMs - (Date.now() - outageStarted)));
    const outageSeconds = (Date.now() - outageStarted) / 1000;
    proxy.up();
    // 3. The rest finish after the outage and are delivered.
    const laterOutcomes = await sendAll(terminal.filter((d) => !duringOutage.has(d.jobId)), 8, send);
    const outcomes = [...startedOutcomes, ...lostOutcomes, ...laterOutcomes];
    const givenUp = lostOutcomes.filter((o) => !o.acknowledged).length;
    if (givenUp !== lostOutcomes.length) violations.push(`the outage did not outlast the provider's retries: ${lostOutcomes.length - givenUp} deliveries got through`);
    const unacknowledgedOutsideOutage = [...startedOutcomes, ...laterOutcomes].filter((o) => !o.acknowledged).map((o) => o.delivery.deliveryId);
    if (unacknowledgedOutsideOutage.length > 0) violations.push(`deliveries outside the outage never acknowledged: ${unacknowledgedOutsideOutage.slice(0, 5).join(', ')}`);
    await waitForDrain(stack.direct, stack.resources.queueUrl, context.drainTimeoutMs);

    // 4. The reconciler sweeps (stuckAfter 0 for the scaled clock), as many times as it takes, at most 4.
    const handler = createReconcilerHandler(
      reconcilerDependenciesFromEnv(
        {
          [ENV.jobsTable]: stack.resources.jobsTableName,
          [ENV.queueUrl]: stack.resources.queueUrl,
          [ENV.archiveBucket]: stack.resources.archiveBucketName,
          [ENV.providerApiUrl]: simulator.url,
          [ENV.stuckAfterSeconds]: '0',
          [ENV.providerRequestsPerSecond]: '50',
          [ENV.maxJobsPerSweep]: String(jobs),
        },
        { dynamodb: stack.direct.dynamodb, s3: stack.direct.s3, sqs: stack.direct.sqs, apiKey: async () => simulator.apiKey },
      ),
    );
    const jobIds = [...truth.keys()];
    const sweeps: { repaired: number; checked: number; errors: number }[] = [];
    for (let sweep = 0; sweep < 4; sweep += 1) {
      const summary = await handler({ jobIds, stuckAfterSeconds: 0 }, { getRemainingTimeInMillis: () => 300_000 });
      sweeps.push({ repaired: summary.repaired, checked: summary.checked, errors: summary.errors });
      await waitForDrain(stack.direct, stack.resources.queueUrl, context.drainTimeoutMs);
      if (summary.repaired === 0) break;
    }

    // 5. Every job against the provider's truth.
    const snapshot = await takeSnapshot(stack.direct, stack.resources);
    const mismatched: string[] = [];
    const appliedTwice: string[] = [];
    let repairedJobs = 0;
    for (const [jobId, expected] of truth) {
      const item = snapshot.jobs.get(jobId);
      const status = item?.status;
      const want = expected === 'processing' ? 'started' : expected;
      const stillIndexed = item?.openShard === openJobShard(jobId);
      if (status !== want || (expected === 'processing') !== stillIndexed) mismatched.push(`${jobId} (${String(status)}, provider ${expected})`);
      if (item?.lastOrigin === 'reconcile') repairedJobs += 1;
      const counts = new Map<string, number>();
      for (const entry of item?.history ?? []) counts.set(entry.deliveryId, (counts.get(entry.deliveryId) ?? 0) + 1);
      for (const [id, count] of counts) if (count > 1) appliedTwice.push(id);
    }
    if (mismatched.length > 0) violations.push(`jobs not at the provider's truth after the sweeps: ${mismatched.slice(0, 5).join(', ')}${mismatched.length > 5 ? ` and ${mismatched.length - 5} more` : ''}`);
    if (appliedTwice.length > 0) violations.push(`applied twice: ${appliedTwice.slice(0, 5).join(', ')}`);
    if (repairedJobs !== duringOutage.size) violations.push(`${repairedJobs} jobs repaired by the reconciler, ${duringOutage.size} lost their terminal webhook`);
    const deadLetters = snapshot.deadLetters.filter((id) => id.startsWith(prefix) || id.startsWith(`reconcile:${prefix}`));
    if (deadLetters.length > 0) violations.push(`DLQ holds ${deadLetters.length} messages of this scenario`);

    const acknowledged = outcomes.filter((o) => o.acknowledged);
    const recorded = new Set([...snapshot.jobs.values()].flatMap((job) => (job.history ?? []).map((entry) => entry.deliveryId)));
    const lost = acknowledged.filter((o) => !recorded.has(o.delivery.deliveryId) || !snapshot.archive.has(o.delivery.deliveryId)).length;
    if (lost > 0) violations.push(`${lost} acknowledged deliveries not archived and applied`);
    const answered4xx = outcomes.filter((o) => o.statuses.some((status) => status >= 400 && status < 500)).length;
    if (answered4xx > 0) violations.push(`${answered4xx} legitimate deliveries answered 4xx`);
    const retriesRanOut = outcomes.filter((o) => !o.acknowledged && o.statuses.every((status) => status === 0 || status >= 500)).length;
    const answers: Record<string, number> = {};
    for (const outcome of outcomes) for (const status of outcome.statuses) answers[status === 0 ? 'no answer' : String(status)] = (answers[status === 0 ? 'no answer' : String(status)] ?? 0) + 1;
    const figures: Figures = {
      sent: outcomes.length,
      requests: outcomes.reduce((sum, o) => sum + o.statuses.length, 0),
      retries: outcomes.reduce((sum, o) => sum + o.statuses.length - 1, 0),
      resends: 0,
      acknowledged: acknowledged.length,
      unacknowledged: outcomes.length - acknowledged.length,
      archived: outcomes.filter((o) => snapshot.archive.has(o.delivery.deliveryId)).length,
      applied: outcomes.filter((o) => recorded.has(o.delivery.deliveryId)).length,
      lost,
      appliedTwice: appliedTwice.length,
      archivedTwice: 0,
      archivedAgain: 0,
      regressed: mismatched.length,
      deadLettered: deadLetters.length,
      answered4xx,
      retriesRanOut,
      answers,
    };
    return [
      {
        name: 'reconcile: receiver down past the provider retries',
        description: `${jobs} jobs; the receiver unreachable for ${outageSeconds.toFixed(1)} s (the strict provider gives up after ${STRICT_RETRIES.maxAttempts} attempts within seconds) while ${duringOutage.size} jobs finish; then reconciler sweeps against the provider API simulator`,
        figures,
        faults: { 'receiver unreachable': 1 },
        violations,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        extra: {
          jobs,
          finishedDuringOutage: duringOutage.size,
          webhooksGivenUp: givenUp,
          stillProcessing: [...truth.values()].filter((t) => t === 'processing').length,
          sweeps: sweeps.length,
          providerCalls: sweeps.reduce((sum, s) => sum + s.checked, 0),
          repaired: sweeps.reduce((sum, s) => sum + s.repaired, 0),
          sweepErrors: sweeps.reduce((sum, s) => sum + s.errors, 0),
          jobsAtProviderTruth: jobs - mismatched.length,
        },
      },
    ];
  } finally {
    proxy.up();
    await proxy.stop();
    await simulator.close();
  }
}
