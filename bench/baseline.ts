/**
 * The old design, measured in the same run: the commit before the lean accept
 * path (issue 13) checked out from git into .bench/baseline/<commit>, sharing
 * this checkout's installed packages and emulators, and its own local stack
 * run through the same counted cost phases. Its per-delivery S3 objects,
 * 64 KiB inline limit, batches of 10, Logger line plus EMF line and text logs
 * are then priced by the same model as this design, so the two figures differ
 * only by what the code does.
 *
 * Needs git and the commit in the repository (a shallow clone lacks it): the
 * report then says the old figure is unavailable rather than guess it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { configuredMemoryMb, type DesignFacts } from './cost';
import { runCostPhases, type CostPhase } from './e2e';

/** `main` before issue 13 (with issue 10's strict receiver and the reconciler): one S3 object per delivery, inline payloads to 64 KiB, batches of 10, two lines per delivery. */
export const BASELINE_COMMIT = '22e9cd6';

const ROOT = path.resolve(__dirname, '..');

/** Section 2's figures of the old design, measured by its own bench code in this run (same machine, same minutes). */
export interface BaselineReceiver {
  /** CPU µs per request: clients' send stubbed (the goal's figure), without logs, and with the SDK's middleware. */
  readonly microsPerRequest: { readonly stubbed: number; readonly quiet: number; readonly sdk: number };
  readonly largeBodyCpuMicros: number;
  readonly logBytesPerRequest: number;
}

export interface BaselineResult {
  readonly commit: string;
  readonly design: DesignFacts;
  readonly small: CostPhase;
  readonly large: CostPhase;
}

export interface ReceiverRunOptions {
  readonly rounds: number;
  readonly batch: number;
  readonly warmup: number;
  readonly log: (message: string) => void;
}

/**
 * The old design's receiver overhead (bench section 2), run by its own
 * bench/receiver-overhead.ts in a child process in its checkout, so the 50 µs
 * goal and the "71 µs today" can be read against this machine's speed.
 */
export async function runBaselineReceiver(options: ReceiverRunOptions): Promise<BaselineReceiver> {
  const root = prepareCheckout(BASELINE_COMMIT);
  const script = path.join(root, 'bench', '.baseline-receiver.ts');
  const resultFile = path.join(root, 'bench', '.baseline-receiver.json');
  rmSync(resultFile, { force: true });
  writeFileSync(
    script,
    [
      "import { writeFileSync } from 'node:fs';",
      "import { runReceiverOverhead } from './receiver-overhead';",
      `void runReceiverOverhead({ rounds: ${options.rounds}, batch: ${options.batch}, warmup: ${options.warmup}, bodyBytes: 1024, largeBodyBytes: 256 * 1024, log: () => undefined }).then((r) => {`,
      `  writeFileSync(${JSON.stringify(resultFile)}, JSON.stringify({ microsPerRequest: r.microsPerRequest, largeBodyCpuMicros: r.largeBodyCpuMicros, logBytesPerRequest: r.logBytesPerRequest }));`,
      '});',
      '',
    ].join('\n'),
  );
  options.log(`baseline: receiver overhead of the old design (${BASELINE_COMMIT})`);
  // As bench/run.ts sets them before anything reads them.
  const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' };
  delete env.POWERTOOLS_DEV;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`old design's receiver bench exited with ${code}: ${stderr}`))));
  });
  return JSON.parse(readFileSync(resultFile, 'utf8')) as BaselineReceiver;
}

/** The old design's source, extracted once per commit; node_modules and the emulators are this checkout's. */
function prepareCheckout(commit: string): string {
  const dir = path.join(ROOT, '.bench', 'baseline', commit);
  const marker = path.join(dir, '.extracted');
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['archive', commit], { cwd: ROOT, maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    symlinkSync(path.join(ROOT, 'local', 'emulators', 'node_modules'), path.join(dir, 'local', 'emulators', 'node_modules'));
    writeFileSync(marker, `${commit}\n`);
  }
  return dir;
}

/** Lambda writes its START/END/REPORT lines unless the function logs JSON with the system level above INFO. */
function writesPlatformLines(templateFile: string): boolean {
  if (!existsSync(templateFile)) return true;
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources?: Record<string, { Type: string; Properties?: { LoggingConfig?: { LogFormat?: string; SystemLogLevel?: string } } }> };
  const functions = Object.values(template.Resources ?? {}).filter((resource) => resource.Type === 'AWS::Lambda::Function');
  return functions.some((fn) => fn.Properties?.LoggingConfig?.LogFormat !== 'JSON' || !['WARN', 'ERROR'].includes(fn.Properties.LoggingConfig.SystemLogLevel ?? 'INFO'));
}

export async function runBaseline(options: {
  readonly costDeliveries: { readonly small: number; readonly large: number };
  readonly log: (message: string) => void;
}): Promise<BaselineResult> {
  const root = prepareCheckout(BASELINE_COMMIT);
  options.log(`baseline: the old design at ${BASELINE_COMMIT} (${path.relative(ROOT, root)})`);
  const phases = await runCostPhases({
    root,
    stateDir: path.join(ROOT, '.bench', 'baseline-state'),
    // Its synthesized template is cached across runs, per commit.
    cacheDir: path.join(ROOT, '.bench', 'baseline-cache', BASELINE_COMMIT),
    costDeliveries: options.costDeliveries,
    warmup: 40,
    log: options.log,
  });
  return {
    commit: BASELINE_COMMIT,
    design: { label: `old design (${BASELINE_COMMIT})`, memory: configuredMemoryMb(root), platformLogLines: writesPlatformLines(phases.templateFile) },
    small: phases.small,
    large: phases.large,
  };
}
