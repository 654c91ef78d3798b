/**
 * The receiver's ingest steps as one pure function over ports. Order matters and
 * is part of the contract: cheap, local checks first, and no AWS call before the
 * signature has passed, except fetching the (cached) signing secret it needs.
 *
 *   size -> headers -> delivery id -> timestamp -> signature -> JSON + schema ->
 *   event consistency -> claim -> archive || enqueue (archive/store.ts) -> mark accepted
 */
import { randomUUID } from 'node:crypto';
import { DELIVERY_ID_PATTERN, EVENT_TYPES, HEADERS, METRIC, type EventType } from './contract';
import { archiveAndEnqueue } from './archive/store';
import { bodySha256 } from './body-hash';
import { WebhookError } from './errors';
import { checkPayload, isEventType } from './payload';
import type { Archive, BatchArchive, DeliveryRecord, DeliveryStore, Queue, SecretSource, SigningSecrets } from './ports';
import type { ReceiverPolicy } from './receiver-config';
import { isSigningSecretUnset, verifyWithSecrets } from './signature';
import { checkTimestamp } from './timestamp';

export interface WebhookRequest {
  /** Header names in any case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
  readonly receivedAt: Date;
  readonly sourceIp?: string;
}

export type RejectionReason =
  | 'payload_too_large'
  | 'missing_header'
  | 'unknown_event'
  | 'invalid_delivery_id'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  | 'missing_signature'
  | 'invalid_signature'
  | 'invalid_json'
  | 'schema_violation'
  | 'event_mismatch'
  | 'conflict';

/**
 * Answers the provider must retry: 503, never a 4xx, since a strict provider
 * treats every 4xx as final. `in_progress`: another attempt holds a live lease
 * on this delivery id (it may still fail, and then this retry must be able to
 * take over); the answer carries Retry-After.
 */
export type ErrorReason = 'signing_secret_unset' | 'transient' | 'in_progress';
export type ReceiveReason = RejectionReason | ErrorReason;

export interface ReceiveResult {
  readonly statusCode: number;
  readonly body: {
    readonly status: 'accepted' | 'duplicate' | 'rejected' | 'error';
    readonly reason?: ReceiveReason;
    readonly deliveryId?: string;
    readonly issues?: string[];
  };
  /** Extra HTTP headers of the answer (Retry-After on in_progress). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The HTTP status of every outcome: the one place where reasons become codes. */
export const STATUS_CODES: Readonly<Record<ReceiveReason | 'accepted' | 'duplicate', number>> = {
  accepted: 202,
  duplicate: 200,
  payload_too_large: 413,
  missing_header: 400,
  unknown_event: 400,
  invalid_delivery_id: 400,
  malformed_timestamp: 400,
  stale_timestamp: 401,
  missing_signature: 401,
  invalid_signature: 401,
  invalid_json: 400,
  schema_violation: 400,
  event_mismatch: 400,
  conflict: 409,
  in_progress: 503,
  signing_secret_unset: 503,
  transient: 503,
};

/** The subset of Powertools' Logger the core uses, so tests can capture lines. */
export interface ReceiverLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
  setCorrelationId(value: string): void;
}

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export interface ReceiverMetrics {
  /** Adds one to the named count, optionally under extra dimensions. */
  count(name: MetricName, dimensions?: Readonly<Record<string, string>>): void;
  /**
   * Writes the counts so far as one line that is a log line too (CloudWatch
   * EMF keeps extra keys): the accept path's only line, so a delivery costs one
   * line's bytes and one serialization instead of a log line plus a metrics line.
   */
  publishWith(message: string, attributes: Record<string, unknown>): void;
}

export interface ReceiverDeps {
  readonly policy: ReceiverPolicy;
  readonly secrets: SecretSource;
  readonly deliveries: DeliveryStore;
  /** Per-delivery objects (the claim-check route). */
  readonly archive: Archive;
  /** The batched archive; absent, every delivery is archived as its own object. */
  readonly batchArchive?: BatchArchive;
  readonly queue: Queue;
  /** Known up front so the queue message can name the archive object while it is still being written. */
  readonly archiveBucket: string;
  readonly logger: ReceiverLogger;
  readonly metrics: ReceiverMetrics;
  /** Defaults to random UUIDs; injectable for deterministic tests. */
  readonly newAttemptId?: () => string;
}

export type Receiver = (request: WebhookRequest) => Promise<ReceiveResult>;

/** Header values are attacker-controlled: logs keep only a bounded prefix. */
const MAX_LOGGED_HEADER_CHARS = 160;

/** What is known about a request so far; every log line carries it. */
interface RequestFacts {
  event?: EventType;
  deliveryId?: string;
  timestamp?: string;
  bodyBytes: number;
  /** Absent only on a body refused for its size, which is never hashed. */
  bodySha256?: string;
  sourceIp?: string;
}

/** The facts once every header has been checked. */
type CheckedFacts = RequestFacts & { event: EventType; deliveryId: string; timestamp: string; bodySha256: string };

/**
 * The byte length of the body, computed from the string without decoding it:
 * UTF-8 length of a text body, or the decoded length of a base64 one (Node
 * counts it from the length and padding; API Gateway's base64 has no line
 * breaks, so this is exact, and never below the decoded size).
 */
function rawByteLength(body: string, isBase64Encoded: boolean): number {
  return Buffer.byteLength(body, isBase64Encoded ? 'base64' : 'utf8');
}

function lowerCaseHeaders(headers: WebhookRequest['headers']): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') map.set(name.toLowerCase(), value);
  }
  return map;
}

function bounded(value: string | undefined): string | undefined {
  return value === undefined || value.length <= MAX_LOGGED_HEADER_CHARS ? value : `${value.slice(0, MAX_LOGGED_HEADER_CHARS)}...`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as the JSON parser reads it: the bytes decoded, however API Gateway
 * handed them over, so one delivery reads alike either way and alike to the
 * replay, which parses the archived bytes (a leading byte-order mark is
 * dropped; a lone surrogate of a text body, which UTF-8 cannot carry, reads as
 * the U+FFFD its bytes hold). Undefined when the bytes are not UTF-8.
 */
function bodyText(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function createReceiver(deps: ReceiverDeps): Receiver {
  const { policy, logger, metrics } = deps;
  const newAttemptId = deps.newAttemptId ?? randomUUID;
  let warnedUnsigned = false;

  const respond = (facts: RequestFacts, outcome: 'accepted' | 'duplicate'): ReceiveResult => ({
    statusCode: STATUS_CODES[outcome],
    body: { status: outcome, deliveryId: facts.deliveryId },
  });

  const reject = (
    facts: RequestFacts,
    headers: Map<string, string>,
    reason: RejectionReason,
    issues?: string[],
    extra?: Record<string, unknown>,
  ): ReceiveResult => {
    logger.info('Webhook rejected', {
      reason,
      statusCode: STATUS_CODES[reason],
      ...describeRequest(facts, headers),
      ...(issues ? { issues } : {}),
      ...extra,
    });
    metrics.count(METRIC.rejected);
    metrics.count(METRIC.rejected, { reason });
    return { statusCode: STATUS_CODES[reason], body: { status: 'rejected', reason, deliveryId: facts.deliveryId, ...(issues ? { issues } : {}) } };
  };

  const fail = (facts: RequestFacts, reason: ErrorReason): ReceiveResult => ({
    statusCode: STATUS_CODES[reason],
    body: { status: 'error', reason, deliveryId: facts.deliveryId },
  });

  return async function receive(request: WebhookRequest): Promise<ReceiveResult> {
    const headers = lowerCaseHeaders(request.headers);
    const body = request.body ?? '';

    // 1. Size of the raw bytes (API Gateway may hand them over base64-encoded),
    // from the string's length alone: nothing is decoded, copied or hashed
    // before a too-large body is refused.
    const declaredBytes = rawByteLength(body, request.isBase64Encoded);
    if (declaredBytes > policy.maxBodyBytes) {
      return reject({ bodyBytes: declaredBytes, sourceIp: request.sourceIp }, headers, 'payload_too_large');
    }
    const rawBytes = request.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
    const facts: RequestFacts = { bodyBytes: rawBytes.length, bodySha256: bodySha256(rawBytes), sourceIp: request.sourceIp };

    // 2. Required headers.
    const eventHeader = headers.get(HEADERS.event);
    const deliveryId = headers.get(HEADERS.deliveryId);
    const timestamp = headers.get(HEADERS.timestamp);
    const missing: string[] = [];
    if (!eventHeader) missing.push(HEADERS.event);
    if (!deliveryId) missing.push(HEADERS.deliveryId);
    if (!timestamp) missing.push(HEADERS.timestamp);
    if (missing.length > 0) return reject(facts, headers, 'missing_header', missing.map((name) => `${name} is required`));
    if (!isEventType(eventHeader)) {
      return reject(facts, headers, 'unknown_event', [`${HEADERS.event} must be one of ${EVENT_TYPES.join(', ')}`]);
    }
    facts.event = eventHeader;

    // 3. Delivery id: it becomes a table key, an S3 key segment and a log correlation id.
    if (!DELIVERY_ID_PATTERN.test(deliveryId as string)) {
      return reject(facts, headers, 'invalid_delivery_id', [`${HEADERS.deliveryId} must be 1-128 characters of A-Z a-z 0-9 . _ : -`]);
    }
    facts.deliveryId = deliveryId as string;
    logger.setCorrelationId(facts.deliveryId);

    // 4. Timestamp.
    const time = checkTimestamp(timestamp, request.receivedAt, policy.timestampToleranceSeconds);
    if (!time.ok) {
      if (time.reason === 'malformed_timestamp') {
        return reject(facts, headers, 'malformed_timestamp', [`${HEADERS.timestamp} must be ISO 8601 with a zone`]);
      }
      return reject(facts, headers, 'stale_timestamp', undefined, { skewSeconds: time.skewSeconds });
    }
    facts.timestamp = timestamp as string;

    // 5. Signature.
    const signature = headers.get(HEADERS.signature);
    if (policy.requireSignature || signature !== undefined) {
      // The secret is checked before a missing signature: while the receiver is
      // unconfigured it answers 503 (retryable, alarmed) rather than blame the
      // sender with a 401 the provider may not retry, which would lose deliveries.
      let signing: SigningSecrets;
      try {
        signing = await deps.secrets.getSigningSecrets();
      } catch (error) {
        logger.error('Signing secret unavailable', { ...describeRequest(facts, headers), error: errorSummary(error) });
        metrics.count(METRIC.transientFailure);
        return fail(facts, 'transient');
      }
      if (isSigningSecretUnset(signing)) {
        logger.error('Signing secret unset or malformed: answering 503 until ops store the plain provider secret', describeRequest(facts, headers));
        metrics.count(METRIC.secretUnset);
        return fail(facts, 'signing_secret_unset');
      }
      if (signature === undefined) return reject(facts, headers, 'missing_signature');
      const verifyOptions = { now: request.receivedAt, graceSeconds: policy.rotationGraceSeconds };
      let verification = verifyWithSecrets(signing, facts.timestamp, rawBytes, signature, verifyOptions);
      if (!verification.valid) {
        // The cache may predate a put-secret-value: read the secret once more
        // (the source rate-limits this) before calling the signature wrong.
        let refreshed: SigningSecrets | undefined;
        try {
          refreshed = await deps.secrets.refreshSigningSecrets(signing);
        } catch (error) {
          logger.error('Signing secret unavailable after a signature mismatch', { ...describeRequest(facts, headers), error: errorSummary(error) });
          metrics.count(METRIC.transientFailure);
          return fail(facts, 'transient');
        }
        if (refreshed !== undefined && !isSigningSecretUnset(refreshed)) {
          verification = verifyWithSecrets(refreshed, facts.timestamp, rawBytes, signature, verifyOptions);
        }
      }
      if (!verification.valid) {
        metrics.count(METRIC.signatureInvalid);
        return reject(facts, headers, 'invalid_signature');
      }
      if (verification.version === 'AWSPREVIOUS') {
        logger.info('Signature matched the previous secret version', { deliveryId: facts.deliveryId, secretVersion: verification.version });
      }
    } else if (!warnedUnsigned) {
      warnedUnsigned = true;
      logger.warn('Signature verification is disabled: accepting unsigned deliveries', { requireSignature: false });
    }

    // 6-7. JSON, schema and event consistency (checkPayload keeps this order).
    const text = bodyText(rawBytes);
    if (text === undefined) return reject(facts, headers, 'invalid_json', ['body is not valid UTF-8']);
    const checked = checkPayload(text, facts.event);
    if (!checked.ok) return reject(facts, headers, checked.reason, checked.issues);

    return ingest(request, facts as CheckedFacts, headers, rawBytes, signature, checked.payload, checked.jobId);
  };

  async function ingest(
    request: WebhookRequest,
    facts: CheckedFacts,
    headers: Map<string, string>,
    rawBytes: Buffer,
    signature: string | undefined,
    payload: unknown,
    jobId: string,
  ): Promise<ReceiveResult> {
    const attemptId = newAttemptId();
    // Only failures log it: built when one does, not on every accepted delivery.
    const context = (): Record<string, unknown> => describeRequest(facts, headers);

    // Round trip 1: claim the delivery id.
    let record: DeliveryRecord;
    try {
      const claim = await deps.deliveries.claim({
        deliveryId: facts.deliveryId,
        bodySha256: facts.bodySha256,
        attemptId,
        now: request.receivedAt,
        leaseSeconds: policy.leaseSeconds,
        ttlSeconds: policy.dedupeTtlSeconds,
      });
      if (claim.kind === 'exists') return existing(facts, headers, claim.record, request.receivedAt);
      record = claim.record;
    } catch (error) {
      // The claim may have been applied with its answer lost: give the lease
      // back, or the provider's retry would meet it.
      await releaseQuietly(facts, attemptId, context);
      return transient(facts, 'Delivery claim failed', error);
    }

    // Round trip 2: archive and enqueue in parallel, by the route the size
    // decides. The receipt time is the record's first, so a retry archives
    // under the same hour (and, as an object, the same key).
    const stored = await archiveAndEnqueue(
      {
        archive: deps.archive,
        batchArchive: deps.batchArchive,
        queue: deps.queue,
        archiveBucket: deps.archiveBucket,
        inlinePayloadMaxBytes: policy.inlinePayloadMaxBytes,
        claimCheckDelaySeconds: policy.claimCheckDelaySeconds,
      },
      {
        delivery: {
          rawBody: rawBytes,
          event: facts.event,
          deliveryId: facts.deliveryId,
          timestamp: facts.timestamp,
          signature,
          receivedAt: record.receivedAt,
          attemptAt: request.receivedAt.toISOString(),
          bodySha256: facts.bodySha256,
          jobId,
        },
        payload,
        // The request's own string encodes to exactly these bytes; a base64 body's decoded text may have lost a byte-order mark.
        bodyText: request.isBase64Encoded ? undefined : request.body,
        now: request.receivedAt,
      },
    );
    if (!stored.ok) {
      if (stored.archiveError !== undefined) {
        metrics.count(METRIC.archiveFailure);
        logger.error('Archive failed', { ...context(), archive: stored.route, error: errorSummary(stored.archiveError) });
      }
      if (stored.enqueueError !== undefined) {
        metrics.count(METRIC.enqueueFailure);
        logger.error('Enqueue failed', { ...context(), archive: stored.route, error: errorSummary(stored.enqueueError) });
      }
      // An enqueue that succeeded beside a failed archive is harmless: the
      // provider's retry sends the same delivery id again and the worker is
      // idempotent per delivery id (a claim-checked one is dropped once its
      // `archiveBy` passes without the object).
      await releaseQuietly(facts, attemptId, context);
      metrics.count(METRIC.transientFailure);
      return fail(facts, 'transient');
    }

    // Round trip 3: mark accepted. If this fails the bytes are archived and the
    // message is queued, yet we still answer 503 and give the lease back (a mark
    // that was applied with its answer lost makes the release a no-op): the
    // provider retries, re-archives the same key with the same bytes and
    // re-enqueues, and the worker ignores the second copy. A 202 here could
    // instead leave a record that never reaches `accepted`, and a later retry
    // would run the whole path again anyway.
    try {
      await deps.deliveries.markAccepted(facts.deliveryId, attemptId);
    } catch (error) {
      await releaseQuietly(facts, attemptId, context);
      return transient(facts, 'Marking delivery accepted failed', error);
    }
    metrics.count(METRIC.accepted);
    metrics.publishWith('Webhook accepted', acceptedLine(facts, jobId, stored.route, stored.message.payload !== undefined));
    return respond(facts, 'accepted');
  }

  /**
   * The answer when another record holds the id. Only an accepted record is
   * final: for the same body it is a duplicate (200), for another body a
   * conflict (409), which cannot lose a delivery since this id was already
   * acknowledged, archived and enqueued. A live lease belongs to an attempt
   * that may still fail, so it is 503 with Retry-After whatever the body: a
   * 4xx would be final for a strict provider, and once the lease lapses the
   * retry takes the id over.
   */
  function existing(facts: CheckedFacts, headers: Map<string, string>, record: DeliveryRecord, now: Date): ReceiveResult {
    if (record.status === 'accepted') {
      if (record.bodySha256 !== facts.bodySha256) {
        metrics.count(METRIC.conflict);
        return reject(facts, headers, 'conflict', ['delivery id was already accepted with a different body']);
      }
      logger.info('Duplicate delivery ignored', describeRequest(facts, headers));
      metrics.count(METRIC.duplicate);
      return respond(facts, 'duplicate');
    }
    metrics.count(METRIC.inProgress);
    const retryAfterSeconds = Math.max(1, Math.ceil((record.leaseExpiresAt - now.getTime()) / 1000));
    logger.info('Delivery in progress in another attempt', {
      ...describeRequest(facts, headers),
      statusCode: STATUS_CODES.in_progress,
      leaseExpiresAt: new Date(record.leaseExpiresAt).toISOString(),
      sameBody: record.bodySha256 === facts.bodySha256,
    });
    return { ...fail(facts, 'in_progress'), headers: { 'retry-after': String(retryAfterSeconds) } };
  }

  /** Best effort: if it fails, the lease lapses on its own. */
  async function releaseQuietly(facts: RequestFacts, attemptId: string, context: () => Record<string, unknown>): Promise<void> {
    try {
      await deps.deliveries.release(facts.deliveryId as string, attemptId);
    } catch (error) {
      logger.error('Delivery release failed; its lease lapses on its own', { ...context(), error: errorSummary(error) });
    }
  }

  function transient(facts: RequestFacts, message: string, error: unknown): ReceiveResult {
    logger.error(message, { deliveryId: facts.deliveryId, error: errorSummary(error) });
    metrics.count(METRIC.transientFailure);
    return fail(facts, 'transient');
  }
}

/**
 * The accepted line's keys: few, because it is written once per delivery and
 * billed by the byte. The rest of the request is in the archive entry; a
 * rejection's line keeps them all (describeRequest).
 */
function acceptedLine(facts: CheckedFacts, jobId: string, route: string, payloadInline: boolean): Record<string, unknown> {
  return {
    deliveryId: facts.deliveryId,
    event: facts.event,
    jobId,
    archive: route,
    // A batched delivery always travels inline; only its own object may be a claim check.
    ...(route === 'batch' ? {} : { payloadInline }),
    bodyBytes: facts.bodyBytes,
    sourceIp: facts.sourceIp,
  };
}

/** Request facts for logs: the signature's presence, never its value; the body's size and hash, never the body. */
function describeRequest(facts: RequestFacts, headers: Map<string, string>): Record<string, unknown> {
  return {
    deliveryId: facts.deliveryId ?? bounded(headers.get(HEADERS.deliveryId)),
    event: facts.event ?? bounded(headers.get(HEADERS.event)),
    // `timestamp` is a reserved key of the Powertools Logger (it would be dropped).
    webhookTimestamp: facts.timestamp ?? bounded(headers.get(HEADERS.timestamp)),
    signaturePresent: headers.has(HEADERS.signature),
    userAgent: bounded(headers.get('user-agent')),
    sourceIp: facts.sourceIp,
    bodyBytes: facts.bodyBytes,
    bodySha256: facts.bodySha256,
  };
}

/** Error name and message only: adapter errors wrap SDK errors, whose messages name resources, not secrets. */
function errorSummary(error: unknown): Record<string, unknown> {
  if (error instanceof WebhookError) {
    const cause = error.cause instanceof Error ? { name: error.cause.name, message: error.cause.message } : undefined;
    return { name: error.name, message: error.message, ...(cause ? { cause } : {}) };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Unknown', message: String(error) };
}

/** The answer for a failure the core could not classify (the handler's safety net). */
export function transientResult(): ReceiveResult {
  return { statusCode: STATUS_CODES.transient, body: { status: 'error', reason: 'transient' } };
}
