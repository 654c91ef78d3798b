import { launchEmulator, type EmulatorProcess } from '../../../local/emulator-process';
import { DEFAULT_START_TIMEOUT_SECONDS, START_TIMEOUT_ENV, StartupTimeoutError, processCpuMs, startTimeoutMs } from '../../../local/startup-wait';

const LISTENING_LINE = /^TEST_LISTENING (\S+) (\d+)$/m;

/** A child `node -e script` standing in for an emulator. */
function launch(script: string): EmulatorProcess {
  return launchEmulator({ name: 'test emulator', command: process.execPath, args: ['-e', script], listeningLine: LISTENING_LINE });
}

describe('start-up waits', () => {
  const started: EmulatorProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((emulator) => emulator.stop()));
  });

  it('keep waiting while the child is alive and still starting, printing its progress, until it listens', async () => {
    // Prepare: a child that needs several progress intervals before it listens
    const emulator = launch("setTimeout(() => console.log('TEST_LISTENING 127.0.0.1 4242'), 600); setInterval(() => undefined, 1000);");
    started.push(emulator);
    const progress: string[] = [];

    // Act
    const port = await emulator.waitForPort({ timeoutMs: 60_000, progressEveryMs: 100, intervalMs: 20, log: (line) => progress.push(line) });

    // Assess
    expect(port).toBe(4242);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatch(new RegExp(`^still waiting for test emulator to bind: \\d+ s \\(pid ${emulator.pid} alive.*; load \\d+\\.\\d\\)$`));
  });

  it('end as soon as the child exits, with its own output, long before the cap', async () => {
    // Prepare
    const emulator = launch("console.error('port clash on 4242'); process.exit(3);");
    started.push(emulator);

    // Act
    const waiting = emulator.waitForPort({ timeoutMs: 600_000, intervalMs: 20 });

    // Assess: the test's own 5 s limit would fail a wait that ran to the 10-minute cap
    await expect(waiting).rejects.toThrow(/test emulator exited \(code 3, signal null\):\nport clash on 4242/);
  });

  it('give up at the overall cap when the child stays alive but never listens, naming the setting that extends it', async () => {
    // Prepare
    const emulator = launch('setInterval(() => undefined, 1000);');
    started.push(emulator);

    // Act
    const waiting = emulator.waitForPort({ timeoutMs: 300, intervalMs: 20 });

    // Assess
    await expect(waiting).rejects.toBeInstanceOf(StartupTimeoutError);
    await expect(waiting).rejects.toThrow(new RegExp(`waiting for test emulator to bind \\(pid ${emulator.pid} alive.*\\); set ${START_TIMEOUT_ENV} to wait longer`));
  });

  describe('the overall cap', () => {
    it('is generous by default', () => {
      expect(startTimeoutMs({})).toBe(DEFAULT_START_TIMEOUT_SECONDS * 1000);
      expect(DEFAULT_START_TIMEOUT_SECONDS).toBeGreaterThanOrEqual(120);
    });

    it(`is set in seconds by ${START_TIMEOUT_ENV}`, () => {
      expect(startTimeoutMs({ [START_TIMEOUT_ENV]: '900' })).toBe(900_000);
      expect(startTimeoutMs({ [START_TIMEOUT_ENV]: ' ' })).toBe(DEFAULT_START_TIMEOUT_SECONDS * 1000);
    });

    it.each(['abc', '0', '-5'])('refuses %j', (value) => {
      expect(() => startTimeoutMs({ [START_TIMEOUT_ENV]: value })).toThrow(`${START_TIMEOUT_ENV} must be a positive number of seconds, got "${value}"`);
    });
  });

  it('read the CPU time a live process has used, and nothing for a pid that is not there', () => {
    expect(processCpuMs(process.pid)).toBeGreaterThan(0);
    expect(processCpuMs(undefined)).toBeUndefined();
    expect(processCpuMs(2 ** 22 + 1)).toBeUndefined();
  });
});
