/**
 * An emulator in a child process (DynamoDB Local's JVM, the fauxqs node
 * process): launched with stdin as a pipe, so the child can exit when its
 * parent dies; its listening line read from its output; killed with this
 * process on exit; stopped with SIGTERM, then SIGKILL.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { waitForStartup, type StartingProcess, type StartupWaitOptions } from './startup-wait';

export interface EmulatorProcess extends StartingProcess {
  readonly child: ChildProcess;
  /** The port from the child's listening line, once printed (or the fixed port given). */
  listeningPort(): number | undefined;
  /** Waits, following progress, for the listening line (or the fixed port); resolves with the port. */
  waitForPort(options: Omit<StartupWaitOptions, 'process' | 'what'>): Promise<number>;
  /** The child's recent output, for error messages. */
  recentOutput(): string;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** Names the emulator in errors. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: SpawnOptions['cwd'];
  /** Matches the child's "listening" line; group 2 is the port. */
  readonly listeningLine: RegExp;
  /** A port already known (a CLI given `-port`), when the child prints no line. */
  readonly fixedPort?: number;
}

const KEPT_CHUNKS = 200;

export function launchEmulator(options: LaunchOptions): EmulatorProcess {
  const child = spawn(options.command, [...options.args], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const output: string[] = [];
  let unmatched = '';
  let port = options.fixedPort;
  let exited: Error | undefined;
  const onOutput = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output.push(text);
    if (output.length > KEPT_CHUNKS) output.shift();
    if (port !== undefined) return;
    // The line can arrive split across chunks.
    unmatched += text;
    const match = options.listeningLine.exec(unmatched);
    if (match) port = Number(match[2]);
  };
  child.stdin?.on('error', () => undefined);
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  child.on('error', (error) => {
    exited = new Error(`could not launch ${options.name} (${options.command}): ${error.message}`, { cause: error });
  });
  child.on('exit', (code, signal) => {
    exited ??= new Error(`${options.name} exited (code ${code}, signal ${signal}):\n${output.join('').slice(-2000)}`);
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const emulator: EmulatorProcess = {
    child,
    pid: child.pid,
    listeningPort: () => port,
    waitForPort: (wait) =>
      waitForStartup(
        async () => {
          if (port === undefined) throw new Error('not listening yet');
          return port;
        },
        { ...wait, process: emulator, what: `${options.name} to bind` },
      ),
    exited: () => exited,
    recentOutput: () => output.join('').slice(-2000),
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
    },
  };
  return emulator;
}

/** SIGTERM, then SIGKILL if the child has not exited within a few seconds. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
