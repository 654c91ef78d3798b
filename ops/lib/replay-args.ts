/**
 * `npm run replay` arguments: parsed and validated without touching the disk or
 * the network, so every mistake is reported (one line, exit 2) before anything runs.
 */
import { DELIVERY_ID_PATTERN, EVENT_TYPES, type EventType } from '../../lambda/core/contract';
import { isEventType } from '../../lambda/core/payload';
import { UsageError, parseInstant, parseOptions, parsePositiveNumber, parseSecretArn } from './cli-usage';
import { LOCAL_OUTPUTS_FILE } from './outputs';

/** Longer windows need --allow-long: a month of hour prefixes is already 744 listings. */
export const MAX_WINDOW_DAYS = 31;
export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 64;
/** The receiver's delivery id rule: ids are S3 key segments, so anything else cannot be archived. */

export interface ReplayArgs {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  readonly event?: EventType;
  readonly jobId?: string;
  readonly deliveryId?: string;
  readonly dryRun: boolean;
  readonly verify: boolean;
  readonly force: boolean;
  /** Sends per second; unlimited when absent. */
  readonly rate?: number;
  readonly concurrency: number;
  readonly outputsFile: string;
  readonly stackName?: string;
  /** Signing secrets for --verify, newest first (several cover a rotation). */
  readonly secrets: readonly string[];
  readonly secretArn?: string;
  readonly quiet: boolean;
}

export type ParsedReplayArgs = { readonly help: true } | ({ readonly help: false } & ReplayArgs);

export const REPLAY_USAGE = `usage: npm run replay -- --from <iso> --to <iso> [options]

Re-enqueues archived deliveries received in [from, to) through the normal worker
path (same queue message as the receiver, marked replay: true).

  --from ISO           window start, inclusive (e.g. 2026-11-27T10:00:00Z; a bare date is UTC midnight)
  --to ISO             window end, exclusive
  --event E            only this event (${EVENT_TYPES.join(', ')})
  --job-id ID          only this job
  --delivery-id ID     only this delivery
  --dry-run            print the plan and each job's current status; change nothing
  --verify             re-check each archived signature and body hash; refuse what fails
  --force              let the worker re-apply deliveries it has already applied (still monotonic)
  --rate N             at most N sends per second (default: unlimited)
  --concurrency C      archive reads in flight (default ${DEFAULT_CONCURRENCY})
  --outputs FILE       outputs file (default ${LOCAL_OUTPUTS_FILE}; or cdk deploy --outputs-file output)
  --stack NAME         stack in the outputs file (default WebhookIngestionStack)
  --secret S           signing secret for --verify; repeat for old and new during a rotation
                       (default: $WEBHOOK_SIGNING_SECRET, or the dev secret for a local stack)
  --secret-arn ARN     read the signing secret (AWSCURRENT, AWSPREVIOUS) from Secrets Manager
  --allow-long         allow a window longer than ${MAX_WINDOW_DAYS} days
  --quiet              no per-delivery lines, only the plan/summary
  -h, --help           this text

Exit code: 0 done, 1 something was refused or failed, 2 bad arguments (nothing done).
`;

export function parseReplayArgs(argv: readonly string[]): ParsedReplayArgs {
  const { values } = parseOptions(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    event: { type: 'string' },
    'job-id': { type: 'string' },
    'delivery-id': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    verify: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    rate: { type: 'string' },
    concurrency: { type: 'string' },
    outputs: { type: 'string' },
    stack: { type: 'string' },
    secret: { type: 'string', multiple: true },
    'secret-arn': { type: 'string' },
    'allow-long': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return { help: true };

  const from = parseInstant('--from', values.from);
  const to = parseInstant('--to', values.to);
  if (to.getTime() <= from.getTime()) throw new UsageError(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
  const days = (to.getTime() - from.getTime()) / 86_400_000;
  if (days > MAX_WINDOW_DAYS && !values['allow-long']) {
    throw new UsageError(`the window is ${days.toFixed(1)} days, more than ${MAX_WINDOW_DAYS}: narrow it or pass --allow-long`);
  }

  const event = values.event;
  if (event !== undefined && !isEventType(event)) throw new UsageError(`--event "${event}" is not one of ${EVENT_TYPES.join(', ')}`);
  const jobId = values['job-id'];
  if (jobId !== undefined && (jobId.length === 0 || jobId.length > 256)) throw new UsageError('--job-id must be 1-256 characters');
  const deliveryId = values['delivery-id'];
  if (deliveryId !== undefined && !DELIVERY_ID_PATTERN.test(deliveryId)) {
    throw new UsageError('--delivery-id must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  }

  const secrets = values.secret ?? [];
  if (secrets.some((secret) => secret.trim() === '')) throw new UsageError('--secret must not be empty');
  const secretArn = parseSecretArn('--secret-arn', values['secret-arn']);
  if (secretArn !== undefined && secrets.length > 0) throw new UsageError('--secret and --secret-arn exclude each other');
  if ((secretArn !== undefined || secrets.length > 0) && !values.verify) throw new UsageError('--secret and --secret-arn only make sense with --verify');

  return {
    help: false,
    from,
    to,
    event: event as EventType | undefined,
    jobId,
    deliveryId,
    dryRun: values['dry-run'],
    verify: values.verify,
    force: values.force,
    rate: parsePositiveNumber('--rate', values.rate),
    concurrency: parsePositiveNumber('--concurrency', values.concurrency, { integer: true, max: MAX_CONCURRENCY }) ?? DEFAULT_CONCURRENCY,
    outputsFile: values.outputs ?? LOCAL_OUTPUTS_FILE,
    stackName: values.stack,
    secrets,
    secretArn,
    quiet: values.quiet,
  };
}
