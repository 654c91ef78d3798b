/**
 * What the receiver's log lines say about each delivery attempt. Refused
 * deliveries (401, 400, 413...) are in no table: their only record is the
 * receiver's structured log line (reason, headers without the signature value,
 * body size and hash), in CloudWatch Logs when deployed, in the local stack's
 * log file locally. This module turns one parsed line into one attempt's
 * outcome, whatever source it came from; it is pure.
 *
 * The receiver's message texts are matched here; a unit test drives the real
 * receiver core through every answer and classifies its lines, so a renamed
 * message fails that test rather than this view.
 */

/** What the provider got back. `retryable`: a 5xx, which the provider retries. */
export type AttemptOutcome = 'accepted' | 'duplicate' | 'refused' | 'retryable';

export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['accepted', 'duplicate', 'refused', 'retryable'];

export interface ReceiverAttempt {
  /** ISO instant of the line. */
  readonly at: string;
  readonly outcome: AttemptOutcome;
  readonly statusCode: number;
  /** The receiver's reason (`stale_timestamp`, `in_progress`, ...) or, for a failure, its log message. */
  readonly reason?: string;
  readonly deliveryId?: string;
  readonly event?: string;
  readonly jobId?: string;
  readonly signaturePresent?: boolean;
  readonly bodyBytes?: number;
  readonly bodySha256?: string;
  readonly sourceIp?: string;
  /** The Lambda request id: lines of one failed attempt share it. */
  readonly requestId?: string;
  readonly message: string;
}

/** The receiver's messages that end an attempt with a known answer. */
export const RECEIVER_MESSAGES = {
  accepted: 'Webhook accepted',
  duplicate: 'Duplicate delivery ignored',
  rejected: 'Webhook rejected',
  inProgress: 'Delivery in progress in another attempt',
} as const;

/** Reasons the receiver answers with a 5xx, when a line gives no status code. */
const RETRYABLE_REASONS = new Set(['in_progress', 'transient', 'signing_secret_unset']);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const number = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** A Powertools line's instant: its own `timestamp`, else the instant the source recorded (CloudWatch's event timestamp). */
function instantOf(line: Readonly<Record<string, unknown>>, fallback: number | undefined): string | undefined {
  const own = text(line.timestamp);
  if (own !== undefined && !Number.isNaN(Date.parse(own))) return new Date(own).toISOString();
  return fallback === undefined ? undefined : new Date(fallback).toISOString();
}

/**
 * One attempt from one log line, or undefined for lines that end no attempt
 * (a warning, the previous-secret note, another function's line). Every ERROR
 * line of the receiver ends its attempt with a 503: the receiver answers
 * `transient` after any failure it logs at that level.
 */
export function classifyReceiverLine(line: Readonly<Record<string, unknown>>, recordedAt?: number): ReceiverAttempt | undefined {
  const message = text(line.message);
  const at = instantOf(line, recordedAt);
  if (message === undefined || at === undefined) return undefined;
  const level = text(line.level)?.toUpperCase();
  const reason = text(line.reason);
  const statusCode = number(line.statusCode);

  let outcome: AttemptOutcome;
  let code: number;
  let why: string | undefined;
  if (message === RECEIVER_MESSAGES.accepted) {
    [outcome, code] = ['accepted', 202];
  } else if (message === RECEIVER_MESSAGES.duplicate) {
    [outcome, code] = ['duplicate', 200];
  } else if (message === RECEIVER_MESSAGES.rejected) {
    code = statusCode ?? (reason !== undefined && RETRYABLE_REASONS.has(reason) ? 503 : 400);
    outcome = code >= 500 ? 'retryable' : 'refused';
    why = reason ?? 'unknown';
  } else if (message === RECEIVER_MESSAGES.inProgress) {
    [outcome, code, why] = ['retryable', statusCode ?? 503, reason ?? 'in_progress'];
  } else if (level === 'ERROR') {
    [outcome, code, why] = ['retryable', statusCode ?? 503, message];
  } else {
    return undefined;
  }
  const signaturePresent = typeof line.signaturePresent === 'boolean' ? line.signaturePresent : undefined;
  return {
    at,
    outcome,
    statusCode: code,
    ...(why !== undefined ? { reason: why } : {}),
    ...optional('deliveryId', text(line.deliveryId)),
    ...optional('event', text(line.event)),
    ...optional('jobId', text(line.jobId)),
    ...optional('signaturePresent', signaturePresent),
    ...optional('bodyBytes', number(line.bodyBytes)),
    ...optional('bodySha256', text(line.bodySha256)),
    ...optional('sourceIp', text(line.sourceIp)),
    ...optional('requestId', text(line.function_request_id)),
    message,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/**
 * One entry per attempt, newest first: the failure lines of one Lambda
 * request (an archive and an enqueue failure, then the release) are one
 * attempt, its first line standing for it.
 */
export function attemptsFrom(lines: Iterable<{ readonly line: Readonly<Record<string, unknown>>; readonly recordedAt?: number }>): ReceiverAttempt[] {
  const attempts: ReceiverAttempt[] = [];
  const failedRequests = new Set<string>();
  for (const { line, recordedAt } of lines) {
    const attempt = classifyReceiverLine(line, recordedAt);
    if (attempt === undefined) continue;
    if (attempt.outcome === 'retryable' && attempt.requestId !== undefined) {
      if (failedRequests.has(attempt.requestId)) continue;
      failedRequests.add(attempt.requestId);
    }
    attempts.push(attempt);
  }
  return attempts.sort((a, b) => b.at.localeCompare(a.at));
}

/** Parses one line of text as a JSON object; anything else (a platform line, a truncated write) is skipped. */
export function parseLogLine(raw: string): Record<string, unknown> | undefined {
  const trimmed = raw.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface OutcomeCounts {
  readonly accepted: number;
  readonly duplicate: number;
  readonly refused: number;
  readonly retryable: number;
}

export function countOutcomes(attempts: readonly ReceiverAttempt[]): OutcomeCounts {
  const counts = { accepted: 0, duplicate: 0, refused: 0, retryable: 0 };
  for (const attempt of attempts) counts[attempt.outcome] += 1;
  return counts;
}
