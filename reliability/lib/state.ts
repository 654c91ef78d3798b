/**
 * What the emulators hold, read directly (never through the fault proxies),
 * and the invariants checked against it for one scenario's deliveries.
 */
import { createHash } from 'node:crypto';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { unmarshallJobItem } from '../../lambda/adapters/dynamo-job-store';
import { ARCHIVE_PREFIX } from '../../lambda/core/contract';
import { applyToItem, type JobItem } from '../../lambda/core/job-state';
import { readArchiveEntries } from '../../ops/lib/archive-reader';
import type { LocalResources } from '../../local/resources';
import type { HarnessClients } from './harness-stack';
import type { SendOutcome } from './provider-sim';
import type { PlannedDelivery } from './workload';

/** One archived entry of a delivery: its own object, or a line of a batched object. */
export interface ArchiveEntryView {
  readonly key: string;
  readonly batched: boolean;
  /** SHA-256 of the bytes as stored (what a replay would re-verify). */
  readonly storedSha256: string;
  readonly attemptAt: string;
}

export interface Snapshot {
  readonly deliveries: ReadonlyMap<string, string>;
  readonly jobs: ReadonlyMap<string, JobItem>;
  /** Archive entries per delivery id. */
  readonly archive: ReadonlyMap<string, readonly ArchiveEntryView[]>;
  /** Delivery ids of the messages taken out of the DLQ (unreadable ones as `?`). */
  readonly deadLetters: readonly string[];
  readonly queueDepth: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function scanAll(clients: HarnessClients, table: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  for (let page = 0; page < 10_000; page += 1) {
    const output = await clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(output.Items ?? []));
    start = output.LastEvaluatedKey;
    if (start === undefined) break;
  }
  return items;
}

export async function queueDepth(clients: HarnessClients, queueUrl: string): Promise<number> {
  const output = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const attributes = output.Attributes ?? {};
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Waits until the work queue is empty twice in a row (a batch in flight is "not visible"). */
export async function waitForDrain(clients: HarnessClients, queueUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let emptyInARow = 0;
  while (Date.now() < deadline) {
    emptyInARow = (await queueDepth(clients, queueUrl)) === 0 ? emptyInARow + 1 : 0;
    if (emptyInARow >= 2) return true;
    await sleep(250);
  }
  return false;
}

/** Empties the DLQ, returning the delivery id of each message, so each phase sees only its own dead letters. */
async function drainDeadLetters(clients: HarnessClients, dlqUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (let round = 0; round < 200; round += 1) {
    const output = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30, MessageAttributeNames: ['All'] }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      let id = message.MessageAttributes?.deliveryId?.StringValue;
      if (id === undefined) {
        try {
          const parsed = JSON.parse(message.Body ?? '') as { deliveryId?: unknown };
          id = typeof parsed.deliveryId === 'string' ? parsed.deliveryId : undefined;
        } catch {
          id = undefined;
        }
      }
      ids.push(id ?? '?');
    }
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
      }),
    );
  }
  return ids;
}

export async function takeSnapshot(clients: HarnessClients, resources: LocalResources): Promise<Snapshot> {
  const [deliveryItems, jobItems, deadLetters, depth] = await Promise.all([
    scanAll(clients, resources.deliveriesTableName),
    scanAll(clients, resources.jobsTableName),
    drainDeadLetters(clients, resources.deadLetterQueueUrl),
    queueDepth(clients, resources.queueUrl),
  ]);
  const archive = new Map<string, ArchiveEntryView[]>();
  for await (const item of readArchiveEntries(clients.s3, resources.archiveBucketName, [ARCHIVE_PREFIX])) {
    if (!item.ok) continue;
    const { delivery } = item;
    const entry: ArchiveEntryView = {
      key: item.location.key,
      batched: item.location.batched === true,
      storedSha256: createHash('sha256').update(delivery.rawBody).digest('hex'),
      attemptAt: delivery.attemptAt ?? delivery.receivedAt,
    };
    archive.set(delivery.deliveryId, [...(archive.get(delivery.deliveryId) ?? []), entry]);
  }
  const deliveries = new Map<string, string>();
  for (const item of deliveryItems) {
    const id = item.deliveryId?.S;
    if (id !== undefined) deliveries.set(id, item.status?.S ?? '');
  }
  const jobs = new Map<string, JobItem>();
  for (const item of jobItems) {
    const job = unmarshallJobItem(item);
    if (job !== undefined) jobs.set(job.jobId, job);
  }
  return { deliveries, jobs, archive, deadLetters, queueDepth: depth };
}

export interface Figures {
  /** Distinct deliveries the provider had to deliver. */
  readonly sent: number;
  readonly requests: number;
  /** Requests beyond each send's first: the provider's retries. */
  readonly retries: number;
  readonly resends: number;
  readonly acknowledged: number;
  readonly unacknowledged: number;
  readonly archived: number;
  readonly applied: number;
  readonly lost: number;
  readonly appliedTwice: number;
  readonly archivedTwice: number;
  /** Deliveries with more than one batched line: an attempt that archived and then failed, and its retry (not a fault). */
  readonly archivedAgain: number;
  readonly regressed: number;
  readonly deadLettered: number;
  /** Legitimate deliveries that got a 4xx at any attempt (a strict provider stops there): the goal is 0. */
  readonly answered4xx: number;
  /** Deliveries the provider gave up on after its retries got only 5xx or no answer. */
  readonly retriesRanOut: number;
  readonly answers: Readonly<Record<string, number>>;
}

export interface Evaluation {
  readonly figures: Figures;
  readonly violations: readonly string[];
}

export interface EvaluateInput {
  readonly prefix: string;
  readonly deliveries: readonly PlannedDelivery[];
  readonly outcomes: readonly SendOutcome[];
  readonly snapshot: Snapshot;
  readonly clients: HarnessClients;
  readonly bucket: string;
  /** Delivery ids deliberately made poison: the only ones allowed in the DLQ. */
  readonly poisonIds?: ReadonlySet<string>;
  readonly drained: boolean;
  /**
   * A scenario whose fault rate is uncapped (the wire at 10 %) may leave a
   * delivery whose every retry met a fault: reported as `retriesRanOut`, not a
   * violation (the provider gave up on it; the reconciler's job). Elsewhere
   * faults are capped per delivery, so running out is a violation.
   */
  readonly allowRetriesToRunOut?: boolean;
}

const MAX_LISTED = 5;

function listed(ids: readonly string[]): string {
  return ids.length <= MAX_LISTED ? ids.join(', ') : `${ids.slice(0, MAX_LISTED).join(', ')} and ${ids.length - MAX_LISTED} more`;
}

/** Every invariant of the issue, for one scenario's deliveries. */
export async function evaluate(input: EvaluateInput): Promise<Evaluation> {
  const { prefix, snapshot } = input;
  const violations: string[] = [];
  const planned = new Map(input.deliveries.map((delivery) => [delivery.deliveryId, delivery]));
  const acknowledged = new Set(input.outcomes.filter((outcome) => outcome.acknowledged).map((outcome) => outcome.delivery.deliveryId));
  const answers: Record<string, number> = {};
  for (const outcome of input.outcomes) {
    for (const status of outcome.statuses) answers[status === 0 ? 'no answer' : String(status)] = (answers[status === 0 ? 'no answer' : String(status)] ?? 0) + 1;
  }
  if (!input.drained) violations.push('the work queue did not drain in time');

  // A legitimate delivery may be answered 202, 200, 5xx or nothing; a 4xx would be final for a strict provider.
  const answered4xx = input.outcomes
    .filter((outcome) => outcome.statuses.some((status) => status >= 400 && status < 500))
    .map((outcome) => `${outcome.delivery.deliveryId} [${outcome.statuses.join(' ')}]`);
  if (answered4xx.length > 0) violations.push(`legitimate deliveries answered 4xx: ${listed(answered4xx)}`);
  const wrong = Object.keys(answers).filter((status) => status !== 'no answer' && !/^(200|202|5\d\d)$/.test(status));
  if (wrong.length > 0) violations.push(`valid deliveries got answers ${wrong.join(', ')}`);
  const unacknowledged = [...planned.keys()].filter((id) => !acknowledged.has(id));
  const ranOut = new Set(input.outcomes.filter((outcome) => outcome.gaveUp === 'retries-ran-out').map((outcome) => outcome.delivery.deliveryId));
  const retriesRanOut = unacknowledged.filter((id) => ranOut.has(id));
  const mustBeAcknowledged = input.allowRetriesToRunOut ? unacknowledged.filter((id) => !ranOut.has(id)) : unacknowledged;
  if (mustBeAcknowledged.length > 0) {
    const answered = (id: string): string =>
      `${id} [${input.outcomes.filter((outcome) => outcome.delivery.deliveryId === id).flatMap((outcome) => outcome.statuses).join(' ')}]`;
    violations.push(`never acknowledged within the provider's retries: ${listed(mustBeAcknowledged.map(answered))}`);
  }

  const jobs = [...snapshot.jobs.values()].filter((job) => job.jobId.startsWith(prefix));
  const recorded = new Map<string, number>();
  for (const job of jobs) {
    for (const entry of job.history ?? []) recorded.set(entry.deliveryId, (recorded.get(entry.deliveryId) ?? 0) + 1);
  }
  const appliedTwice = [...recorded.entries()].filter(([, count]) => count > 1).map(([id]) => id);
  if (appliedTwice.length > 0) violations.push(`applied twice: ${listed(appliedTwice)}`);
  const phantom = [...recorded.keys()].filter((id) => !planned.has(id));
  if (phantom.length > 0) violations.push(`job history holds deliveries never sent: ${listed(phantom)}`);

  const lost: string[] = [];
  const archivedTwice: string[] = [];
  const objectKeys = (id: string): number => new Set((snapshot.archive.get(id) ?? []).filter((entry) => !entry.batched).map((entry) => entry.key)).size;
  for (const id of acknowledged) {
    const entries = snapshot.archive.get(id) ?? [];
    // One object key per delivery: retries overwrite it. Batched lines may repeat (a failed attempt's), which replay resolves.
    if (objectKeys(id) > 1) archivedTwice.push(id);
    if (entries.length === 0 || !recorded.has(id) || snapshot.deliveries.get(id) !== 'accepted') lost.push(id);
  }
  for (const id of planned.keys()) {
    if (!acknowledged.has(id) && objectKeys(id) > 1) archivedTwice.push(id);
  }
  if (lost.length > 0) violations.push(`acknowledged but not archived, recorded accepted and applied: ${listed(lost)}`);
  if (archivedTwice.length > 0) violations.push(`archived under more than one key: ${listed(archivedTwice)}`);
  const archivedAgain = [...planned.keys()].filter((id) => (snapshot.archive.get(id) ?? []).filter((entry) => entry.batched).length > 1).length;

  // The archive must hold the exact bytes the provider sent: the entry replay would trust (the latest attempt).
  const altered: string[] = [];
  for (const id of [...acknowledged].filter((candidate) => snapshot.archive.has(candidate))) {
    const entries = [...(snapshot.archive.get(id) ?? [])].sort((a, b) => Date.parse(b.attemptAt) - Date.parse(a.attemptAt));
    if (entries[0]?.storedSha256 !== planned.get(id)?.bodySha256) altered.push(id);
  }
  if (altered.length > 0) violations.push(`archived bytes differ from the bytes sent: ${listed(altered)}`);

  // The final item must be what applying the recorded deliveries in any order gives (the rules are order-independent).
  const regressed: string[] = [];
  const byJob = new Map<string, PlannedDelivery[]>();
  for (const id of recorded.keys()) {
    const delivery = planned.get(id);
    if (delivery) byJob.set(delivery.jobId, [...(byJob.get(delivery.jobId) ?? []), delivery]);
  }
  for (const job of jobs) {
    let expected: JobItem | undefined;
    const now = new Date();
    for (const delivery of byJob.get(job.jobId) ?? []) {
      expected = applyToItem(
        expected,
        { jobId: delivery.jobId, deliveryId: delivery.deliveryId, event: delivery.event, eventAt: delivery.eventAt },
        { force: false },
        now,
      );
    }
    const terminalAcknowledged = (byJob.get(job.jobId) ?? []).some((delivery) => delivery.event !== 'job.started' && acknowledged.has(delivery.deliveryId));
    if (expected?.status !== job.status || expected?.lastDeliveryId !== job.lastDeliveryId || (terminalAcknowledged && job.status === 'started')) {
      regressed.push(`${job.jobId} (${String(job.status)}, expected ${String(expected?.status)})`);
    }
  }
  if (regressed.length > 0) violations.push(`job items not at their expected final state: ${listed(regressed)}`);

  const deadLetters = snapshot.deadLetters.filter((id) => id.startsWith(prefix));
  const poison = input.poisonIds ?? new Set<string>();
  const unexpectedDead = deadLetters.filter((id) => !poison.has(id));
  if (unexpectedDead.length > 0) violations.push(`DLQ holds messages that are not poison: ${listed(unexpectedDead)}`);
  const missingPoison = [...poison].filter((id) => !deadLetters.includes(id));
  if (missingPoison.length > 0) violations.push(`poison messages that never reached the DLQ: ${listed(missingPoison)}`);

  const archived = [...planned.keys()].filter((id) => snapshot.archive.has(id)).length;
  return {
    figures: {
      sent: planned.size,
      requests: input.outcomes.reduce((sum, outcome) => sum + outcome.statuses.length, 0),
      retries: input.outcomes.reduce((sum, outcome) => sum + outcome.statuses.length - 1, 0),
      resends: input.outcomes.length - planned.size,
      acknowledged: acknowledged.size,
      unacknowledged: unacknowledged.length,
      archived,
      applied: [...recorded.keys()].filter((id) => planned.has(id)).length,
      lost: lost.length,
      appliedTwice: appliedTwice.length,
      archivedTwice: archivedTwice.length,
      archivedAgain,
      regressed: regressed.length,
      deadLettered: deadLetters.length,
      answered4xx: answered4xx.length,
      retriesRanOut: retriesRanOut.length,
      answers,
    },
    violations,
  };
}
