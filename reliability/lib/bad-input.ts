/**
 * Bad deliveries as fast-check arbitraries, shared by the jest property tests
 * (against the handler with in-memory ports) and the harness (over HTTP against
 * the local API). Every case carries at least one defect that the receiver must
 * answer with a 4xx before touching any state: a missing or malformed header, a
 * bad delivery id, a malformed or stale timestamp, a missing or wrong
 * signature, or, behind a valid signature, a body that is too large, not UTF-8,
 * not JSON, or not a payload of the header's event.
 *
 * Cases are descriptions; `materialize` turns one into headers and bytes at a
 * given instant and with a given secret, so valid timestamps stay valid however
 * long a run takes.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { EVENT_TYPES, type EventType } from '../../lambda/core/contract';

export type TimestampSpec =
  | { readonly kind: 'now' }
  | { readonly kind: 'skew'; readonly seconds: number }
  | { readonly kind: 'raw'; readonly value: string };

export type SignatureSpec =
  | { readonly kind: 'valid' }
  | { readonly kind: 'none' }
  | { readonly kind: 'raw'; readonly value: string }
  | { readonly kind: 'wrong-secret'; readonly secret: string }
  | { readonly kind: 'other-timestamp' }
  | { readonly kind: 'other-body' }
  | { readonly kind: 'flipped' };

export type BodySpec =
  | { readonly kind: 'payload'; readonly value: unknown }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'oversized'; readonly bytes: number };

export interface BadCase {
  /** The defect this case is built around, for the report. */
  readonly defect: string;
  readonly event: string | undefined;
  readonly deliveryId: string | undefined;
  readonly timestamp: TimestampSpec | undefined;
  readonly signature: SignatureSpec;
  readonly body: BodySpec;
  /** How the bytes travel: text, or base64 as API Gateway passes binary media types. */
  readonly encoding: 'text' | 'base64';
  readonly headerCase: 'lower' | 'canonical' | 'upper';
}

export interface MaterializedRequest {
  readonly headers: Record<string, string>;
  readonly bytes: Buffer;
  readonly encoding: 'text' | 'base64';
}

export const RECEIVER_MAX_BODY_BYTES = 1024 * 1024;
export const FUZZ_PREFIX = 'fz-';

const NAMES = {
  event: 'X-Webhook-Event',
  deliveryId: 'X-Webhook-Delivery-Id',
  timestamp: 'X-Webhook-Timestamp',
  signature: 'X-Webhook-Signature',
} as const;

function cased(name: string, headerCase: BadCase['headerCase']): string {
  if (headerCase === 'lower') return name.toLowerCase();
  if (headerCase === 'upper') return name.toUpperCase();
  return name;
}

function sign(secret: string, timestamp: string, bytes: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(bytes).digest('hex')}`;
}

function bodyBytes(body: BodySpec): Buffer {
  switch (body.kind) {
    case 'payload':
      return Buffer.from(JSON.stringify(body.value) ?? 'undefined', 'utf8');
    case 'bytes':
      return Buffer.from(body.value);
    case 'text':
      return Buffer.from(body.value, 'utf8');
    case 'oversized':
      return Buffer.alloc(body.bytes, 0x61);
  }
}

function timestampValue(spec: TimestampSpec, now: Date): string {
  if (spec.kind === 'now') return now.toISOString();
  if (spec.kind === 'skew') return new Date(now.getTime() + spec.seconds * 1000).toISOString();
  return spec.value;
}

export function materialize(badCase: BadCase, secret: string, now: Date): MaterializedRequest {
  const bytes = bodyBytes(badCase.body);
  const headers: Record<string, string> = {};
  const timestamp = badCase.timestamp === undefined ? undefined : timestampValue(badCase.timestamp, now);
  if (badCase.event !== undefined) headers[cased(NAMES.event, badCase.headerCase)] = badCase.event;
  if (badCase.deliveryId !== undefined) headers[cased(NAMES.deliveryId, badCase.headerCase)] = badCase.deliveryId;
  if (timestamp !== undefined) headers[cased(NAMES.timestamp, badCase.headerCase)] = timestamp;
  const signed = timestamp ?? now.toISOString();
  let signature: string | undefined;
  switch (badCase.signature.kind) {
    case 'valid':
      signature = sign(secret, signed, bytes);
      break;
    case 'none':
      signature = undefined;
      break;
    case 'raw':
      signature = badCase.signature.value;
      break;
    case 'wrong-secret':
      signature = sign(badCase.signature.secret, signed, bytes);
      break;
    case 'other-timestamp':
      signature = sign(secret, `${signed}0`, bytes);
      break;
    case 'other-body':
      signature = sign(secret, signed, Buffer.concat([bytes, Buffer.from(' ')]));
      break;
    case 'flipped': {
      const valid = sign(secret, signed, bytes);
      const last = valid.at(-1) === '0' ? '1' : '0';
      signature = `${valid.slice(0, -1)}${last}`;
      break;
    }
  }
  if (signature !== undefined) headers[cased(NAMES.signature, badCase.headerCase)] = signature;
  return { headers, bytes, encoding: badCase.encoding };
}

/** Printable ASCII: what an HTTP client can put in a header value. */
const headerText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength });

const goodId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/).map((id) => `${FUZZ_PREFIX}${id}`.slice(0, 128));
const event = fc.constantFrom<EventType>(...EVENT_TYPES);

/** A payload that would be valid for `event`. */
function validPayload(forEvent: EventType, jobId: string, canary: string): Record<string, unknown> {
  const data: Record<string, unknown> = { job_id: jobId, status: 'x', model: 'original', note: canary };
  if (forEvent === 'job.completed') data.output_url = 'https://cdn.example.com/out/x.webm';
  if (forEvent === 'job.failed') data.error = { code: 'processing_error', message: 'no' };
  return { event: forEvent, created_at: '2026-11-27T10:00:00.000Z', data };
}

/** Mutations that make a valid payload invalid for its event, whatever else is generated. */
const payloadDefects = (forEvent: EventType, jobId: string, canary: string): fc.Arbitrary<{ defect: string; value: unknown }> => {
  const base = validPayload(forEvent, jobId, canary);
  const data = base.data as Record<string, unknown>;
  const otherEvent = EVENT_TYPES.filter((candidate) => candidate !== forEvent);
  const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
  return fc.oneof(
    fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 4 }), fc.string()).map((value) => ({ defect: 'body is not an object', value })),
    fc.constant({ defect: 'data missing', value: { event: forEvent, created_at: base.created_at } }),
    fc.oneof(notAString, fc.constant('')).map((jobIdValue) => ({ defect: 'bad job id', value: { ...base, data: { ...data, job_id: jobIdValue } } })),
    fc.constant({ defect: 'job id too long', value: { ...base, data: { ...data, job_id: 'j'.repeat(257) } } }),
    fc.constant({ defect: 'no job id', value: { ...base, data: { ...data, job_id: undefined } } }),
    fc.constant({ defect: 'job_id and id disagree', value: { ...base, data: { ...data, id: `${jobId}x` } } }),
    fc.constantFrom(...otherEvent).map((other) => ({ defect: 'body event differs from header', value: { ...base, event: other } })),
    headerText(20).filter((text) => !(EVENT_TYPES as readonly string[]).includes(text)).map((text) => ({ defect: 'unknown body event', value: { ...base, event: `${canary}${text}` } })),
    notAString.map((value) => ({ defect: 'model not a string', value: { ...base, data: { ...data, model: value } } })),
    fc.oneof(fc.constant(-1), fc.constant('12'), fc.constant(null)).map((credits) => ({ defect: 'bad credits', value: { ...base, data: { ...data, credits_used: credits } } })),
    ...(forEvent === 'job.completed'
      ? [
          fc.constant({ defect: 'completed without output_url', value: { ...base, data: { ...data, output_url: undefined } } }),
          headerText(30).map((text) => ({ defect: 'output_url not a URL', value: { ...base, data: { ...data, output_url: `not a url ${canary}${text}` } } })),
        ]
      : []),
    ...(forEvent === 'job.failed'
      ? [
          fc.constant({ defect: 'failed without error', value: { ...base, data: { ...data, error: undefined } } }),
          fc.constant({ defect: 'error without code', value: { ...base, data: { ...data, error: { message: 'x' } } } }),
        ]
      : []),
  );
};

/** A valid JSON payload, for cases whose defect lies elsewhere. */
const anyPayload = (forEvent: string | undefined, canary: string): fc.Arbitrary<BodySpec> => {
  const chosen = (EVENT_TYPES as readonly string[]).includes(forEvent ?? '') ? (forEvent as EventType) : 'job.started';
  return fc.constant({ kind: 'payload', value: validPayload(chosen, `${FUZZ_PREFIX}job`, canary) });
};

const encoding = fc.constantFrom<'text' | 'base64'>('text', 'base64');
const headerCase = fc.constantFrom<BadCase['headerCase']>('lower', 'canonical', 'upper');

function headerDefectCase(canary: string): fc.Arbitrary<BadCase> {
  const common = { signature: { kind: 'valid' } as SignatureSpec };
  return fc.oneof(
    fc
      .record({ drop: fc.subarray(['event', 'deliveryId', 'timestamp'] as const, { minLength: 1 }), event, deliveryId: goodId, encoding, headerCase })
      .chain((r) =>
        anyPayload(r.event, canary).map<BadCase>((body) => ({
          defect: 'missing header',
          event: r.drop.includes('event') ? undefined : r.event,
          deliveryId: r.drop.includes('deliveryId') ? undefined : r.deliveryId,
          timestamp: r.drop.includes('timestamp') ? undefined : { kind: 'now' },
          ...common,
          body,
          encoding: r.encoding,
          headerCase: r.headerCase,
        })),
      ),
    fc
      .record({
        event: fc.oneof(headerText(30), fc.constantFrom('JOB.STARTED', 'job.started,job.started', 'job.Started', 'job.cancelled')),
        deliveryId: goodId,
        encoding,
        headerCase,
      })
      .filter((r) => !(EVENT_TYPES as readonly string[]).includes(r.event.trim()) && r.event.trim() !== '')
      .chain((r) => anyPayload('job.started', canary).map<BadCase>((body) => ({ defect: 'unknown event', ...r, timestamp: { kind: 'now' }, ...common, body }))),
    fc
      .record({
        event,
        deliveryId: fc.oneof(
          fc.stringMatching(/^[A-Za-z0-9._:-]{129,160}$/),
          // HTTP clients trim header values: an id that is only wrong by its blanks would arrive valid.
          headerText(40).filter((id) => id.trim() !== '' && !/^[A-Za-z0-9._:-]{1,128}$/.test(id.trim())),
          fc.constantFrom('../../etc/passwd', 'a b', 'id/with/slash', 'raw/2026/01', 'a%2Fb', 'x;y', '"quoted"'),
        ),
        encoding,
        headerCase,
      })
      .chain((r) => anyPayload(r.event, canary).map<BadCase>((body) => ({ defect: 'invalid delivery id', ...r, timestamp: { kind: 'now' }, ...common, body }))),
    fc
      .record({
        event,
        deliveryId: goodId,
        timestamp: fc.oneof(
          headerText(40).filter((text) => text.trim() !== ''),
          fc.constantFrom(
            '2026-11-27',
            '2026-11-27T10:00:00',
            '2026-11-27 10:00:00Z',
            '2026-02-30T10:00:00Z',
            '2026-11-27T24:00:00Z',
            '2026-11-27T10:00:00+25:00',
            '1764237600',
            'Fri, 27 Nov 2026 10:00:00 GMT',
            '+275760-09-13T00:00:00.000Z',
            '2026-11-27T10:00:00.000z',
          ),
        ),
        encoding,
        headerCase,
      })
      .chain((r) =>
        anyPayload(r.event, canary).map<BadCase>((body) => ({
          defect: 'malformed timestamp',
          event: r.event,
          deliveryId: r.deliveryId,
          timestamp: { kind: 'raw', value: r.timestamp },
          ...common,
          body,
          encoding: r.encoding,
          headerCase: r.headerCase,
        })),
      ),
    fc
      .record({ event, deliveryId: goodId, seconds: fc.oneof(fc.integer({ min: 302, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -302 })), encoding, headerCase })
      .chain((r) =>
        anyPayload(r.event, canary).map<BadCase>((body) => ({
          defect: 'stale timestamp',
          event: r.event,
          deliveryId: r.deliveryId,
          timestamp: { kind: 'skew', seconds: r.seconds },
          ...common,
          body,
          encoding: r.encoding,
          headerCase: r.headerCase,
        })),
      ),
  );
}

function signatureDefectCase(canary: string): fc.Arbitrary<BadCase> {
  const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
  const signature = fc.oneof(
    fc.constant<SignatureSpec>({ kind: 'none' }),
    fc.constant<SignatureSpec>({ kind: 'other-timestamp' }),
    fc.constant<SignatureSpec>({ kind: 'other-body' }),
    fc.constant<SignatureSpec>({ kind: 'flipped' }),
    fc.string({ minLength: 1, maxLength: 30 }).map<SignatureSpec>((secret) => ({ kind: 'wrong-secret', secret: `other-${secret}` })),
    fc
      .oneof(
        headerText(80),
        hex64.map((hex) => `sha256=${hex}`),
        hex64.map((hex) => `sha256=${hex.toUpperCase()}`),
        hex64.map((hex) => `sha1=${hex}`),
        hex64.map((hex) => hex),
        hex64.map((hex) => `sha256=${hex.slice(0, 63)}`),
        hex64.map((hex) => `sha256=${hex}0`),
        hex64.map((hex) => `sha256=${hex}, sha256=${hex}`),
        hex64.map((hex) => ` sha256=${hex}`),
        fc.constantFrom('sha256=', 'sha256', ''),
      )
      .map<SignatureSpec>((value) => ({ kind: 'raw', value })),
  );
  return fc
    .record({ event, deliveryId: goodId, signature, encoding, headerCase })
    .chain((r) => anyPayload(r.event, canary).map<BadCase>((body) => ({ defect: 'bad signature', ...r, timestamp: { kind: 'now' }, body })));
}

function bodyDefectCase(canary: string, maxOversize: number): fc.Arbitrary<BadCase> {
  const nonJson = fc.oneof(
    fc.string({ maxLength: 200 }).filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    }),
    fc.constantFrom('', '{', '{"data":', 'null,', '\u0000', '{"event":"job.started","data":{"job_id":"x"}}}', `${canary} plain text`),
  );
  const invalidUtf8 = fc
    .uint8Array({ minLength: 1, maxLength: 64 })
    .map((bytes) => Uint8Array.from([...bytes, 0xc3, 0x28, 0xff]));
  return fc.oneof(
    fc.record({ event, deliveryId: goodId, encoding, headerCase }).chain((r) =>
      payloadDefects(r.event, `${FUZZ_PREFIX}job`, canary).map<BadCase>((defect) => ({
        defect: `schema: ${defect.defect}`,
        ...r,
        timestamp: { kind: 'now' },
        signature: { kind: 'valid' },
        body: { kind: 'payload', value: defect.value },
      })),
    ),
    fc.record({ event, deliveryId: goodId, encoding, headerCase, text: nonJson }).map<BadCase>((r) => ({
      defect: 'not JSON',
      event: r.event,
      deliveryId: r.deliveryId,
      timestamp: { kind: 'now' },
      signature: { kind: 'valid' },
      body: { kind: 'text', value: r.text },
      encoding: r.encoding,
      headerCase: r.headerCase,
    })),
    fc.record({ event, deliveryId: goodId, headerCase, bytes: invalidUtf8 }).map<BadCase>((r) => ({
      defect: 'not UTF-8',
      event: r.event,
      deliveryId: r.deliveryId,
      timestamp: { kind: 'now' },
      signature: { kind: 'valid' },
      body: { kind: 'bytes', value: r.bytes },
      // Invalid UTF-8 only survives as bytes: API Gateway base64-encodes binary media types.
      encoding: 'base64',
      headerCase: r.headerCase,
    })),
    fc.record({ event, deliveryId: goodId, encoding, headerCase, extra: fc.integer({ min: 1, max: Math.max(1, maxOversize) }) }).map<BadCase>((r) => ({
      defect: 'too large',
      event: r.event,
      deliveryId: r.deliveryId,
      timestamp: { kind: 'now' },
      signature: { kind: 'valid' },
      body: { kind: 'oversized', bytes: RECEIVER_MAX_BODY_BYTES + r.extra },
      encoding: r.encoding,
      headerCase: r.headerCase,
    })),
  );
}

export interface BadCaseOptions {
  /** A marker placed in bodies, for the log scan. */
  readonly canary: string;
  /** Largest excess over the receiver's body limit; keep it small where memory or time matter. */
  readonly maxOversize?: number;
}

export function badCase(options: BadCaseOptions): fc.Arbitrary<BadCase> {
  return fc.oneof(
    headerDefectCase(options.canary),
    signatureDefectCase(options.canary),
    bodyDefectCase(options.canary, options.maxOversize ?? 4096),
  );
}
