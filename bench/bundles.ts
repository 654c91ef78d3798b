/**
 * Section 3: the Lambda bundles as CDK builds them (same esbuild options as
 * `createNodeFunction` in lib/secure-defaults.ts), their size, and how long a
 * fresh Node process takes to load each one, as a ratio to `node -e 0`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { interleaved, median, pairedRatio } from './stats';

export const REPO_ROOT = path.resolve(__dirname, '..');
const SECURE_DEFAULTS = path.join(REPO_ROOT, 'lib', 'secure-defaults.ts');

/**
 * The options CDK's NodejsFunction passes to esbuild for our `bundling` props
 * (`--bundle --target=… --platform=node --format=esm --outfile=index.mjs --minify
 * --banner:js=… --main-fields=module,main`, no externals). They are not exported
 * from a CDK-free module, so they are mirrored here and checked against the
 * construct's source on every run (see `bundlingDrift`).
 */
export const BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";
const MAIN_FIELDS = ['module', 'main'];

/** Read, not imported: importing lib/ would load aws-cdk-lib (seconds, and memory) into the bench. */
export function cdkEsbuildTarget(): string {
  const match = /export const ESBUILD_TARGET = '([^']+)'/.exec(readFileSync(SECURE_DEFAULTS, 'utf8'));
  if (!match) throw new Error(`ESBUILD_TARGET not found in ${SECURE_DEFAULTS}`);
  return match[1];
}

/** Every bundling setting this file mirrors that no longer appears verbatim in the construct. */
export function bundlingDrift(): string[] {
  const source = readFileSync(SECURE_DEFAULTS, 'utf8');
  const expected = [
    'minify: true',
    'sourceMap: false',
    'target: ESBUILD_TARGET',
    'format: OutputFormat.ESM',
    "mainFields: ['module', 'main']",
    `banner: "${BANNER}"`,
    'externalModules: []',
  ];
  return expected.filter((fragment) => !source.includes(fragment));
}

export function esbuildOptions(entry: string, outfile: string, target: string): BuildOptions {
  return {
    entryPoints: [path.join(REPO_ROOT, entry)],
    bundle: true,
    target,
    platform: 'node',
    format: 'esm',
    outfile,
    minify: true,
    sourcemap: false,
    banner: { js: BANNER },
    mainFields: MAIN_FIELDS,
    external: [],
    absWorkingDir: REPO_ROOT,
    logLevel: 'silent',
    metafile: true,
  };
}

export interface Contributor {
  readonly name: string;
  readonly bytes: number;
}

export interface BundleResult {
  readonly name: string;
  readonly entry: string;
  /** A variant built with a proposed change, not what CDK deploys today. */
  readonly whatIf: boolean;
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
  readonly drift: string[];
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

/**
 * What-if: Lambda hands a function its credentials in environment variables, so
 * the SDK's default chain (SSO, INI files, STS web identity, IMDS, nested STS/SSO
 * clients) is dead weight. Aliasing it to the environment provider is one
 * esbuild flag, which CDK passes through `bundling.esbuildArgs`.
 */
export const ENV_CREDENTIALS_ALIAS = '@aws-sdk/credential-provider-node';
function envCredentialsShim(outDir: string): string {
  const file = path.join(outDir, 'what-if', 'env-credentials.mjs');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, "export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';\n");
  return `./${path.relative(REPO_ROOT, file)}`;
}

export interface BundlesOptions {
  readonly outDir: string;
  readonly runs: number;
  readonly log: (message: string) => void;
}

export async function runBundles(options: BundlesOptions): Promise<BundlesResult> {
  const target = cdkEsbuildTarget();
  const drift = bundlingDrift();
  const shim = envCredentialsShim(options.outDir);
  const entries = [
    { name: 'receiver', entry: 'lambda/handlers/receiver.ts', whatIf: false },
    { name: 'worker', entry: 'lambda/handlers/worker.ts', whatIf: false },
    { name: 'receiver (env credentials)', entry: 'lambda/handlers/receiver.ts', whatIf: true },
    { name: 'worker (env credentials)', entry: 'lambda/handlers/worker.ts', whatIf: true },
  ];
  const built: { name: string; entry: string; whatIf: boolean; bytes: number; gzipBytes: number; top: Contributor[]; loader: string }[] = [];
  for (const { name, entry, whatIf } of entries) {
    const dir = path.join(options.outDir, name.replace(/\W+/g, '-').replace(/-$/, ''));
    mkdirSync(dir, { recursive: true });
    const outfile = path.join(dir, 'index.mjs');
    const buildOptions = esbuildOptions(entry, outfile, target);
    const result = await build(whatIf ? { ...buildOptions, alias: { [ENV_CREDENTIALS_ALIAS]: shim } } : buildOptions);
    writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(result.metafile));
    const code = readFileSync(outfile);
    const loader = path.join(dir, 'load.mjs');
    writeFileSync(loader, "await import('./index.mjs');\nprocess.stdout.write(JSON.stringify(process.cpuUsage()) + '\\n');\n");
    built.push({
      name,
      entry,
      whatIf,
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
    whatIf: b.whatIf,
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
  return { target, drift, runs: options.runs, nodeMs: median(wall.node), nodeCpuMs: median(cpu.node), bundles };
}
