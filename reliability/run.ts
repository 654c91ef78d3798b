/**
 * `npm run test:reliability`: faults, worker deaths, outages, bad input and
 * sustained load against the local stack on the real emulators, with every
 * invariant checked against what the emulators hold afterwards. Exits 1 when
 * any invariant fails. `--write-report` rewrites the figures section of
 * docs/reliability.md.
 *
 * Options: --seed N (default 20261127), --quick (small sizes, for development),
 * --write-report.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEV_SIGNING_SECRET } from '../ops/lib/dev-secret';
import { REPO_ROOT } from '../local/paths';
import { SERVICE_NAMES } from '../lambda/core/contract';
import { formatIamReport, runIamCheck } from '../local/iam/check';
import { startRecording } from '../local/iam/recording';
import { LOCAL_ACCOUNT } from '../local/resources';
import { runHttpFuzz } from './lib/fuzz-http';
import { startHarnessStack, type HarnessStack } from './lib/harness-stack';
import { captureLogs, scanLogs } from './lib/log-capture';
import { figuresMarkdown, writeFigures, type RunSummary } from './lib/report';
import { runReconcileAfterOutage } from './lib/reconcile-scenario';
import { runLoad, runOpsWireFaults, runOutage, runStepFaults, runWireFaults, runWorkerDeath, warmUp, type RunContext, type ScenarioResult } from './lib/scenarios';
import { EVENTS_FIGURES_END, EVENTS_FIGURES_START, TapStore, checkWholeRun, eventsFiguresMarkdown, runEventsScenarios, type EventsScenarioResult } from './lib/events-scenarios';
import { runArchiveFaults } from './lib/archive-scenarios';
import { CANARY_PREFIX } from './lib/workload';

/** A hard stop: whatever hangs, the run ends and says so. */
// Generous for a shared, loaded 2-core machine; a clean one runs the full set in a few minutes.
const RUN_LIMIT_MS = 10 * 60 * 1000;

interface Options {
  readonly seed: number;
  readonly quick: boolean;
  readonly writeReport: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const seedIndex = argv.indexOf('--seed');
  const seed = seedIndex === -1 ? 20261127 : Number(argv[seedIndex + 1]);
  if (!Number.isSafeInteger(seed)) throw new Error('--seed needs an integer');
  return { seed, quick: argv.includes('--quick'), writeReport: argv.includes('--write-report') };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  // EMF blobs would only be noise on stdout here; the logs are what is scanned.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const stateDir = path.join(REPO_ROOT, '.local', 'reliability');
  mkdirSync(stateDir, { recursive: true });
  const capture = captureLogs(path.join(stateDir, 'handler-logs.jsonl'));
  const stackLog = path.join(stateDir, 'stack.log');
  writeFileSync(stackLog, '');
  const say = capture.say;
  const started = Date.now();
  const sizes = options.quick
    ? { step: 20, wire: 60, ops: 20, death: 40, outage: 40, fuzz: 60, load: [[8, 150]] as const, reconcileJobs: 30, events: 40 }
    : { step: 60, wire: 240, ops: 60, death: 150, outage: 180, fuzz: 300, load: [[4, 400], [16, 600], [32, 600]] as const, reconcileJobs: 120, events: 100 };

  let stack: HarnessStack | undefined;
  const limit = setTimeout(() => {
    say(`reliability: FAILED, the run exceeded ${RUN_LIMIT_MS / 1000} s`);
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  }, RUN_LIMIT_MS);
  limit.unref();

  try {
    // A fixed, throwaway secret: the log scan must find it nowhere.
    const signingSecret = `${DEV_SIGNING_SECRET}-reliability-${options.seed}`;
    // Every AWS call of the receiver and the worker, for the IAM check at the end (faults included: a call
    // that failed was still sent, and IAM would have judged it).
    const recording = startRecording({
      dir: path.join(stateDir, 'aws-calls'),
      name: 'harness',
      origin: 'reliability',
      account: LOCAL_ACCOUNT,
      everyClient: false,
      flushEveryMs: 0,
    });
    stack = await startHarnessStack({
      recorder: recording.recorder,
      seed: options.seed,
      signingSecret,
      stateDir,
      cacheDir: path.join(REPO_ROOT, '.local'),
      // The runner's notes (batches returned, polls failed) are expected under faults: kept, not printed.
      log: (message) => appendFileSync(stackLog, `${new Date().toISOString()} ${message}\n`),
    });
    recording.log.resources = { ...Object.fromEntries(stack.resources.byLogicalId), ...Object.fromEntries(stack.jobEvents.local.byLogicalId) };
    say(`reliability: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s, seed ${options.seed}`);
    const context: RunContext = { stack, seed: options.seed, signatures: new Set(), bodies: new Set(), say, drainTimeoutMs: 60_000 };
    const scenarios: ScenarioResult[] = [];
    const report = (results: ScenarioResult[]): void => {
      for (const result of results) {
        const f = result.figures;
        say(
          `  ${result.violations.length === 0 ? 'ok  ' : 'FAIL'} ${result.name}: sent ${f.sent}, acknowledged ${f.acknowledged}, archived ${f.archived}, applied ${f.applied}, lost ${f.lost}, applied twice ${f.appliedTwice}, answered 4xx ${f.answered4xx}, retries ran out ${f.retriesRanOut}, retries ${f.retries} (${result.seconds} s)`,
        );
        for (const violation of result.violations) say(`       ${violation}`);
      }
      scenarios.push(...results);
    };

    const warm = await warmUp(context, 150);
    say(`warm-up: ${warm} of 150 deliveries acknowledged (not counted)`);
    say('phase 0: the ops CLIs (replay, redrive) with 10% faults on the wire');
    report(await runOpsWireFaults(context, sizes.ops, 0.1, stateDir));
    say('phase 1: a fault at each pipeline step (error, hang, lost response)');
    report(await runStepFaults(context, sizes.step, 0.3));
    say('phase 1b: 10% faults on the wire at every step, under the SDK retries');
    report(await runWireFaults(context, sizes.wire, 0.1));
    say('phase 1c: archive faults (throttled, partial batch failure, lost response, hang, claim-check object)');
    report(await runArchiveFaults(context, sizes.step, 0.3));
    say('phase 2: the worker dies mid-batch');
    report(await runWorkerDeath(context, sizes.death));
    say('phase 3: an emulator becomes unreachable mid-run');
    report(await runOutage(context, 'dynamodb', sizes.outage, 3000));
    report(await runOutage(context, 'fauxqs', sizes.outage, 3000));
    say(`phase 4: ${sizes.fuzz} bad requests over HTTP`);
    const fuzz = await runHttpFuzz(stack, { runs: sizes.fuzz, seed: options.seed, signatures: context.signatures, bodies: context.bodies });
    say(`  ${fuzz.violations.length === 0 ? 'ok  ' : 'FAIL'} fuzz: ${fuzz.tried} tried, answers ${JSON.stringify(fuzz.answers)}`);
    for (const violation of fuzz.violations) say(`       ${violation}`);
    say('phase 5: the receiver down past the provider retries, then the reconciler');
    report(await runReconcileAfterOutage(context, sizes.reconcileJobs, 6000));
    say('phase 6: sustained load');
    for (const [concurrency, deliveries] of sizes.load) report(await runLoad(context, concurrency, deliveries));
    say('phase 7: job events when PutEvents, the publisher and the stream poller fail');
    const tap = new TapStore();
    const events: EventsScenarioResult[] = [...(await runEventsScenarios(context, tap, sizes.events)), await checkWholeRun(context, tap)];
    for (const result of events) {
      const f = result.figures;
      say(
        `  ${result.violations.length === 0 ? 'ok  ' : 'FAIL'} ${result.name}: ${f.jobs} jobs, ${f.transitions} transitions, ${f.received} events (${f.distinct} distinct, ${f.repeats} repeats), lost ${f.lost}, unexpected ${f.unexpected}, inconsistent ${f.inconsistent}; faults ${JSON.stringify(result.faults)} (${result.seconds} s)`,
      );
      for (const violation of result.violations) say(`       ${violation}`);
    }

    await stack.stop();
    const logs = scanLogs(capture.lines(), signingSecret, context.signatures, context.bodies, CANARY_PREFIX);
    const logViolations = [
      ...(logs.secretHits > 0 ? [`the signing secret appears in ${logs.secretHits} log lines`] : []),
      ...(logs.signatureHits > 0 ? [`a sent signature value appears in ${logs.signatureHits} log lines`] : []),
      ...(logs.bodyHits > 0 ? [`a whole raw body appears in ${logs.bodyHits} log lines`] : []),
      ...(logs.canaryHits > 0 ? [`values from inside a body appear in ${logs.canaryHits} log lines (${logs.canaryInIssues} in schema issues)`] : []),
    ];
    say(
      `logs: ${logs.lines} lines; secret ${logs.secretHits}, signatures ${logs.signatureHits}, whole bodies ${logs.bodyHits}, body values ${logs.canaryHits} (${logs.canaryInIssues} in schema issues)`,
    );
    for (const example of logs.examples) say(`       e.g. ${example}`);

    recording.stop();
    say('IAM: every recorded call against the synthesized template');
    const iam = await runIamCheck({
      logs: [recording.log.toFile()],
      run: 'the reliability run',
      cacheDir: path.join(REPO_ROOT, '.local'),
      // The pipeline's principals; the ops CLIs' calls are the e2e run's (npm run test:iam).
      requirePrincipals: [SERVICE_NAMES.receiver, SERVICE_NAMES.worker],
      requireEveryCommand: false,
      judgeUnusedGrants: false,
    });
    for (const line of formatIamReport(iam).filter((line) => !line.includes(' unused: '))) say(line);

    const violations = [
      ...iam.failures.map((failure) => `iam: ${failure}`),
      ...scenarios.flatMap((result) => result.violations.map((violation) => `${result.name}: ${violation}`)),
      ...fuzz.violations.map((violation) => `fuzz: ${violation}`),
      ...events.flatMap((result) => result.violations.map((violation) => `${result.name}: ${violation}`)),
      ...logViolations.map((violation) => `logs: ${violation}`),
    ];
    const summary: RunSummary = {
      command: 'npx tsx reliability/run.ts --write-report',
      seed: options.seed,
      startedAt: new Date(started).toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      node: process.version,
      scenarios,
      fuzz,
      logs,
      violations,
    };
    writeFileSync(path.join(stateDir, 'last-run.json'), `${JSON.stringify({ ...summary, events }, null, 2)}\n`);
    if (options.writeReport) {
      if (options.quick) say('not writing the report: --quick figures are not the published ones');
      else {
        const doc = path.join(REPO_ROOT, 'docs', 'reliability.md');
        writeFigures(doc, figuresMarkdown(summary));
        const header = `Produced by the same run (\`${summary.command}\`, seed ${summary.seed}, ${summary.startedAt.slice(0, 10)}, Node ${summary.node}). Result: **${events.every((r) => r.violations.length === 0) ? 'every event invariant held' : 'event invariants violated'}**.`;
        writeFigures(doc, eventsFiguresMarkdown(events, header), { start: EVENTS_FIGURES_START, end: EVENTS_FIGURES_END });
      }
    }
    say(`reliability: ${violations.length === 0 ? 'PASSED' : `FAILED (${violations.length} violations)`} in ${summary.seconds} s`);
    return violations.length === 0 ? 0 : 1;
  } finally {
    clearTimeout(limit);
    await stack?.stop();
    capture.restore();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reliability: crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
