/**
 * The worker's core: one queue message becomes one job event applied through the
 * `JobStore` port; a batch is processed concurrently, except that records of
 * the same job run one after another in arrival order (they would only contend
 * for the same item). Nothing here knows about SQS, DynamoDB or Powertools.
 */
import * as v from 'valibot';
import { DEFAULTS, DELIVERY_ID_PATTERN, EVENT_TYPES, METRIC, ORIGINS, QUEUE_MESSAGE_VERSION } from './contract';
import type { JobEvent } from './job-state';
import { checkParsedPayload, describeIssue, toJobEvent, type WebhookPayload } from './payload';
import { ArchiveObjectMissingError } from './errors';
import { DomainError, type DomainErrorOptions } from './domain-error';
import type { ApplyOutcome, Archive, JobStore, QueueMessage } from './ports';

/** Base of the worker's errors. `transient` says whether a later receive may succeed. */
export class WorkerError extends DomainError {
  constructor(message: string, options?: DomainErrorOptions) {
    super(message, options);
    this.name = 'WorkerError';
  }
}

/** The jobs table could not be read or written (throttling, network, ...). */
export class JobStoreError extends WorkerError {
  constructor(message: string, options?: DomainErrorOptions) {
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
  | 'archive_mismatch'
  | 'archive_missing';

/**
 * A claim-checked object that may still be written: the message was read
 * before its attempt's deadline (only a receiver that enqueued without the
 * delay sends such messages). The record is retried in `retryInSeconds`.
 */
export class ClaimCheckPendingError extends WorkerError {
  readonly retryInSeconds: number;

  constructor(message: string, retryInSeconds: number) {
    super(message, { transient: true });
    this.name = 'ClaimCheckPendingError';
    this.retryInSeconds = retryInSeconds;
  }
}

/**
 * A claim-checked message whose object is missing after its deadline: the
 * attempt that sent it failed to archive and answered 5xx, so the delivery
 * was never acknowledged by it; the provider's retry carries its own message.
 * Dropping it loses nothing; retrying it until the DLQ would only alarm.
 */
export class ClaimCheckOrphanError extends WorkerError {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimCheckOrphanError';
  }
}

/**
 * How long after a message without `archiveBy` was sent its object may still
 * appear: such a message was sent beside its PutObject, which finishes within
 * the receiver's timeout; the rest is clock skew between hosts.
 */
export const LEGACY_CLAIM_CHECK_WINDOW_SECONDS = 2 * DEFAULTS.receiverTimeoutSeconds;
/** Hosts' clocks differ by milliseconds; a second of slack keeps "after the deadline" certain. */
const CLOCK_SKEW_MS = 1000;

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
  batched: v.optional(v.boolean()),
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
  archiveBy: v.optional(v.pipe(v.string(), v.isoTimestamp())),
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

/** When a claim check finds no object: still pending, an orphan to drop, or (for a replay) poison. */
function missingObject(message: QueueMessage, read: ClaimCheckRead, error: ArchiveObjectMissingError): WorkerError {
  if (message.origin === 'replay' || message.origin === 'reconcile' || message.replay === true) {
    // A replay read the object before it sent the message: it was deleted since.
    return new PoisonMessageError('archive_missing', [`archive object ${message.archive.key} no longer exists`], message.deliveryId);
  }
  const deadline =
    message.archiveBy !== undefined
      ? Date.parse(message.archiveBy)
      : read.sentAt !== undefined
        ? read.sentAt.getTime() + LEGACY_CLAIM_CHECK_WINDOW_SECONDS * 1000
        : Number.NEGATIVE_INFINITY;
  const wait = deadline + CLOCK_SKEW_MS - read.now.getTime();
  if (wait > 0) return new ClaimCheckPendingError(`archive object ${message.archive.key} not written yet (${error.message})`, Math.ceil(wait / 1000));
  return new ClaimCheckOrphanError(`archive object ${message.archive.key} was never written: its attempt failed before acknowledging`);
}

/** What a claim check knows about the read beside the message: now, and when SQS got the message. */
export interface ClaimCheckRead {
  readonly now: Date;
  readonly sentAt?: Date;
}

/** Where the payload comes from: inline in the message, or the archived raw bytes (claim check). */
export async function loadPayload(message: QueueMessage, archive: Archive, read: ClaimCheckRead = { now: new Date() }): Promise<WebhookPayload> {
  let json: unknown = message.payload;
  if (json === undefined || json === null) {
    let archived;
    try {
      archived = await archive.get(message.archive);
    } catch (error) {
      if (error instanceof ArchiveObjectMissingError) throw missingObject(message, read, error);
      throw error;
    }
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

export async function toEvent(message: QueueMessage, archive: Archive, read?: ClaimCheckRead): Promise<JobEvent> {
  const payload = await loadPayload(message, archive, read);
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
  /**
   * Milliseconds left in the invocation. A record is only started while more
   * than `recordBudgetMs` is left; the rest come back to the queue unstarted,
   * so a hung dependency cannot time the whole batch out.
   */
  readonly remainingMs?: () => number;
  /** The longest one record can take (its calls in a row, each with its retries). */
  readonly recordBudgetMs?: number;
}

export interface BatchRecord {
  readonly messageId: string;
  readonly body: string;
  /** When SQS accepted the message (SentTimestamp): dates a claim check that carries no `archiveBy`. */
  readonly sentAt?: Date;
}

/** What became of a record that needs no retry: an apply outcome, or a claim-check orphan dropped. */
export type RecordOutcome = ApplyOutcome | 'orphan';

export type RecordResult =
  | { readonly messageId: string; readonly ok: true; readonly outcome: RecordOutcome; readonly deliveryId: string }
  | {
      readonly messageId: string;
      readonly ok: false;
      readonly poison: boolean;
      /** Moved to the dead-letter queue by the worker: report it done. */
      readonly deadLettered?: true;
      /** Make the message visible again this soon rather than after the queue's visibility timeout. */
      readonly retryInSeconds?: number;
      /** Never started: the invocation's time ran short (see WorkerPorts.remainingMs). */
      readonly unstarted?: boolean;
    };

const OUTCOME_METRIC: Record<ApplyOutcome, WorkerMetricName> = {
  applied: METRIC.applied,
  duplicate: METRIC.alreadyApplied,
  stale: METRIC.staleIgnored,
  conflict: METRIC.terminalConflict,
};

/**
 * Outcomes that get a line of their own. The rest (applied, already applied,
 * stale) are listed by delivery id in the batch's one line (handlers/worker.ts)
 * and recorded in the job's history: a line each would be most of the
 * worker's log bill and say nothing the history does not.
 */
const OWN_LINE: Partial<Record<ApplyOutcome, string>> = {
  // Two different endings reported for one job: worth a look.
  conflict: 'Conflicting terminal event recorded and ignored',
};

/** Processes one parsed message. Never throws: every failure becomes a failed result. */
export async function processMessage(record: BatchRecord, message: QueueMessage, ports: WorkerPorts): Promise<RecordResult> {
  const messageId = record.messageId;
  const logger = ports.loggerFor(message.deliveryId);
  const keys = { messageId, deliveryId: message.deliveryId, jobId: message.jobId, event: message.event };
  try {
    const event = await toEvent(message, ports.archive, { now: ports.now(), sentAt: record.sentAt });
    const outcome = await ports.jobStore.apply(event, { force: message.force === true, now: ports.now() });
    ports.count(OUTCOME_METRIC[outcome]);
    const line = OWN_LINE[outcome];
    if (line !== undefined) {
      logger.warn(line, {
        ...keys,
        outcome,
        eventAt: event.eventAt,
        ...(message.replay ? { replay: true } : {}),
        ...(message.force ? { force: true } : {}),
      });
    }
    return { messageId, ok: true, outcome, deliveryId: message.deliveryId };
  } catch (error) {
    if (error instanceof ClaimCheckOrphanError) {
      ports.count(METRIC.claimCheckOrphan);
      logger.warn('Claim-checked message dropped: its archive object was never written', { ...keys, archiveKey: message.archive.key });
      return { messageId, ok: true, outcome: 'orphan', deliveryId: message.deliveryId };
    }
    return failed(record, error, logger, keys, ports);
  }
}

/**
 * Processes a batch; the failed results are the records to hand back to the
 * queue. Records of one job run sequentially in arrival order; jobs run
 * concurrently. Never throws.
 */
export async function processBatch(records: readonly BatchRecord[], ports: WorkerPorts): Promise<RecordResult[]> {
  const results: RecordResult[] = [];
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

  const budget = ports.recordBudgetMs ?? 0;
  const hasTime = (): boolean => ports.remainingMs === undefined || ports.remainingMs() > budget;
  for (const lane of lanes.values()) {
    tasks.push(async () => {
      for (const { index, message } of lane) {
        if (!hasTime()) {
          // Unstarted, so nothing to undo: it comes back after the visibility timeout.
          results[index] = { messageId: records[index].messageId, ok: false, poison: false, unstarted: true };
          continue;
        }
        // A failed record does not stop the job's later records: the rules are
        // order-independent, and the failed one comes back on its own.
        results[index] = await processMessage(records[index], message, ports);
      }
    });
  }
  await runWithLimit(tasks, ports.maxConcurrency ?? 10);
  return results;
}

/** Runs the tasks, at most `limit` at a time: each runner takes the next task off one shared iterator. */
async function runWithLimit(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  const queue = tasks.values();
  const runners = Array.from({ length: Math.min(Math.max(1, limit), tasks.length) }, async () => {
    for (const task of queue) await task();
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
    if (error instanceof ClaimCheckPendingError) {
      ports.count(METRIC.claimCheckPending);
      logger.info('Claim-checked object not written yet, retrying soon', { ...keys, retryInSeconds: error.retryInSeconds });
      return { messageId, ok: false, poison: false, retryInSeconds: error.retryInSeconds };
    }
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
