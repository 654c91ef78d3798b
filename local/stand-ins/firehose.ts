/**
 * A local stand-in for Amazon Data Firehose: just enough of a Direct PUT stream
 * with an S3 destination for the receiver's batched archive, over the real
 * wire protocol (AWS JSON 1.1 on 127.0.0.1), so the SDK client, its retries and
 * the reliability harness's wire faults all run as against AWS.
 *
 * Implements
 * - `PutRecordBatch` (the only call the stack makes): up to 500 records and
 *   4 MiB per call, each record up to 1,000 KiB before base64
 *   (InvalidArgumentException otherwise, the whole call refused); an unknown
 *   stream is ResourceNotFoundException. A record the stand-in is told to fail
 *   (`recordFault`, for the harness) is answered inside HTTP 200 with
 *   `FailedPutCount` and its own `ErrorCode`, and is not kept, as AWS documents.
 * - buffering: records wait until the stream's buffer size (MiB, before
 *   compression) is reached or its interval passes, capped here at
 *   `maxIntervalSeconds` (default 2 s) so a local replay finds a delivery
 *   seconds after its ack instead of a minute;
 * - delivery: the records concatenated as sent (Firehose adds no delimiter),
 *   GZIP-compressed when the stream says so, as one S3 object (to fauxqs)
 *   named `<evaluated prefix><stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><extension>`;
 *   the prefix's `!{timestamp:…}` is evaluated at the approximate arrival of the
 *   oldest record in the object, in UTC; `!{firehose:random-string}` too. A
 *   failed write keeps the records for the next flush (Firehose retries for
 *   24 h); `stop()` flushes what is left.
 *
 * Leaves out PutRecord, the stream management calls, other destinations,
 * transformation, format conversion, dynamic partitioning, throttling by
 * quota (the harness injects it), SSE (nothing is at rest here but S3's own),
 * and the error prefix (only transformation or conversion failures go there).
 *
 * Follows: API_PutRecordBatch (docs.aws.amazon.com/firehose/latest/APIReference),
 * "Amazon Data Firehose Quota" (limits.html), "Understand custom prefixes for
 * Amazon S3 objects" (s3-prefixes.html), "Configure Amazon S3 object name
 * format" (s3-object-name.html), "Configure buffering hints" and the
 * "Data Delivery Format" section of basic-deliver.html.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SERVICE_LIMITS } from '../../lambda/core/contract';
import { LOOPBACK_HOST } from '../net';
import { answerAwsJson, readRequestText } from './aws-json';

export interface LocalStreamConfig {
  readonly name: string;
  readonly bucket: string;
  /** Firehose's prefix expression (`!{timestamp:…}`, `!{firehose:random-string}`). */
  readonly prefix: string;
  readonly compression: 'GZIP' | 'UNCOMPRESSED';
  /** @default '.gz' with GZIP, none otherwise */
  readonly fileExtension?: string;
  readonly bufferingIntervalSeconds: number;
  readonly bufferingSizeMiB: number;
}

export interface FirehoseStandInOptions {
  readonly s3: S3Client;
  readonly streams: readonly LocalStreamConfig[];
  readonly region: string;
  /** Upper bound on a stream's buffering interval here. @default 2 */
  readonly maxIntervalSeconds?: number;
  /** 0 (default) lets the kernel pick a free loopback port. */
  readonly port?: number;
  /** Decides a record's failure inside a 200 answer (the harness's partial-batch faults). */
  readonly recordFault?: (data: Buffer) => 'ServiceUnavailableException' | 'InternalFailure' | undefined;
  readonly log?: (message: string) => void;
}

export interface FirehoseStandInStats {
  readonly calls: number;
  readonly recordsAccepted: number;
  readonly recordsFailed: number;
  readonly objectsWritten: number;
  readonly bytesIn: number;
  readonly bytesWritten: number;
}

export interface FirehoseStandIn {
  readonly endpoint: string;
  readonly port: number;
  /** Writes every buffered record now. */
  flush(): Promise<void>;
  stats(): FirehoseStandInStats;
  stop(): Promise<void>;
}

const TARGET_PREFIX = 'Firehose_20150804.';

interface Buffered {
  readonly data: Buffer;
  readonly arrival: Date;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/**
 * The subset of Java's DateTimeFormatter a prefix uses: yyyy, MM, dd, HH, mm,
 * ss and literal separators. Anything else is refused when the stream is set
 * up, so a template this stand-in cannot render fails loudly.
 */
export function formatFirehoseTimestamp(pattern: string, instant: Date): string {
  const fields: Record<string, string> = {
    yyyy: String(instant.getUTCFullYear()),
    MM: pad(instant.getUTCMonth() + 1),
    dd: pad(instant.getUTCDate()),
    HH: pad(instant.getUTCHours()),
    mm: pad(instant.getUTCMinutes()),
    ss: pad(instant.getUTCSeconds()),
  };
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss|[A-Za-z]+/g, (token) => {
    const value = fields[token];
    if (value === undefined) throw new Error(`unsupported timestamp pattern "${token}" in "${pattern}"`);
    return value;
  });
}

/** Evaluates a Firehose S3 prefix expression for an object whose oldest record arrived at `arrival`. */
export function renderFirehosePrefix(expression: string, arrival: Date): string {
  return expression.replace(/!\{([a-zA-Z]+):([^}]*)\}/g, (_match, namespace: string, value: string) => {
    if (namespace === 'timestamp') return formatFirehoseTimestamp(value, arrival);
    if (namespace === 'firehose' && value === 'random-string') return randomBytes(8).toString('base64url').slice(0, 11);
    throw new Error(`unsupported prefix expression !{${namespace}:${value}}`);
  });
}

function objectName(stream: LocalStreamConfig, arrival: Date): string {
  const time = [arrival.getUTCFullYear(), pad(arrival.getUTCMonth() + 1), pad(arrival.getUTCDate()), pad(arrival.getUTCHours()), pad(arrival.getUTCMinutes()), pad(arrival.getUTCSeconds())].join('-');
  const extension = stream.fileExtension ?? (stream.compression === 'GZIP' ? '.gz' : '');
  return `${stream.name}-1-${time}-${randomUUID()}${extension}`;
}

class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}



export async function startFirehoseStandIn(options: FirehoseStandInOptions): Promise<FirehoseStandIn> {
  const log = options.log ?? (() => undefined);
  const maxInterval = options.maxIntervalSeconds ?? 2;
  const streams = new Map(options.streams.map((stream) => [stream.name, stream]));
  for (const stream of streams.values()) renderFirehosePrefix(stream.prefix, new Date());
  const buffers = new Map<string, Buffered[]>(options.streams.map((stream) => [stream.name, []]));
  const stats = { calls: 0, recordsAccepted: 0, recordsFailed: 0, objectsWritten: 0, bytesIn: 0, bytesWritten: 0 };
  let flushing: Promise<void> = Promise.resolve();

  const writeStream = async (stream: LocalStreamConfig): Promise<void> => {
    const records = buffers.get(stream.name) ?? [];
    if (records.length === 0) return;
    buffers.set(stream.name, []);
    const oldest = records.reduce((min, record) => (record.arrival < min ? record.arrival : min), records[0].arrival);
    const raw = Buffer.concat(records.map((record) => record.data));
    const body = stream.compression === 'GZIP' ? gzipSync(raw) : raw;
    const key = `${renderFirehosePrefix(stream.prefix, oldest)}${objectName(stream, oldest)}`;
    try {
      await options.s3.send(new PutObjectCommand({ Bucket: stream.bucket, Key: key, Body: body }));
      stats.objectsWritten += 1;
      stats.bytesWritten += body.length;
    } catch (error) {
      // As Firehose does, keep them and try again (it gives up after 24 h; here, never).
      buffers.set(stream.name, [...records, ...(buffers.get(stream.name) ?? [])]);
      log(`firehose stand-in: writing ${records.length} records of ${stream.name} failed (${error instanceof Error ? error.message : String(error)}); retrying`);
    }
  };
  const flush = (): Promise<void> => {
    flushing = flushing.then(async () => {
      for (const stream of streams.values()) await writeStream(stream);
    });
    return flushing;
  };
  const dueTimers = new Map<string, NodeJS.Timeout>();
  const schedule = (stream: LocalStreamConfig): void => {
    if (dueTimers.has(stream.name)) return;
    const seconds = Math.min(stream.bufferingIntervalSeconds, maxInterval);
    const timer = setTimeout(() => {
      dueTimers.delete(stream.name);
      void flush().then(() => {
        if ((buffers.get(stream.name)?.length ?? 0) > 0) schedule(stream);
      });
    }, seconds * 1000);
    timer.unref();
    dueTimers.set(stream.name, timer);
  };

  const putRecordBatch = (input: { DeliveryStreamName?: unknown; Records?: unknown }): unknown => {
    const stream = typeof input.DeliveryStreamName === 'string' ? streams.get(input.DeliveryStreamName) : undefined;
    if (stream === undefined) throw new AwsJsonError('ResourceNotFoundException', `Firehose ${String(input.DeliveryStreamName)} not found.`);
    if (!Array.isArray(input.Records) || input.Records.length === 0) throw new AwsJsonError('InvalidArgumentException', 'Records must contain at least 1 record.');
    if (input.Records.length > SERVICE_LIMITS.firehoseMaxBatchRecords) {
      throw new AwsJsonError('InvalidArgumentException', `Records has more than ${SERVICE_LIMITS.firehoseMaxBatchRecords} records.`);
    }
    const blobs = input.Records.map((record: { Data?: unknown }) => Buffer.from(typeof record?.Data === 'string' ? record.Data : '', 'base64'));
    const total = blobs.reduce((sum, blob) => sum + blob.length, 0);
    if (total > SERVICE_LIMITS.firehoseMaxBatchBytes) throw new AwsJsonError('InvalidArgumentException', 'Request size exceeds 4 MiB.');
    const tooLarge = blobs.findIndex((blob) => blob.length > SERVICE_LIMITS.firehoseMaxRecordBytes);
    if (tooLarge >= 0) throw new AwsJsonError('InvalidArgumentException', `Record ${tooLarge} exceeds 1000 KiB.`);
    const arrival = new Date();
    let failed = 0;
    const responses = blobs.map((data) => {
      const fault = options.recordFault?.(data);
      if (fault !== undefined) {
        failed += 1;
        return { ErrorCode: fault, ErrorMessage: fault === 'ServiceUnavailableException' ? 'Slow down.' : 'Internal service failure.' };
      }
      buffers.get(stream.name)?.push({ data, arrival });
      return { RecordId: randomBytes(28).toString('base64') };
    });
    stats.recordsAccepted += blobs.length - failed;
    stats.recordsFailed += failed;
    stats.bytesIn += total;
    const buffered = (buffers.get(stream.name) ?? []).reduce((sum, record) => sum + record.data.length, 0);
    if (buffered >= stream.bufferingSizeMiB * 1024 * 1024) void flush();
    else schedule(stream);
    return { FailedPutCount: failed, Encrypted: false, RequestResponses: responses };
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        const body = await readRequestText(request);
        const target = String(request.headers['x-amz-target'] ?? '');
        if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) throw new AwsJsonError('UnknownOperationException', 'Unknown operation.');
        const operation = target.slice(TARGET_PREFIX.length);
        if (operation !== 'PutRecordBatch') throw new AwsJsonError('UnknownOperationException', `${operation} is not implemented by the local Firehose stand-in.`);
        stats.calls += 1;
        answerAwsJson(response, 200, putRecordBatch(JSON.parse(body || '{}') as Record<string, unknown>));
      } catch (error) {
        if (error instanceof AwsJsonError) answerAwsJson(response, error.status, { __type: error.type, message: error.message }, error.type);
        else answerAwsJson(response, 500, { __type: 'InternalFailure', message: error instanceof Error ? error.message : String(error) }, 'InternalFailure');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: LOOPBACK_HOST }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    flush,
    stats: () => ({ ...stats }),
    stop: () =>
      (stopping ??= (async () => {
        for (const timer of dueTimers.values()) clearTimeout(timer);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await flush();
      })()),
  };
}
