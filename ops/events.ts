/**
 * `npm run events [-- --follow] [--json] [--queue URL] [--outputs FILE]`:
 * prints the job events as they arrive on the local stack's catch-all tap
 * queue (`JobEventsTapQueueUrl`), one line each (`--json`: the EventBridge
 * envelope). Without `--follow` it prints what is there and exits; with it, it
 * waits for more until Ctrl-C. Each event is taken off the queue once printed:
 * the tap exists to be watched. `--queue` reads another queue that receives
 * envelopes (the quality review queue, or one of your own on a deployed stack).
 */
import { parseArgs } from 'node:util';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { LOCAL_OUTPUT_KEYS } from '../lambda/core/contract';
import { clientsForOutputs } from './lib/clients';
import { EXIT, UsageError, runCli } from './lib/cli-usage';
import { eventLine, parseEnvelope } from './lib/event-lines';
import { LOCAL_OUTPUTS_FILE, readOutputsFile } from './lib/outputs';

const USAGE = `usage: npm run events -- [--follow] [--json] [--queue URL] [--outputs FILE]   (default outputs: ${LOCAL_OUTPUTS_FILE})\n`;

export async function main(argv: readonly string[] = process.argv.slice(2), signal?: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      outputs: { type: 'string' },
      follow: { type: 'boolean' },
      json: { type: 'boolean' },
      queue: { type: 'string' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  const outputs = readOutputsFile(values.outputs ?? LOCAL_OUTPUTS_FILE);
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
