/**
 * The job events' own cost lines, beside the ingestion total: PutEvents, the
 * job-events Lambda on the stream, the stream reads, the quality review queue
 * and the publisher's logs, from the calls the local stack made during the
 * same counted phase as the ingestion lines (the stream runner, the publisher
 * and the EventBridge stand-in run in that process too).
 */
import { DEFAULTS } from '../lambda/core/contract';
import { LOCAL_EVENT_NAMES } from '../local/job-events';
import type { CallSummary } from './aws-calls';
import type { CostLine, Prices } from './cost';
import type { CostPhase } from './e2e';

export interface EventsPrices {
  readonly eventbridge: { readonly customEventsPerMillion: number; readonly chunkBytes: number };
  readonly dynamodbStreams: { readonly perMillionReadRequestUnits: number; readonly lambdaTriggerReadsFree: boolean };
  readonly cloudwatchAlarms: { readonly perStandardAlarmMonth: number };
}

const EVENTS_QUEUES: ReadonlySet<string> = new Set([LOCAL_EVENT_NAMES.failureQueue, LOCAL_EVENT_NAMES.reviewQueue, LOCAL_EVENT_NAMES.reviewDeadLetterQueue, LOCAL_EVENT_NAMES.tapQueue]);
/** The job-events function's configured memory (lib/job-events.ts). */
const PUBLISHER_MEMORY_MB = 256;
const FULL_VCPU_MB = 1769;
const GB = 1024 ** 3;
/** In-region PutEvents latency we cannot measure without an account: a typical p50 for a small call. */
export const ASSUMED_PUT_EVENTS_MS = 15;
const PLATFORM_LOG_BYTES_PER_INVOCATION = 370;
/** The alarms `JobEvents` adds (failure queue, iterator age, errors, review DLQ). */
const EVENTS_ALARMS = 4;

/** Calls the job events made (the bus, the stream, their queues), as opposed to the ingestion pipeline's. */
export function isEventsCall(key: string): boolean {
  if (/^(EventBridge|DynamoDBStreams)\./.test(key)) return true;
  const resource = /\(([^)]+)\)$/.exec(key)?.[1];
  return key.startsWith('SQS.') && resource !== undefined && EVENTS_QUEUES.has(resource);
}

export function ingestionCalls(calls: readonly CallSummary[]): CallSummary[] {
  return calls.filter((call) => !isEventsCall(call.key));
}

export interface EventsCostModel {
  readonly lines: CostLine[];
  readonly totalUsd: number;
  /** Per delivery: stream records (successful jobs-table writes), events published, review messages. */
  readonly perDelivery: { readonly records: number; readonly events: number; readonly reviewed: number; readonly putEventsCalls: number };
}

export interface EventsCostInputs {
  readonly phase: CostPhase;
  readonly prices: Prices & EventsPrices;
  /** The publisher's CPU per stream record, measured in section 6 with the bus stubbed. */
  readonly publisherCpuMicrosPerRecord: number;
}

const sumOf = (calls: readonly CallSummary[], field: keyof Omit<CallSummary, 'key'>): number => calls.reduce((total, call) => total + call[field], 0);

export function eventsCostModel(inputs: EventsCostInputs): EventsCostModel {
  const { phase, prices } = inputs;
  const n = Math.max(1, phase.deliveries);
  const calls = phase.calls;
  const lines: CostLine[] = [];
  const add = (service: string, item: string, usd: number, basis: string): void => {
    lines.push({ service, item, usd, basis });
  };

  // Every successful write of the jobs table is one stream record; the filter admits them all (each leaves one of our statuses).
  const jobWrites = calls.filter((call) => /^DynamoDB\.(UpdateItem|PutItem) \(.*job/i.test(call.key));
  const records = (sumOf(jobWrites, 'count') - sumOf(jobWrites, 'failures')) / n;
  const putEvents = calls.filter((call) => call.key.startsWith('EventBridge.PutEvents'));
  const events = sumOf(putEvents, 'messages') / n;
  const eventBytes = sumOf(putEvents, 'payloadBytes') / Math.max(1, sumOf(putEvents, 'messages'));
  const chunks = Math.max(1, Math.ceil(eventBytes / prices.eventbridge.chunkBytes));
  add('EventBridge', 'PutEvents (custom events)', 1e6 * events * chunks * (prices.eventbridge.customEventsPerMillion / 1e6), `${events.toFixed(2)} events per delivery (measured), ~${Math.round(eventBytes)} B each: ${chunks} 64 KB chunk(s)`);

  // At a million deliveries a month (0.4/s) records arrive seconds apart, longer than the 1 s batching window:
  // one invocation per record, the upper bound. Busier streams batch up to 100 records per invocation.
  const invocations = records;
  const cpuMs = (inputs.publisherCpuMicrosPerRecord / 1000) * (FULL_VCPU_MB / PUBLISHER_MEMORY_MB);
  const putShare = events / Math.max(records, 1e-9);
  const durationMs = Math.ceil(ASSUMED_PUT_EVENTS_MS * Math.min(1, putShare) + cpuMs);
  add('Lambda', 'job-events requests', 1e6 * invocations * (prices.lambda.perMillionRequests / 1e6), `${invocations.toFixed(2)} invocations per delivery: one per stream record (0.4 deliveries/s is below one per ${DEFAULTS.jobEventsMaxBatchingWindowSeconds} s batching window)`);
  add(
    'Lambda',
    `job-events duration (${PUBLISHER_MEMORY_MB} MB arm64, ${durationMs} ms)`,
    1e6 * invocations * (PUBLISHER_MEMORY_MB / 1024) * (durationMs / 1000) * prices.lambda.arm64PerGbSecond,
    `${durationMs} ms = ${ASSUMED_PUT_EVENTS_MS} ms PutEvents (assumed) × ${(Math.min(1, putShare) * 100).toFixed(0)}% of records that carry an event + ${cpuMs.toFixed(1)} ms CPU (measured ${inputs.publisherCpuMicrosPerRecord.toFixed(0)} µs per record in section 6 × ${FULL_VCPU_MB}/${PUBLISHER_MEMORY_MB} MB vCPU share)`,
  );

  const streamReads = calls.filter((call) => call.key.startsWith('DynamoDBStreams.GetRecords'));
  add(
    'DynamoDB Streams',
    'stream reads (GetRecords)',
    prices.dynamodbStreams.lambdaTriggerReadsFree ? 0 : (sumOf(streamReads, 'count') / n) * prices.dynamodbStreams.perMillionReadRequestUnits,
    `free: reads by a Lambda trigger are not billed (another reader pays $${prices.dynamodbStreams.perMillionReadRequestUnits.toFixed(2)} per million read request units; the local poller made ${(sumOf(streamReads, 'count') / n).toFixed(2)} GetRecords per delivery)`,
  );

  const reviewSends = calls.filter((call) => call.key === `SQS.SendMessage (${LOCAL_EVENT_NAMES.reviewQueue})`);
  const reviewed = sumOf(reviewSends, 'count') / n;
  const perReviewed = 3 * prices.sqs.standardPerMillionRequests;
  add('SQS', 'quality review queue (send, receive, delete)', reviewed * perReviewed, `${reviewed.toFixed(3)} reviewed jobs per delivery in this workload (no scene tags); $${perReviewed.toFixed(2)} per million reviewed jobs: 3 requests each`);

  // Locally a batch holds many records, in Lambda at this rate one: bill the measured bytes per invocation, once per record.
  const platformBytes = PLATFORM_LOG_BYTES_PER_INVOCATION * invocations;
  const appBytes = phase.eventsLogBytesPerInvocation * invocations * Math.min(1, putShare);
  const logBytes = appBytes + platformBytes;
  add(
    'CloudWatch Logs',
    'job-events ingestion',
    (1e6 * logBytes / GB) * prices.cloudwatchLogs.ingestionPerGb,
    `${Math.round(logBytes)} B per delivery: ${Math.round(phase.eventsLogBytesPerInvocation)} B app log + EMF per publishing invocation (measured) × ${(invocations * Math.min(1, putShare)).toFixed(2)}, ${Math.round(platformBytes)} B Lambda platform lines`,
  );

  return {
    lines,
    totalUsd: lines.reduce((total, line) => total + line.usd, 0),
    perDelivery: { records, events, reviewed, putEventsCalls: sumOf(putEvents, 'count') / n },
  };
}

/** The events' costs that do not scale with deliveries, per month. */
export function eventsFixedMonthly(prices: EventsPrices): { item: string; usd: number; basis: string }[] {
  return [{ item: 'Job events alarms', usd: EVENTS_ALARMS * prices.cloudwatchAlarms.perStandardAlarmMonth, basis: `${EVENTS_ALARMS} standard alarms (failure queue, iterator age, publisher errors, review DLQ)` }];
}
