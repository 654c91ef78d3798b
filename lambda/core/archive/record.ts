/**
 * One line of a batched archive object: a delivery's exact bytes, its signed
 * headers and its receipt facts as a single JSON object, so a reader can
 * re-verify the signature from the line alone. Firehose concatenates lines into
 * GZIP objects; JSON escapes every newline inside a string, so a line break
 * always ends a record.
 *
 *   {"v":1,"deliveryId":"…","event":"job.completed","timestamp":"…","signature":"sha256=…",
 *    "receivedAt":"…","attemptAt":"…","bodySha256":"…","jobId":"…","origin":"webhook",
 *    "encoding":"utf8","body":"{\"event\":…}"}
 *
 * `body` is the body as text when its bytes are valid UTF-8 (the decode is
 * exact, a byte-order mark included), otherwise base64 (`encoding: "base64"`).
 * `bodySha256` is over the bytes, so a reader checks it after decoding.
 */
import * as v from 'valibot';
import { ARCHIVE_RECORD_VERSION, ORIGINS } from '../contract';
import { describeIssue } from '../payload';
import type { ArchivedDelivery } from '../ports';

export interface ArchiveRecord {
  readonly v: typeof ARCHIVE_RECORD_VERSION;
  readonly deliveryId: string;
  readonly event: string;
  readonly timestamp: string;
  readonly signature?: string;
  readonly receivedAt: string;
  readonly attemptAt: string;
  readonly bodySha256: string;
  readonly jobId?: string;
  readonly origin: (typeof ORIGINS)[number];
  readonly encoding: 'utf8' | 'base64';
  readonly body: string;
}

const exactUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function encodeBody(bytes: Uint8Array): Pick<ArchiveRecord, 'encoding' | 'body'> {
  try {
    return { encoding: 'utf8', body: exactUtf8.decode(bytes) };
  } catch {
    return { encoding: 'base64', body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}

/**
 * The record of one delivery, fields in a fixed order (ids first, the body
 * last, for a human reading `zcat | head`). `bodyText` may stand in for
 * decoding when its UTF-8 encoding is exactly the bytes. An absent signature
 * or job id is left out of the line (JSON.stringify omits undefined).
 */
function toArchiveRecord(delivery: ArchivedDelivery, bodyText?: string): ArchiveRecord {
  return {
    v: ARCHIVE_RECORD_VERSION,
    deliveryId: delivery.deliveryId,
    event: delivery.event,
    timestamp: delivery.timestamp,
    signature: delivery.signature,
    receivedAt: delivery.receivedAt,
    attemptAt: delivery.attemptAt ?? delivery.receivedAt,
    bodySha256: delivery.bodySha256,
    jobId: delivery.jobId,
    origin: delivery.origin ?? 'webhook',
    ...(bodyText !== undefined ? { encoding: 'utf8' as const, body: bodyText } : encodeBody(delivery.rawBody)),
  };
}

/** One line, newline included: what the batched archive appends. */
export function encodeArchiveLine(delivery: ArchivedDelivery, bodyText?: string): string {
  return `${JSON.stringify(toArchiveRecord(delivery, bodyText))}\n`;
}

const Text = v.pipe(v.string(), v.minLength(1));
const RecordSchema = v.object({
  v: v.literal(ARCHIVE_RECORD_VERSION),
  deliveryId: Text,
  event: Text,
  timestamp: Text,
  signature: v.optional(Text),
  receivedAt: Text,
  attemptAt: Text,
  bodySha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  jobId: v.optional(Text),
  origin: v.picklist(ORIGINS),
  encoding: v.picklist(['utf8', 'base64']),
  body: v.string(),
});

export type DecodedLine =
  | { readonly ok: true; readonly line: number; readonly delivery: ArchivedDelivery }
  | { readonly ok: false; readonly line: number; readonly reason: string };

/** The delivery a line holds, or why it holds none (readers report such lines, never skip them silently). */
export function decodeArchiveLine(text: string, line = 1): DecodedLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, line, reason: 'not JSON' };
  }
  const result = v.safeParse(RecordSchema, json);
  if (!result.success) return { ok: false, line, reason: result.issues.map(describeIssue).join('; ') };
  const record = result.output;
  const rawBody = record.encoding === 'utf8' ? Buffer.from(record.body, 'utf8') : Buffer.from(record.body, 'base64');
  return {
    ok: true,
    line,
    delivery: {
      rawBody: new Uint8Array(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength),
      event: record.event,
      deliveryId: record.deliveryId,
      timestamp: record.timestamp,
      signature: record.signature,
      receivedAt: record.receivedAt,
      attemptAt: record.attemptAt,
      bodySha256: record.bodySha256,
      jobId: record.jobId,
      origin: record.origin,
    },
  };
}

/** Every line of a (decompressed) batched object, in order; blank lines are the trailing newline's. */
export function decodeArchiveLines(text: string): DecodedLine[] {
  const decoded: DecodedLine[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    decoded.push(decodeArchiveLine(line, index + 1));
  }
  return decoded;
}

/**
 * Of several entries for one delivery id (a failed attempt may have archived
 * before the one that was accepted), the one to trust: the latest attempt.
 * Every attempt of one delivery carries the same bytes unless a lapsed,
 * never-accepted record was taken over by a retry with other bytes, and then
 * the later attempt is the accepted one.
 */
export function latestAttempt(a: ArchivedDelivery, b: ArchivedDelivery): ArchivedDelivery {
  const at = (delivery: ArchivedDelivery): number => Date.parse(delivery.attemptAt ?? delivery.receivedAt);
  // Stryker disable next-line EqualityOperator: on a tie both are one attempt's entry (Firehose writes at least once), so either is right
  return at(b) > at(a) ? b : a;
}
