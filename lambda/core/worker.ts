/**
 * The worker's core: one queue message becomes one job event applied through the
 * `JobStore` port; a batch is processed concurrently, except that records of
 * the same job run one after another in arrival order (they would only contend
 * for the same item). Nothing here knows about SQS, DynamoDB or Powertools.
 */
import * as v from 'valibot';
import { DELIVERY_ID_PATTERN, EVENT_TYPES, METRIC, ORIGINS, QUEUE_MESSAGE_VERSION } from './contract';
import type { JobEvent } from './job-state';
import { checkParsedPayload, describeIssue, toJobEvent, type WebhookPayload } from './payload';
import type { ApplyOutcome, Archive, JobStore, QueueMessage } from './ports';

/** Base of the worker's errors. `transient` says whether a later receive may succeed. */
export class WorkerError extends Error {
  readonly transient: boolean;

  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WorkerError';
    this.transient = options?.transient ?? false;
  }
}

/** The jobs table could not be read or written (throttling, network, ...). */
export class JobStoreError extends WorkerError {
  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, { cause: options?.cause, transient: options?.transient ?? true });
    this.name = 'JobStoreError';
  }
}

export type PoisonReason =
  | 'invalid_json'
  | 'unsupported_version'
  | 'invalid_message'
  | 'invalid_payload'
  | 'job_id_mismatch'
  | 'archive_mismatch';

/** A message that can never succeed; it goes to the DLQ for inspection (by the worker itself when it can). */
export class PoisonMessageError extends WorkerError {
  readonly reason: PoisonReason;
  readonly issues: readonly string[];
  readonly deliveryId?: string;

  constructor(reason: PoisonReason, issues: readonly string[], deliveryId?: string) {
    super(`poison message (${reason}): ${issues.join('; ')}`);
    this.name = 'PoisonMessageError';
    this.reason = reason;
    this.issues = issues;
    this.deliveryId = deliveryId;
  }
}

/** Invalid worker configuration; every problem is listed. */
export class WorkerConfigurationError extends WorkerError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid worker configuration: ${problems.join('; ')}`);
    this.name = 'WorkerConfigurationError';
    this.problems = problems;
  }
}

const ArchiveLocationSchema = v.object({
  bucket: v.pipe(v.string(), v.minLength(1)),
  key: v.pipe(v.string(), v.minLength(1)),
});

/** Loose, so a newer receiver may add fields without poisoning older workers; the version gates breaking changes. */
const QueueMessageSchema = v.looseObject({
  v: v.literal(QUEUE_MESSAGE_VERSION),
  deliveryId: v.pipe(v.string(), v.regex(DELIVERY_ID_PATTERN)),
  event: v.picklist(EVENT_TYPES),
  jobId: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  timestamp: v.pipe(v.string(), v.minLength(1)),
  receivedAt: v.pipe(v.string(), v.minLength(1)),
  archive: ArchiveLocationSchema,
  payload: v.optional(v.unknown()),
  replay: v.optional(v.boolean()),
  force: v.optional(v.boolean()),
  origin: v.optional(v.picklist(ORIGINS)),
});

/** Parses one SQS body into a queue message; throws `PoisonMessageError` when it never could be processed. */
export function parseQueueMessage(body: string): QueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PoisonMessageError('invalid_json', ['message body is not valid JSON']);
  }
  const deliveryId = isRecord(json) && typeof json.deliveryId === 'string' ? json.deliveryId : undefined;
  if (isRecord(json) && json.v !== QUEUE_MESSAGE_VERSION) {
    throw new PoisonMessageError('unsupported_version', [`message version ${String(json.v)} is not ${QUEUE_MESSAGE_VERSION}`], deliveryId);
  }
  const result = v.safeParse(QueueMessageSchema, json);
  if (!result.success) {
    throw new PoisonMessageError('invalid_message', result.issues.map(describeIssue), deliveryId);
  }
  return result.output as QueueMessage;
}

/** Where the payload comes from: inline in the message, or the archived raw bytes (claim check). */
export async function loadPayload(message: QueueMessage, archive: Archive): Promise<WebhookPayload> {
  let json: unknown = message.payload;
  if (json === undefined || json === null) {
    const archived = await archive.get(message.archive);
    if (archived.deliveryId !== message.deliveryId) {
      throw new PoisonMessageError(
        'archive_mismatch',
        [`archived object holds delivery ${archived.deliveryId}`],
        message.deliveryId,
      );
    }
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(archived.rawBody));
    } catch {
      throw new PoisonMessageError('invalid_payload', ['archived body is not valid UTF-8 JSON'], message.deliveryId);
    }
  }
  const check = checkParsedPayload(json, message.event);
  if (!check.ok) throw new PoisonMessageError('invalid_payload', [check.reason, ...check.issues], message.deliveryId);
  if (check.jobId !== message.jobId) {
    throw new PoisonMessageError('job_id_mismatch', [`payload job ${check.jobId} is not message job ${message.jobId}`], message.deliveryId);
  }
  return check.payload;
}

export async function toEvent(message: QueueMessage, archive: Archive): Promise<JobEvent> {
  const payload = await loadPayload(message, archive);
  return toJobEvent(payload, {
    event: message.event,
    deliveryId: message.deliveryId,
    timestamp: message.timestamp,
    // A forced re-apply is always a replay, whatever the sender forgot to set.
    replay: message.replay === true || message.force === true ? true : undefined,
    origin: message.origin,
  });
}

export type WorkerMetricName = (typeof METRIC)[keyof typeof METRIC];

/** The few logging calls the core makes: a fixed message plus keys, never a body. */
export interface WorkerLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** A record that can never succeed, as the worker hands it to the dead-letter queue. */
export interface DeadLetter {
  readonly messageId: string;
  /** The queue message exactly as received, so a redrive sends it back unchanged. */
  readonly body: string;
  readonly deliveryId?: string;
  /** A poison reason, or `store_refused` for a write the jobs table refuses for good. */
  readonly reason: PoisonReason | 'store_refused';
  readonly issues: readonly string[];
}

export interface DeadLetters {
  send(letter: DeadLetter): Promise<void>;
}

export interface WorkerPorts {
  readonly jobStore: JobStore;
  readonly archive: Archive;
  /**
   * Where records that can never succeed go at once, reported done. Without it
   * (or when the send fails) they return to the queue, and the queue's redrive
   * policy moves them after its receive count: five visibility timeouts later.
   */
  readonly deadLetters?: DeadLetters;
  /** A logger whose correlation id is the delivery id (when the message had a readable one). */
  readonly loggerFor: (correlationId: string | undefined) => WorkerLogger;
  readonly count: (metric: WorkerMetricName) => void;
  readonly now: () => Date;
  /** How many jobs of one batch run at the same time. */
  readonly maxConcurrency?: number;
}

export interface BatchRecord {
  readonly messageId: string;
  readonly body: string;
}

export type RecordResult =
  | { readonly messageId: string; readonly ok: true; readonly outcome: ApplyOutcome }
  | { readonly messageId: string; readonly ok: false; readonly poison: boolean; readonly deadLettered?: true };

const OUTCOME_METRIC: Record<ApplyOutcome, WorkerMetricName> = {
  applied: METRIC.applied,
  duplicate: METRIC.alreadyApplied,
  stale: METRIC.staleIgnored,
  conflict: METRIC.terminalConflict,
};

const OUTCOME_LOG: Record<ApplyOutcome, string> = {
  applied: 'Event applied',
  duplicate: 'Delivery already applied',
  stale: 'Stale event recorded and ignored',
  conflict: 'Conflicting terminal event recorded and ignored',
};

/** Processes one parsed message. Never throws: every failure becomes a failed result. */
export async function processMessage(record: BatchRecord, message: QueueMessage, ports: WorkerPorts): Promise<RecordResult> {
  const messageId = record.messageId;
  const logger = ports.loggerFor(message.deliveryId);
  const keys = { messageId, deliveryId: message.deliveryId, jobId: message.jobId, event: message.event };
  try {
    const event = await toEvent(message, ports.archive);
    const outcome = await ports.jobStore.apply(event, { force: message.force === true, now: ports.now() });
    ports.count(OUTCOME_METRIC[outcome]);
    const attributes = {
      ...keys,
      outcome,
      eventAt: event.eventAt,
      claimCheck: message.payload === undefined || message.payload === null,
      ...(message.replay ? { replay: true } : {}),
      ...(message.force ? { force: true } : {}),
    };
    // A conflict means the provider reported two different endings for one job: worth a look.
    if (outcome === 'conflict') logger.warn(OUTCOME_LOG[outcome], attributes);
    else logger.info(OUTCOME_LOG[outcome], attributes);
    return { messageId, ok: true, outcome };
  } catch (error) {
    return failed(record, error, logger, keys, ports);
  }
}

/**
 * Processes a batch; the failed results are the records to hand back to the
 * queue. Records of one job run sequentially in arrival order; jobs run
 * concurrently. Never throws.
 */
export async function processBatch(records: readonly BatchRecord[], ports: WorkerPorts): Promise<RecordResult[]> {
  const results: RecordResult[] = new Array(records.length);
  const lanes = new Map<string, { index: number; message: QueueMessage }[]>();
  const tasks: (() => Promise<void>)[] = [];

  records.forEach((record, index) => {
    let message: QueueMessage;
    try {
      message = parseQueueMessage(record.body);
    } catch (error) {
      // The delivery id, when the body had a readable one, still correlates the log line.
      const deliveryId = error instanceof PoisonMessageError ? error.deliveryId : undefined;
      tasks.push(async () => {
        results[index] = await failed(record, error, ports.loggerFor(deliveryId), { messageId: record.messageId, deliveryId }, ports);
      });
      return;
    }
    const lane = lanes.get(message.jobId);
    if (lane) lane.push({ index, message });
    else lanes.set(message.jobId, [{ index, message }]);
  });

  for (const lane of lanes.values()) {
    tasks.push(async () => {
      for (const { index, message } of lane) {
        // A failed record does not stop the job's later records: the rules are
        // order-independent, and the failed one comes back on its own.
        results[index] = await processMessage(records[index], message, ports);
      }
    });
  }
  await runWithLimit(tasks, ports.maxConcurrency ?? 10);
  return results;
}

async function runWithLimit(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(Math.max(1, limit), tasks.length) }, async () => {
    while (next < tasks.length) {
      const task = tasks[next];
      next += 1;
      await task();
    }
  });
  await Promise.all(runners);
}

/** Why a failure can never succeed, or undefined when a later receive may. */
function permanentFailure(error: unknown): Pick<DeadLetter, 'reason' | 'issues' | 'deliveryId'> | undefined {
  if (error instanceof PoisonMessageError) return { reason: error.reason, issues: error.issues, deliveryId: error.deliveryId };
  if (error instanceof WorkerError && !error.transient) {
    const cause = error.cause instanceof Error ? [`${error.cause.name}: ${error.cause.message}`] : [];
    return { reason: 'store_refused', issues: [error.message, ...cause] };
  }
  return undefined;
}

async function failed(
  record: BatchRecord,
  error: unknown,
  logger: WorkerLogger,
  keys: Record<string, unknown>,
  ports: WorkerPorts,
): Promise<RecordResult> {
  const messageId = record.messageId;
  const permanent = permanentFailure(error);
  if (permanent === undefined) {
    ports.count(METRIC.workerRecordFailure);
    logger.error('Record failed, returned to the queue', { ...keys, ...describeError(error) });
    return { messageId, ok: false, poison: false };
  }
  const deliveryId = permanent.deliveryId ?? (typeof keys.deliveryId === 'string' ? keys.deliveryId : undefined);
  if (error instanceof PoisonMessageError) {
    ports.count(METRIC.poisonMessage);
    logger.error('Poison message', { ...keys, deliveryId, reason: permanent.reason, issues: permanent.issues });
  } else {
    ports.count(METRIC.permanentFailure);
    logger.error('Record refused for good by the jobs table', { ...keys, reason: permanent.reason, ...describeError(error) });
  }
  if (ports.deadLetters === undefined) return { messageId, ok: false, poison: true };
  try {
    await ports.deadLetters.send({ messageId, body: record.body, deliveryId, reason: permanent.reason, issues: permanent.issues });
    logger.info('Record moved to the dead-letter queue', { ...keys, reason: permanent.reason });
    return { messageId, ok: false, poison: true, deadLettered: true };
  } catch (sendError) {
    logger.error('Dead-letter send failed; the record returns to the queue', { ...keys, ...describeError(sendError) });
    return { messageId, ok: false, poison: true };
  }
}

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { errorName: typeof error };
  const cause = error.cause instanceof Error ? { causeName: error.cause.name, causeMessage: error.cause.message } : {};
  return {
    errorName: error.name,
    errorMessage: error.message,
    transient: error instanceof WorkerError ? error.transient : undefined,
    ...cause,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
