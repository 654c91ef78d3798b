/**
 * `npm run send -- <job.started|job.completed|job.failed> [options]`: the
 * provider simulator. Signs exactly as the provider does and POSTs canonical
 * payloads to the local stack (or any URL), printing every answer.
 *
 * Exit code: 0 when every answer is 2xx, 1 otherwise, 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { EVENT_TYPES, type EventType } from '../lambda/core/contract';
import { isEventType } from '../lambda/core/payload';
import { connectionHint, EXIT, parseCliArgs, runCli, UsageError } from './lib/cli-usage';
import { mapWithConcurrency } from './lib/concurrency';
import { resolveSigningSecret } from './lib/dev-secret';
import { LOCAL_OUTPUTS_FILE, readOutputsFile, type StackOutputs } from './lib/outputs';
import { recordAtSimulator } from './lib/simulator-client';
import { buildDelivery, buildEventDelivery, newJobId, postDelivery, type Delivery, type DeliveryAnswer } from './lib/provider';

const USAGE = `usage: npm run send -- <${EVENT_TYPES.join('|')}> [options]

  --job-id ID        job to report on (default: a new job id per delivery)
  --count N          deliveries to send (default 1)
  --concurrency C    deliveries in flight at once (default 4; 1 with --delivery-id)
  --url URL          webhook URL (default: WebhookUrl from the outputs file)
  --outputs FILE     outputs file (default ${LOCAL_OUTPUTS_FILE})
  --secret S         signing secret (default: $WEBHOOK_SIGNING_SECRET or the local dev secret)
  --unsigned         send without X-Webhook-Signature
  --delivery-id ID   delivery id; with --count, the same delivery is sent N times (provider retries)
  --timestamp ISO    signed X-Webhook-Timestamp (default: now), e.g. an old one to see a 401
  --body-file F      send this file's exact bytes as the body (any event name is then allowed)
  --lose             record the job's state at the provider API simulator, deliver nothing
                     (a webhook the provider gave up on; npm run reconcile repairs it)
  --quiet            print only the summary

Against the local stack every event is also recorded at its provider API
simulator (Endpoints.providerApi), so the job API answers as the provider would.
`;

interface SendOptions {
  readonly event: string;
  readonly jobId?: string;
  readonly count: number;
  readonly concurrency: number;
  readonly url: string;
  readonly secret?: string;
  readonly deliveryId?: string;
  readonly timestamp?: string;
  readonly bodyFile?: string;
  readonly quiet: boolean;
  readonly lose: boolean;
  /** The local stack's provider API simulator, when the outputs file names one. */
  readonly simulator?: { readonly url: string; readonly apiKey: string };
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return parsed;
}

function parseOptions(argv: readonly string[]): SendOptions | 'help' {
  const { values, positionals } = parseCliArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'job-id': { type: 'string' },
      count: { type: 'string' },
      concurrency: { type: 'string' },
      url: { type: 'string' },
      outputs: { type: 'string' },
      secret: { type: 'string' },
      unsigned: { type: 'boolean', default: false },
      'delivery-id': { type: 'string' },
      timestamp: { type: 'string' },
      'body-file': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      lose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const event = positionals[0];
  if (event === undefined || positionals.length > 1) throw new UsageError('exactly one event name is required');
  if (!isEventType(event) && values['body-file'] === undefined) {
    throw new UsageError(`unknown event "${event}" (known: ${EVENT_TYPES.join(', ')}; use --body-file to send anything)`);
  }
  if (values.unsigned && values.secret !== undefined) throw new UsageError('--unsigned and --secret exclude each other');
  if (values.lose && (values['body-file'] !== undefined || !isEventType(event))) throw new UsageError('--lose records a known event with a canonical payload; not with --body-file');
  // Every argument is checked before the outputs file is read.
  const count = positiveInteger('count', values.count, 1);
  // Copies of one delivery are provider retries, which come one after another; --concurrency races them on purpose.
  const concurrency = positiveInteger('concurrency', values.concurrency, values['delivery-id'] !== undefined ? 1 : 4);
  const secret = values.unsigned ? undefined : resolveSigningSecret(process.env, values.secret).secret;
  const outputs = values.url === undefined || values.lose || values.outputs !== undefined ? readOutputsFile(values.outputs ?? LOCAL_OUTPUTS_FILE) : undefined;
  const url = values.url ?? (outputs as StackOutputs).WebhookUrl;
  const endpoints = outputs?.Endpoints;
  const simulator = endpoints?.providerApi !== undefined && endpoints.providerApiKey !== undefined ? { url: endpoints.providerApi, apiKey: endpoints.providerApiKey } : undefined;
  if (values.lose && simulator === undefined) throw new UsageError('--lose needs the local stack (its outputs file names the provider API simulator)');
  return {
    event,
    jobId: values['job-id'],
    count,
    concurrency,
    url,
    secret,
    deliveryId: values['delivery-id'],
    timestamp: values.timestamp,
    bodyFile: values['body-file'],
    quiet: values.quiet,
    lose: values.lose,
    simulator,
  };
}

/** One delivery per copy; with a fixed delivery id every copy is the same bytes, as a provider retry is. */
function buildDeliveries(options: SendOptions): Delivery[] {
  const build = (): Delivery => {
    if (options.bodyFile !== undefined) {
      return buildDelivery({
        event: options.event,
        body: readFileSync(options.bodyFile),
        deliveryId: options.deliveryId,
        timestamp: options.timestamp,
        secret: options.secret,
      });
    }
    return buildEventDelivery(options.event as EventType, {
      jobId: options.jobId ?? newJobId(),
      deliveryId: options.deliveryId,
      timestamp: options.timestamp,
      secret: options.secret,
    });
  };
  if (options.deliveryId !== undefined) {
    const delivery = build();
    return Array.from({ length: options.count }, () => delivery);
  }
  return Array.from({ length: options.count }, build);
}

function bodyText(delivery: Delivery): string {
  return typeof delivery.body === 'string' ? delivery.body : Buffer.from(delivery.body).toString('utf8');
}

function jobIdOf(delivery: Delivery): string | undefined {
  try {
    const data = (JSON.parse(bodyText(delivery)) as { data?: { job_id?: string; id?: string } }).data;
    return data?.job_id ?? data?.id;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  const deliveries = buildDeliveries(options);
  const started = Date.now();
  const answers = await mapWithConcurrency(deliveries, options.concurrency, async (delivery): Promise<DeliveryAnswer> => {
    let answer: DeliveryAnswer;
    try {
      // The provider's own state changes first; then it sends (or, with --lose, gives up on) the webhook.
      const job = jobIdOf(delivery);
      if (options.simulator !== undefined && isEventType(delivery.event) && job !== undefined) {
        await recordAtSimulator(options.simulator.url, options.simulator.apiKey, delivery.event, job, JSON.parse(bodyText(delivery)));
      }
      answer = options.lose ? { status: 0, body: { lost: 'recorded at the provider API simulator, not delivered' }, millis: 0 } : await postDelivery(options.url, delivery);
    } catch (error) {
      const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      const hint = connectionHint(error);
      answer = { status: 0, body: { error: hint === undefined ? message : `${message}; ${hint}` }, millis: 0 };
    }
    if (!options.quiet) {
      const job = jobIdOf(delivery);
      console.log(
        `${options.lose ? 'LOST' : answer.status === 0 ? 'ERR' : answer.status} ${delivery.event} ${delivery.deliveryId}${job ? ` ${job}` : ''} ${JSON.stringify(answer.body)} ${answer.millis}ms`,
      );
    }
    return answer;
  });
  const elapsed = Date.now() - started;
  const byStatus = new Map<number, number>();
  for (const answer of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
  const histogram = [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status === 0 ? 'error' : status} x${count}`)
    .join(', ');
  const rate = elapsed > 0 ? ((answers.length * 1000) / elapsed).toFixed(1) : String(answers.length);
  if (options.lose) console.log(`recorded ${answers.length} at the provider API simulator and delivered none (lost) in ${elapsed} ms`);
  else console.log(`sent ${answers.length} to ${options.url} in ${elapsed} ms (${rate}/s): ${histogram}`);
  if (options.lose) return answers.every((answer) => answer.status === 0 && 'lost' in (answer.body as object)) ? 0 : 1;
  return answers.every((answer) => answer.status >= 200 && answer.status < 300) ? 0 : 1;
}

runCli('send', main);
