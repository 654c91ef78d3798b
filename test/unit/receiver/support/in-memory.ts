/** In-memory ports with the same semantics as the AWS adapters, plus failure injection. */
import type {
  Archive,
  ArchivedDelivery,
  ArchiveLocation,
  ClaimRequest,
  ClaimResult,
  DeliveryRecord,
  DeliveryStore,
  Queue,
  QueueMessage,
  SecretSource,
  SigningSecrets,
} from '../../../../lambda/core/ports';
import { sameSecrets } from '../../../../lambda/core/ports';
import { ArchiveError, DeliveryLeaseLostError, DeliveryStoreError, QueueError } from '../../../../lambda/core/errors';
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

export class InMemoryQueue implements Queue {
  readonly messages: QueueMessage[] = [];
  sends = 0;
  private failures = 0;

  failNext(times = 1): void {
    this.failures = times;
  }

  async send(message: QueueMessage): Promise<void> {
    this.sends += 1;
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
  published = 0;

  count(name: MetricName, dimensions?: Readonly<Record<string, string>>): void {
    this.counts.push({ name, dimensions });
  }

  publish(): void {
    this.published += 1;
  }

  total(name: MetricName): number {
    return this.counts.filter((count) => count.name === name && count.dimensions === undefined).length;
  }
}
