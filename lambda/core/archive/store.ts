/**
 * The receiver's second round trip: archive the delivery and enqueue its
 * message, by the route its size decides (route.ts), in parallel:
 *
 * - batch:  Firehose append ‖ SendMessage with the payload inline;
 * - object: PutObject ‖ SendMessage. When the message cannot carry the
 *   payload (a claim check) it is sent with DelaySeconds past the receiver's
 *   timeout and an `archiveBy` instant: an attempt that answers 2xx has its
 *   object written before it answers, so no worker ever reads such a message
 *   before its object exists, and a message whose object is missing after
 *   `archiveBy` belongs to an attempt that failed (it answered 5xx) and is
 *   dropped by the worker. Writing first and sending after would be the other
 *   way to get that order; it costs a fourth sequential round trip.
 *
 * Nothing here decides the answer: the caller marks the delivery accepted when
 * both succeeded, and otherwise releases it and answers 503.
 */
import { archiveKey, batchFolder } from '../archive-key';
import { QUEUE_MESSAGE_VERSION, type EventType } from '../contract';
import type { Archive, ArchivedDelivery, BatchArchive, Queue, QueueMessage } from '../ports';
import { buildQueueMessage } from '../queue-message';
import { archiveLineBytes } from './line';
import { chooseArchiveRoute, type ArchiveRoute } from './route';

export interface StoreDeps {
  /** Per-delivery objects. */
  readonly archive: Archive;
  /** Absent: every delivery takes the object route (a stack deployed without the Firehose stream). */
  readonly batchArchive?: BatchArchive;
  readonly queue: Queue;
  readonly archiveBucket: string;
  readonly inlinePayloadMaxBytes: number;
  readonly claimCheckDelaySeconds: number;
}

export interface StoreInput {
  readonly delivery: ArchivedDelivery & { readonly event: EventType; readonly jobId: string };
  /** The parsed payload, for the queue message. */
  readonly payload: unknown;
  /** The body as a string whose UTF-8 encoding is exactly `delivery.rawBody`, when the caller has it. */
  readonly bodyText?: string;
  /** This attempt's receipt time (claim checks promise their object by this plus the delay). */
  readonly now: Date;
}

export type StoreResult =
  | { readonly ok: true; readonly route: ArchiveRoute; readonly message: QueueMessage }
  | { readonly ok: false; readonly route: ArchiveRoute; readonly archiveError?: unknown; readonly enqueueError?: unknown };

export async function archiveAndEnqueue(deps: StoreDeps, input: StoreInput): Promise<StoreResult> {
  const { delivery } = input;
  const fields = {
    deliveryId: delivery.deliveryId,
    event: delivery.event,
    jobId: delivery.jobId,
    timestamp: delivery.timestamp,
    receivedAt: delivery.receivedAt,
  };
  const batched = buildQueueMessage(
    { ...fields, archive: { bucket: deps.archiveBucket, key: batchFolder(delivery.receivedAt), batched: true } },
    input.payload,
    deps.inlinePayloadMaxBytes,
  );
  const payloadInline = batched.payload !== undefined;
  const route = chooseArchiveRoute({
    batchArchive: deps.batchArchive !== undefined,
    payloadInline,
    // Encoded only when the route could be batch; the adapter reuses these bytes.
    // Stryker disable next-line ConditionalExpression,LogicalOperator: encoding a line no route sends changes the cost, not the route
    lineBytes: deps.batchArchive !== undefined && payloadInline ? archiveLineBytes(delivery, input.bodyText).byteLength : Number.POSITIVE_INFINITY,
  });

  let message: QueueMessage;
  let archiving: Promise<unknown>;
  let delaySeconds: number | undefined;
  if (route === 'batch') {
    message = batched;
    archiving = (deps.batchArchive as BatchArchive).append([delivery]);
  } else {
    const key = archiveKey(delivery.receivedAt, delivery.deliveryId);
    const archive = { bucket: deps.archiveBucket, key };
    if (payloadInline) {
      message = buildQueueMessage({ ...fields, archive }, input.payload, deps.inlinePayloadMaxBytes);
    } else {
      delaySeconds = deps.claimCheckDelaySeconds;
      const archiveBy = new Date(input.now.getTime() + delaySeconds * 1000).toISOString();
      message = { v: QUEUE_MESSAGE_VERSION, ...fields, archive, archiveBy };
    }
    archiving = deps.archive.put(key, delivery);
  }
  const [archived, enqueued] = await Promise.allSettled([archiving, deps.queue.send(message, delaySeconds === undefined ? undefined : { delaySeconds })]);
  if (archived.status === 'fulfilled' && enqueued.status === 'fulfilled') return { ok: true, route, message };
  return {
    ok: false,
    route,
    ...(archived.status === 'rejected' ? { archiveError: archived.reason } : {}),
    ...(enqueued.status === 'rejected' ? { enqueueError: enqueued.reason } : {}),
  };
}
