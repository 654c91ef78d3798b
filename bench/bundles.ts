/**
 * Section 3: the Lambda bundles exactly as CDK deploys them (lib/bundling.ts is
 * the single source of the esbuild options `createNodeFunction` passes), their
 * size, and how long a fresh Node process takes to load each one, as a ratio to
 * `node -e 0`. Comparison variants drop BUNDLE_ALIASES, so the report shows what
 * aliasing the SDK's default credential chain away saves.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
// lib/bundling.ts is free of aws-cdk-lib on purpose: importing it costs the bench nothing.
import { bundleBuildOptions, ESBUILD_TARGET } from '../lib/bundling';
import { interleaved, median, pairedRatio } from './stats';

export const REPO_ROOT = path.resolve(__dirname, '..');

/**
 * The deployed options plus what the bench itself needs: a metafile for the
 * per-package breakdown, and the repository as working directory so metafile
 * inputs read `lambda/...` and `node_modules/...`.
 */
export function esbuildOptions(entry: string, outfile: string, options: { withAliases: boolean }): BuildOptions {
  const deployed = bundleBuildOptions(path.join(REPO_ROOT, entry), outfile);
  return { ...deployed, ...(options.withAliases ? {} : { alias: {} }), metafile: true, absWorkingDir: REPO_ROOT };
}

export interface Contributor {
  readonly name: string;
  readonly bytes: number;
}

export interface BundleResult {
  readonly name: string;
  readonly entry: string;
  /** A variant built without BUNDLE_ALIASES (the SDK's default credential chain): not what CDK deploys. */
  readonly comparison: boolean;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly top: Contributor[];
  /** Median wall ms of `node loader.mjs` and of `node -e 0`, and their paired ratio. */
  readonly loadMs: number;
  readonly loadCpuMs: number;
  readonly ratioToNode: number;
  readonly cpuRatioToNode: number;
}

export interface BundlesResult {
  readonly target: string;
  readonly runs: number;
  readonly nodeMs: number;
  readonly nodeCpuMs: number;
  readonly bundles: BundleResult[];
}

/** Bytes in the output by npm package (or `app` for our own code). */
export function contributors(metafile: Metafile): Contributor[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match ? match[1] : input.startsWith('lambda/') ? 'app (lambda/)' : input;
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * A fresh process: import the bundle (module evaluation, no invocation) and
 * report the process's own CPU time, which a busy neighbour cannot inflate.
 */
function timeProcess(args: string[]): { wallMs: number; cpuMs: number } {
  const start = performance.now();
  const child = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const wallMs = performance.now() - start;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${child.stderr}`);
  const usage = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { user: number; system: number };
  return { wallMs, cpuMs: (usage.user + usage.system) / 1000 };
}

export interface BundlesOptions {
  readonly outDir: string;
  readonly runs: number;
  readonly log: (message: string) => void;
}

export async function runBundles(options: BundlesOptions): Promise<BundlesResult> {
  const entries = [
    { name: 'receiver', entry: 'lambda/handlers/receiver.ts', comparison: false },
    { name: 'worker', entry: 'lambda/handlers/worker.ts', comparison: false },
    { name: 'receiver (SDK default credential chain)', entry: 'lambda/handlers/receiver.ts', comparison: true },
    { name: 'worker (SDK default credential chain)', entry: 'lambda/handlers/worker.ts', comparison: true },
  ];
  const built: { name: string; entry: string; comparison: boolean; bytes: number; gzipBytes: number; top: Contributor[]; loader: string }[] = [];
  for (const { name, entry, comparison } of entries) {
    const dir = path.join(options.outDir, name.replace(/\W+/g, '-').replace(/-$/, ''));
    mkdirSync(dir, { recursive: true });
    const outfile = path.join(dir, 'index.mjs');
    const result = await build(esbuildOptions(entry, outfile, { withAliases: !comparison }));
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(result.metafile));
    const code = readFileSync(outfile);
    const loader = path.join(dir, 'load.mjs');
    writeFileSync(loader, "await import('./index.mjs');\nprocess.stdout.write(JSON.stringify(process.cpuUsage()) + '\\n');\n");
    built.push({
      name,
      entry,
      comparison,
      bytes: statSync(outfile).size,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      top: contributors(result.metafile as Metafile).slice(0, 5),
      loader,
    });
  }

  const cases = ['node', ...built.map((b) => b.name)];
  const argsFor = (name: string): string[] =>
    name === 'node' ? ['-e', "process.stdout.write(JSON.stringify(process.cpuUsage()) + '\\n')"] : [built.find((b) => b.name === name)?.loader ?? ''];
  for (const name of cases) timeProcess(argsFor(name));
  const cpu: Record<string, number[]> = Object.fromEntries(cases.map((name) => [name, [] as number[]]));
  const wall = await interleaved(options.runs, cases, (name) => {
    const sample = timeProcess(argsFor(name));
    cpu[name].push(sample.cpuMs);
    return sample.wallMs;
  });

  const bundles = built.map((b) => ({
    name: b.name,
    entry: b.entry,
    comparison: b.comparison,
    bytes: b.bytes,
    gzipBytes: b.gzipBytes,
    top: b.top,
    loadMs: median(wall[b.name]),
    loadCpuMs: median(cpu[b.name]),
    ratioToNode: pairedRatio(wall[b.name], wall.node),
    cpuRatioToNode: pairedRatio(cpu[b.name], cpu.node),
  }));
  for (const b of bundles) {
    options.log(
      `bundle ${b.name}: ${(b.bytes / 1000).toFixed(0)} kB (gzip ${(b.gzipBytes / 1000).toFixed(0)} kB), load ${b.loadMs.toFixed(0)} ms = ${b.ratioToNode.toFixed(2)}x node -e 0 (cpu ${b.cpuRatioToNode.toFixed(2)}x)`,
    );
  }
  return { target: ESBUILD_TARGET, runs: options.runs, nodeMs: median(wall.node), nodeCpuMs: median(cpu.node), bundles };
}
