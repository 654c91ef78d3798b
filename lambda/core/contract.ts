/**
 * The one source of truth for every name and default that crosses a boundary:
 * the CDK constructs, the Lambda handlers, the local stack and the ops tools all
 * import from here, so a rename happens in one place.
 */

/** Provider headers, lowercased (HTTP API lowercases them; we normalise the rest). */
export const HEADERS = {
  event: 'x-webhook-event',
  deliveryId: 'x-webhook-delivery-id',
  timestamp: 'x-webhook-timestamp',
  signature: 'x-webhook-signature',
} as const;

export const EVENT_TYPES = ['job.started', 'job.completed', 'job.failed'] as const;

/**
 * Where an event applied to a job came from: a provider delivery, an ops replay
 * of the archive, or the reconciler's reading of the provider's job API. Carried
 * by the queue message, recorded on the job item (`lastOrigin`), published with
 * the job events.
 */
export const ORIGINS = ['webhook', 'replay', 'reconcile'] as const;
export type Origin = (typeof ORIGINS)[number];

/** X-Webhook-Delivery-Id: it becomes a table key, an S3 key segment and a log correlation id. */
export const DELIVERY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export type EventType = (typeof EVENT_TYPES)[number];

/** Environment variables read by the Lambda handlers (set by CDK, or by the local stack). */
export const ENV = {
  deliveriesTable: 'DELIVERIES_TABLE_NAME',
  jobsTable: 'JOBS_TABLE_NAME',
  archiveBucket: 'ARCHIVE_BUCKET_NAME',
  queueUrl: 'QUEUE_URL',
  signingSecretArn: 'SIGNING_SECRET_ARN',
  requireSignature: 'REQUIRE_SIGNATURE',
  timestampToleranceSeconds: 'TIMESTAMP_TOLERANCE_SECONDS',
  maxBodyBytes: 'MAX_BODY_BYTES',
  dedupeTtlDays: 'DEDUPE_TTL_DAYS',
  leaseSeconds: 'LEASE_SECONDS',
  rotationGraceSeconds: 'ROTATION_GRACE_SECONDS',
  secretCacheSeconds: 'SECRET_CACHE_SECONDS',
  inlinePayloadMaxBytes: 'INLINE_PAYLOAD_MAX_BYTES',
  /** The worker moves a record that can never succeed here itself, with its reason. */
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  /** Reconciler: the provider's API base URL (scheme and host, no path). */
  providerApiUrl: 'PROVIDER_API_URL',
  /** Reconciler: the ARN of the secret holding the provider API key; unset = detect and alarm only. */
  providerApiKeySecretArn: 'PROVIDER_API_KEY_SECRET_ARN',
  stuckAfterSeconds: 'STUCK_AFTER_SECONDS',
  giveUpAfterSeconds: 'GIVE_UP_AFTER_SECONDS',
  recheckAfterSeconds: 'RECHECK_AFTER_SECONDS',
  maxJobsPerSweep: 'MAX_JOBS_PER_SWEEP',
  providerRequestsPerSecond: 'PROVIDER_REQUESTS_PER_SECOND',
  jobEventsBusName: 'JOB_EVENTS_BUS_NAME',
  /** The Firehose stream of the batched archive; unset, every delivery is archived as its own object. */
  archiveStream: 'ARCHIVE_STREAM_NAME',
  /** How long a claim-checked message stays invisible: past the receiver's timeout, so its object exists first. */
  claimCheckDelaySeconds: 'CLAIM_CHECK_DELAY_SECONDS',
} as const;

/** Service limits the routes are chosen by (AWS quotas, not adjustable). */
export const SERVICE_LIMITS = {
  /** SQS's largest message, body and attributes together (1 MiB since August 2025). */
  sqsMaxMessageBytes: 1024 * 1024,
  /** Firehose's largest record, before base64 (1,000 KiB). */
  firehoseMaxRecordBytes: 1000 * 1024,
  /** Firehose PutRecordBatch: at most 500 records and 4 MiB per call. */
  firehoseMaxBatchRecords: 500,
  firehoseMaxBatchBytes: 4 * 1024 * 1024,
  /** SQS DelaySeconds. */
  sqsMaxDelaySeconds: 900,
} as const;

/** Safe defaults, shared by the construct props and the handler config parser. */
export const DEFAULTS = {
  timestampToleranceSeconds: 300,
  /** Far below API Gateway's 10 MB and Lambda's 6 MB: provider payloads are small JSON. */
  maxBodyBytes: 1024 * 1024,
  dedupeTtlDays: 30,
  /**
   * Longer than the receiver's timeout (10 s), so a live attempt never loses
   * its lease, and no longer: while it holds, the provider's retries get 503
   * in_progress, so an attempt that died without releasing costs the fewest.
   */
  leaseSeconds: 15,
  rotationGraceSeconds: 24 * 60 * 60,
  secretCacheSeconds: 60,
  /**
   * Payloads travel inline whenever SQS can carry them (its 1 MiB limit, less
   * room for the message attributes): the archive is then a batched Firehose
   * record, which costs less than the claim check's own object per delivery at
   * every size SQS accepts (bench section 5 compares the routes).
   */
  inlinePayloadMaxBytes: 1024 * 1024 - 1024,
  /** Twice the receiver's timeout: by then any attempt that answered 2xx has written its claim-check object. */
  claimCheckDelaySeconds: 20,
  maxReceiveCount: 5,
  receiverTimeoutSeconds: 10,
  workerTimeoutSeconds: 30,
  /** Records per worker invocation, gathered over the batching window. */
  workerBatchSize: 100,
  /** Seconds the event source gathers a batch: fewer invocations and deletes, events still land within seconds. */
  workerBatchingWindowSeconds: 2,
  workerMaxConcurrency: 10,
  archiveRetentionDays: 365,
  archiveColdAfterDays: 30,
  throttleRateLimit: 100,
  throttleBurstLimit: 200,
  /**
   * History entries kept on a job item (about 250 bytes each). A job's real
   * deliveries need a handful; the bound keeps repeated forced replays from
   * growing the item towards DynamoDB's 400 KB item limit.
   */
  historyMaxEntries: 100,
  /** Reconciler (docs/architecture.md, "Open jobs and the reconciler"): how often it sweeps, and when an open job counts as stuck. */
  reconcileIntervalMinutes: 15,
  stuckAfterSeconds: 2 * 60 * 60,
  /** Past this age a job still open at the provider (or unknown to it) is flagged for ops, never guessed. */
  giveUpAfterSeconds: 7 * 24 * 60 * 60,
  /** A job the provider still reports open is asked again only after this long, so sweeps space out. */
  recheckAfterSeconds: 60 * 60,
  /** Provider calls per sweep at most; the rest wait for the next sweep (oldest first). */
  maxJobsPerSweep: 100,
  /** One call every 2 s per key: the pace the provider's docs suggest for polling. */
  providerRequestsPerSecond: 0.5,
  /** The pace after a 429 or 5xx, then its ceiling (the docs: back off to 5-10 s). */
  providerBackoffMs: 5_000,
  providerMaxBackoffMs: 10_000,
  providerRequestTimeoutMs: 5_000,
  /** A provider answer larger than this is refused unread (a job status is well under 4 KiB). */
  providerMaxAnswerBytes: 64 * 1024,
  /** 100 calls at one per 2 s is 200 s: the budget leaves room for a slow provider and the writes. */
  reconcilerTimeoutSeconds: 300,
  /** Kept back from the budget when the last call may start: one provider time-out plus the writes and the metrics flush. */
  reconcilerReserveSeconds: 15,
  providerApiUrl: 'https://api.removebgvideo.com',
  /** The job-events publisher: a batch of up to 100 stream records is at most 10 PutEvents calls. */
  jobEventsTimeoutSeconds: 30,
  jobEventsBatchSize: 100,
  jobEventsMaxBatchingWindowSeconds: 1,
  /**
   * Lambda's stream defaults retry a failing batch until its records expire
   * (24 h), blocking the shard. 100 attempts of at most one function timeout
   * each ride out an EventBridge incident of most of an hour; then the batch's
   * position goes to the on-failure queue.
   */
  jobEventsRetryAttempts: 100,
  /**
   * Well under the stream's 24 h retention: when a batch is given up, the
   * stream still holds its records for at least 18 h, so `npm run events --
   * --redrive` can publish them from the positions in the on-failure queue.
   */
  jobEventsMaxRecordAgeSeconds: 6 * 60 * 60,
} as const;

/** The provider's job API (docs/architecture.md, "The provider"). */
export const PROVIDER_API = {
  /** `GET ${base}${jobPath}${encodeURIComponent(jobId)}` */
  jobPath: '/v1/jobs/',
  apiKeyHeader: 'x-api-key',
} as const;

/** Synthetic deliveries of the reconciler: `reconcile:<jobId>:<status>`. */
export const RECONCILE_DELIVERY_PREFIX = 'reconcile:';

/**
 * The sparse, sharded GSI over open jobs (docs/architecture.md, "Open jobs and the reconciler"). Only an open job carries
 * its two keys: the worker sets them with the update that opens the job and
 * removes them with the update that closes it. The shard is derived from the
 * job id (`openJobShard`), so writes spread over `shards` index partitions;
 * changing `shards` re-keys every open job, so it is fixed.
 */
export const OPEN_JOBS_INDEX = {
  name: 'open-jobs',
  /** Number (0 .. shards-1). */
  shardAttribute: 'openShard',
  /** String, UTC ISO-8601: when the job opened (its first applied `job.started`, or the product's own time). */
  openedAtAttribute: 'openedAt',
  shards: 16,
} as const;

/** Key schemas: CDK creates the tables from these and the local stack reads them back from the template. */
export const TABLE_KEYS = {
  deliveries: { partitionKey: 'deliveryId', ttlAttribute: 'expiresAt' },
  jobs: { partitionKey: 'jobId' },
} as const;

/**
 * The job item's attributes the stack writes. Every other attribute is the
 * product's own: the worker never writes or removes it, and the job events carry
 * it under `detail.product`. Add a name here before any code writes it.
 */
export const JOB_ATTRIBUTES = {
  jobId: 'jobId',
  status: 'status',
  model: 'model',
  outputFormat: 'outputFormat',
  background: 'background',
  inputRef: 'inputRef',
  outputUrl: 'outputUrl',
  error: 'error',
  creditsUsed: 'creditsUsed',
  lastEventAt: 'lastEventAt',
  lastDeliveryId: 'lastDeliveryId',
  /** The origin of the event that set the current status. */
  lastOrigin: 'lastOrigin',
  updatedAt: 'updatedAt',
  /** A list of maps, at most `DEFAULTS.historyMaxEntries` long. */
  history: 'history',
  /** A number: history entries not written because the history was full (forced replays, floods of one job). */
  historyDropped: 'historyDropped',
  /** A string set. */
  deliveryIds: 'deliveryIds',
  /** Open-jobs index keys (`OPEN_JOBS_INDEX`): present only while the job is open. */
  openShard: 'openShard',
  openedAt: 'openedAt',
  /** When the reconciler last asked the provider about this open job, and what it answered. */
  reconcileCheckedAt: 'reconcileCheckedAt',
  reconcileProviderStatus: 'reconcileProviderStatus',
  /** Set when the reconciler gave up on an open job (`not_found`, `gave_up`): a human decides. */
  reconcileFlag: 'reconcileFlag',
} as const;
export type JobAttribute = (typeof JOB_ATTRIBUTES)[keyof typeof JOB_ATTRIBUTES];
const STACK_OWNED_JOB_ATTRIBUTES: ReadonlySet<string> = new Set(Object.values(JOB_ATTRIBUTES));

/** True for the attributes the stack owns; false for the product's own. */
export function isStackOwnedJobAttribute(name: string): boolean {
  return STACK_OWNED_JOB_ATTRIBUTES.has(name);
}

/** Exact `CfnOutput` keys (README, "Configuration"), also written by the local stack. */
export const OUTPUT_KEYS = {
  webhookUrl: 'WebhookUrl',
  jobsTableName: 'JobsTableName',
  deliveriesTableName: 'DeliveriesTableName',
  archiveBucketName: 'ArchiveBucketName',
  queueUrl: 'QueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  jobEventsBusName: 'JobEventsBusName',
  /** Stream batches the job-events publisher gave up on (`npm run events -- --redrive`). */
  jobEventsFailureQueueUrl: 'JobEventsFailureQueueUrl',
  /** Present when the quality review is deployed. */
  qualityReviewQueueUrl: 'QualityReviewQueueUrl',
  /** The receiver's log group: refused deliveries are recorded only there (the ops console reads it). */
  receiverLogGroupName: 'ReceiverLogGroupName',
} as const;

/**
 * Outputs of a deployed stack for the people who deploy it (the ops tools read
 * none of them, and the local stack has neither a dashboard nor a secret ARN):
 * the signing secret to put the provider's value into, and the dashboard.
 */
export const DEPLOY_OUTPUT_KEYS = {
  /** The secret's ARN, never its value. */
  signingSecretArn: 'SigningSecretArn',
  dashboardName: 'DashboardName',
} as const;

/** Outputs of the reconciler (docs/architecture.md, "Open jobs and the reconciler"), present only when it is deployed (and the key when configured). */
export const RECONCILE_OUTPUT_KEYS = {
  providerApiUrl: 'ProviderApiUrl',
  /** The secret's ARN, never its value. */
  providerApiKeySecretArn: 'ProviderApiKeySecretArn',
} as const;

/**
 * Outputs only the local stack writes (beside the `OUTPUT_KEYS`, at the stack's
 * level of `.local/outputs.json`): the catch-all tap queue that receives every
 * published job event as its EventBridge envelope.
 */
export const LOCAL_OUTPUT_KEYS = {
  jobEventsTapQueueUrl: 'JobEventsTapQueueUrl',
} as const;

/**
 * The job events on EventBridge (design 6.1): one per status change of a job.
 * `detail.eventId` (`<jobId>#<status>`) is the same for every repeat of one
 * transition, so consumers dedupe on it.
 */
export const JOB_EVENTS = {
  source: 'webhook-ingestion.jobs',
  detailTypes: { started: 'Job Started', completed: 'Job Completed', failed: 'Job Failed' },
} as const;
/**
 * The quality review's default routing (design 6.1): the product sets this
 * attribute on the job item (a list of strings) when it creates the job, and a
 * completed job carrying any of these tags goes to the review queue.
 */
export const QUALITY_REVIEW = {
  sceneTagsAttribute: 'sceneTags',
  difficultSceneTags: ['hair', 'glass', 'motion_blur'],
} as const;

export type JobEventDetailType = (typeof JOB_EVENTS.detailTypes)[keyof typeof JOB_EVENTS.detailTypes];

export const STACK_NAME = 'WebhookIngestionStack';
export const WEBHOOK_PATH = '/webhooks';
export const ARCHIVE_PREFIX = 'raw/';
/**
 * Under each receipt-hour prefix, the folder Firehose writes its batched,
 * GZIP-compressed objects to (one JSON line per delivery); per-delivery objects
 * (`<deliveryId>.json`) sit beside it.
 */
export const ARCHIVE_BATCH_FOLDER = 'batch/';
/** The extension of the batched objects: newline-delimited JSON, gzip-compressed. */
export const ARCHIVE_BATCH_EXTENSION = '.jsonl.gz';
/** Version of one line of a batched object (lambda/core/archive/record.ts). */
export const ARCHIVE_RECORD_VERSION = 1;

/** S3 user metadata keys on every archived object: enough for a replay to re-verify. */
export const ARCHIVE_METADATA = {
  event: 'webhook-event',
  deliveryId: 'webhook-delivery-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
  receivedAt: 'received-at',
  bodySha256: 'body-sha256',
  jobId: 'job-id',
  /** This attempt's own receipt time: when attempts of one delivery differ, the latest one is the delivery. */
  attemptAt: 'attempt-at',
  /** Absent on the receiver's objects (webhook); `reconcile` on the reconciler's, which carry no signature. */
  origin: 'origin',
} as const;

/** Message attributes the worker sets on a record it moves to the DLQ itself. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'failureReason',
  issues: 'failureIssues',
  sourceMessageId: 'sourceMessageId',
} as const;

export const METRICS_NAMESPACE = 'WebhookIngestion';
/** Powertools `service` of each function: its logs' `service` key and its metrics' dimension, which the alarms filter on. */
export const SERVICE_NAMES = { receiver: 'webhook-receiver', worker: 'webhook-worker', reconciler: 'webhook-reconciler', jobEvents: 'job-events' } as const;
export const QUEUE_MESSAGE_VERSION = 1;

/** Metric names, shared by the handlers and the dashboard and alarms in `lib/`. */
export const METRIC = {
  accepted: 'DeliveryAccepted',
  duplicate: 'DeliveryDuplicate',
  rejected: 'DeliveryRejected',
  conflict: 'DeliveryConflict',
  inProgress: 'DeliveryInProgress',
  transientFailure: 'DeliveryTransientFailure',
  enqueueFailure: 'EnqueueFailure',
  archiveFailure: 'ArchiveFailure',
  /** A claim-checked message whose object never came: its attempt answered 5xx, the message is dropped. */
  claimCheckOrphan: 'ClaimCheckOrphanDropped',
  /** A claim-checked message read before its object could exist (an older receiver's): retried in seconds. */
  claimCheckPending: 'ClaimCheckPending',
  secretUnset: 'SigningSecretUnset',
  signatureInvalid: 'SignatureInvalid',
  applied: 'EventApplied',
  alreadyApplied: 'EventAlreadyApplied',
  staleIgnored: 'EventStaleIgnored',
  terminalConflict: 'TerminalConflict',
  poisonMessage: 'PoisonMessage',
  /** API answers 429 (the stage throttle), counted by a metric filter on the JSON access log: HTTP APIs publish no 429 metric. */
  apiThrottled: 'ApiThrottled',
  /** A record the jobs table refuses for good (ValidationException): moved to the DLQ. */
  permanentFailure: 'PermanentFailure',
  workerRecordFailure: 'WorkerRecordFailure',
  /** Reconciler, once per sweep: open jobs past stuckAfter that the sweep left open. */
  stuckJobs: 'StuckJobs',
  /** Reconciler: provider calls that failed or answered something unusable, and failed writes. */
  reconcileErrors: 'ReconcileErrors',
  /** Reconciler: terminal provider answers turned into synthetic events. */
  jobsReconciled: 'JobsReconciled',
  /** Reconciler: open jobs carrying an ops flag (unknown to the provider, or past giveUpAfter). */
  jobsFlagged: 'JobsFlaggedForOps',
  jobEventPublished: 'JobEventPublished',
  /** PutEvents entries (or whole calls) retried after throttling or a partial failure. */
  jobEventPublishRetried: 'JobEventPublishRetried',
  /** Stream batches handed back to Lambda (from their first unpublished record). */
  jobEventPublishFailed: 'JobEventPublishFailed',
  /** Events published without `product` because the item's own attributes would not fit one entry. */
  jobEventProductOmitted: 'JobEventProductOmitted',
} as const;
