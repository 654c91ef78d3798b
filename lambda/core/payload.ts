/**
 * The provider's payload schema, kept in this one module so it is easy to change
 * when the provider publishes an exact schema. Unknown fields are kept (loose
 * objects), `data.id` is an alias of `data.job_id`, and option values outside the
 * known lists are stored as given.
 */
import * as v from 'valibot';
import { EVENT_TYPES, type EventType, type Origin } from './contract';
import type { JobEvent } from './job-state';

// Option values are stored as given: the provider's known ones (models original|light|pro|human,
// formats webm|mov|mp4|gif|webp|png_sequence, backgrounds transparent|green|white|black|blue|custom)
// may grow, and a job must never be refused for a value we have not heard of yet.

export const OUTPUT_URL_MAX_CHARS = 8192;
const NonEmpty = v.pipe(v.string(), v.minLength(1), v.maxLength(2048));
const JobId = v.pipe(v.string(), v.minLength(1), v.maxLength(256));

const ErrorSchema = v.looseObject({
  code: NonEmpty,
  message: v.pipe(v.string(), v.maxLength(4096)),
});

const DataSchema = v.pipe(
  v.looseObject({
    job_id: v.optional(JobId),
    id: v.optional(JobId),
    status: v.optional(v.string()),
    model: v.optional(NonEmpty),
    output_format: v.optional(NonEmpty),
    bg_type: v.optional(NonEmpty),
    background: v.optional(NonEmpty),
    video_url: v.optional(NonEmpty),
    input_url: v.optional(NonEmpty),
    // Bounded like every stored field, so no payload can push the job item to
    // DynamoDB's 400 KB limit; presigned URLs with session tokens stay far below.
    output_url: v.optional(v.pipe(v.string(), v.maxLength(OUTPUT_URL_MAX_CHARS), v.url())),
    credits_used: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
    error: v.optional(ErrorSchema),
  }),
  v.check((data) => data.job_id !== undefined || data.id !== undefined, 'data.job_id (or data.id) is required'),
  v.check(
    (data) => data.job_id === undefined || data.id === undefined || data.job_id === data.id,
    'data.job_id and data.id disagree',
  ),
);

export const WebhookPayloadSchema = v.looseObject({
  event: v.optional(v.picklist(EVENT_TYPES)),
  created_at: v.optional(v.string()),
  data: DataSchema,
});

export type WebhookPayload = v.InferOutput<typeof WebhookPayloadSchema>;

export type PayloadCheck =
  | { readonly ok: true; readonly payload: WebhookPayload; readonly jobId: string }
  | { readonly ok: false; readonly reason: 'invalid_json' | 'schema_violation' | 'event_mismatch'; readonly issues: string[] };

/** Per-event requirements the loose schema cannot express. */
function eventIssues(event: EventType, payload: WebhookPayload): string[] {
  const issues: string[] = [];
  if (payload.event !== undefined && payload.event !== event) return ['body event does not match X-Webhook-Event'];
  if (event === 'job.completed' && payload.data.output_url === undefined) issues.push('data.output_url is required on job.completed');
  if (event === 'job.failed' && payload.data.error === undefined) issues.push('data.error is required on job.failed');
  return issues;
}

/** Parses and validates a raw body for the given header event. Never throws. */
export function checkPayload(rawBody: string, event: EventType): PayloadCheck {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: 'invalid_json', issues: ['body is not valid JSON'] };
  }
  return checkParsedPayload(json, event);
}

export function checkParsedPayload(json: unknown, event: EventType): PayloadCheck {
  const result = v.safeParse(WebhookPayloadSchema, json);
  if (!result.success) {
    return { ok: false, reason: 'schema_violation', issues: result.issues.map(describeIssue) };
  }
  const issues = eventIssues(event, result.output);
  if (issues.length > 0) {
    const reason = result.output.event !== undefined && result.output.event !== event ? 'event_mismatch' : 'schema_violation';
    return { ok: false, reason, issues };
  }
  const jobId = (result.output.data.job_id ?? result.output.data.id) as string;
  return { ok: true, payload: result.output, jobId };
}

/**
 * Where and what, never the value: valibot's own messages quote what they
 * received, and an issue list goes to the logs (a body's URL may carry a token).
 * Our own `check` messages name fields only.
 */
export function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = issue.path?.map((item) => String(item.key)).join('.');
  const what = issue.type === 'check' ? issue.message : `invalid ${issue.type}${issue.expected ? ` (expected ${issue.expected})` : ''}`;
  return path ? `${path}: ${what}` : what;
}

export function isEventType(value: string | undefined): value is EventType {
  return value !== undefined && (EVENT_TYPES as readonly string[]).includes(value);
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Strict ISO-8601 with a zone; normalised to UTC milliseconds (extra fraction
 * digits cut, as Date.parse does), or undefined when malformed. The instant is
 * built from the fields, not with Date.parse: where a string is out of range
 * (24:00, 30 February) the language lets Date.parse guess (V8 rolls it over),
 * and the signed timestamp and the job's event time must not be guessed.
 */
export function normaliseInstant(value: string | undefined): string | undefined {
  const match = value === undefined ? null : INSTANT.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [fraction, sign, zoneHours, zoneMinutes] = match.slice(7);
  if (hour > 23 || minute > 59 || second > 59 || Number(zoneHours) > 23 || Number(zoneMinutes) > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads the years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  // A month or a day out of range (month 13, day 0, 31 April, 29 February 2026) rolls over into another month.
  if (date.getUTCMonth() !== month - 1) return undefined;
  date.setUTCHours(hour, minute, second, Number((fraction ?? '').slice(0, 3).padEnd(3, '0')));
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes));
  return new Date(date.getTime() - offsetMinutes * 60_000).toISOString();
}

/**
 * Builds the worker's normalised event. The event time is the payload's
 * `created_at` (identical across retries of one delivery) or, failing that,
 * the signed header timestamp.
 */
export function toJobEvent(
  payload: WebhookPayload,
  meta: {
    readonly event: EventType;
    readonly deliveryId: string;
    readonly timestamp: string;
    readonly replay?: boolean;
    readonly origin?: Origin;
  },
): JobEvent {
  const data = payload.data;
  const eventAt = normaliseInstant(payload.created_at) ?? normaliseInstant(meta.timestamp) ?? meta.timestamp;
  return {
    jobId: (data.job_id ?? data.id) as string,
    deliveryId: meta.deliveryId,
    event: meta.event,
    eventAt,
    model: data.model,
    outputFormat: data.output_format,
    background: data.bg_type ?? data.background,
    inputRef: data.video_url ?? data.input_url,
    outputUrl: meta.event === 'job.completed' ? data.output_url : undefined,
    error: meta.event === 'job.failed' && data.error ? { code: data.error.code, message: data.error.message } : undefined,
    creditsUsed: data.credits_used,
    replay: meta.replay,
    ...(meta.origin ? { origin: meta.origin } : {}),
  };
}
