/**
 * `npx tsx bench/abuse.ts`: what an unauthenticated flood does to the
 * provider's deliveries under the stage throttle, on the local stack (DynamoDB
 * Local, fauxqs, the API server with its model of API Gateway's token bucket),
 * and what the flood costs per hour at the prices in bench/prices.json.
 *
 * The throttle is scaled down with the traffic (rate 20/s, burst 40: the
 * defaults' 1:2) so one machine can flood it many times over; the result is a
 * ratio to the stage rate, which is what carries over to the deployed 100/s.
 * For each flood level the strict provider sends 2 deliveries/s for 15 s (a 4xx,
 * 429 included, is final), then the same with the mitigation on
 * (`webhookPathToken`: the provider posts to /webhooks/<token>, the flood to
 * /webhooks). Loopback only, bounded in count and time.
 *
 * Options: --seconds N (per level, default 15), --write-json F.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildEventDelivery, postDelivery } from '../ops/lib/provider';
import { DEV_SIGNING_SECRET } from '../ops/lib/dev-secret';
import { REPO_ROOT } from '../local/paths';
import { startLocalStack, type LocalStack } from '../local/start';
import { DEFAULTS, WEBHOOK_PATH } from '../lambda/core/contract';
import { STRICT_PROVIDER } from '../reliability/lib/provider-sim';
import prices from './prices.json';

const RATE = 20;
const BURST = 40;
const PROVIDER_PER_SECOND = 2;
const FLOOD_MULTIPLES = [0, 0.5, 1, 2, 4, 8] as const;
const TOKEN = 'abuse0bench0token0f3a9c1e7b5d2a8c4e6f0b1d3';
/** Bytes of one access-log line of the stage's JSON format with typical values (measured from the format). */
const ACCESS_LOG_LINE_BYTES = 420;
/** START, END and REPORT platform lines of one invocation, as Lambda writes them. */
const PLATFORM_LOG_BYTES = 330;
const RECEIVER_MEMORY_GB = 512 / 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Level {
  readonly floodMultiple: number;
  readonly floodPerSecond: number;
  readonly mitigated: boolean;
  readonly providerDeliveries: number;
  readonly providerFirstAttempt429: number;
  readonly providerLost: number;
  readonly floodAnswers: Record<string, number>;
}

/** One unauthenticated junk POST: plausible headers, a signature that cannot verify. */
function junk(url: string, index: number): Promise<number> {
  const body = JSON.stringify({ event: 'job.completed', data: { job_id: `junk_${index}`, output_url: 'https://attacker.example/x' } });
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-webhook-event': 'job.completed',
      'x-webhook-delivery-id': `junk-${index}`,
      'x-webhook-timestamp': new Date().toISOString(),
      'x-webhook-signature': `sha256=${'0'.repeat(64)}`,
    },
    body,
    signal: AbortSignal.timeout(10_000),
  }).then(
    async (response) => {
      await response.arrayBuffer();
      return response.status;
    },
    () => 0,
  );
}

/** The strict provider: a 4xx is final; 5xx and no answer are retried 3 times. */
async function provider(url: string, secret: string, index: number, prefix: string): Promise<{ first: number; acknowledged: boolean }> {
  const jobId = `${prefix}job_${index}`;
  let first = -1;
  for (let attempt = 0; attempt < STRICT_PROVIDER.maxAttempts; attempt += 1) {
    if (attempt > 0) await sleep(STRICT_PROVIDER.baseDelayMs * 2 ** (attempt - 1));
    const delivery = buildEventDelivery('job.started', { secret, deliveryId: `${prefix}dlv_${index}`, jobId });
    const status = await postDelivery(url, delivery, { timeoutMs: 10_000 }).then(
      (answer) => answer.status,
      () => 0,
    );
    if (first === -1) first = status;
    if (status >= 200 && status < 300) return { first, acknowledged: true };
    if (status >= 400 && status < 500) return { first, acknowledged: false };
  }
  return { first, acknowledged: false };
}

async function runLevel(stack: LocalStack, floodUrl: string, floodMultiple: number, seconds: number, mitigated: boolean): Promise<Level> {
  const floodPerSecond = floodMultiple * RATE;
  const floodAnswers: Record<string, number> = {};
  const prefix = `abuse-${mitigated ? 'm' : 'u'}${floodMultiple}-`;
  const stopAt = Date.now() + seconds * 1000;
  const inFlight = new Set<Promise<void>>();
  const flood = (async () => {
    if (floodPerSecond === 0) return;
    const started = Date.now();
    for (let sent = 0; Date.now() < stopAt; sent += 1) {
      await sleep(Math.max(0, started + (sent * 1000) / floodPerSecond - Date.now()));
      // Bounded: a flood that outruns the machine is capped, never queued without limit.
      if (inFlight.size >= 256) continue;
      const request = junk(floodUrl, sent).then((status) => {
        floodAnswers[status] = (floodAnswers[status] ?? 0) + 1;
      });
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }
  })();
  const deliveries = Math.round(seconds * PROVIDER_PER_SECOND);
  const sends = Array.from({ length: deliveries }, async (_, index) => {
    await sleep((index * 1000) / PROVIDER_PER_SECOND);
    return provider(stack.webhookUrl, stack.signingSecret, index, prefix);
  });
  const outcomes = await Promise.all(sends);
  await flood;
  await Promise.all(inFlight);
  return {
    floodMultiple,
    floodPerSecond,
    mitigated,
    providerDeliveries: deliveries,
    providerFirstAttempt429: outcomes.filter((outcome) => outcome.first === 429).length,
    providerLost: outcomes.filter((outcome) => !outcome.acknowledged).length,
    floodAnswers,
  };
}

/** Receiver log bytes and CPU per junk request, measured on this stack. */
async function calibrate(url: string): Promise<{ logBytesPerRequest: number; cpuMsPerRequest: number }> {
  let bytes = 0;
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const callback = rest.find((item) => typeof item === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  const requests = 300;
  const cpu = process.cpuUsage();
  try {
    for (let index = 0; index < requests; index += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, offset) => junk(url, 1_000_000 + index + offset)));
    }
  } finally {
    process.stdout.write = original;
  }
  const used = process.cpuUsage(cpu);
  return { logBytesPerRequest: bytes / requests, cpuMsPerRequest: (used.user + used.system) / 1000 / requests };
}

function costPerHour(requestsPerSecond: number, throttle: number, perRequest: { logBytes: number; cpuMs: number }): Record<string, number> {
  const hour = 3600;
  const all = requestsPerSecond * hour;
  const invoked = Math.min(requestsPerSecond, throttle) * hour;
  const billedMs = Math.max(1, Math.ceil(perRequest.cpuMs));
  const apiGateway = (all / 1e6) * prices.apiGatewayHttp.perMillionRequests;
  const lambda = (invoked / 1e6) * prices.lambda.perMillionRequests + invoked * (billedMs / 1000) * RECEIVER_MEMORY_GB * prices.lambda.arm64PerGbSecond;
  const logs = ((all * ACCESS_LOG_LINE_BYTES + invoked * (perRequest.logBytes + PLATFORM_LOG_BYTES)) / 1024 ** 3) * prices.cloudwatchLogs.ingestionPerGb;
  const round = (value: number): number => Math.round(value * 100) / 100;
  return { apiGateway: round(apiGateway), lambda: round(lambda), logs: round(logs), total: round(apiGateway + lambda + logs) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const secondsIndex = argv.indexOf('--seconds');
  const seconds = secondsIndex === -1 ? 15 : Number(argv[secondsIndex + 1]);
  const jsonIndex = argv.indexOf('--write-json');
  const quiet = (): void => undefined;
  const signingSecret = `${DEV_SIGNING_SECRET}-abuse`;
  const levels: Level[] = [];
  let calibration = { logBytesPerRequest: 0, cpuMsPerRequest: 0 };
  for (const mitigated of [false, true]) {
    const stack = await startLocalStack({
      port: 0,
      stateDir: path.join(REPO_ROOT, '.local', mitigated ? 'abuse-mitigated' : 'abuse'),
      cacheDir: path.join(REPO_ROOT, '.local'),
      signingSecret,
      throttle: { rateLimit: RATE, burstLimit: BURST },
      webhookPath: mitigated ? `${WEBHOOK_PATH}/${TOKEN}` : undefined,
      log: quiet,
    });
    try {
      // The flood always aims at the published path; only the provider knows the token.
      const floodUrl = `${new URL(stack.webhookUrl).origin}${WEBHOOK_PATH}`;
      if (!mitigated) calibration = await calibrate(floodUrl);
      for (const multiple of FLOOD_MULTIPLES) {
        if (mitigated && multiple === 0) continue;
        // A full bucket for every level.
        await sleep((BURST / RATE) * 1000);
        const level = await runLevel(stack, floodUrl, multiple, seconds, mitigated);
        levels.push(level);
        process.stdout.write(
          `${mitigated ? 'mitigated ' : 'unprotected'} flood ${level.floodMultiple}x rate (${level.floodPerSecond}/s): provider first attempts 429 ${level.providerFirstAttempt429}/${level.providerDeliveries}, lost (strict) ${level.providerLost}; flood answers ${JSON.stringify(level.floodAnswers)}\n`,
        );
      }
    } finally {
      await stack.stop();
    }
  }
  const perRequest = { logBytes: calibration.logBytesPerRequest, cpuMs: calibration.cpuMsPerRequest };
  const deployedRate = DEFAULTS.throttleRateLimit;
  const costs = [1, 2, 10].map((multiple) => ({ floodPerSecond: multiple * deployedRate, perHour: costPerHour(multiple * deployedRate, deployedRate, perRequest) }));
  process.stdout.write(
    `per junk request: ${Math.round(calibration.logBytesPerRequest)} receiver log bytes, ${calibration.cpuMsPerRequest.toFixed(2)} ms CPU (local, API server included)\n`,
  );
  for (const cost of costs) process.stdout.write(`flood ${cost.floodPerSecond}/s against the deployed ${deployedRate}/s stage: ${JSON.stringify(cost.perHour)} USD per hour\n`);
  if (jsonIndex !== -1) {
    writeFileSync(argv[jsonIndex + 1], `${JSON.stringify({ rate: RATE, burst: BURST, seconds, levels, calibration, costs }, null, 2)}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`abuse: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
