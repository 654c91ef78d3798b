/**
 * The construct library as a team gets it: the package is built and packed
 * (`npm pack`), installed into a temporary copy of examples/team-app with its
 * own aws-cdk-lib, constructs and cdk-nag (the lowest versions package.json's
 * peerDependencies state, and npm's latest), type-checked against the installed
 * types and synthesized with cdk-nag's AWS Solutions checks on, beside a jobs
 * table and a signing secret the app already has.
 *
 * Each app directory is kept under .local/package-test/ between runs (npm's
 * cache and the installed peers make a rerun cost seconds); only the package
 * under test is installed afresh each time.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'team-app');
const WORK_DIR = path.join(REPO_ROOT, '.local', 'package-test');
const TARBALL = path.join(WORK_DIR, 'webhook-ingestion-stack.tgz');
const PEERS = ['aws-cdk-lib', 'constructs', 'cdk-nag'] as const;
const NODE = process.execPath;
const TSX_LOADER = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const TSC = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

jest.setTimeout(15 * 60_000);

const rootPackage = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };

/** `^2.258.0` -> `2.258.0`: the lowest version the range admits, which is what we promise. */
function lowestOf(range: string): string {
  const match = /^\^?(\d+\.\d+\.\d+)$/.exec(range);
  if (!match) throw new Error(`peer range ${range} is not ^x.y.z: state the lowest supported version plainly`);
  return match[1];
}

const VARIANTS = {
  minimum: Object.fromEntries(PEERS.map((name) => [name, lowestOf(rootPackage.peerDependencies[name])])),
  latest: Object.fromEntries(PEERS.map((name) => [name, 'latest'])),
} as const;

async function npm(args: readonly string[], cwd: string): Promise<string> {
  // npm's own CLI on this Node (the project's 24), as npm scripts run it.
  const cli = process.env.npm_execpath;
  const [command, prefix] = cli !== undefined && cli.endsWith('.js') ? [NODE, [cli]] : ['npm', []];
  const { stdout } = await run(command, [...prefix, ...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Builds dist/ exactly as `prepack` does, then packs it (without lifecycle scripts: `prepare` reinstalls the emulators). */
async function packTheLibrary(): Promise<void> {
  mkdirSync(WORK_DIR, { recursive: true });
  await run(NODE, ['--import', 'tsx', path.join('scripts', 'build-package.ts')], { cwd: REPO_ROOT });
  const packed = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', WORK_DIR], REPO_ROOT)) as { filename: string }[];
  cpSync(path.join(WORK_DIR, packed[0].filename), TARBALL);
  rmSync(path.join(WORK_DIR, packed[0].filename));
}

interface InstalledApp {
  readonly dir: string;
  readonly versions: Record<string, string>;
}

async function installApp(label: string, peers: Record<string, string>): Promise<InstalledApp> {
  const dir = path.join(WORK_DIR, label);
  mkdirSync(dir, { recursive: true });
  for (const entry of ['bin', 'cdk.json', 'tsconfig.json']) cpSync(path.join(EXAMPLE, entry), path.join(dir, entry), { recursive: true });
  const example = JSON.parse(readFileSync(path.join(EXAMPLE, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(
    path.join(dir, 'package.json'),
    `${JSON.stringify(
      {
        ...example,
        dependencies: { ...peers, 'webhook-ingestion-stack': `file:${path.relative(dir, TARBALL)}` },
        // The app's own type-check needs Node's types; tsx and the CDK CLI come from this repository.
        devDependencies: { '@types/node': '^24.0.0' },
      },
      null,
      2,
    )}\n`,
  );
  // The tarball keeps its name across runs: without these npm would keep the previous run's copy.
  rmSync(path.join(dir, 'node_modules', 'webhook-ingestion-stack'), { recursive: true, force: true });
  rmSync(path.join(dir, 'package-lock.json'), { force: true });
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error'], dir);
  const versions = Object.fromEntries(
    [...PEERS, 'webhook-ingestion-stack'].map((name) => [name, (JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version]),
  );
  return { dir, versions };
}

interface Synthesized {
  readonly exitCode: number;
  readonly output: string;
  readonly outdir: string;
}

async function synthesize(app: InstalledApp, entry = path.join('bin', 'app.ts'), outdirName = 'cdk.out'): Promise<Synthesized> {
  const outdir = path.join(app.dir, outdirName);
  rmSync(outdir, { recursive: true, force: true });
  try {
    const { stdout, stderr } = await run(NODE, ['--import', TSX_LOADER, entry], {
      cwd: app.dir,
      env: { ...process.env, CDK_OUTDIR: outdir, NODE_OPTIONS: '' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { exitCode: 0, output: stdout + stderr, outdir };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}`, outdir };
  }
}

/** An app with one bucket and none of the settings cdk-nag asks for: the same checks must fail it. */
const CONTROL_APP = `import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
const app = new App();
new s3.Bucket(new Stack(app, 'Control'), 'PlainBucket');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
`;

function violations(outdir: string): unknown[] {
  const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations: unknown[] }[] };
  return report.pluginReports.flatMap((plugin) => plugin.violations);
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

let packed: Promise<void> | undefined;

describe.each(Object.entries(VARIANTS))('the packed library in a team app with the %s aws-cdk-lib', (label, peers) => {
  let app: InstalledApp;
  let synth: Synthesized;
  let resources: CfnResource[];

  beforeAll(async () => {
    packed ??= packTheLibrary();
    await packed;
    app = await installApp(label, peers);
    synth = await synthesize(app);
    const templateFile = path.join(synth.outdir, 'ProductStack.template.json');
    resources = existsSync(templateFile) ? Object.values((JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources: Record<string, CfnResource> }).Resources) : [];
  });

  it('installs with the versions under test', () => {
    if (label === 'minimum') for (const name of PEERS) expect(app.versions[name]).toBe(peers[name]);
    expect(app.versions['webhook-ingestion-stack']).toBe((JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it("type-checks against the installed package's own types", async () => {
    await expect(run(NODE, [TSC, '-p', app.dir, '--skipLibCheck'], { cwd: app.dir })).resolves.toBeDefined();
  });

  it('synthesizes with cdk-nag on and no finding left unacknowledged', async () => {
    // Prepare: the same checks fail an app that has findings, so a pass here means something.
    writeFileSync(path.join(app.dir, 'control-app.ts'), CONTROL_APP);
    const control = await synthesize(app, 'control-app.ts', 'cdk.out.control');
    expect(control.exitCode).not.toBe(0);
    expect(violations(control.outdir).length).toBeGreaterThan(0);

    // Assess
    expect({ exitCode: synth.exitCode, output: synth.exitCode === 0 ? '' : synth.output }).toEqual({ exitCode: 0, output: '' });
    expect(violations(synth.outdir)).toEqual([]);
  });

  it("exports the constructs, the grants and the names a product's own code needs, from its CommonJS entry", async () => {
    // Act: the installed package as a product's Node code loads it (no TypeScript loader).
    const script = `const lib = require('webhook-ingestion-stack');
      process.stdout.write(JSON.stringify({ names: Object.keys(lib).sort(), open: lib.openJobAttributes('job_1', '2026-12-01T10:00:00Z'), lastOrigin: lib.JOB_ATTRIBUTES.lastOrigin }));`;
    const { stdout } = await run(NODE, ['-e', script], { cwd: app.dir, env: { ...process.env, NODE_OPTIONS: '' } });
    const loaded = JSON.parse(stdout) as { names: string[]; open: { openShard: number; openedAt: string }; lastOrigin: string };

    // Assess
    expect(loaded.names).toEqual(
      expect.arrayContaining(['WebhookIngestion', 'JobWorker', 'Operations', 'Reconciler', 'WebhookIngestionStack', 'grantReplay', 'grantRedrive', 'openJobAttributes', 'JOB_ATTRIBUTES', 'ORIGINS', 'OUTPUT_KEYS', 'DEPLOY_OUTPUT_KEYS']),
    );
    expect(loaded.open).toEqual({ openShard: expect.any(Number), openedAt: '2026-12-01T10:00:00.000Z' });
    expect(loaded.lastOrigin).toBe('lastOrigin');
  });

  it('gives the operators role exactly what the ops tools call, and the reconciler its sweep', () => {
    const policies = resources.filter((resource) => resource.Type === 'AWS::IAM::Policy');
    const operatorPolicies = policies.filter((policy) => JSON.stringify(policy.Properties?.Roles).includes('product-operators'));
    const actions = new Set(
      operatorPolicies.flatMap((policy) =>
        ((policy.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement).flatMap((statement) => [statement.Action].flat()),
      ),
    );
    expect([...actions].sort()).toEqual(
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 's3:GetObject', 's3:ListBucket', 's3:PutObject', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ListMessageMoveTasks', 'sqs:ReceiveMessage', 'sqs:SendMessage', 'sqs:StartMessageMoveTask'].sort(),
    );
  });

  it('uses the jobs table and the signing secret the app already has, creating neither', () => {
    const policies = JSON.stringify(resources.filter((resource) => resource.Type === 'AWS::IAM::Policy'));
    expect(policies).toContain(':table/product-jobs');
    expect(policies).toContain(':secret:video-provider/webhook-signing-secret-??????');
    expect(resources.filter((resource) => resource.Type === 'AWS::SecretsManager::Secret')).toEqual([]);
    // The one table created is the deliveries table (its key is deliveryId).
    const tables = resources.filter((resource) => resource.Type === 'AWS::DynamoDB::Table');
    expect(tables.map((table) => (table.Properties?.KeySchema as { AttributeName: string }[])[0].AttributeName)).toEqual(['deliveryId']);
  });

  it('deploys the bundles built when the package was packed, with no esbuild in the app', () => {
    // Prepare
    const prebuilt = path.join(app.dir, 'node_modules', 'webhook-ingestion-stack', 'dist', 'bundles');
    const shipped = readdirSync(prebuilt).map((name) => readFileSync(path.join(prebuilt, name, 'index.mjs'), 'utf8'));

    // Act
    const staged = resources
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((fn) => readFileSync(path.join(synth.outdir, `asset.${String((fn.Properties?.Code as { S3Key: string }).S3Key).replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8'));

    // Assess
    // The receiver, the worker and the reconciler.
    expect(staged).toHaveLength(3);
    for (const bundle of staged) expect(shipped).toContain(bundle);
    expect(existsSync(path.join(app.dir, 'node_modules', 'esbuild'))).toBe(false);
  });
});
