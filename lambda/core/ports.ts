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
  /** A per-delivery object's key; for a batched entry, the hour's batch folder it is written under. */
  readonly key: string;
  /** True when the entry is a line of a batched object (the key is then a folder, not an object). */
  readonly batched?: boolean;
}

/**
 * One archived delivery: the exact bytes, the signed headers and the receipt
 * facts, whichever way it was stored (its own object, or one line of a batched
 * object). A reconciler's entry is one too: `origin: 'reconcile'`, no signature.
 */
export interface ArchivedDelivery {
  readonly rawBody: Uint8Array;
  readonly event: string;
  readonly deliveryId: string;
  /** The signed X-Webhook-Timestamp (for a reconcile entry, when the provider answered). */
  readonly timestamp: string;
  readonly signature?: string;
  /** The first attempt's receipt time: the same for every retry of one delivery, and what replay windows filter on. */
  readonly receivedAt: string;
  readonly bodySha256: string;
  readonly jobId?: string;
  /**
   * Absent on the receiver's deliveries (webhook) and on entries written before
   * origins existed. `reconcile` on the reconciler's provider answers, which
   * carry no signature: replay accepts an unsigned entry for that origin only.
   */
  readonly origin?: Origin;
  /**
   * This attempt's own receipt time. Attempts that failed may have archived
   * too; of several entries for one delivery id the latest attempt is the one
   * the dedupe record accepted. Absent on older entries: `receivedAt`.
   */
  readonly attemptAt?: string;
}

/** Per-delivery objects: readable as soon as `put` resolves (the claim-check route, and every entry before batching). */
export interface Archive {
  put(key: string, delivery: ArchivedDelivery): Promise<ArchiveLocation>;
  get(location: ArchiveLocation): Promise<ArchivedDelivery>;
}

/**
 * The batched archive (Amazon Data Firehose into GZIP objects under the
 * receipt-hour prefix). `append` resolves once the service has accepted every
 * entry, which it then keeps until they are written (up to 24 h); the objects
 * appear within its buffering interval, so nothing reads an entry back right
 * away. Throws `BatchArchiveError` naming the entries that were not accepted.
 */
export interface BatchArchive {
  append(deliveries: readonly ArchivedDelivery[]): Promise<void>;
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
  /** The parsed payload when the message can carry it; otherwise the worker reads the archive (claim check). */
  readonly payload?: unknown;
  /**
   * Claim checks only: the instant by which the archive object exists if its
   * attempt acknowledged the delivery. A missing object after it means the
   * attempt failed (it answered 5xx), so the message is dropped, not retried.
   */
  readonly archiveBy?: string;
  readonly replay?: boolean;
  /** Replays only: re-apply even if this delivery id was applied before (still monotonic). */
  readonly force?: boolean;
  /**
   * Who produced the event. Absent on the receiver's own messages (and on those
   * of older versions): `replay` when `replay` is set, otherwise `webhook`.
   */
  readonly origin?: Origin;
}

export interface SendOptions {
  /** Seconds before the message can be received (SQS DelaySeconds). */
  readonly delaySeconds?: number;
}

export interface Queue {
  send(message: QueueMessage, options?: SendOptions): Promise<void>;
}

/** The worker's queue, for the one thing the event source does not do: bring a message back sooner. */
export interface MessageVisibility {
  /** The message (by its receipt handle) becomes visible again in `seconds`. */
  retryIn(receiptHandle: string, seconds: number): Promise<void>;
}

export interface JobStore {
  /** Applies one event with one conditional write; see `job-state.ts` for the rules. */
  apply(event: JobEvent, options: { readonly force: boolean; readonly now: Date }): Promise<ApplyOutcome>;
  get(jobId: string): Promise<JobItem | undefined>;
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'stale' | 'conflict';
