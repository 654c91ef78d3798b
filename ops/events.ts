/**
 * `npm run events [-- --follow] [--json] [--queue URL] [--outputs FILE]`:
 * prints the job events as they arrive on the local stack's catch-all tap
 * queue (`JobEventsTapQueueUrl`), one line each (`--json`: the EventBridge
 * envelope). Without `--follow` it prints what is there and exits; with it, it
 * waits for more until Ctrl-C. Each event is taken off the queue once printed:
 * the tap exists to be watched. `--queue` reads another queue that receives
 * envelopes (the quality review queue, or one of your own on a deployed stack).
 *
 * `npm run events -- --redrive [--max N] [--outputs FILE]` publishes the events
 * of the stream batches the publisher gave up on (`JobEventsFailureQueueUrl`),
 * read back from the jobs table's stream within its 24 hours (see
 * `lib/events-redrive.ts`); exit code 1 when a batch is left over.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { EventBridgeBus } from '../lambda/adapters/eventbridge-bus';
import { LOCAL_OUTPUT_KEYS, OUTPUT_KEYS } from '../lambda/core/contract';
import { LOCAL_CREDENTIALS, clientsForOutputs, regionFromQueueUrl } from './lib/clients';
import { EXIT, parseCliArgs, parsePositiveNumber, runCli, UsageError } from './lib/cli-usage';
import { eventLine, parseEnvelope } from './lib/event-lines';
import { redriveJobEvents } from './lib/events-redrive';
import { LOCAL_OUTPUTS_FILE, readOutputsFile, type StackOutputs } from './lib/outputs';

const USAGE =
  `usage: npm run events -- [--follow] [--json] [--queue URL] [--outputs FILE]\n` +
  `       npm run events -- --redrive [--max N] [--outputs FILE]   (default outputs: ${LOCAL_OUTPUTS_FILE})\n`;

async function redrive(outputs: StackOutputs, max: number | undefined): Promise<number> {
  const failureQueueUrl = outputs.JobEventsFailureQueueUrl;
  const busName = outputs.JobEventsBusName;
  if (failureQueueUrl === undefined || busName === undefined) {
    throw new UsageError(`the outputs have no ${OUTPUT_KEYS.jobEventsFailureQueueUrl} or ${OUTPUT_KEYS.jobEventsBusName}: was the stack deployed with job events?`);
  }
  const local = outputs.Endpoints;
  const region = local?.region ?? regionFromQueueUrl(failureQueueUrl);
  const common = local ? { region: local.region, credentials: LOCAL_CREDENTIALS } : region ? { region } : {};
  const streams = new DynamoDBStreamsClient({ ...common, ...(local ? { endpoint: local.dynamodb } : {}) });
  const eventBridge = new EventBridgeClient({ ...common, ...(local?.events ? { endpoint: local.events } : {}) });
  const clients = clientsForOutputs(outputs);
  try {
    const result = await redriveJobEvents({
      sqs: clients.sqs,
      streams,
      bus: new EventBridgeBus(eventBridge, busName),
      failureQueueUrl,
      region: region ?? 'us-east-1',
      max,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(
      `events redrive: ${result.batches} batch(es), ${result.redriven} redriven, ${result.published} event(s) published, ${result.leftOver} left over, ${result.unreadable} unreadable\n`,
    );
    return result.leftOver + result.unreadable === 0 ? EXIT.ok : EXIT.failed;
  } finally {
    streams.destroy();
    eventBridge.destroy();
    clients.destroy();
  }
}

export async function main(argv: readonly string[] = process.argv.slice(2), signal?: AbortSignal): Promise<number> {
  const { values } = parseCliArgs({
    args: [...argv],
    options: {
      outputs: { type: 'string' },
      follow: { type: 'boolean' },
      json: { type: 'boolean' },
      queue: { type: 'string' },
      redrive: { type: 'boolean' },
      max: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  // Every argument is checked before the outputs file is read.
  const max = parsePositiveNumber('--max', values.max, { integer: true });
  if (max !== undefined && !values.redrive) throw new UsageError('--max goes with --redrive');
  const outputs = readOutputsFile(values.outputs ?? LOCAL_OUTPUTS_FILE);
  if (values.redrive) return redrive(outputs, max);
  const queueUrl = values.queue ?? outputs.JobEventsTapQueueUrl;
  if (queueUrl === undefined) {
    throw new UsageError(
      `no ${LOCAL_OUTPUT_KEYS.jobEventsTapQueueUrl} in the outputs: the tap is the local stack's; on AWS subscribe a queue to the bus ${outputs.JobEventsBusName ?? '(JobEventsBusName)'} and pass --queue`,
    );
  }
  const clients = clientsForOutputs(outputs);
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  signal?.addEventListener('abort', stop);
  process.once('SIGINT', stop);
  let printed = 0;
  try {
    for (;;) {
      let messages;
      try {
        const received = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: values.follow ? 5 : 1 }),
          { abortSignal: abort.signal },
        );
        messages = received.Messages ?? [];
      } catch (error) {
        if (abort.signal.aborted) break;
        throw error;
      }
      if (messages.length === 0) {
        if (values.follow && !abort.signal.aborted) continue;
        break;
      }
      for (const message of messages) {
        const envelope = parseEnvelope(message.Body);
        process.stdout.write(`${envelope === undefined ? `(not an event) ${message.Body ?? ''}` : values.json ? JSON.stringify(envelope) : eventLine(envelope)}\n`);
        printed += 1;
      }
      await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
      if (abort.signal.aborted) break;
    }
    process.stderr.write(`events: ${printed} printed\n`);
    return EXIT.ok;
  } finally {
    process.removeListener('SIGINT', stop);
    clients.destroy();
  }
}

if (require.main === module) runCli('events', () => main());
