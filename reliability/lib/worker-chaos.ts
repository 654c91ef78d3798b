/**
 * Ways for the worker to die mid-batch, each leaving the queue in the state a
 * real death leaves it in:
 *
 * - crash: the handler applies the first part of a batch and then throws, as a
 *   Lambda that runs out of memory would; the event source returns the whole
 *   batch to the queue, applied records included;
 * - kill: a consumer receives a batch, applies part of it and vanishes without
 *   deleting anything or changing any visibility, as a killed host would; the
 *   messages come back when their visibility timeout ends;
 * - restart: the queue runner is stopped and a fresh one started.
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { toSqsRecord } from '../../local/queue-runner';
import { localLambdaContext } from '../../local/lambda-context';
import type { HarnessStack, WorkerWrapper } from './harness-stack';

/**
 * Deaths only strike records on their first or second receive. The queue moves
 * a message to the DLQ on its fifth receive by design, so a message that died
 * four times in a row would rightly end there; the scenario tests recovery
 * from deaths, not the size of that budget, so it never spends it all.
 */
const MAX_DEATH_RECEIVE = 2;

function mayDie(records: readonly SQSRecord[]): boolean {
  return records.every((record) => Number(record.attributes.ApproximateReceiveCount ?? '1') <= MAX_DEATH_RECEIVE);
}

export interface CrashCounter {
  crashes: number;
  /** Records applied by a batch that then crashed: each comes back and must be a no-op. */
  appliedBeforeCrash: number;
}

/** Crashes every `every`-th batch that holds a record of the scenario, after applying its first half. */
export function crashingWorker(prefix: string, every: number, counter: CrashCounter): WorkerWrapper {
  let batches = 0;
  return async (real, event, context) => {
    const ours = event.Records.some((record) => record.body.includes(`"deliveryId":"${prefix}`));
    if (!ours) return real(event, context);
    batches += 1;
    if (batches % every !== 0 || !mayDie(event.Records)) return real(event, context);
    const half = event.Records.slice(0, Math.ceil(event.Records.length / 2));
    await real({ Records: half } as SQSEvent, context);
    counter.crashes += 1;
    counter.appliedBeforeCrash += half.length;
    throw new Error('simulated worker crash after part of the batch');
  };
}

/** One killed consumer: returns how many records it applied before it "died". */
export async function killedConsumer(stack: HarnessStack): Promise<{ received: number; applied: number }> {
  const { resources } = stack;
  // The runner's pollers compete for the same messages: try a few times to get a batch to die with.
  let messages: Message[] = [];
  for (let attempt = 0; attempt < 10 && messages.length === 0; attempt += 1) {
    const output = await stack.direct.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: resources.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    messages = output.Messages ?? [];
  }
  if (messages.length === 0) return { received: 0, applied: 0 };
  const records = messages.map((message) => toSqsRecord(message, resources.queueArn, resources.region));
  if (!mayDie(records)) {
    // Not this time: hand the batch straight back for the runner to process.
    await stack.direct.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: resources.queueUrl,
        Entries: records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 })),
      }),
    );
    return { received: 0, applied: 0 };
  }
  const half = records.slice(0, Math.ceil(records.length / 2));
  const context: Context = localLambdaContext({ functionName: 'webhook-worker-killed', region: resources.region, timeoutMs: 8000 });
  await stack.worker({ Records: half }, context);
  // Nothing is deleted and no visibility is changed: the process is gone.
  return { received: records.length, applied: half.length };
}
