/**
 * `npm run bench` (full, a few minutes; writes docs/benchmarks.md and
 * docs/bench-latency.svg) or `npm run bench -- --quick` (about a minute; writes
 * to .bench/quick/ so a smoke run never replaces the committed figures).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Before any SDK client or Powertools object exists: they read these when constructed.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
delete process.env.POWERTOOLS_DEV;

import { runBundles, type BundlesResult } from './bundles';
import { apiAccessLogBytes, costModel, fixedMonthly, loadPrices } from './cost';
import { runE2e, type E2eResult } from './e2e';
import { eventsCostModel, eventsFixedMonthly, type EventsPrices } from './events-cost';
import type { EventsReport } from './events-report';
import { runEventsThroughput } from './events-throughput';
import { renderLatencySvg, renderMarkdown, type Goal, type Report } from './report';
import { runReceiverOverhead, type ReceiverOverheadResult } from './receiver-overhead';
import { fmt } from './stats';
import { runVerify, type VerifyResult } from './verify';

const ROOT = path.resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
const startedAt = performance.now();
const log = (message: string): void => {
  process.stderr.write(`[bench ${fmt((performance.now() - startedAt) / 1000, 0).padStart(3)} s] ${message}\n`);
};

const SETTINGS = quick
  ? { verifyRounds: 31, verifySampleMs: 3, receiverRounds: 5, receiverBatch: 50, receiverWarmup: 1000, bundleRuns: 15, e2eRounds: 1, e2ePerBatch: 30, e2eWarmup: 40, costSmall: 60, costLarge: 15, eventsRounds: 2, eventsJobs: 100, eventsCpu: 50 }
  : { verifyRounds: 121, verifySampleMs: 5, receiverRounds: 15, receiverBatch: 100, receiverWarmup: 2000, bundleRuns: 21, e2eRounds: 5, e2ePerBatch: 60, e2eWarmup: 120, costSmall: 300, costLarge: 60, eventsRounds: 6, eventsJobs: 300, eventsCpu: 300 };
const LEVELS = [1, 8, 32];
const BUNDLE_LIMIT_BYTES = 520_000;

async function timed<T>(name: string, seconds: Record<string, number>, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await run();
  } finally {
    seconds[name] = (performance.now() - start) / 1000;
  }
}

function goalsOf(
  verify: VerifyResult,
  receiver: ReceiverOverheadResult,
  bundles: BundlesResult,
  e2e: E2eResult | undefined,
  smallCost: number | undefined,
): Goal[] {
  const goals: Goal[] = [];
  for (const g of verify.goals) {
    const size = g.bodyBytes === 1024 ? '1 KiB' : '64 KiB';
    goals.push({ name: `verify ${size}: ours ÷ HMAC baseline`, target: `≥ ${g.target}×`, measured: `${fmt(g.ratio, 2)}×`, met: g.ratio >= g.target });
    goals.push({ name: `verify ${size}: faster than both peers`, target: 'yes', measured: `${g.fasterThanPeers ? 'yes' : 'no'}: ${fmt(g.overOctokit, 2)}× octokit, ${fmt(g.overStandardWebhooks, 1)}× standardwebhooks`, met: g.fasterThanPeers });
  }
  const m = receiver.microsPerRequest;
  goals.push({
    name: "receiver overhead per request, (a) in-process, clients' send stubbed (commands built, not serialized)",
    target: '≤ 50 µs',
    measured: `${fmt(m.stubbed, 0)} CPU µs (our code ${fmt(m.quiet, 0)} + Powertools logs/metrics ${fmt(m.stubbed - m.quiet, 0)})`,
    met: m.stubbed <= 50,
  });
  goals.push({
    name: "receiver per request, (b) with the SDK's full middleware, only the socket faked",
    target: 'shown, not judged',
    measured: `${fmt(m.sdk, 0)} CPU µs (SDK middleware ${fmt(m.sdk - m.stubbed, 0)})`,
    met: undefined,
    note: 'for information',
  });
  goals.push({ name: 'sequential AWS round trips on the accept path (warm)', target: '≤ 3', measured: `${receiver.stages.warm.count} (cold: ${receiver.stages.cold.count})`, met: receiver.stages.warm.count <= 3 });
  for (const b of bundles.bundles.filter((x) => !x.comparison)) {
    goals.push({ name: `${b.name} bundle size (minified)`, target: '≤ 520 kB', measured: `${fmt(b.bytes / 1000, 1)} kB`, met: b.bytes <= BUNDLE_LIMIT_BYTES });
    goals.push({ name: `${b.name} bundle load ÷ node -e 0`, target: '≤ 2.0×', measured: `${fmt(b.ratioToNode, 2)}× wall (${fmt(b.cpuRatioToNode, 2)}× CPU)`, met: b.ratioToNode <= 2.0 });
  }
  if (e2e) {
    for (const l of e2e.levels) {
      goals.push({ name: `pipeline ÷ direct emulator calls, c=${l.concurrency}`, target: '≥ 0.8×', measured: `${fmt(l.ratio, 2)}×`, met: l.ratio >= 0.8 });
    }
  } else {
    goals.push({ name: 'pipeline ÷ direct emulator calls', target: '≥ 0.8×', measured: 'n/a', met: undefined });
  }
  goals.push({ name: 'cost per million 1 KiB deliveries', target: '< $9', measured: smallCost === undefined ? 'n/a' : `$${smallCost.toFixed(2)}`, met: smallCost === undefined ? undefined : smallCost < 9 });
  return goals;
}

/** Section 4's finding, every claim in it read off the figures it cites. */
function e2eFinding(e2e: E2eResult, cores: number, receiverSdkMicros: number | undefined): string {
  const GOAL = 0.8;
  const levels = e2e.levels;
  const at = (list: readonly E2eResult['levels'][number][]): string => list.map((l) => `c=${l.concurrency}`).join(', ');
  const met = levels.filter((l) => l.ratio >= GOAL);
  const missed = levels.filter((l) => l.ratio < GOAL);
  const first = levels[0];
  const last = levels[levels.length - 1];
  const b = e2e.breakdown;
  const parts: string[] = [];
  parts.push(
    `Local pipeline throughput is ${levels.map((l) => `${fmt(l.ratio, 2)}× at c=${l.concurrency} (${fmt(l.pipelinePerSecond, 0)}/s)`).join(', ')} of what the emulators allow for the same calls: ` +
      (missed.length === 0
        ? `every level meets the ${GOAL}× goal.`
        : met.length === 0
          ? `the ${GOAL}× goal is missed at every level.`
          : `the ${GOAL}× goal is met at ${at(met)} and missed at ${at(missed)}.`),
  );
  parts.push(
    `At concurrency 1 an ack takes ${fmt(b.ackMeanMs, 1)} ms on average against ${fmt(b.directMeanMs, 1)} ms for the bare calls: the difference is the HTTP round trip, the API-shaped event, the receiver's checks, logs and metrics` +
      `${receiverSdkMicros === undefined ? '' : `, and the receiver's SDK CPU (section 2: ~${fmt(receiverSdkMicros / 1000, 1)} ms), which the direct path spends in the bench process instead`}.`,
  );
  const best = [...levels].sort((x, y) => y.ratio - x.ratio)[0];
  if (levels.length > 2 && best !== first && best !== last && best.ratio > Math.max(first.ratio, last.ratio) + 0.05) {
    parts.push(
      `The ratio is highest at c=${best.concurrency} (${fmt(best.ratio, 2)}×, against ${fmt(first.ratio, 2)}× at c=${first.concurrency} and ${fmt(last.ratio, 2)}× at c=${last.concurrency}): ` +
        'a few deliveries in flight overlap the pipeline\'s fixed per-delivery work with the emulator round trips; more than that, and its extra CPU competes with the emulators for the cores.',
    );
  } else if (levels.length > 1) {
    const delta = last.ratio - first.ratio;
    parts.push(
      Math.abs(delta) < 0.05
        ? `The ratio stays within 0.05 from c=${first.concurrency} to c=${last.concurrency}: more deliveries in flight neither close nor widen the gap.`
        : delta > 0
          ? `The ratio rises from c=${first.concurrency} to c=${last.concurrency} (${fmt(first.ratio, 2)}× → ${fmt(last.ratio, 2)}×): with more deliveries in flight the pipeline's fixed per-delivery work overlaps the emulator round trips.`
          : `The ratio falls from c=${first.concurrency} to c=${last.concurrency} (${fmt(first.ratio, 2)}× → ${fmt(last.ratio, 2)}×): with more deliveries in flight the pipeline's extra CPU competes with the emulators for the cores.`,
    );
  }
  const cpu = last.cpu.pipeline;
  const direct = last.cpu.direct;
  const total = cpu.stack + cpu.dynamodbLocal + cpu.fauxqs + cpu.bench;
  const directTotal = direct.stack + direct.dynamodbLocal + direct.fauxqs + direct.bench;
  if (Number.isFinite(total) && total > 0) {
    const processes: [string, number][] = [
      ['the stack process (HTTP server, receiver, queue runner, worker)', cpu.stack],
      ['DynamoDB Local', cpu.dynamodbLocal],
      ['fauxqs', cpu.fauxqs],
      ['the bench', cpu.bench],
    ];
    const [busiest, busiestMs] = [...processes].sort((x, y) => y[1] - x[1])[0];
    const machineCap = (cores * 1000) / total;
    parts.push(
      `CPU per delivery at c=${last.concurrency}: the pipeline uses ${fmt(total, 1)} ms across processes (stack ${fmt(cpu.stack, 1)}, DynamoDB Local ${fmt(cpu.dynamodbLocal, 1)}, fauxqs ${fmt(cpu.fauxqs, 1)}, bench ${fmt(cpu.bench, 1)}) ` +
        `against ${fmt(directTotal, 1)} ms for the direct calls (stack ${fmt(direct.stack, 1)}, DynamoDB Local ${fmt(direct.dynamodbLocal, 1)}, fauxqs ${fmt(direct.fauxqs, 1)}, bench ${fmt(direct.bench, 1)}). ` +
        `The busiest single process is ${busiest} at ${fmt(busiestMs, 1)} ms, which alone would cap near ${fmt(1000 / busiestMs, 0)} deliveries/s; ` +
        `all of them together need ${fmt(total, 1)} ms of the ${cores} cores per delivery, about ${fmt(machineCap, 0)} deliveries/s at full use, against the ${fmt(last.pipelinePerSecond, 0)}/s measured` +
        `${last.pipelinePerSecond >= 0.8 * machineCap ? ', so at this level the pipeline is bound by the machine\'s CPU as a whole' : ''}.`,
    );
  }
  if (missed.length > 0) {
    const extra: [string, number][] = [
      ['the stack process', last.cpu.pipeline.stack - last.cpu.direct.stack],
      ['DynamoDB Local', last.cpu.pipeline.dynamodbLocal - last.cpu.direct.dynamodbLocal],
      ['fauxqs', last.cpu.pipeline.fauxqs - last.cpu.direct.fauxqs],
    ];
    const [where, extraMs] = [...extra].sort((x, y) => y[1] - x[1])[0];
    if (Number.isFinite(extraMs) && extraMs > 0) {
      parts.push(
        `What would close the rest: at c=${last.concurrency} the pipeline's largest extra CPU per delivery over the direct calls is in ${where} (+${fmt(extraMs, 1)} ms)` +
          (where === 'the stack process'
            ? ', the HTTP server and the receiver with its SDK calls; cutting the SDK CPU per call (section 2) shrinks it, and helps the deployed receiver too.'
            : '.'),
      );
    }
  }
  return parts.join(' ');
}

function findingsOf(report: Omit<Report, 'findings'>): string[] {
  const out: string[] = [];
  const { verify, receiver, bundles, e2e, cost } = report;
  if (verify) {
    const small = verify.goals.find((g) => g.bodyBytes === 1024);
    if (small && !small.fasterThanPeers) {
      out.push(
        `At 1 KiB ours runs at ${fmt(small.overOctokit, 2)}× @octokit/webhooks-methods: octokit signs the body alone (no timestamp) and does no header parsing, so both spend the same fixed per-call cost around one HMAC; see below for ours'.${verify.goals.find((g) => g.bodyBytes === 65536)?.fasterThanPeers ? ' At 64 KiB ours leads.' : ''}`,
      );
    }
    const baseline = verify.sizes[0].cases.find((c) => c.name === 'baseline');
    const ours = verify.sizes[0].cases.find((c) => c.name === 'ours');
    const floor = verify.sizes[0].cases.find((c) => c.name === 'floor');
    const micros = (c: typeof ours): number => (c ? 1e6 / c.opsPerSecond : Number.NaN);
    if (small) {
      out.push(
        `Verification at 1 KiB runs at ${fmt(small.ratio, 2)}× the bare createHmac baseline (goal ${small.target}×${small.ratio >= small.target ? ', met' : ', missed'}): ` +
          `${fmt(micros(ours), 2)} µs against ${fmt(micros(baseline), 2)} µs. Up to 16 KiB lambda/core/signature.ts computes the same HMAC as RFC 2104 defines it, ` +
          'H((K⊕opad) ‖ H((K⊕ipad) ‖ timestamp.body)), with two one-shot `crypto.hash` calls whose digests come back as latin1 strings: that skips the Hmac object ' +
          '(OpenSSL 3 context set-up) and the Buffer-returning digest the baseline pays on every call, which at 1 KiB cost more than the hash itself. ' +
          `Against that same construction over pre-built bytes (the reference row: ${fmt(micros(floor), 2)} µs) ours is ${fmt(small.overOneShotFloor, 2)}×; ` +
          `the ~${fmt(micros(ours) - micros(floor), 2)} µs between them is ours' own fixed work: decoding and checking the 64 hex digits, copying pad, timestamp and body into one buffer, ` +
          'the constant-time comparison and the secret lookup. Output is identical to createHmac (property-tested, test/unit/receiver/signature-one-shot.test.ts). ' +
          `At 64 KiB createHmac streams the body where it lies (no copy): ${fmt(verify.goals.find((g) => g.bodyBytes === 65536)?.ratio ?? Number.NaN, 2)}× the baseline, where the hash dominates.`,
      );
    }
  }
  if (receiver) {
    const m = receiver.microsPerRequest;
    const heaviest = [...receiver.commandMicros].sort((a, b) => b.micros - a.micros)[0];
    out.push(
      `Receiver overhead (a), the issue's definition (clients' \`send\` stubbed): ${fmt(m.stubbed, 0)} CPU µs per request against the 50 µs goal${m.stubbed <= 50 ? ' (met)' : ` (missed by ${fmt(m.stubbed - 50, 0)} µs)`}. ` +
        `Our own code is ${fmt(m.quiet, 0)} µs of it (the same path with no-op logging): event and header handling, timestamp, signature (section 1), the body's SHA-256, JSON.parse + valibot, ` +
        'the three commands and the queue message. The rest, ' +
        `${fmt(m.stubbed - m.quiet, 0)} µs, is Powertools: one INFO line and one EMF flush per request, in which a CPU profile shows the Logger's item building and serialization, the metrics store, ` +
        'and several `process.env` reads per call (Powertools checks AWS_LAMBDA_MAX_CONCURRENCY on every scoped-store access). ' +
        'Already applied: the queue message is serialized once (the size check\'s JSON is reused as the SQS body, lambda/core/queue-message.ts). ' +
        'Next steps: (1) `toAsciiJson` (lambda/core/ascii-json.ts) could skip its regex pass when the JSON is all ASCII (the common case); ' +
        '(2) log and count less on the accept path: the accepted line could carry fewer keys, and a dimensionless accepted count needs no per-request flush beyond the one EMF line. ' +
        'Even then the Powertools line and flush stay in the tens of µs, so 50 µs with logging on would need a leaner logger on the accept path. ' +
        `(b), with the SDK's full middleware and only the socket faked: ${fmt(m.sdk, 0)} µs per request, ${fmt(m.sdk - m.stubbed, 0)} µs of it the SDK (heaviest command: ${heaviest?.key} at ~${fmt(heaviest?.micros ?? Number.NaN, 0)} µs): ` +
        'it rebuilds its middleware stack, resolves the endpoint, serializes through the schema codec and SigV4-signs every command. Applied here: `md5: false` on the SQSClient ' +
        '(lambda/handlers/receiver.ts; no measurable change at 1 KiB, ~90 µs per send for a 48 KiB inline payload; TLS protects the bytes and the archive keeps the body and its SHA-256). ' +
        "S3 needs no option: the archive adapter sends ChecksumSHA256, and the SDK's flexible-checksums middleware skips its own checksum whenever an x-amz-checksum-* header is set. " +
        'Beyond that, only replacing the SDK on the hot path (SigV4 with `@smithy/signature-v4` and `fetch` from thin adapters behind the same ports) would cut (b) substantially. ' +
        'In Lambda this CPU is stretched by the vCPU share (512 MB ≈ 0.29 vCPU), so it shows up in billed duration (section 5).',
    );
    const reserved = receiver.warningsPerRequest.filter((w) => /reserved key/.test(w.message));
    if (reserved.length > 0) {
      out.push(
        `Powertools Logger drops a log key and prints a WARN line on every request: "${reserved[0].message}" (${fmt(reserved[0].perRequest, 2)} per request). ` +
          'The receiver\'s `describeRequest` (lambda/core/receive.ts) logs the provider timestamp under `timestamp`, a key Powertools reserves: rename it (e.g. `providerTimestamp`) ' +
          'to keep the value in the logs and save the extra line (log bytes are billed, section 5).',
      );
    }
    if (receiver.stages.cold.count > receiver.stages.warm.count) {
      out.push(
        `Sequential round trips: ${receiver.stages.warm.count} on a warm request (claim → archive ‖ enqueue → mark), ${receiver.stages.cold.count} on the first request of an environment, ` +
          'which fetches the secret (AWSCURRENT ‖ AWSPREVIOUS) first. Prefetching the secret during init (top-level await in the ESM bundle, or starting the fetch when the handler module loads) would take it off the first request.',
      );
    }
  }
  if (bundles) {
    const deployed = bundles.bundles.filter((b) => !b.comparison);
    const missed = deployed.filter((b) => b.bytes > BUNDLE_LIMIT_BYTES);
    const chainOf = (b: BundlesResult['bundles'][number]) => bundles.bundles.find((x) => x.comparison && x.entry === b.entry);
    const receiverTop = deployed.find((b) => b.name === 'receiver')?.top ?? [];
    out.push(
      `Bundle size (as deployed, with BUNDLE_ALIASES): ${deployed.map((b) => `${b.name} ${fmt(b.bytes / 1000, 0)} kB`).join(', ')}` +
        `${missed.length > 0 ? ` (over the 520 kB goal: ${missed.map((b) => `${b.name} by ${fmt(((b.bytes - BUNDLE_LIMIT_BYTES) / BUNDLE_LIMIT_BYTES) * 100, 0)} %`).join(', ')})` : ', both within the 520 kB goal'}. ` +
        `Aliasing the SDK's default credential chain to the environment provider (lambda/adapters/lambda-credentials.ts: a Lambda's credentials are always in its environment) saves ` +
        `${deployed.map((b) => { const c = chainOf(b); return c ? `${fmt((c.bytes - b.bytes) / 1000, 0)} kB on the ${b.name} (${fmt(c.bytes / 1000, 0)} → ${fmt(b.bytes / 1000, 0)} kB, load ${fmt(c.ratioToNode, 2)}× → ${fmt(b.ratioToNode, 2)}×)` : ''; }).filter((t) => t !== '').join(' and ')}. ` +
        `Top contributors now (receiver): ${receiverTop.map((t) => `${t.name} ${fmt(t.bytes / 1000, 0)} kB`).join(', ')}. ` +
        'The local stack and tests run the source through tsx, so they keep the full chain.',
    );
    const slow = deployed.filter((b) => b.ratioToNode > 2.0);
    if (slow.length > 0) {
      out.push(
        `Load time: ${slow.map((b) => `${b.name} ${fmt(b.ratioToNode, 2)}×`).join(', ')} of \`node -e 0\` (goal 2.0×). Most of it is parsing and evaluating @smithy/core and the client schemas. ` +
          'In the worker, loading `@aws-sdk/client-s3` with a dynamic `import()` on the first claim check would defer evaluating the S3 client, ' +
          'which ≤ 64 KiB payloads never need.',
      );
    }
  }
  if (e2e) {
    out.push(e2eFinding(e2e, report.env.cores, report.receiver?.microsPerRequest.sdk));
  }
  if (cost) {
    const small = cost.small;
    const storage = small.lines.filter((l) => l.storage).reduce((t, l) => t + l.usd, 0);
    out.push(
      `Cost per million 1 KiB deliveries: $${small.totalUsd.toFixed(2)} (of which $${storage.toFixed(2)} storage accrued over the retention); ${small.totalUsd < 9 ? 'under' : 'over'} the $9 goal. ` +
        `Largest line: ${small.largest.service} ${small.largest.item} at $${small.largest.usd.toFixed(2)}. ` +
        (small.largest.service === 'S3'
          ? 'One PUT per delivery at $0.005 per 1,000 is fixed by the design (archive before ack). What would cut it: archive through Amazon Data Firehose into batched objects (billed per GB in 5 KB steps: ~$0.15 per million 1 KiB records) at the price of replay reading aggregated files, or keep bodies ≤ ~3 KB in the dedupe record itself (+1-2 WRU ≈ $0.6-1.25 per million) and use S3 only above that.'
          : 'See the table for what drives it.'),
    );
    const large = cost.large;
    const transition = large.lines.find((l) => /transitions/.test(l.item));
    if (transition && transition.usd > 0) {
      const prices = cost.prices.s3;
      const gb = (1e6 * (large.bodyBytes + 2048)) / 1024 ** 3;
      const saved = gb * (prices.standardStoragePerGbMonth - prices.glacierInstantRetrievalStoragePerGbMonth) * (335 / 30.4);
      out.push(
        `At 256 KiB the largest line is the lifecycle transition to Glacier Instant Retrieval ($${transition.usd.toFixed(2)} per million objects at $0.02 per 1,000); ` +
          `it pays for itself (it saves ~$${saved.toFixed(2)} of Standard storage over the remaining 335 days), so the default is right for large archives. ` +
          'Bodies under 128 KB are never transitioned (S3 lifecycle default), so 1 KiB archives stay in Standard, which is cheap at that size.',
      );
    }
  }
  return out;
}

async function main(): Promise<void> {
  const seconds: Record<string, number> = {};
  const env = {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    loadAverage: os.loadavg(),
    quick,
  };
  log(`${quick ? 'quick' : 'full'} run on ${env.cores} × ${env.cpuModel}, Node ${env.node}, load ${env.loadAverage.map((l) => l.toFixed(2)).join(' ')}`);
  const outDir = quick ? path.join(ROOT, '.bench', 'quick') : path.join(ROOT, 'docs');
  mkdirSync(path.join(ROOT, '.bench'), { recursive: true });

  const verify = await timed('verify', seconds, () => runVerify({ rounds: SETTINGS.verifyRounds, sampleMs: SETTINGS.verifySampleMs, log }));
  const receiver = await timed('receiver', seconds, () =>
    runReceiverOverhead({ rounds: SETTINGS.receiverRounds, batch: SETTINGS.receiverBatch, warmup: SETTINGS.receiverWarmup, bodyBytes: 1024, largeBodyBytes: 256 * 1024, log }),
  );
  const bundles = await timed('bundles', seconds, () => runBundles({ outDir: path.join(ROOT, '.bench', 'bundles'), runs: SETTINGS.bundleRuns, log }));
  let e2e: E2eResult | undefined;
  let e2eError: string | undefined;
  try {
    e2e = await timed('e2e', seconds, () =>
      runE2e({
        stateDir: path.join(ROOT, '.bench', 'local'),
        rounds: SETTINGS.e2eRounds,
        perBatch: SETTINGS.e2ePerBatch,
        levels: LEVELS,
        warmup: SETTINGS.e2eWarmup,
        costDeliveries: { small: SETTINGS.costSmall, large: SETTINGS.costLarge },
        log,
      }),
    );
  } catch (error) {
    e2eError = error instanceof Error ? error.message.split('\n')[0] : String(error);
    log(`e2e failed: ${e2eError}`);
  }

  const events: EventsReport = {};
  try {
    Object.assign(events, {
      throughput: await timed('events', seconds, () =>
        runEventsThroughput({ cacheDir: path.join(ROOT, '.bench', 'local'), rounds: SETTINGS.eventsRounds, jobsPerRound: SETTINGS.eventsJobs, cpuIterations: SETTINGS.eventsCpu, log }),
      ),
    });
  } catch (error) {
    Object.assign(events, { error: error instanceof Error ? error.message.split('\n')[0] : String(error) });
    log(`events failed: ${events.error}`);
  }

  let cost: Report['cost'];
  if (e2e) {
    const prices = loadPrices();
    const commandCpu = receiver.commandMicros.find((c) => /UpdateItem/.test(c.key))?.micros ?? 0;
    const common = { prices, commandCpuMicros: commandCpu, apiAccessLogBytes: apiAccessLogBytes() };
    cost = {
      prices,
      small: costModel({ ...common, phase: e2e.cost.small, receiverCpuMicros: receiver.microsPerRequest.sdk }),
      large: costModel({ ...common, phase: e2e.cost.large, receiverCpuMicros: receiver.largeBodyCpuMicros }),
      fixed: fixedMonthly(prices),
    };
    log(`cost: $${cost.small.totalUsd.toFixed(2)} per million 1 KiB deliveries, $${cost.large.totalUsd.toFixed(2)} at 256 KiB`);
    const eventsPrices = prices as typeof prices & EventsPrices;
    const cpu = events.throughput?.publisherCpuMicrosPerRecord ?? Number.NaN;
    Object.assign(events, {
      cost: {
        small: eventsCostModel({ phase: e2e.cost.small, prices: eventsPrices, publisherCpuMicrosPerRecord: cpu }),
        large: eventsCostModel({ phase: e2e.cost.large, prices: eventsPrices, publisherCpuMicrosPerRecord: cpu }),
        fixed: eventsFixedMonthly(eventsPrices),
      },
    });
    log(`cost: job events $${events.cost?.small.totalUsd.toFixed(2)} per million 1 KiB deliveries on top`);
  }

  const totalSeconds = (performance.now() - startedAt) / 1000;
  const goals = goalsOf(verify, receiver, bundles, e2e, cost?.small.totalUsd);
  goals.push({
    name: 'job events through the publisher ÷ the stream read alone',
    target: 'shown, not judged',
    measured: events.throughput ? `${fmt(events.throughput.ratio, 2)}× (${fmt(events.throughput.publishedPerSecond, 0)} events/s against ${fmt(events.throughput.streamReadPerSecond, 0)} records/s)` : 'n/a',
    met: undefined,
    note: 'for information',
  });
  const partial = { env, totalSeconds, sectionSeconds: seconds, verify, receiver, bundles, e2e, e2eError, cost, events, goals };
  const report: Report = { ...partial, findings: findingsOf(partial) };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(ROOT, '.bench', quick ? 'results-quick.json' : 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'benchmarks.md'), renderMarkdown(report));
  if (e2e) writeFileSync(path.join(outDir, 'bench-latency.svg'), renderLatencySvg(e2e.levels));
  log(`wrote ${path.relative(ROOT, path.join(outDir, 'benchmarks.md'))} in ${fmt(totalSeconds, 0)} s`);
  for (const goal of report.goals) log(`${goal.met === undefined ? 'n/a   ' : goal.met ? 'met   ' : 'MISSED'} ${goal.name}: ${goal.measured} (target ${goal.target})`);
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
