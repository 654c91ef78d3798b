/**
 * Section 5: cost per million deliveries, from the AWS calls the pipeline made
 * during the counted e2e phases (a middleware on every SDK client in the stack
 * counted them, with payload sizes and DynamoDB's own capacity accounting), the
 * configured memory sizes, and bench/prices.json. What cannot be measured
 * locally (in-region latencies, Lambda platform log lines) is an assumption,
 * named in the report next to the line it feeds.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULTS, OPEN_JOBS_INDEX } from '../lambda/core/contract';
import type { CallSummary } from './aws-calls';
import type { CostPhase } from './e2e';
import { ingestionCalls } from './events-cost';

export interface Prices {
  readonly asOf: string;
  readonly source: string;
  readonly apiGatewayHttp: { perMillionRequests: number; meteringIncrementBytes: number };
  readonly lambda: { arm64PerGbSecond: number; perMillionRequests: number };
  readonly dynamodb: { onDemandPerMillionWriteUnits: number; onDemandPerMillionReadUnits: number; storagePerGbMonth: number; writeUnitBytes: number };
  readonly s3: {
    standardPutPer1000: number;
    standardGetPer1000: number;
    standardStoragePerGbMonth: number;
    glacierInstantRetrievalStoragePerGbMonth: number;
    transitionToGlacierInstantRetrievalPer1000: number;
    glacierInstantRetrievalMinimumBillableBytes: number;
    lifecycleDefaultMinimumTransitionBytes: number;
  };
  readonly sqs: { standardPerMillionRequests: number; chunkBytes: number };
  readonly firehose: { directPutPerGb: number; recordIncrementBytes: number };
  readonly cloudwatchLogs: { ingestionPerGb: number; storagePerGbMonth: number };
  readonly secretsManager: { perSecretMonth: number; per10000ApiCalls: number };
  readonly eventBridgeScheduler: { perMillionInvocations: number };
}

const ROOT = path.resolve(__dirname, '..');
export function loadPrices(): Prices {
  return JSON.parse(readFileSync(path.join(ROOT, 'bench', 'prices.json'), 'utf8')) as Prices;
}

/** The constructs' default memory sizes, read from their source (this checkout's, or the old design's) so a change there shows here. */
export function configuredMemoryMb(root: string = ROOT): { receiver: number; worker: number } {
  const read = (file: string, name: string): number => {
    const match = new RegExp(`const ${name} = (\\d+);`).exec(readFileSync(path.join(root, 'lib', file), 'utf8'));
    if (!match) throw new Error(`${name} not found in lib/${file}`);
    return Number(match[1]);
  };
  return { receiver: read('webhook-ingestion.ts', 'DEFAULT_RECEIVER_MEMORY_MB'), worker: read('job-worker.ts', 'DEFAULT_WORKER_MEMORY_MB') };
}

/**
 * In-region latencies we cannot measure without an account: typical p50s for
 * small requests from Lambda in the same region.
 */
export const ASSUMED_MS = {
  dynamodbWrite: 5,
  s3Put1KiB: 20,
  s3Put256KiB: 35,
  /** Firehose PutRecordBatch of one record: an API call that acknowledges once the record is replicated, no object written. */
  firehosePut1KiB: 15,
  firehosePut256KiB: 25,
  sqsSend: 8,
  s3Get256KiB: 20,
  /** Lambda's START, END and REPORT lines per invocation. */
  platformLogBytesPerInvocation: 370,
};
/** Lambda gives a function one full vCPU at 1,769 MB and a proportional share below. */
const FULL_VCPU_MB = 1769;
const GB = 1024 ** 3;
const DAYS_PER_MONTH = 30.4;

export interface CostLine {
  readonly service: string;
  readonly item: string;
  /** USD per million deliveries. */
  readonly usd: number;
  /** How the quantity was obtained. */
  readonly basis: string;
  /** Paid once per delivery but accrued over the retention (storage). */
  readonly storage?: boolean;
}

export interface CostModel {
  readonly bodyBytes: number;
  readonly deliveries: number;
  readonly lines: CostLine[];
  readonly totalUsd: number;
  readonly largest: CostLine;
  readonly receiverMs: number;
  readonly workerMsPerInvocation: number;
  readonly workerInvocationsPerDelivery: number;
  readonly perDelivery: { key: string; count: number; units: number }[];
  readonly design: string;
}

export interface CostInputs {
  readonly phase: CostPhase;
  readonly prices: Prices;
  /** Receiver CPU µs per request on this machine (section 2), for this body size. */
  readonly receiverCpuMicros: number;
  /** SDK CPU µs per command on this machine (section 2): the worker's UpdateItem and GetObject cost about the same. */
  readonly commandCpuMicros: number;
  readonly apiAccessLogBytes: number;
  /** Which design the counted phase ran (this one, or the old design's checkout). */
  readonly design?: DesignFacts;
}

/** What of a design the counted calls do not say: its memory sizes and whether Lambda writes its platform lines. */
export interface DesignFacts {
  readonly label: string;
  readonly memory: { readonly receiver: number; readonly worker: number };
  /** Lambda's START/END/REPORT lines (text log format, or JSON with system level INFO). */
  readonly platformLogLines: boolean;
}

/** This checkout's design, read from its own source and template settings. */
export function currentDesign(): DesignFacts {
  return { label: 'this design', memory: configuredMemoryMb(), platformLogLines: false };
}

function find(calls: CallSummary[], pattern: RegExp): CallSummary[] {
  return calls.filter((call) => pattern.test(call.key));
}

function sum(calls: CallSummary[], field: keyof Omit<CallSummary, 'key'>): number {
  return calls.reduce((total, call) => total + call[field], 0);
}

export function costModel(inputs: CostInputs): CostModel {
  const { prices } = inputs;
  // The job events' calls are billed on their own lines (bench/events-cost.ts).
  const phase = { ...inputs.phase, calls: ingestionCalls(inputs.phase.calls) };
  const design = inputs.design ?? currentDesign();
  const n = Math.max(1, phase.deliveries);
  const perMillion = 1e6 / n;
  const memory = design.memory;
  const lines: CostLine[] = [];
  const add = (service: string, item: string, usd: number, basis: string, storage = false): void => {
    lines.push({ service, item, usd, basis, storage });
  };
  const large = phase.bodyBytes > 64 * 1024;

  // What the run archived: batched records (Firehose), per-delivery objects, Firehose's own batch objects.
  const appends = find(phase.calls, /^Firehose\.PutRecordBatch/);
  const records = sum(appends, 'records') / n;
  const billedBytes = sum(appends, 'billedBytes') / n;
  const objectPuts = find(phase.calls, /^S3\.PutObject$/);
  const batchPuts = find(phase.calls, /^S3\.PutObject \(batch\)/);
  const puts = sum(objectPuts, 'count') / n;
  const batchObjects = sum(batchPuts, 'count') / n;
  const gets = sum(find(phase.calls, /^S3\.GetObject$/), 'count') / n;

  // API Gateway: one request per started 512 KB of payload.
  const apiUnits = Math.ceil(phase.bodyBytes / prices.apiGatewayHttp.meteringIncrementBytes);
  add('API Gateway', 'HTTP API requests', apiUnits * prices.apiGatewayHttp.perMillionRequests, `${apiUnits} metered request(s) per ${phase.bodyBytes} B body (512 KB increments)`);

  // Lambda receiver: assumed round trips plus measured CPU stretched to the memory's vCPU share.
  const s3Put = large ? ASSUMED_MS.s3Put256KiB : ASSUMED_MS.s3Put1KiB;
  const firehosePut = large ? ASSUMED_MS.firehosePut256KiB : ASSUMED_MS.firehosePut1KiB;
  // The archive call of round trip 2, weighted by how many deliveries took each route.
  const archiveMs = records + puts > 0 ? (records * firehosePut + puts * s3Put) / (records + puts) : s3Put;
  const receiverCpuMs = (inputs.receiverCpuMicros / 1000) * (FULL_VCPU_MB / memory.receiver);
  const receiverMs = Math.ceil(2 * ASSUMED_MS.dynamodbWrite + Math.max(archiveMs, ASSUMED_MS.sqsSend) + receiverCpuMs);
  add('Lambda', 'receiver requests', prices.lambda.perMillionRequests, '1 invocation per delivery');
  add(
    'Lambda',
    `receiver duration (${memory.receiver} MB arm64, ${receiverMs} ms)`,
    1e6 * (memory.receiver / 1024) * (receiverMs / 1000) * prices.lambda.arm64PerGbSecond,
    `${receiverMs} ms = 2×${ASSUMED_MS.dynamodbWrite} ms DynamoDB + max(archive ${archiveMs.toFixed(0)} ms (${records > 0 ? `Firehose ${firehosePut} ms` : ''}${records > 0 && puts > 0 ? ', ' : ''}${puts > 0 ? `S3 PUT ${s3Put} ms` : ''}), SQS ${ASSUMED_MS.sqsSend} ms) + ${receiverCpuMs.toFixed(1)} ms CPU (measured ${(inputs.receiverCpuMicros / 1000).toFixed(2)} ms here × ${FULL_VCPU_MB}/${memory.receiver} MB vCPU share)`,
  );

  // Lambda worker: invocations measured (non-empty receives), duration assumed per invocation.
  const receives = find(phase.calls, /^SQS\.ReceiveMessage/);
  const invocations = workerInvocations(phase);
  const perInvocation = invocations / n;
  const recordsPerInvocation = n / Math.max(1, invocations);
  const claimChecks = gets;
  const workerCpuMs = ((inputs.commandCpuMicros / 1000) * (1 + claimChecks) * recordsPerInvocation * FULL_VCPU_MB) / memory.worker;
  const workerMs = Math.ceil(ASSUMED_MS.dynamodbWrite + (claimChecks > 0 ? ASSUMED_MS.s3Get256KiB : 0) + workerCpuMs);
  add('Lambda', 'worker requests', perInvocation * prices.lambda.perMillionRequests, `${perInvocation.toFixed(3)} invocations per delivery (measured batch fill ${recordsPerInvocation.toFixed(1)} records)`);
  add(
    'Lambda',
    `worker duration (${memory.worker} MB arm64, ${workerMs} ms/invocation)`,
    1e6 * perInvocation * (memory.worker / 1024) * (workerMs / 1000) * prices.lambda.arm64PerGbSecond,
    `${workerMs} ms = ${ASSUMED_MS.dynamodbWrite} ms UpdateItem (records in parallel)${claimChecks > 0 ? ` + ${ASSUMED_MS.s3Get256KiB} ms GetObject` : ''} + ${workerCpuMs.toFixed(1)} ms CPU (SDK per command × ${recordsPerInvocation.toFixed(1)} records, vCPU share)`,
  );

  // DynamoDB: capacity units as DynamoDB Local accounted them (ReturnConsumedCapacity).
  const deliveriesWrites = find(phase.calls, /^DynamoDB\.(UpdateItem|PutItem|DeleteItem) \(.*deliver/i);
  const jobsWrites = find(phase.calls, /^DynamoDB\.(UpdateItem|PutItem|DeleteItem) \(.*job/i);
  const reads = find(phase.calls, /^DynamoDB\.GetItem/);
  const wru = (calls: CallSummary[]): number => {
    // A call DynamoDB Local gave no figure for (a failed condition) still costs at least one unit.
    return sum(calls, 'capacityUnits') + (sum(calls, 'count') - sum(calls, 'capacityReported'));
  };
  add('DynamoDB', 'deliveries table writes (claim + mark)', wru(deliveriesWrites) * perMillion * (prices.dynamodb.onDemandPerMillionWriteUnits / 1e6), `${(wru(deliveriesWrites) / n).toFixed(2)} WRU per delivery (${(sum(deliveriesWrites, 'count') / n).toFixed(2)} writes)`);
  add('DynamoDB', 'jobs table writes', wru(jobsWrites) * perMillion * (prices.dynamodb.onDemandPerMillionWriteUnits / 1e6), `${(wru(jobsWrites) / n).toFixed(2)} WRU per delivery (${(sum(jobsWrites, 'count') / n).toFixed(2)} writes)`);
  add('DynamoDB', 'reads', sum(reads, 'capacityUnits') * perMillion * (prices.dynamodb.onDemandPerMillionReadUnits / 1e6), `${(sum(reads, 'count') / n).toFixed(2)} GetItem per delivery`);
  // Each dedupe record lives for its TTL; about 300 B with keys and attributes.
  const dedupeRecordBytes = 300;
  add('DynamoDB', `deliveries table storage (${DEFAULTS.dedupeTtlDays}-day TTL)`, (1e6 * dedupeRecordBytes / GB) * prices.dynamodb.storagePerGbMonth * (DEFAULTS.dedupeTtlDays / DAYS_PER_MONTH), `~${dedupeRecordBytes} B per record for ${DEFAULTS.dedupeTtlDays} days`, true);

  // Firehose: ingestion per GB, each record rounded up to 5 KB (counted per record by the recorder).
  add(
    'Firehose',
    'archive ingestion',
    1e6 * (billedBytes / GB) * prices.firehose.directPutPerGb,
    records > 0 ? `${records.toFixed(2)} records per delivery, billed ${(billedBytes / 1024).toFixed(0)} KiB each (5 KB steps)` : 'none: no batched archive',
  );

  // S3: PUTs and GETs counted; storage from the bytes put, over the default retention and lifecycle.
  const coldDays = DEFAULTS.archiveColdAfterDays;
  const retentionDays = DEFAULTS.archiveRetentionDays;
  const storageOf = (bytesPerDelivery: number, objectBytes: number, objectsPerDelivery: number): { usd: number; transitions: boolean } => {
    const transitions = objectBytes >= prices.s3.lifecycleDefaultMinimumTransitionBytes;
    const standardMonths = (transitions ? coldDays : retentionDays) / DAYS_PER_MONTH;
    const coldMonths = transitions ? (retentionDays - coldDays) / DAYS_PER_MONTH : 0;
    // Glacier IR bills at least 128 KB per object.
    const coldBytes = Math.max(objectBytes, prices.s3.glacierInstantRetrievalMinimumBillableBytes) * objectsPerDelivery;
    return {
      usd: (1e6 * bytesPerDelivery / GB) * prices.s3.standardStoragePerGbMonth * standardMonths + (1e6 * coldBytes / GB) * prices.s3.glacierInstantRetrievalStoragePerGbMonth * coldMonths,
      transitions,
    };
  };
  add('S3', 'per-delivery object PUT', 1e6 * puts * (prices.s3.standardPutPer1000 / 1000), `${puts.toFixed(2)} PutObject per delivery`);
  add('S3', 'batched object PUT (by Firehose)', 1e6 * batchObjects * (prices.s3.standardPutPer1000 / 1000), batchObjects > 0 ? `${batchObjects.toFixed(3)} objects per delivery (${(1 / batchObjects).toFixed(0)} records each, counted at the bench's 10 s local flush; the deployed 60 s buffer makes fewer)` : 'none');
  add('S3', 'archive GET (claim checks)', 1e6 * gets * (prices.s3.standardGetPer1000 / 1000), `${gets.toFixed(2)} GetObject per delivery`);
  // Per-delivery objects: key and user metadata are stored bytes too (about 0.4 KB; 2 KB a round upper bound).
  const objectBytes = puts > 0 ? sum(objectPuts, 'payloadBytes') / (puts * n) + 2048 : 0;
  const objects = storageOf(objectBytes * puts, objectBytes, puts);
  add(
    'S3',
    `per-delivery object storage, whole ${retentionDays}-day retention`,
    objects.usd,
    puts === 0 ? 'none' : objects.transitions ? `${(objectBytes / 1024).toFixed(0)} KiB objects: Standard ${coldDays} days, then Glacier IR` : `${(objectBytes / 1024).toFixed(1)} KiB objects stay in Standard all ${retentionDays} days (lifecycle skips objects < 128 KB)`,
    true,
  );
  // Batched objects: the GZIP bytes Firehose wrote, per delivery.
  const batchBytesPerDelivery = sum(batchPuts, 'payloadBytes') / n;
  const batchObjectBytes = batchObjects > 0 ? batchBytesPerDelivery / batchObjects : 0;
  const batches = storageOf(batchBytesPerDelivery, batchObjectBytes, batchObjects);
  const ratio = records > 0 && batchBytesPerDelivery > 0 ? sum(appends, 'payloadBytes') / n / batchBytesPerDelivery : Number.NaN;
  add(
    'S3',
    `batched object storage, whole ${retentionDays}-day retention`,
    batches.usd,
    batchObjects === 0
      ? 'none'
      : `${(batchBytesPerDelivery / 1024).toFixed(2)} KiB per delivery after GZIP (${ratio.toFixed(1)}× smaller than the lines); ${(batchObjectBytes / 1024).toFixed(0)} KiB objects ${batches.transitions ? `in Standard ${coldDays} days, then Glacier IR` : `stay in Standard all ${retentionDays} days`}`,
    true,
  );
  add(
    'S3',
    'lifecycle transitions to Glacier IR',
    1e6 * ((objects.transitions ? puts : 0) + (batches.transitions ? batchObjects : 0)) * (prices.s3.transitionToGlacierInstantRetrievalPer1000 / 1000),
    objects.transitions || batches.transitions ? '1 transition per object of 128 KB or more' : 'none: objects < 128 KB are not transitioned',
  );
  // Server access logs of the archive bucket: one ~350 B record per request, kept as long as the archive.
  const accessLogRecords = puts + batchObjects + gets;
  add('S3', 'server access logs storage (estimate)', (1e6 * accessLogRecords * 350 / GB) * prices.s3.standardStoragePerGbMonth * (retentionDays / DAYS_PER_MONTH), `${accessLogRecords.toFixed(2)} records × ~350 B for ${retentionDays} days`, true);

  // SQS: per started 64 KiB chunk; receives and deletes are batched.
  const sends = find(phase.calls, /^SQS\.SendMessage/);
  const deletes = find(phase.calls, /^SQS\.DeleteMessage/);
  const nonEmpty = receives.reduce((total, call) => total + Math.max(call.nonEmpty, Math.ceil(call.messageBytes / prices.sqs.chunkBytes)), 0);
  const sqsRequests = (sum(sends, 'sqsChunks') + nonEmpty + sum(deletes, 'count')) / n;
  add('SQS', 'send + receive + delete', 1e6 * sqsRequests * (prices.sqs.standardPerMillionRequests / 1e6), `${(sum(sends, 'sqsChunks') / n).toFixed(2)} send chunks + ${(nonEmpty / n).toFixed(2)} receive chunks + ${(sum(deletes, 'count') / n).toFixed(2)} delete batches per delivery`);

  // CloudWatch Logs: measured application bytes plus platform lines (if the design writes them) and the API access log.
  const platformBytes = design.platformLogLines ? ASSUMED_MS.platformLogBytesPerInvocation * (1 + perInvocation) : 0;
  const logBytes = phase.logBytesPerDelivery + platformBytes + inputs.apiAccessLogBytes;
  add(
    'CloudWatch Logs',
    'ingestion',
    (1e6 * logBytes / GB) * prices.cloudwatchLogs.ingestionPerGb,
    `${Math.round(logBytes)} B per delivery: ${Math.round(phase.logBytesPerDelivery)} B app logs + EMF (measured), ${Math.round(platformBytes)} B Lambda platform lines${design.platformLogLines ? '' : ' (JSON format, system level WARN: none)'}, ${inputs.apiAccessLogBytes} B API access log`,
  );

  const totalUsd = lines.reduce((total, line) => total + line.usd, 0);
  const largest = [...lines].sort((a, b) => b.usd - a.usd)[0];
  return {
    bodyBytes: phase.bodyBytes,
    deliveries: n,
    lines,
    totalUsd,
    largest,
    receiverMs,
    workerMsPerInvocation: workerMs,
    workerInvocationsPerDelivery: perInvocation,
    perDelivery: phase.calls.map((call) => ({ key: call.key, count: call.count / n, units: call.capacityUnits / n })),
    design: design.label,
  };
}

/**
 * Worker invocations: receives that returned messages, grouped into batches
 * when the event source gathers over a window (the counted phase says how
 * many batches the runner made).
 */
function workerInvocations(phase: CostPhase): number {
  if (phase.workerBatches !== undefined && phase.workerBatches > 0) return phase.workerBatches;
  return sum(find(phase.calls, /^SQS\.ReceiveMessage/), 'nonEmpty');
}

/**
 * Where the routes cross over, per million deliveries of one body size (the
 * archive and queue lines only; the rest is the same for both): batched (a
 * Firehose record, the payload inline in SQS, GZIP storage of the batched
 * objects at `compression`) against its own object (one PUT, the message a
 * small claim check, the worker's GET, uncompressed storage and, from 128 KB,
 * a lifecycle transition each).
 */
export function routeCosts(prices: Prices, bodyBytes: number, compression: number): { batched: number; object: number } {
  const chunks = (bytes: number): number => Math.max(1, Math.ceil(bytes / prices.sqs.chunkBytes));
  const lineBytes = bodyBytes + 400;
  const firehose = Math.max(1, Math.ceil(lineBytes / prices.firehose.recordIncrementBytes)) * prices.firehose.recordIncrementBytes;
  const months = { standard: DEFAULTS.archiveColdAfterDays / DAYS_PER_MONTH, cold: (DEFAULTS.archiveRetentionDays - DEFAULTS.archiveColdAfterDays) / DAYS_PER_MONTH, all: DEFAULTS.archiveRetentionDays / DAYS_PER_MONTH };
  const stored = lineBytes / compression;
  const batched =
    1e6 * (firehose / GB) * prices.firehose.directPutPerGb +
    // Send the whole message, receive it again (each in 64 KiB chunks).
    2 * chunks(bodyBytes + 400) * prices.sqs.standardPerMillionRequests +
    (1e6 * stored / GB) * (prices.s3.standardStoragePerGbMonth * months.standard + prices.s3.glacierInstantRetrievalStoragePerGbMonth * months.cold);
  const objectBytes = bodyBytes + 2048;
  const transitions = objectBytes >= prices.s3.lifecycleDefaultMinimumTransitionBytes;
  const object =
    1e6 * (prices.s3.standardPutPer1000 / 1000 + prices.s3.standardGetPer1000 / 1000) +
    2 * prices.sqs.standardPerMillionRequests +
    (transitions
      ? (1e6 * objectBytes / GB) * prices.s3.standardStoragePerGbMonth * months.standard +
        (1e6 * Math.max(objectBytes, prices.s3.glacierInstantRetrievalMinimumBillableBytes) / GB) * prices.s3.glacierInstantRetrievalStoragePerGbMonth * months.cold +
        1e6 * (prices.s3.transitionToGlacierInstantRetrievalPer1000 / 1000)
      : (1e6 * objectBytes / GB) * prices.s3.standardStoragePerGbMonth * months.all);
  return { batched, object };
}

/** One access log line in the stage's format with typical values, to size it. */
export function apiAccessLogBytes(): number {
  const line = {
    requestId: 'JzkD3gZ0oAMEVZg=',
    ip: '203.0.113.7',
    userAgent: 'provider-webhooks/1.0',
    requestTime: '27/Nov/2026:10:00:00 +0000',
    httpMethod: 'POST',
    path: '/webhooks',
    routeKey: 'POST /webhooks',
    status: '202',
    protocol: 'HTTP/1.1',
    responseLength: '70',
    responseLatency: '45',
    integrationStatus: '200',
    integrationLatency: '44',
    integrationError: '-',
  };
  return Buffer.byteLength(JSON.stringify(line)) + 60;
}

/** Costs that do not scale with deliveries, per month. */
export function fixedMonthly(prices: Prices): { item: string; usd: number; basis: string }[] {
  const refreshesPerMonth = ((2 * 60) / DEFAULTS.secretCacheSeconds) * 60 * 24 * DAYS_PER_MONTH;
  return [
    { item: 'Secrets Manager secret', usd: prices.secretsManager.perSecretMonth, basis: '1 secret' },
    {
      item: 'Secrets Manager reads per warm receiver environment',
      usd: (refreshesPerMonth / 10_000) * prices.secretsManager.per10000ApiCalls,
      basis: `2 GetSecretValue (AWSCURRENT, AWSPREVIOUS) per ${DEFAULTS.secretCacheSeconds} s cache period, if the environment stays warm all month`,
    },
    {
      item: 'SQS event source idle polling',
      usd: ((5 * 3 * 60 * 24 * DAYS_PER_MONTH) / 1e6) * prices.sqs.standardPerMillionRequests,
      basis: 'about 5 long-polling (20 s) pollers while the queue is empty (AWS documents the mapping polls continuously)',
    },
  ];
}

/** Bytes of one open-jobs index entry: keys, the projected mark, and DynamoDB's 100 B of index overhead per item. */
const INDEX_ENTRY_BYTES = 160;
/** A job item with a few history entries: what a mark's UpdateItem is billed on (1 WRU per started KB). */
const JOB_ITEM_BYTES = 2048;
/** Log bytes per provider call: one structured line for what came of it. */
const SWEEP_LOG_BYTES_PER_CALL = 300;

export interface SweepCostLine {
  readonly item: string;
  readonly usd: number;
  readonly basis: string;
}

/**
 * One reconciler sweep with `openJobs` stuck jobs in the open-jobs index, at
 * the construct's defaults (every shard queried, at most maxJobsPerSweep
 * provider calls at the configured pace). From DynamoDB's documented capacity
 * rules and the sweep's own bounds, not from a run: the sweep's calls do not
 * depend on the machine, only on these counts.
 */
export function sweepCost(prices: Prices, openJobs = 10_000): { lines: SweepCostLine[]; totalUsd: number; monthlyUsd: number; sweepsPerMonth: number } {
  const calls = Math.min(openJobs, DEFAULTS.maxJobsPerSweep);
  const indexBytes = openJobs * INDEX_ENTRY_BYTES;
  // A GSI read is eventually consistent: 0.5 RRU per started 4 KB, per page of at most 1 MB.
  const pages = OPEN_JOBS_INDEX.shards * Math.max(1, Math.ceil(indexBytes / OPEN_JOBS_INDEX.shards / (1024 * 1024)));
  const rru = Math.ceil(indexBytes / 4096) * 0.5 + pages * 0.5;
  const markWru = calls * (Math.ceil(JOB_ITEM_BYTES / prices.dynamodb.writeUnitBytes) + 1);
  const pacedSeconds = (calls - 1) / DEFAULTS.providerRequestsPerSecond;
  const lambdaSeconds = pacedSeconds + 2;
  const memoryGb = 256 / 1024;
  const lines: SweepCostLine[] = [
    { item: 'open-jobs index queries', usd: rru * (prices.dynamodb.onDemandPerMillionReadUnits / 1e6), basis: `${pages} Query pages over ${OPEN_JOBS_INDEX.shards} shards, ${(indexBytes / 1024 / 1024).toFixed(2)} MB of ~${INDEX_ENTRY_BYTES} B entries: ${rru} RRU (eventually consistent)` },
    { item: 'provider API calls', usd: 0, basis: `${calls} GET /v1/jobs/{id} (maxJobsPerSweep ${DEFAULTS.maxJobsPerSweep}); no AWS cost (the provider's docs say nothing of billing status reads); ${openJobs - calls} jobs wait for later sweeps` },
    { item: 'marks (last checked, flags)', usd: markWru * (prices.dynamodb.onDemandPerMillionWriteUnits / 1e6), basis: `${calls} conditional UpdateItem on ~${JOB_ITEM_BYTES / 1024} KiB items + 1 index write each: ${markWru} WRU` },
    { item: 'Lambda duration (256 MB arm64)', usd: lambdaSeconds * memoryGb * prices.lambda.arm64PerGbSecond, basis: `${lambdaSeconds.toFixed(0)} s: ${calls} calls paced at ${DEFAULTS.providerRequestsPerSecond}/s (${pacedSeconds.toFixed(0)} s waiting) + ~2 s of queries and writes` },
    { item: 'Lambda request + schedule invocation', usd: (prices.lambda.perMillionRequests + prices.eventBridgeScheduler.perMillionInvocations) / 1e6, basis: '1 scheduled invocation' },
    { item: 'CloudWatch Logs ingestion', usd: ((calls * SWEEP_LOG_BYTES_PER_CALL) / GB) * prices.cloudwatchLogs.ingestionPerGb, basis: `~${SWEEP_LOG_BYTES_PER_CALL} B per call` },
  ];
  const totalUsd = lines.reduce((sum, line) => sum + line.usd, 0);
  const sweepsPerMonth = Math.round(((24 * 60) / DEFAULTS.reconcileIntervalMinutes) * DAYS_PER_MONTH);
  return { lines, totalUsd, monthlyUsd: totalUsd * sweepsPerMonth, sweepsPerMonth };
}
