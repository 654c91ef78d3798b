/**
 * Helpers the e2e tests use against the running local stack: signed deliveries,
 * and read-only views of the deliveries table, jobs table, archive and queues.
 */
import { GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { archiveListingPrefixes } from '../../../lambda/core/archive-key';
import type { EventType } from '../../../lambda/core/contract';
import type { ArchivedDelivery } from '../../../lambda/core/ports';
import { readArchiveEntries } from '../../../ops/lib/archive-reader';
import { localClients, type AwsClients } from '../../../ops/lib/clients';
import { readOutputsFile, type StackOutputs } from '../../../ops/lib/outputs';
import { buildEventDelivery, postDelivery, type Delivery, type DeliveryAnswer, type PayloadOptions } from '../../../ops/lib/provider';
import { readContext, type E2eContext } from './context';

export interface E2eStack {
  readonly context: E2eContext;
  readonly outputs: StackOutputs;
  readonly clients: AwsClients;
}

export function connect(): E2eStack {
  const context = readContext();
  const outputs = readOutputsFile(context.outputsFile);
  if (outputs.Endpoints === undefined) throw new Error('the e2e outputs file has no local Endpoints');
  return { context, outputs, clients: localClients(outputs.Endpoints) };
}

let sequence = 0;
/** Unique per test run and per call, so tests sharing one stack never see each other's items. */
export function uniqueId(prefix: string): string {
  sequence += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${sequence}`;
}

export function signedDelivery(stack: E2eStack, event: EventType, options: PayloadOptions & { readonly deliveryId?: string; readonly timestamp?: string }): Delivery {
  return buildEventDelivery(event, { secret: stack.context.signingSecret, deliveryId: options.deliveryId ?? uniqueId('dlv'), ...options });
}

export function send(stack: E2eStack, delivery: Delivery): Promise<DeliveryAnswer> {
  return postDelivery(stack.outputs.WebhookUrl, delivery);
}

/** Like a provider: a 503 (in progress or transient) is retried after a short pause until another answer comes. */
export async function sendUntilSettled(stack: E2eStack, delivery: Delivery, attempts = 20): Promise<{ first: DeliveryAnswer; last: DeliveryAnswer; tries: number }> {
  const first = await send(stack, delivery);
  let last = first;
  let tries = 1;
  while (last.status === 503 && tries < attempts) {
    await sleep(100 * tries);
    last = await send(stack, delivery);
    tries += 1;
  }
  return { first, last, tries };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Plain JS from DynamoDB's attribute values (the few types the tables use). */
export function fromAttribute(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.SS !== undefined) return [...value.SS];
  if (value.NS !== undefined) return value.NS.map(Number);
  if (value.L !== undefined) return value.L.map(fromAttribute);
  if (value.M !== undefined) return fromItem(value.M);
  if (value.B !== undefined) return value.B;
  return undefined;
}

export function fromItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, fromAttribute(value)]));
}

export interface JobItemView {
  readonly jobId: string;
  readonly status?: string;
  readonly history?: Array<{ deliveryId: string; event: string; outcome: string; eventAt: string; at: string }>;
  readonly [attribute: string]: unknown;
}

export async function getJob(stack: E2eStack, jobId: string): Promise<JobItemView | undefined> {
  const result = await stack.clients.dynamodb.send(
    new GetItemCommand({ TableName: stack.outputs.JobsTableName, Key: { jobId: { S: jobId } }, ConsistentRead: true }),
  );
  return result.Item ? (fromItem(result.Item) as JobItemView) : undefined;
}

export async function getDeliveryRecord(stack: E2eStack, deliveryId: string): Promise<Record<string, unknown> | undefined> {
  const result = await stack.clients.dynamodb.send(
    new GetItemCommand({ TableName: stack.outputs.DeliveriesTableName, Key: { deliveryId: { S: deliveryId } }, ConsistentRead: true }),
  );
  return result.Item ? fromItem(result.Item) : undefined;
}

export interface ArchivedEntry {
  /** The object holding the entry: a batched object (`…/batch/…jsonl.gz`) or a per-delivery one. */
  readonly key: string;
  /** The entry's line in a batched object. */
  readonly line?: number;
  readonly delivery: ArchivedDelivery;
}

/**
 * Every archive entry (per-delivery objects and the lines of batched objects)
 * under the hour prefixes of the last `minutes`, with their neighbours.
 */
export async function archivedEntries(stack: E2eStack, minutes = 10): Promise<ArchivedEntry[]> {
  const now = Date.now();
  const prefixes = archiveListingPrefixes(new Date(now - minutes * 60_000), new Date(now));
  const entries: ArchivedEntry[] = [];
  for await (const item of readArchiveEntries(stack.clients.s3, stack.outputs.ArchiveBucketName, prefixes)) {
    if (!item.ok) throw new Error(`unreadable archive entry ${item.location.key}${item.line ? ` line ${item.line}` : ''}: ${item.reason}`);
    entries.push({ key: item.location.key, line: item.line, delivery: item.delivery });
  }
  return entries;
}

export async function archivedEntriesFor(stack: E2eStack, deliveryId: string): Promise<ArchivedEntry[]> {
  return (await archivedEntries(stack)).filter((entry) => entry.delivery.deliveryId === deliveryId);
}

/** Waits until the delivery's entry is in S3 (a batched one appears when the local stream flushes, within seconds). */
export async function waitForArchived(stack: E2eStack, deliveryId: string, timeoutMs = 30_000): Promise<ArchivedEntry[]> {
  return waitFor(async () => {
    const entries = await archivedEntriesFor(stack, deliveryId);
    return entries.length > 0 ? entries : undefined;
  }, `the archive entry of ${deliveryId}`, timeoutMs, 250);
}

/**
 * Proof that everything archived before now has reached S3: the local stream
 * writes its buffer in order, so once a delivery sent now is in S3, so is any
 * entry an earlier request could have left. Absence checks wait for this.
 */
export async function waitForArchiveFlushed(stack: E2eStack): Promise<void> {
  const marker = signedDelivery(stack, 'job.started', { jobId: uniqueId('job_flush') });
  const answer = await send(stack, marker);
  if (answer.status !== 202) throw new Error(`flush marker answered ${answer.status}`);
  await waitForArchived(stack, marker.deliveryId);
}

async function queueDepth(stack: E2eStack, queueUrl: string): Promise<number> {
  const { Attributes } = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Waits until the work queue has nothing ready, in flight or delayed: the worker has seen everything sent so far. */
export async function waitForQueueDrained(stack: E2eStack, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => ((await queueDepth(stack, stack.outputs.QueueUrl)) === 0 ? true : undefined), 'the work queue to drain', timeoutMs, 250);
}

export interface InspectedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly approximateReceiveCount: number;
}

/**
 * Every message a queue holds (ready, delayed and in flight), read without
 * receiving it, through fauxqs's inspection endpoint, so looking does not
 * change receive counts or visibility.
 */
export async function inspectQueue(stack: E2eStack, queueUrl: string): Promise<InspectedMessage[]> {
  const endpoints = stack.outputs.Endpoints;
  if (endpoints === undefined) throw new Error('no local endpoints');
  const name = queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
  const response = await fetch(`${endpoints.sqs}/_fauxqs/queues/${encodeURIComponent(name)}`);
  if (!response.ok) throw new Error(`inspecting ${name}: HTTP ${response.status}`);
  const inspected = (await response.json()) as {
    messages: { ready: InspectedMessage[]; delayed: InspectedMessage[]; inflight: Array<{ message: InspectedMessage }> };
  };
  return [...inspected.messages.ready, ...inspected.messages.delayed, ...inspected.messages.inflight.map((entry) => entry.message)];
}
