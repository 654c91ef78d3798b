/** In-memory ports with the same semantics as the AWS adapters, plus failure injection. */
import { batchFolder } from '../../../../lambda/core/archive-key';
import { ARCHIVE_BATCH_EXTENSION } from '../../../../lambda/core/contract';
import { encodeArchiveLine } from '../../../../lambda/core/archive/record';
import type {
  Archive,
  ArchivedDelivery,
  BatchArchive,
  ArchiveLocation,
  ClaimRequest,
  ClaimResult,
  DeliveryRecord,
  DeliveryStore,
  Queue,
  QueueMessage,
  SecretSource,
  SendOptions,
  SigningSecrets,
} from '../../../../lambda/core/ports';
import { sameSecrets } from '../../../../lambda/core/ports';
import { ArchiveError, BatchArchiveError, DeliveryLeaseLostError, DeliveryStoreError, QueueError } from '../../../../lambda/core/errors';
import type { InvocationLogger, InvocationMetrics } from '../../../../lambda/adapters/powertools-ports';
import type { MetricName } from '../../../../lambda/core/receive';

type StoreOperation = 'claim' | 'markAccepted' | 'release';

export class InMemoryDeliveryStore implements DeliveryStore {
  readonly records = new Map<string, DeliveryRecord>();
  readonly calls: StoreOperation[] = [];
  private readonly failures = new Map<StoreOperation, number>();
  private readonly lostAnswers = new Map<StoreOperation, number>();

  /** The next `times` calls of `operation` fail as the adapter would on a DynamoDB outage. */
  failNext(operation: StoreOperation, times = 1): void {
    this.failures.set(operation, times);
  }

  /** The next call of `operation` is applied, then fails as a time-out would after the table acted. */
  loseAnswerNext(operation: StoreOperation): void {
    this.lostAnswers.set(operation, 1);
  }

  private maybeFail(operation: StoreOperation): void {
    this.calls.push(operation);
    const remaining = this.failures.get(operation) ?? 0;
    if (remaining > 0) {
      this.failures.set(operation, remaining - 1);
      throw new DeliveryStoreError(`deliveries table ${operation} failed (ProvisionedThroughputExceededException)`);
    }
  }

  private async applied<T>(operation: StoreOperation, act: () => T): Promise<T> {
    this.maybeFail(operation);
    const result = act();
    if ((this.lostAnswers.get(operation) ?? 0) > 0) {
      this.lostAnswers.set(operation, 0);
      throw new DeliveryStoreError(`deliveries table ${operation} failed (TimeoutError)`);
    }
    return result;
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.applied('claim', () => this.claimNow(request));
  }

  private claimNow(request: ClaimRequest): ClaimResult {
    const nowMs = request.now.getTime();
    const nowSeconds = Math.floor(nowMs / 1000);
    const existing = this.records.get(request.deliveryId);
    // What the adapter reads off ALL_OLD when the SDK retried our own applied claim.
    if (existing?.attemptId === request.attemptId && existing.status === 'in_progress') return { kind: 'claimed', record: existing };
    const claimable =
      existing === undefined ||
      existing.expiresAt < nowSeconds ||
      (existing.status === 'in_progress' && existing.leaseExpiresAt < nowMs);
    if (!claimable) return { kind: 'exists', record: existing };
    const record: DeliveryRecord = {
      deliveryId: request.deliveryId,
      status: 'in_progress',
      bodySha256: request.bodySha256,
      leaseExpiresAt: nowMs + request.leaseSeconds * 1000,
      attemptId: request.attemptId,
      expiresAt: nowSeconds + request.ttlSeconds,
      receivedAt: existing?.receivedAt ?? request.now.toISOString(),
    };
    this.records.set(request.deliveryId, record);
    return { kind: 'claimed', record };
  }

  markAccepted(deliveryId: string, attemptId: string): Promise<void> {
    return this.applied('markAccepted', () => this.markNow(deliveryId, attemptId));
  }

  private markNow(deliveryId: string, attemptId: string): void {
    const record = this.records.get(deliveryId);
    if (record?.status === 'accepted') return;
    if (record?.attemptId !== attemptId) throw new DeliveryLeaseLostError(`delivery ${deliveryId} was taken over`);
    this.records.set(deliveryId, { ...record, status: 'accepted' });
  }

  release(deliveryId: string, attemptId: string): Promise<void> {
    return this.applied('release', () => this.releaseNow(deliveryId, attemptId));
  }

  private releaseNow(deliveryId: string, attemptId: string): void {
    const record = this.records.get(deliveryId);
    if (record?.attemptId === attemptId && record.status === 'in_progress') {
      this.records.set(deliveryId, { ...record, leaseExpiresAt: 0 });
    }
  }
}

export class InMemoryArchive implements Archive {
  readonly objects = new Map<string, ArchivedDelivery>();
  puts = 0;
  private failures = 0;

  constructor(readonly bucket = 'archive-bucket') {}

  failNext(times = 1): void {
    this.failures = times;
  }

  async put(key: string, delivery: ArchivedDelivery): Promise<ArchiveLocation> {
    this.puts += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new ArchiveError('archive put failed (ServiceUnavailable)');
    }
    this.objects.set(key, { ...delivery, rawBody: Uint8Array.from(delivery.rawBody) });
    return { bucket: this.bucket, key };
  }

  async get(location: ArchiveLocation): Promise<ArchivedDelivery> {
    const object = this.objects.get(location.key);
    if (!object) throw new ArchiveError(`no object ${location.key}`);
    return object;
  }
}

/**
 * The batched archive as Firehose keeps it: accepted lines, in order, written
 * (`objects()`) as one object per hour folder of their first receipt, the way
 * the replay and the tests read them back.
 */
export class InMemoryBatchArchive implements BatchArchive {
  readonly lines: { readonly delivery: ArchivedDelivery; readonly line: string }[] = [];
  appends = 0;
  private failures = 0;

  failNext(times = 1): void {
    this.failures = times;
  }

  async append(deliveries: readonly ArchivedDelivery[]): Promise<void> {
    this.appends += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new BatchArchiveError('archive append failed for 1 of 1 entries (ServiceUnavailableException)', deliveries.map((_, index) => index));
    }
    for (const delivery of deliveries) this.lines.push({ delivery, line: encodeArchiveLine(delivery) });
  }

  /** Object key -> its (uncompressed) text. */
  objects(): Map<string, string> {
    const objects = new Map<string, string>();
    for (const { delivery, line } of this.lines) {
      const key = `${batchFolder(delivery.receivedAt)}local-1-batch${ARCHIVE_BATCH_EXTENSION}`;
      objects.set(key, (objects.get(key) ?? '') + line);
    }
    return objects;
  }
}

export class InMemoryQueue implements Queue {
  readonly messages: QueueMessage[] = [];
  sends = 0;
  private failures = 0;

  failNext(times = 1): void {
    this.failures = times;
  }

  /** The send options of each message, in order. */
  readonly options: (SendOptions | undefined)[] = [];

  async send(message: QueueMessage, options?: SendOptions): Promise<void> {
    this.sends += 1;
    this.options.push(options);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new QueueError('enqueue failed (QueueDoesNotExist)');
    }
    this.messages.push(message);
  }
}

export class MutableSecretSource implements SecretSource {
  fetches = 0;
  failure?: Error;

  constructor(public secrets: SigningSecrets) {}

  async getSigningSecrets(): Promise<SigningSecrets> {
    this.fetches += 1;
    if (this.failure) throw this.failure;
    return this.secrets;
  }

  /** What Secrets Manager holds now, when the cached `secrets` are stale (a put-secret-value the cache has not seen). */
  latest?: SigningSecrets;
  refreshes = 0;
  refreshFailure?: Error;

  async refreshSigningSecrets(seen: SigningSecrets): Promise<SigningSecrets | undefined> {
    this.refreshes += 1;
    if (this.refreshFailure) throw this.refreshFailure;
    const latest = this.latest ?? this.secrets;
    if (sameSecrets(seen, latest)) return undefined;
    this.secrets = latest;
    return latest;
  }
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
  readonly correlationId?: string;
}

export class CapturingLogger implements InvocationLogger {
  readonly lines: LogLine[] = [];
  private correlationId?: string;

  info(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', message, attributes, correlationId: this.correlationId });
  }

  warn(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', message, attributes, correlationId: this.correlationId });
  }

  error(message: string, attributes: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', message, attributes, correlationId: this.correlationId });
  }

  setCorrelationId(value: string): void {
    this.correlationId = value;
  }

  beginInvocation(): void {
    this.correlationId = undefined;
  }

  /** Everything logged, as one string, for "never contains" assertions. */
  text(): string {
    return JSON.stringify(this.lines);
  }
}

export class CapturingMetrics implements InvocationMetrics {
  readonly counts: { name: MetricName; dimensions?: Readonly<Record<string, string>> }[] = [];
  /** Flushes that wrote something: a `publishWith` line, or a `publish` with counts pending. */
  published = 0;
  /** Lines written with `publishWith`: each carries the counts made since the last flush. */
  readonly lines: { message: string; attributes: Record<string, unknown>; counts: MetricName[] }[] = [];
  /** Calls of `publish`, the handler's end-of-invocation flush. */
  publishCalls = 0;
  private pending: MetricName[] = [];

  /** `logger` also receives each `publishWith` line, as CloudWatch Logs would (one stream for both). */
  constructor(private readonly logger?: CapturingLogger) {}

  count(name: MetricName, dimensions?: Readonly<Record<string, string>>): void {
    this.counts.push({ name, dimensions });
    if (dimensions === undefined) this.pending.push(name);
  }

  publishWith(message: string, attributes: Record<string, unknown>): void {
    this.lines.push({ message, attributes, counts: this.pending });
    this.logger?.lines.push({ level: 'info', message, attributes: { ...attributes, withMetrics: true } });
    this.pending = [];
    this.published += 1;
  }

  publish(): void {
    this.publishCalls += 1;
    if (this.pending.length > 0) this.published += 1;
    this.pending = [];
  }

  total(name: MetricName): number {
    return this.counts.filter((count) => count.name === name && count.dimensions === undefined).length;
  }
}
