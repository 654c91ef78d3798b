/**
 * The pure part of a replay: which hour prefixes to list, which archived
 * deliveries match the window and filters, which must be refused, the queue
 * message for each, and (for --dry-run) what the worker would do with it.
 */
import { ARCHIVE_PREFIX, DEFAULTS, RECONCILE_DELIVERY_PREFIX, type EventType } from '../../lambda/core/contract';
import { archiveListingPrefixes, classifyArchiveKey } from '../../lambda/core/archive-key';
import { bodySha256 } from '../../lambda/core/body-hash';
import { applyToItem, decide, type Decision, type JobEvent, type JobItem } from '../../lambda/core/job-state';
import { checkPayload, isEventType, normaliseInstant, toJobEvent } from '../../lambda/core/payload';
import type { ArchivedDelivery, ArchiveLocation, QueueMessage, SigningSecrets } from '../../lambda/core/ports';
import { verifySignature, verifyWithSecrets } from '../../lambda/core/signature';
import { buildReplayMessage } from './replay-message';

export interface ReplayWindow {
  readonly from: Date;
  readonly to: Date;
}

export interface ReplayFilters {
  readonly event?: EventType;
  readonly jobId?: string;
  readonly deliveryId?: string;
}

/**
 * The hour prefixes to list for [from, to): the window's hours and one
 * neighbouring hour on either side, since a batched object is filed under its
 * oldest record's arrival hour and a retry arrives after its first receipt
 * (lambda/core/archive-key.ts). Each entry is then kept or skipped by its own
 * receipt time. The core helper covers a closed interval, so the last instant
 * inside the window is passed.
 */
export function replayPrefixes(window: ReplayWindow): string[] {
  return archiveListingPrefixes(window.from, new Date(window.to.getTime() - 1));
}

/** `raw/YYYY/MM/DD/HH/<deliveryId>.json` -> the delivery id, or undefined for a key of another shape. */
export function deliveryIdFromKey(key: string): string | undefined {
  const kind = classifyArchiveKey(key);
  return kind.kind === 'object' && key.startsWith(ARCHIVE_PREFIX) ? kind.deliveryId : undefined;
}

/** Lets a --delivery-id replay skip reading every other per-delivery object of the window (batched objects must be read). */
export function keyMayMatch(key: string, filters: ReplayFilters): boolean {
  if (filters.deliveryId === undefined) return true;
  const id = deliveryIdFromKey(key);
  return id === undefined || id === filters.deliveryId;
}

/**
 * Receipt time against [from, to), from the object's metadata (millisecond
 * precision), not from the key's hour: windows need not start on the hour.
 */
export function receivedInWindow(receivedAt: string, window: ReplayWindow): boolean | undefined {
  const instant = normaliseInstant(receivedAt);
  if (instant === undefined) return undefined;
  const millis = Date.parse(instant);
  return millis >= window.from.getTime() && millis < window.to.getTime();
}

/** How --verify checks signatures. */
export type SignatureKeys =
  /** Secrets given by hand: any of them may have signed any delivery. */
  | { readonly kind: 'static'; readonly secrets: readonly string[] }
  /**
   * Secrets Manager versions: judged as the receiver judged them at receipt
   * time (AWSPREVIOUS only within the grace period after AWSCURRENT's creation).
   */
  | { readonly kind: 'versions'; readonly signing: SigningSecrets; readonly graceSeconds?: number };

export type Examination =
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string }
  | {
      readonly kind: 'matched';
      readonly message: QueueMessage;
      /** The job event the worker will derive from the message (for the dry-run plan). */
      readonly jobEvent: JobEvent;
    };

export interface ExamineOptions {
  readonly window: ReplayWindow;
  readonly filters: ReplayFilters;
  readonly force: boolean;
  /** Present with --verify. */
  readonly signatureKeys?: SignatureKeys;
  readonly inlinePayloadMaxBytes?: number;
}

export function signatureVerifies(archived: ArchivedDelivery, keys: SignatureKeys): boolean {
  if (archived.signature === undefined) return false;
  if (keys.kind === 'static') {
    return keys.secrets.some((secret) => verifySignature(secret, archived.timestamp, archived.rawBody, archived.signature));
  }
  const now = new Date(archived.receivedAt);
  if (Number.isNaN(now.getTime())) return false;
  return verifyWithSecrets(keys.signing, archived.timestamp, archived.rawBody, archived.signature, {
    now,
    graceSeconds: keys.graceSeconds ?? DEFAULTS.rotationGraceSeconds,
  }).valid;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decides what a replay does with one archived delivery. Filters run on the
 * metadata first (cheap, no body parsing); then integrity. The body hash is
 * checked on every replay, not only under --verify: it needs no secret, and a
 * body that no longer matches what the receiver hashed must never be re-applied.
 */
export function examineArchived(archived: ArchivedDelivery, location: ArchiveLocation, options: ExamineOptions): Examination {
  const { filters } = options;
  const inWindow = receivedInWindow(archived.receivedAt, options.window);
  if (inWindow === undefined) return { kind: 'refused', reason: `received-at metadata "${archived.receivedAt}" is not an instant` };
  if (!inWindow) return { kind: 'skipped', reason: 'received outside the window' };
  if (filters.event !== undefined && archived.event !== filters.event) return { kind: 'skipped', reason: 'other event' };
  if (filters.deliveryId !== undefined && archived.deliveryId !== filters.deliveryId) return { kind: 'skipped', reason: 'other delivery' };
  if (filters.jobId !== undefined && archived.jobId !== undefined && archived.jobId !== filters.jobId) {
    return { kind: 'skipped', reason: 'other job' };
  }

  if (bodySha256(archived.rawBody) !== archived.bodySha256.toLowerCase()) {
    return { kind: 'refused', reason: 'body sha256 differs from the archived metadata (object altered after receipt?)' };
  }
  // The reconciler's entries are the provider's API answers, fetched with our key: nothing signs them,
  // and only the reconciler writes that origin. A webhook delivery is always held to its signature.
  const reconciled = archived.origin === 'reconcile' && archived.deliveryId.startsWith(RECONCILE_DELIVERY_PREFIX);
  if (options.signatureKeys !== undefined && !reconciled) {
    if (archived.signature === undefined) return { kind: 'refused', reason: 'unsigned delivery: nothing to verify' };
    if (!signatureVerifies(archived, options.signatureKeys)) {
      return { kind: 'refused', reason: 'signature does not verify over the archived bytes with the given secret(s)' };
    }
  }

  if (!isEventType(archived.event)) return { kind: 'refused', reason: `unknown event "${archived.event}" in metadata` };
  let text: string;
  try {
    text = utf8.decode(archived.rawBody);
  } catch {
    return { kind: 'refused', reason: 'archived body is not UTF-8' };
  }
  const checked = checkPayload(text, archived.event);
  if (!checked.ok) return { kind: 'refused', reason: `archived body fails the payload schema (${checked.reason})` };
  if (archived.jobId !== undefined && archived.jobId !== checked.jobId) {
    return { kind: 'refused', reason: `job id metadata ${archived.jobId} disagrees with the body's ${checked.jobId}` };
  }
  if (filters.jobId !== undefined && checked.jobId !== filters.jobId) return { kind: 'skipped', reason: 'other job' };

  const message = buildReplayMessage({
    archive: location,
    deliveryId: archived.deliveryId,
    event: archived.event,
    jobId: checked.jobId,
    timestamp: archived.timestamp,
    receivedAt: archived.receivedAt,
    payload: checked.payload,
    force: options.force,
    inlinePayloadMaxBytes: options.inlinePayloadMaxBytes,
  });
  // A line of a batched object cannot be read back by key: its message must carry the payload.
  if (location.batched === true && message.payload === undefined) {
    return { kind: 'refused', reason: 'payload too large for the queue message, and archived as a batched line the worker cannot read by key' };
  }
  const jobEvent = toJobEvent(checked.payload, {
    event: archived.event,
    deliveryId: archived.deliveryId,
    timestamp: archived.timestamp,
    replay: true,
  });
  return { kind: 'matched', message, jobEvent };
}

export interface PlannedDelivery {
  readonly message: QueueMessage;
  readonly jobEvent: JobEvent;
}

export interface PlanStep {
  readonly deliveryId: string;
  readonly event: EventType;
  readonly eventAt: string;
  readonly receivedAt: string;
  readonly decision: Decision;
}

export interface JobPlan {
  readonly jobId: string;
  readonly current?: JobItem;
  readonly steps: readonly PlanStep[];
  /** The status the item would end with if the steps ran in this order. */
  readonly finalStatus?: string;
}

/**
 * What the worker would do with one job's replayed deliveries, given the item
 * as it is now: the pure `decide` applied step by step to the item the previous
 * steps would leave (`applyToItem`), in receipt order.
 */
export function planJob(jobId: string, current: JobItem | undefined, deliveries: readonly PlannedDelivery[], force: boolean): JobPlan {
  const ordered = [...deliveries].sort(
    (a, b) => a.message.receivedAt.localeCompare(b.message.receivedAt) || a.message.deliveryId.localeCompare(b.message.deliveryId),
  );
  let item = current;
  const now = new Date();
  const steps: PlanStep[] = ordered.map(({ message, jobEvent }) => {
    const decision = decide(item, jobEvent, { force });
    item = applyToItem(item, jobEvent, { force }, now);
    return { deliveryId: message.deliveryId, event: message.event, eventAt: jobEvent.eventAt, receivedAt: message.receivedAt, decision };
  });
  return { jobId, current, steps, finalStatus: typeof item?.status === 'string' ? item.status : undefined };
}

export const DECISION_TEXT: Readonly<Record<Decision, string>> = {
  apply: 'would apply',
  duplicate: 'already applied: the worker skips it (--force re-applies)',
  stale: 'stale: recorded in history only',
  conflict: 'conflicts with the terminal status: recorded and counted only',
};

export function formatJobPlan(plan: JobPlan): string[] {
  const current = plan.current;
  const now =
    current === undefined
      ? 'no item'
      : `status ${String(current.status ?? '(none)')}, last ${String(current.lastDeliveryId ?? '-')} at ${String(current.lastEventAt ?? '-')}`;
  const lines = [`job ${plan.jobId}: now ${now}; after replay: ${plan.finalStatus ?? 'unchanged'}`];
  for (const step of plan.steps) {
    lines.push(`  ${step.receivedAt}  ${step.deliveryId}  ${step.event.padEnd(13)}  ${DECISION_TEXT[step.decision]}`);
  }
  return lines;
}
