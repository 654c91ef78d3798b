/**
 * DLQ redrive. SQS's own move task (StartMessageMoveTask) is preferred: it runs
 * server-side and keeps going if this process dies. Where it does not exist (the
 * local emulator answers InvalidAction) or a count limit is wanted, messages are
 * moved by hand: receive, send a copy (same body and message attributes), and
 * delete the original only after the copy was accepted, so a crash in between
 * duplicates a message (the worker is idempotent per delivery id) but never loses one.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describeError } from './cli-usage';

export interface RedriveOptions {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  readonly queueUrl: string;
  readonly max?: number;
  readonly loop?: boolean;
  readonly waitSeconds?: number;
  readonly log?: (line: string) => void;
  readonly pollIntervalMs?: number;
  /** Consecutive empty receives that mean "drained" (long polling makes one usually enough). */
  readonly emptyReceivesToStop?: number;
  /** How long a received message stays hidden while it is copied; failed copies reappear after it. */
  readonly visibilityTimeoutSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface RedriveResult {
  readonly method: 'move-task' | 'loop';
  readonly moved: number;
  readonly failed: number;
  /** Move tasks only: the task's last status (RUNNING when we stopped following it). */
  readonly taskStatus?: string;
  readonly taskHandle?: string;
  readonly failureReason?: string;
  /** Why the loop was used instead of a move task. */
  readonly fallbackReason?: string;
}

/** Error names meaning "this SQS does not do move tasks", as opposed to a real failure. */
const UNSUPPORTED = new Set(['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'NotImplemented', 'InvalidActionException']);

export function isMoveTaskUnsupported(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNSUPPORTED.has(error.name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 404 || status === 501;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = result.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}

/**
 * The work queue's ARN without asking SQS for it: the DLQ and the work queue
 * are one stack's, so they share partition, region and account, and a queue
 * URL ends in `/<account>/<name>`. Reading it with GetQueueAttributes would
 * need a grant on the work queue that nothing else in redrive uses.
 */
export function siblingQueueArn(deadLetterQueueArn: string, queueUrl: string): string {
  const arn = deadLetterQueueArn.split(':');
  if (arn.length !== 6 || arn[0] !== 'arn' || arn[2] !== 'sqs') throw new Error(`not an SQS queue ARN: ${deadLetterQueueArn}`);
  let account: string | undefined;
  let name: string | undefined;
  try {
    [account, name] = new URL(queueUrl).pathname.split('/').filter((part) => part.length > 0);
  } catch {
    // reported below
  }
  if (account === undefined || name === undefined) throw new Error(`not an SQS queue URL: ${queueUrl}`);
  if (account !== arn[4]) {
    throw new Error(`the queue ${queueUrl} is in account ${account}, its DLQ in ${arn[4]}: redrive one stack's queues, or use --loop`);
  }
  return [...arn.slice(0, 5), name].join(':');
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** What a redrive is about to do, in one line. */
export function describeRedrive(deadLetterQueueUrl: string, queueUrl: string, before: { readonly visible: number; readonly inFlight: number }): string {
  return `${deadLetterQueueUrl} -> ${queueUrl} (DLQ: ${before.visible} visible, ${before.inFlight} in flight)`;
}

/** The summary lines of a redrive: what moved, what is left, and how to follow a task still running. */
export function formatRedriveSummary(result: RedriveResult, millis: number, after: { readonly visible: number; readonly inFlight: number }): string[] {
  const task = result.method === 'move-task' ? ` (task ${result.taskStatus}${result.failureReason ? `: ${result.failureReason}` : ''})` : '';
  const lines = [
    `redrive (${result.method}${task}): moved ${result.moved}, failed ${result.failed} in ${millis} ms; ` +
      `DLQ now ${after.visible} visible, ${after.inFlight} in flight`,
  ];
  if (result.taskStatus === 'RUNNING') lines.push('the move task keeps running; follow it with: aws sqs list-message-move-tasks --source-arn <DLQ ARN>');
  return lines;
}

/** Some messages could not be moved, or the move task ended other than COMPLETED (or still RUNNING). */
export function redriveFailed(result: RedriveResult): boolean {
  const taskFailed = result.taskStatus !== undefined && !['COMPLETED', 'RUNNING'].includes(result.taskStatus);
  return result.failed > 0 || taskFailed;
}

export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const log = options.log ?? (() => undefined);
  if (options.max !== undefined || options.loop === true) {
    return redriveByLoop(options, options.max !== undefined ? '--max limits the count' : '--loop');
  }
  const sourceArn = await queueArn(options.sqs, options.deadLetterQueueUrl);
  const destinationArn = siblingQueueArn(sourceArn, options.queueUrl);
  let taskHandle: string | undefined;
  try {
    const started = await options.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
    taskHandle = started.TaskHandle;
  } catch (error) {
    if (!isMoveTaskUnsupported(error)) throw error;
    const reason = `StartMessageMoveTask not supported here (${describeError(error)})`;
    log(`${reason}: moving by receive, send, delete`);
    return redriveByLoop(options, reason);
  }
  log(`move task started: ${sourceArn} -> ${destinationArn}`);
  return followMoveTask(options, sourceArn, taskHandle);
}

async function followMoveTask(options: RedriveOptions, sourceArn: string, taskHandle: string | undefined): Promise<RedriveResult> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.waitSeconds ?? 300) * 1000;
  const interval = options.pollIntervalMs ?? 2000;
  for (;;) {
    const listed = await options.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    const results = listed.Results ?? [];
    // Only running tasks carry a handle; the newest task comes first.
    const task = results.find((entry) => taskHandle !== undefined && entry.TaskHandle === taskHandle) ?? results[0];
    const status = task?.Status ?? 'UNKNOWN';
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (status !== 'RUNNING' || now() >= deadline) {
      const toMove = task?.ApproximateNumberOfMessagesToMove ?? moved;
      const failed = status === 'COMPLETED' || status === 'RUNNING' ? 0 : Math.max(0, toMove - moved);
      return { method: 'move-task', moved, failed, taskStatus: status, taskHandle, failureReason: task?.FailureReason };
    }
    options.log?.(`move task running: ${moved} of ~${task?.ApproximateNumberOfMessagesToMove ?? '?'} moved`);
    await sleep(interval);
  }
}

function copyAttributes(attributes: Record<string, MessageAttributeValue> | undefined): Record<string, MessageAttributeValue> | undefined {
  if (attributes === undefined || Object.keys(attributes).length === 0) return undefined;
  const copy: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    copy[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return copy;
}

async function redriveByLoop(options: RedriveOptions, fallbackReason: string): Promise<RedriveResult> {
  const { sqs, deadLetterQueueUrl, queueUrl } = options;
  const log = options.log ?? (() => undefined);
  const emptyToStop = options.emptyReceivesToStop ?? 2;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.waitSeconds ?? 300) * 1000;
  let moved = 0;
  let failed = 0;
  let empty = 0;
  // A copy that failed leaves its original in the DLQ; once it reappears it must
  // not be counted twice or keep the loop alive.
  const failedIds = new Set<string>();

  while (options.max === undefined || moved + failed < options.max) {
    const want = Math.min(10, options.max === undefined ? 10 : options.max - moved - failed);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MaxNumberOfMessages: want,
        WaitTimeSeconds: 1,
        VisibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = (received.Messages ?? []).filter((message): message is Message & { MessageId: string } => {
      return message.MessageId !== undefined && !failedIds.has(message.MessageId);
    });
    if (messages.length === 0) {
      empty += 1;
      if ((received.Messages ?? []).length > 0) break;
      if (empty < emptyToStop) continue;
      // Empty is not drained while messages are in flight in the DLQ: a receive
      // whose answer was lost hid them for the visibility timeout. Wait for them
      // (failed copies, hidden too, are not waited for), up to the deadline.
      const { inFlight } = await queueDepth(sqs, deadLetterQueueUrl);
      if (inFlight <= failedIds.size || now() >= deadline) break;
      log(`${inFlight - failedIds.size} message(s) in flight in the DLQ (a receive whose answer was lost): waiting for them to reappear`);
      await sleep(options.pollIntervalMs ?? 2000);
      empty = 0;
      continue;
    }
    empty = 0;

    const entries = messages.map((message, index) => ({ id: `m${index}`, message }));
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.map(({ id, message }) => ({
          Id: id,
          MessageBody: message.Body ?? '',
          MessageAttributes: copyAttributes(message.MessageAttributes),
        })),
      }),
    );
    for (const failure of sent.Failed ?? []) {
      const entry = entries.find(({ id }) => id === failure.Id);
      if (entry === undefined) continue;
      failed += 1;
      failedIds.add(entry.message.MessageId);
      log(`could not copy ${entry.message.MessageId}: ${failure.Code ?? 'error'} ${failure.Message ?? ''}`.trim());
    }
    const copied = entries.filter(({ id }) => (sent.Successful ?? []).some((ok) => ok.Id === id));
    if (copied.length === 0) continue;
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: deadLetterQueueUrl,
        Entries: copied.map(({ id, message }) => ({ Id: id, ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    moved += copied.length;
    for (const failure of deleted.Failed ?? []) {
      // The copy is on the main queue already: the original will be redriven again
      // later and the worker will see it as a duplicate delivery.
      log(`copied but could not delete ${failure.Id} from the DLQ (${failure.Code ?? 'error'}): it may be redriven twice`);
    }
  }
  return { method: 'loop', moved, failed, fallbackReason };
}
