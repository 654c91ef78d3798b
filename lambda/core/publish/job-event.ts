/**
 * What one change of a job item means to the product: a status change becomes
 * one job event, anything else (a duplicate or stale delivery recorded in
 * history, a forced replay of the winner, the product's own write) means
 * nothing. The worker's monotonic rules guarantee a job's status changes at
 * most twice (to `started`, then to its terminal status), so `<jobId>#<status>`
 * names a transition uniquely and every repeat of it carries the same id.
 */
import { isStackOwnedJobAttribute, JOB_ATTRIBUTES, JOB_EVENTS, ORIGINS, type JobEventDetailType, type Origin } from '../contract';
import { type JobEvent, type JobStatus, rankOf } from '../job-state';

/** One stream record, decoded: the item before and after a write. */
export interface JobChange {
  /** The stream record's sequence number: what a partial batch failure reports. */
  readonly sequenceNumber: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly oldImage?: Readonly<Record<string, unknown>>;
  readonly newImage?: Readonly<Record<string, unknown>>;
  /** When DynamoDB wrote the change (epoch ms), when the stream says. */
  readonly changedAt?: number;
}

/** `detail` of a job event (design 6.1). Absent values are left out, never null. */
export interface JobEventDetail
  extends Pick<JobEvent, 'model' | 'outputFormat' | 'background' | 'inputRef' | 'outputUrl' | 'error' | 'creditsUsed'> {
  readonly eventId: string;
  readonly jobId: string;
  readonly status: JobStatus;
  /** The status before, when the job had one of ours; absent on a job's first event. */
  readonly previousStatus?: JobStatus;
  /** The provider's time of the event that set this status. */
  readonly eventAt?: string;
  /** The delivery that set this status. */
  readonly deliveryId?: string;
  readonly origin: Origin;
  /** Every attribute of the item the stack does not own: the product's own (user, project, scene tags...). */
  readonly product: Readonly<Record<string, unknown>>;
  /** Set when `product` was left out because it would not fit one event (read the item instead). */
  readonly productOmitted?: 'too_large';
}

export interface JobEventMessage {
  readonly detailType: JobEventDetailType;
  readonly detail: JobEventDetail;
  /** When the transition was written, for the envelope's `time`. */
  readonly time?: Date;
}

const DETAIL_TYPE: Record<JobStatus, JobEventDetailType> = {
  started: JOB_EVENTS.detailTypes.started,
  completed: JOB_EVENTS.detailTypes.completed,
  failed: JOB_EVENTS.detailTypes.failed,
};

export function jobEventId(jobId: string, status: JobStatus): string {
  return `${jobId}#${status}`;
}

function statusOf(image: Readonly<Record<string, unknown>> | undefined): JobStatus | undefined {
  const status = image?.[JOB_ATTRIBUTES.status];
  return rankOf(status) > 0 ? (status as JobStatus) : undefined;
}

function stringOf(image: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = image[name];
  return typeof value === 'string' ? value : undefined;
}

function errorOf(image: Readonly<Record<string, unknown>>): JobEventDetail['error'] {
  const value = image[JOB_ATTRIBUTES.error];
  if (typeof value !== 'object' || value === null) return undefined;
  const { code, message } = value as Record<string, unknown>;
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
}

function originOf(image: Readonly<Record<string, unknown>>): Origin {
  const value = image[JOB_ATTRIBUTES.lastOrigin];
  // Items written before origins were recorded came from webhooks.
  return (ORIGINS as readonly unknown[]).includes(value) ? (value as Origin) : 'webhook';
}

/** The item's attributes the stack does not own, derived from `JOB_ATTRIBUTES` so new stack attributes never leak here. */
export function productAttributes(image: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(image).filter(([name]) => !isStackOwnedJobAttribute(name)));
}

/**
 * The job event a change means, or `undefined`. An event is a write whose new
 * image has one of our statuses and whose old image had a different one (or
 * none): removals, product writes and every write that leaves the status as
 * it was mean nothing.
 */
export function jobEventOf(change: JobChange): JobEventMessage | undefined {
  if (change.eventName === 'REMOVE' || change.newImage === undefined) return undefined;
  const status = statusOf(change.newImage);
  if (status === undefined) return undefined;
  const previousStatus = statusOf(change.oldImage);
  if (previousStatus === status) return undefined;

  const image = change.newImage;
  const jobId = stringOf(image, JOB_ATTRIBUTES.jobId);
  if (jobId === undefined) return undefined;
  const creditsUsed = image[JOB_ATTRIBUTES.creditsUsed];
  const detail: JobEventDetail = {
    eventId: jobEventId(jobId, status),
    jobId,
    status,
    ...(previousStatus === undefined ? {} : { previousStatus }),
    ...optional('model', stringOf(image, JOB_ATTRIBUTES.model)),
    ...optional('outputFormat', stringOf(image, JOB_ATTRIBUTES.outputFormat)),
    ...optional('background', stringOf(image, JOB_ATTRIBUTES.background)),
    ...optional('inputRef', stringOf(image, JOB_ATTRIBUTES.inputRef)),
    ...optional('outputUrl', stringOf(image, JOB_ATTRIBUTES.outputUrl)),
    ...optional('error', errorOf(image)),
    ...optional('creditsUsed', typeof creditsUsed === 'number' && Number.isFinite(creditsUsed) ? creditsUsed : undefined),
    ...optional('eventAt', stringOf(image, JOB_ATTRIBUTES.lastEventAt)),
    ...optional('deliveryId', stringOf(image, JOB_ATTRIBUTES.lastDeliveryId)),
    origin: originOf(image),
    product: productAttributes(image),
  };
  return {
    detailType: DETAIL_TYPE[status],
    detail,
    ...(change.changedAt === undefined ? {} : { time: new Date(change.changedAt) }),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
