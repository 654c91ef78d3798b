/**
 * Ports: the only way the core reaches the outside world. Adapters in
 * `lambda/adapters` implement them against AWS; tests implement them in memory.
 */
import type { EventType, Origin } from './contract';
import type { JobEvent, JobItem } from './job-state';

/** One signing secret version, as Secrets Manager's version stages describe it. */
export interface SecretVersion {
  readonly value: string;
  /** When this version was created; AWSPREVIOUS stays valid for a grace period after AWSCURRENT's creation. */
  readonly createdAt: Date;
}

export interface SigningSecrets {
  readonly current?: SecretVersion;
  readonly previous?: SecretVersion;
}

export interface SecretSource {
  /** Returns the current (and, if any, previous) secret versions. Cached by the implementation. */
  getSigningSecrets(): Promise<SigningSecrets>;
  /**
   * After a signature failed under `seen`: the secrets as they are now, if they
   * differ from `seen` (read again unless a read just happened: one at a time,
   * rate-limited), so a `put-secret-value` is seen at once rather than after the
   * cache period. Undefined when nothing newer exists. Throws
   * `SecretUnavailableError` when the secret cannot be read now, since a
   * mismatch may then be a rotation not yet seen.
   */
  refreshSigningSecrets(seen: SigningSecrets): Promise<SigningSecrets | undefined>;
}

/** True when both hold the same secret values (creation dates aside). */
export function sameSecrets(a: SigningSecrets, b: SigningSecrets): boolean {
  return a.current?.value === b.current?.value && a.previous?.value === b.previous?.value;
}

/** The dedupe record of one delivery. */
export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly status: 'in_progress' | 'accepted';
  readonly bodySha256: string;
  /** Epoch milliseconds until which an in-progress attempt owns the delivery. */
  readonly leaseExpiresAt: number;
  /** ISO receipt time of the first attempt: fixes the archive key across retries. */
  readonly receivedAt: string;
  /** Epoch seconds, the DynamoDB TTL attribute. */
  readonly expiresAt: number;
  readonly attemptId: string;
}

export interface ClaimRequest {
  readonly deliveryId: string;
  readonly bodySha256: string;
  readonly attemptId: string;
  readonly now: Date;
  readonly leaseSeconds: number;
  readonly ttlSeconds: number;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly record: DeliveryRecord }
  | { readonly kind: 'exists'; readonly record: DeliveryRecord };

export interface DeliveryStore {
  /** Conditionally claims the delivery id; when another record holds it, returns that record. */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Marks the claimed delivery accepted (the record then lives until its TTL). */
  markAccepted(deliveryId: string, attemptId: string): Promise<void>;
  /** Lets the lease lapse at once so the provider's retry can claim it again. */
  release(deliveryId: string, attemptId: string): Promise<void>;
}

export interface ArchiveLocation {
  readonly bucket: string;
  readonly key: string;
}

export interface ArchivedDelivery {
  readonly rawBody: Uint8Array;
  readonly event: string;
  readonly deliveryId: string;
  readonly timestamp: string;
  readonly signature?: string;
  readonly receivedAt: string;
  readonly bodySha256: string;
  readonly jobId?: string;
  /**
   * Absent on the receiver's deliveries (webhook). `reconcile` on the
   * reconciler's provider answers, which carry no signature: replay accepts an
   * unsigned entry for that origin only.
   */
  readonly origin?: Origin;
}

export interface Archive {
  put(key: string, delivery: ArchivedDelivery): Promise<ArchiveLocation>;
  get(location: ArchiveLocation): Promise<ArchivedDelivery>;
}

/** The small message the receiver enqueues and the worker consumes. */
export interface QueueMessage {
  readonly v: number;
  readonly deliveryId: string;
  readonly event: EventType;
  readonly jobId: string;
  /** The provider's signed X-Webhook-Timestamp. */
  readonly timestamp: string;
  readonly receivedAt: string;
  readonly archive: ArchiveLocation;
  /** The parsed payload when it fits in one SQS chunk; otherwise the worker reads the archive (claim check). */
  readonly payload?: unknown;
  readonly replay?: boolean;
  /** Replays only: re-apply even if this delivery id was applied before (still monotonic). */
  readonly force?: boolean;
  /**
   * Who produced the event. Absent on the receiver's own messages (and on those
   * of older versions): `replay` when `replay` is set, otherwise `webhook`.
   */
  readonly origin?: Origin;
}

export interface Queue {
  send(message: QueueMessage): Promise<void>;
}

export interface JobStore {
  /** Applies one event with one conditional write; see `job-state.ts` for the rules. */
  apply(event: JobEvent, options: { readonly force: boolean; readonly now: Date }): Promise<ApplyOutcome>;
  get(jobId: string): Promise<JobItem | undefined>;
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale' | 'conflict';
