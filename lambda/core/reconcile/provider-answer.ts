/**
 * The provider's job API answer (docs/architecture.md, "The provider"), validated and mapped to
 * what the reconciler does with it. Its pages disagree on status names, so only
 * `completed` and `failed` mean anything here; every other status, known
 * (`pending`, `created`, `processing`) or not, means "still open". An answer
 * that does not validate, names another job, or claims `completed` without an
 * output is refused: it is counted and changes nothing.
 */
import * as v from 'valibot';
import { DELIVERY_ID_PATTERN, RECONCILE_DELIVERY_PREFIX, type EventType } from '../contract';
import { checkParsedPayload, describeIssue, type WebhookPayload } from '../payload';
import { bodySha256 } from '../body-hash';

const Text = v.pipe(v.string(), v.minLength(1), v.maxLength(2048));
const JobId = v.pipe(v.string(), v.minLength(1), v.maxLength(256));

/** Loose: unknown fields are kept (and archived), but those we use must have the right type. */
const JobAnswerSchema = v.pipe(
  v.looseObject({
    id: v.optional(JobId),
    job_id: v.optional(JobId),
    status: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
    progress: v.optional(v.nullable(v.number())),
    // Only web URLs: an answer is data from outside, and this one reaches the product.
    output_url: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(2048), v.url(), v.regex(/^https?:\/\//i)))),
    error: v.optional(
      v.nullable(
        v.union([
          v.pipe(v.string(), v.maxLength(4096)),
          v.looseObject({ code: v.optional(v.nullable(Text)), message: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(4096)))) }),
        ]),
      ),
    ),
    created_at: v.optional(v.nullable(v.string())),
    model: v.optional(v.nullable(Text)),
    output_format: v.optional(v.nullable(Text)),
    bg_type: v.optional(v.nullable(Text)),
    credits_used: v.optional(v.nullable(v.pipe(v.number(), v.finite(), v.minValue(0)))),
  }),
  v.check((answer) => answer.id !== undefined || answer.job_id !== undefined, 'id is required'),
);

export type JobAnswer = v.InferOutput<typeof JobAnswerSchema>;

export type RefusedReason = 'invalid_json' | 'schema_violation' | 'id_mismatch' | 'completed_without_output' | 'unusable_payload';

export type AnswerReading =
  | { readonly kind: 'refused'; readonly reason: RefusedReason; readonly issues: readonly string[] }
  | { readonly kind: 'open'; readonly status: string; readonly answer: JobAnswer }
  | { readonly kind: 'terminal'; readonly status: 'completed' | 'failed'; readonly event: EventType; readonly answer: JobAnswer };

/** Reads the answer's text for the job asked about. Never throws. */
export function readJobAnswer(jobId: string, text: string): AnswerReading {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'refused', reason: 'invalid_json', issues: ['answer is not JSON'] };
  }
  const result = v.safeParse(JobAnswerSchema, json);
  if (!result.success) return { kind: 'refused', reason: 'schema_violation', issues: result.issues.map(describeIssue) };
  const answer = result.output;
  // A key sees only its own jobs; an answer about another one is a fault (or worse), never applied.
  if ((answer.id ?? answer.job_id) !== jobId || (answer.id !== undefined && answer.job_id !== undefined && answer.id !== answer.job_id)) {
    return { kind: 'refused', reason: 'id_mismatch', issues: ['the answer names another job'] };
  }
  const status = answer.status.trim().toLowerCase();
  if (status === 'completed') {
    if (typeof answer.output_url !== 'string') return { kind: 'refused', reason: 'completed_without_output', issues: ['completed without output_url'] };
    return { kind: 'terminal', status, event: 'job.completed', answer };
  }
  if (status === 'failed') return { kind: 'terminal', status, event: 'job.failed', answer };
  return { kind: 'open', status, answer };
}

/**
 * `reconcile:<jobId>:<status>` (docs/architecture.md, "Open jobs and the reconciler"). A job id the delivery-id pattern
 * cannot carry (other characters, or too long) is replaced by a hash of it,
 * so the id stays deterministic: the same answer always makes the same delivery.
 */
export function reconcileDeliveryId(jobId: string, status: 'completed' | 'failed'): string {
  const plain = `${RECONCILE_DELIVERY_PREFIX}${jobId}:${status}`;
  if (DELIVERY_ID_PATTERN.test(plain)) return plain;
  return `${RECONCILE_DELIVERY_PREFIX}sha256-${bodySha256(new TextEncoder().encode(jobId)).slice(0, 32)}:${status}`;
}

export interface SyntheticDelivery {
  readonly deliveryId: string;
  readonly event: EventType;
  /** The webhook-shaped payload the worker applies; it carries the provider answer under `reconcile`. */
  readonly payload: WebhookPayload;
  /** Its exact bytes, as archived. */
  readonly rawBody: Uint8Array;
}

const FAILED_WITHOUT_ERROR = { code: 'unspecified', message: 'The provider reported the job failed without an error.' };

function errorOf(answer: JobAnswer): { code: string; message: string } {
  const error = answer.error;
  if (typeof error === 'string') return { code: 'unspecified', message: error };
  if (error === null || error === undefined) return FAILED_WITHOUT_ERROR;
  return { code: error.code ?? 'unspecified', message: error.message ?? '' };
}

/**
 * The event a terminal answer becomes: a webhook-shaped payload (so the worker,
 * the archive and replay treat it like any delivery) whose event time is when
 * we asked, with the provider's answer beside it as evidence.
 */
export function syntheticDelivery(
  jobId: string,
  reading: Extract<AnswerReading, { kind: 'terminal' }>,
  checkedAt: Date,
): { readonly ok: true; readonly delivery: SyntheticDelivery } | { readonly ok: false; readonly issues: readonly string[] } {
  const { answer } = reading;
  const data: Record<string, unknown> = { job_id: jobId, status: reading.status };
  if (typeof answer.model === 'string') data.model = answer.model;
  if (typeof answer.output_format === 'string') data.output_format = answer.output_format;
  if (typeof answer.bg_type === 'string') data.bg_type = answer.bg_type;
  if (typeof answer.credits_used === 'number') data.credits_used = answer.credits_used;
  if (reading.event === 'job.completed') data.output_url = answer.output_url;
  else data.error = errorOf(answer);
  const candidate = {
    event: reading.event,
    created_at: checkedAt.toISOString(),
    data,
    reconcile: { source: 'GET /v1/jobs/{job_id}', checked_at: checkedAt.toISOString(), answer },
  };
  // Through the worker's own schema: what we enqueue must be exactly what a delivery could be.
  const check = checkParsedPayload(candidate, reading.event);
  if (!check.ok) return { ok: false, issues: [check.reason, ...check.issues] };
  const rawBody = new TextEncoder().encode(JSON.stringify(candidate));
  return { ok: true, delivery: { deliveryId: reconcileDeliveryId(jobId, reading.status), event: reading.event, payload: check.payload, rawBody } };
}
