/** Factories and in-memory ports for the worker tests. */
import type { EventType } from '../../../lambda/core/contract';
import { QUEUE_MESSAGE_VERSION } from '../../../lambda/core/contract';
import { ArchiveObjectMissingError } from '../../../lambda/core/errors';
import { applyToItem, decide, type JobEvent, type JobItem } from '../../../lambda/core/job-state';
import type { ApplyOutcome, Archive, ArchivedDelivery, ArchiveLocation, JobStore, QueueMessage } from '../../../lambda/core/ports';
import type { WorkerLogger, WorkerMetricName, WorkerPorts } from '../../../lambda/core/worker';

export const NOW = new Date('2026-11-27T12:00:00.000Z');

export function jobEvent(overrides: Partial<JobEvent> = {}): JobEvent {
  return {
    jobId: 'job_8f3a',
    deliveryId: 'dlv_started_1',
    event: 'job.started',
    eventAt: '2026-11-27T10:00:00.000Z',
    model: 'original',
    outputFormat: 'webm',
    background: 'transparent',
    ...overrides,
  };
}

export function completed(overrides: Partial<JobEvent> = {}): JobEvent {
  return jobEvent({
    event: 'job.completed',
    deliveryId: 'dlv_completed_1',
    eventAt: '2026-11-27T10:05:00.000Z',
    outputUrl: 'https://cdn.example.com/out/job_8f3a.webm',
    creditsUsed: 12,
    ...overrides,
  });
}

export function failed(overrides: Partial<JobEvent> = {}): JobEvent {
  return jobEvent({
    event: 'job.failed',
    deliveryId: 'dlv_failed_1',
    eventAt: '2026-11-27T10:06:00.000Z',
    error: { code: 'insufficient_credits', message: 'not enough credits' },
    ...overrides,
  });
}

export function payloadFor(event: EventType, jobId = 'job_8f3a', data: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event,
    created_at: '2026-11-27T10:00:00.000Z',
    data: {
      job_id: jobId,
      status: event.slice(4),
      model: 'original',
      output_format: 'webm',
      bg_type: 'transparent',
      ...(event === 'job.completed' ? { output_url: `https://cdn.example.com/out/${jobId}.webm`, credits_used: 12 } : {}),
      ...(event === 'job.failed' ? { error: { code: 'insufficient_credits', message: 'not enough credits' } } : {}),
      ...data,
    },
  };
}

export function queueMessage(overrides: Partial<QueueMessage> & { payload?: unknown } = {}): QueueMessage {
  const event = overrides.event ?? 'job.started';
  const jobId = overrides.jobId ?? 'job_8f3a';
  const deliveryId = overrides.deliveryId ?? 'dlv_started_1';
  return {
    v: QUEUE_MESSAGE_VERSION,
    deliveryId,
    event,
    jobId,
    timestamp: '2026-11-27T10:00:01.000Z',
    receivedAt: '2026-11-27T10:00:02.000Z',
    archive: { bucket: 'archive-bucket', key: `raw/2026/11/27/10/${deliveryId}.json` },
    payload: payloadFor(event, jobId),
    ...overrides,
  };
}

/** The pure model behind the `JobStore` port: what the DynamoDB adapter must behave like. */
export class InMemoryJobStore implements JobStore {
  readonly items = new Map<string, JobItem>();
  readonly calls: JobEvent[] = [];

  async apply(event: JobEvent, options: { readonly force: boolean; readonly now: Date }): Promise<ApplyOutcome> {
    this.calls.push(event);
    const current = this.items.get(event.jobId);
    const decision = decide(current, event, options);
    this.items.set(event.jobId, applyToItem(current, event, options, options.now));
    return decision === 'apply' ? 'applied' : decision;
  }

  async get(jobId: string): Promise<JobItem | undefined> {
    return this.items.get(jobId);
  }
}

export class InMemoryArchive implements Archive {
  readonly objects = new Map<string, ArchivedDelivery>();
  readonly reads: ArchiveLocation[] = [];

  async put(key: string, delivery: ArchivedDelivery): Promise<ArchiveLocation> {
    this.objects.set(key, delivery);
    return { bucket: 'archive-bucket', key };
  }

  async get(location: ArchiveLocation): Promise<ArchivedDelivery> {
    this.reads.push(location);
    const object = this.objects.get(location.key);
    if (object === undefined) throw new Error(`NoSuchKey: ${location.key}`);
    return object;
  }
}

/** An archive that has no object at all, and says so as S3 does to a reader allowed s3:ListBucket. */
export class MissingObjects extends InMemoryArchive {
  /** `reason` replaces the default message (an object that does not exist). */
  constructor(private readonly reason?: string) {
    super();
  }

  async get(location: ArchiveLocation): Promise<ArchivedDelivery> {
    this.reads.push(location);
    throw new ArchiveObjectMissingError(this.reason ?? `archive object ${location.key} does not exist`);
  }
}

/** One SQS record of the batch: a body given as a string is sent as is, anything else as its JSON. */
export function record(messageId: string, body: unknown): { messageId: string; body: string } {
  return { messageId, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

export function archivedDelivery(message: QueueMessage, rawBody: string): ArchivedDelivery {
  return {
    rawBody: new TextEncoder().encode(rawBody),
    event: message.event,
    deliveryId: message.deliveryId,
    timestamp: message.timestamp,
    receivedAt: message.receivedAt,
    bodySha256: '0'.repeat(64),
    jobId: message.jobId,
  };
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly correlationId: string | undefined;
  readonly attributes: Record<string, unknown>;
}

export function recordingPorts(ports: Partial<WorkerPorts> & Pick<WorkerPorts, 'jobStore'>): {
  ports: WorkerPorts;
  logs: LogLine[];
  metrics: WorkerMetricName[];
} {
  const logs: LogLine[] = [];
  const metrics: WorkerMetricName[] = [];
  const loggerFor = (correlationId: string | undefined): WorkerLogger => ({
    info: (message, attributes) => logs.push({ level: 'info', message, correlationId, attributes }),
    warn: (message, attributes) => logs.push({ level: 'warn', message, correlationId, attributes }),
    error: (message, attributes) => logs.push({ level: 'error', message, correlationId, attributes }),
  });
  return {
    ports: {
      archive: new InMemoryArchive(),
      loggerFor,
      count: (metric) => metrics.push(metric),
      now: () => NOW,
      ...ports,
    },
    logs,
    metrics,
  };
}
