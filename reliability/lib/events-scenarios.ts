/**
 * The job events under failure. Each scenario sends a workload through the
 * whole harness stack (receiver, worker, jobs table, stream, publisher, bus)
 * while something fails on the events side, and checks the promise: every
 * status transition of every job reaches the tap queue at least once, nothing
 * else does, and every repeat is the same event with the same `eventId`.
 *
 * The expected transitions come from the worker's own record, not from the
 * stream: the statuses of the applied entries of each job's history, in order.
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshallJobItem } from '../../lambda/adapters/dynamo-job-store';
import type { EventType } from '../../lambda/core/contract';
import { type HistoryEntry, statusOf } from '../../lambda/core/job-state';
import type { PutEventsRequestEntry } from '../../local/stand-ins/eventbridge';
import { EVENTS_TIMING, type Envelope } from './events-harness';
import type { HarnessClients } from './harness-stack';
import { STRICT_PROVIDER, sendAll } from './provider-sim';
import { REBUILT_JOBS_PREFIX, type RunContext } from './scenarios';
import { prng, uniform } from './seeded';
import { waitForDrain } from './state';
import { buildWorkload } from './workload';

export const EVENTS_FIGURES_START = '<!-- events-figures:start -->';
export const EVENTS_FIGURES_END = '<!-- events-figures:end -->';

export interface EventsFigures {
  readonly jobs: number;
  /** Status transitions the jobs' histories show: the events that must arrive. */
  readonly transitions: number;
  readonly received: number;
  readonly distinct: number;
  /** Events that arrived more than once (same eventId, same event). */
  readonly repeats: number;
  readonly lost: number;
  readonly unexpected: number;
  /** Repeats whose content differs from the first copy: must be none. */
  readonly inconsistent: number;
  /** Given-up batches still on the failure queue at the end. */
  readonly leftOnFailureQueue: number;
}

export interface EventsScenarioResult {
  readonly name: string;
  readonly description: string;
  readonly figures: EventsFigures;
  readonly faults: Readonly<Record<string, number>>;
  readonly violations: readonly string[];
  readonly seconds: number;
}

/** Every envelope taken off the tap during the run, for the per-scenario and whole-run checks. */
export class TapStore {
  readonly envelopes: Envelope[] = [];
  async drain(context: RunContext): Promise<void> {
    this.envelopes.push(...(await context.stack.jobEvents.drainTap()));
  }
  matching(prefix: string): Envelope[] {
    return this.envelopes.filter((envelope) => envelope.detail?.jobId?.startsWith(prefix));
  }
}

async function jobItems(clients: HarnessClients, table: string, prefix: string): Promise<Map<string, HistoryEntry[]>> {
  const histories = new Map<string, HistoryEntry[]>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const raw of page.Items ?? []) {
      const item = unmarshallJobItem(raw);
      if (item && item.jobId.startsWith(prefix)) histories.set(item.jobId, [...(item.history ?? [])]);
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return histories;
}

/** `<jobId>#<status>` for each change of status in the applied history entries, in order. */
export function transitionsOf(jobId: string, history: readonly HistoryEntry[]): string[] {
  const ids: string[] = [];
  let last: string | undefined;
  for (const entry of history) {
    if (entry.outcome !== 'applied') continue;
    const status = statusOf(entry.event as EventType);
    if (status !== last) ids.push(`${jobId}#${status}`);
    last = status;
  }
  return ids;
}

/**
 * `rebuilt` names jobs whose items the run deleted and rebuilt by replay: the
 * rebuild writes each transition again, so its events repeat the first ones'
 * ids with origin `replay` and, when the rebuild applied the terminal event
 * first, no `previousStatus`. Their repeats are compared without those two.
 */
export function evaluateEvents(
  expected: ReadonlySet<string>,
  envelopes: readonly Envelope[],
  jobs: number,
  leftOnFailureQueue: number,
  rebuilt: (jobId: string) => boolean = () => false,
): { figures: EventsFigures; violations: string[] } {
  const first = new Map<string, string>();
  let inconsistent = 0;
  for (const envelope of envelopes) {
    const id = envelope.detail.eventId;
    const { origin, previousStatus, ...lasting } = envelope.detail;
    const detail = rebuilt(envelope.detail.jobId) ? lasting : { ...lasting, origin, previousStatus };
    const content = JSON.stringify({ type: envelope['detail-type'], detail });
    const seen = first.get(id);
    if (seen === undefined) first.set(id, content);
    else if (seen !== content) inconsistent += 1;
  }
  const lost = [...expected].filter((id) => !first.has(id));
  const unexpected = [...first.keys()].filter((id) => !expected.has(id));
  const figures: EventsFigures = {
    jobs,
    transitions: expected.size,
    received: envelopes.length,
    distinct: first.size,
    repeats: envelopes.length - first.size,
    lost: lost.length,
    unexpected: unexpected.length,
    inconsistent,
    leftOnFailureQueue,
  };
  const violations = [
    ...(lost.length > 0 ? [`${lost.length} transitions never published, e.g. ${lost.slice(0, 3).join(', ')}`] : []),
    ...(unexpected.length > 0 ? [`${unexpected.length} events published for no transition, e.g. ${unexpected.slice(0, 3).join(', ')}`] : []),
    ...(inconsistent > 0 ? [`${inconsistent} repeats differ from the first copy of their event`] : []),
    ...(leftOnFailureQueue > 0 ? [`${leftOnFailureQueue} given-up batches left on the failure queue`] : []),
  ];
  return { figures, violations };
}

interface EventsSpec {
  readonly name: string;
  readonly description: string;
  readonly prefix: string;
  readonly deliveries: number;
  /** Paces the sends, so the stream brings many small batches (invocations) instead of a few full ones. */
  readonly perSecond?: number;
  readonly arm: (faults: Record<string, number>) => void;
  /** Runs while the workload is sent. */
  readonly during?: (faults: Record<string, number>, sending: () => boolean) => Promise<void>;
  /** Runs once the pipeline is quiet and the faults are off (the redrive). */
  readonly recover?: (faults: Record<string, number>) => Promise<void>;
}

async function runEventsScenario(context: RunContext, store: TapStore, spec: EventsSpec): Promise<EventsScenarioResult> {
  const started = Date.now();
  const events = context.stack.jobEvents;
  const faults: Record<string, number> = {};
  const workload = buildWorkload({ prefix: spec.prefix, deliveries: spec.deliveries, random: prng(context.seed ^ spec.prefix.length * 7919), resendRate: 0.1, conflictRate: 0.05 });
  for (const delivery of workload.deliveries) context.bodies.add(delivery.body);
  spec.arm(faults);
  let sending = true;
  const sends = sendAll(workload.sends, 8, { url: context.stack.webhookUrl, secret: context.stack.signingSecret, policy: STRICT_PROVIDER, signatures: context.signatures }, spec.perSecond).finally(() => {
    sending = false;
  });
  await Promise.all([sends, spec.during?.(faults, () => sending)]);
  const drained = await waitForDrain(context.stack.direct, context.stack.resources.queueUrl, context.drainTimeoutMs);
  const quiet = await events.waitForQuiet(context.drainTimeoutMs);
  events.setFaults(undefined);
  events.setWrapper(undefined);
  if (spec.recover) await spec.recover(faults);
  const settled = await events.waitForQuiet(context.drainTimeoutMs);
  await store.drain(context);

  const histories = await jobItems(context.stack.direct, context.stack.resources.jobsTableName, spec.prefix);
  const expected = new Set([...histories].flatMap(([jobId, history]) => transitionsOf(jobId, history)));
  const evaluation = evaluateEvents(expected, store.matching(spec.prefix), histories.size, await events.failureQueueDepth());
  const violations = [
    ...(drained ? [] : ['the work queue did not drain']),
    ...(quiet && settled ? [] : ['the stream runner and the bus did not come to rest']),
    ...evaluation.violations,
  ];
  return { name: spec.name, description: spec.description, figures: evaluation.figures, faults, violations, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

const count = (faults: Record<string, number>, key: string, by = 1): void => {
  faults[key] = (faults[key] ?? 0) + by;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function eventIdOf(entry: PutEventsRequestEntry): string {
  try {
    return String((JSON.parse(String(entry.Detail)) as { eventId?: unknown }).eventId);
  } catch {
    return '?';
  }
}

/** Phase 6: the job events when PutEvents, the publisher and the stream poller fail. */
export async function runEventsScenarios(context: RunContext, store: TapStore, deliveries: number): Promise<EventsScenarioResult[]> {
  const events = context.stack.jobEvents;
  const attempts = new Map<string, number>();
  // Keyed by event and attempt: the same seed fails the same attempts whatever the interleaving.
  const draw = (kind: string, entry: PutEventsRequestEntry): number => {
    const key = `${kind}:${eventIdOf(entry)}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    return uniform(context.seed, kind, eventIdOf(entry), attempt);
  };
  const results: EventsScenarioResult[] = [];
  // Start clean: what earlier phases published is kept for the whole-run check.
  await events.waitForQuiet(context.drainTimeoutMs);
  await store.drain(context);

  results.push(
    await runEventsScenario(context, store, {
      name: 'events: PutEvents throttled',
      description: '30% of PutEvents calls answered ThrottlingException (the SDK retries once, then the publisher backs off)',
      prefix: 'ev-throttle-',
      deliveries,
      arm: (faults) =>
        events.setFaults((entries) => {
          if (draw('throttle', entries[0]) >= 0.3) return undefined;
          count(faults, 'throttled calls');
          return { throttleCall: true };
        }),
    }),
  );

  results.push(
    await runEventsScenario(context, store, {
      name: 'events: PutEvents partly failed',
      description: '30% of entries failed inside a 200 answer (FailedEntryCount), as ThrottlingException or InternalFailure',
      prefix: 'ev-partial-',
      deliveries,
      arm: (faults) =>
        events.setFaults((entries) => ({
          failEntries: entries.map((entry) => {
            const roll = draw('partial', entry);
            if (roll >= 0.3) return undefined;
            const code = roll < 0.15 ? 'ThrottlingException' : 'InternalFailure';
            count(faults, `failed entries ${code}`);
            return code;
          }),
        })),
    }),
  );

  results.push(
    await runEventsScenario(context, store, {
      name: 'events: publisher dies mid-batch',
      description: 'a third of the invocations publish the first half of their batch, then crash (Lambda halves and retries the batch)',
      prefix: 'ev-crash-',
      deliveries,
      perSecond: 20,
      arm: (faults) =>
        events.setWrapper(async (real, event, lambdaContext) => {
          const first = event.Records[0]?.dynamodb?.SequenceNumber ?? '';
          if (event.Records.length < 2 || uniform(context.seed, 'crash', first, event.Records.length) >= 0.34) return real(event, lambdaContext);
          await real({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) }, lambdaContext);
          count(faults, 'crashes after half a batch');
          throw new Error('publisher crashed mid-batch');
        }),
    }),
  );

  results.push(
    await runEventsScenario(context, store, {
      name: 'events: stream poller restarted',
      description: 'the stream poller restarted every 1.5 s while batches are in flight (each takes 300 ms), resuming from its checkpoints',
      prefix: 'ev-restart-',
      deliveries,
      perSecond: 20,
      arm: () =>
        events.setWrapper(async (real, event, lambdaContext) => {
          const answer = await real(event, lambdaContext);
          // The poller may stop now: the answer is lost and the batch, already published, is read again.
          await sleep(300);
          return answer;
        }),
      during: async (faults, sending) => {
        while (sending()) {
          await sleep(1500);
          await events.restartRunner();
          count(faults, 'poller restarts');
        }
      },
    }),
  );

  let outage = true;
  results.push(
    await runEventsScenario(context, store, {
      name: 'events: EventBridge down past the retries',
      description: `every PutEvents throttled until Lambda's retries (${EVENTS_TIMING.maximumRetryAttempts} here, 100 in the stack) give a batch up to the failure queue; then npm run events -- --redrive`,
      prefix: 'ev-down-',
      deliveries,
      arm: (faults) =>
        events.setFaults(() => {
          if (!outage) return undefined;
          count(faults, 'throttled calls');
          return { throttleCall: true };
        }),
      during: async (faults, sending) => {
        for (let waited = 0; waited < 120_000 && (await events.failureQueueDepth()) === 0; waited += 250) await sleep(250);
        outage = false;
        count(faults, 'batches given up', await events.failureQueueDepth());
        while (sending()) await sleep(100);
      },
      recover: async (faults) => {
        const redriven = await events.redrive();
        count(faults, 'batches redriven', redriven.redriven);
        count(faults, 'events republished', redriven.published);
      },
    }),
  );
  return results;
}

/** The whole run: every transition of every job the harness wrote reached the tap. */
export async function checkWholeRun(context: RunContext, store: TapStore): Promise<EventsScenarioResult> {
  const started = Date.now();
  await context.stack.jobEvents.waitForQuiet(context.drainTimeoutMs);
  await store.drain(context);
  const histories = await jobItems(context.stack.direct, context.stack.resources.jobsTableName, '');
  const expected = new Set([...histories].flatMap(([jobId, history]) => transitionsOf(jobId, history)));
  const evaluation = evaluateEvents(expected, store.envelopes, histories.size, await context.stack.jobEvents.failureQueueDepth(), (jobId) =>
    jobId.startsWith(REBUILT_JOBS_PREFIX),
  );
  return {
    name: 'events: the whole run',
    description: 'every job of every phase (faults, deaths, outages, load): its transitions against everything the tap received',
    ...evaluation,
    faults: {},
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

export function eventsFiguresMarkdown(results: readonly EventsScenarioResult[], header: string): string {
  const faults = (record: Readonly<Record<string, number>>): string =>
    Object.keys(record).length === 0 ? '-' : Object.entries(record).map(([kind, value]) => `${kind} ${value}`).join('<br>');
  return [
    EVENTS_FIGURES_START,
    '',
    header,
    '',
    '| scenario | jobs | transitions | events received | distinct | repeats (same eventId) | lost | unexpected | inconsistent repeats | left on failure queue | faults | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const f = r.figures;
      return `| ${r.name} | ${f.jobs} | ${f.transitions} | ${f.received} | ${f.distinct} | ${f.repeats} | **${f.lost}** | **${f.unexpected}** | ${f.inconsistent} | ${f.leftOnFailureQueue} | ${faults(r.faults)} | ${r.seconds} |`;
    }),
    '',
    ...results.map((r) => `- ${r.name}: ${r.description}.`),
    '',
    EVENTS_FIGURES_END,
  ].join('\n');
}
