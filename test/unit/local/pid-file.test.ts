import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AlreadyRunningError, claimPidFile, isAlive, localStackRecord, readPidFile, writePidFile } from '../../../local/pid-file';

/** A child whose command line carries the stack's marker, optionally answering HTTP on a loopback port. */
function fakeStack(options: { readonly answering: boolean }): Promise<{ child: ChildProcess; port?: number }> {
  const script = options.answering
    ? "const s = require('http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => console.log('PORT ' + s.address().port));"
    : "setInterval(() => undefined, 1000); console.log('PORT none');";
  const child = spawn(process.execPath, ['-e', script, 'local/start.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    child.stdout?.once('data', (chunk: Buffer) => {
      const port = Number(/PORT (\d+)/.exec(chunk.toString())?.[1]);
      resolve({ child, port: Number.isNaN(port) ? undefined : port });
    });
  });
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('claiming the state directory for a start', () => {
  let dir: string;
  let file: string;
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  const claim = (startingGraceMs = 60_000): Promise<void> => claimPidFile(file, { stateDir: dir, startingGraceMs, log: (line) => logs.push(line) });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pid-file-'));
    file = path.join(dir, 'local-stack.pid.json');
    logs.length = 0;
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await exited(child);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('records this process when the directory is free', async () => {
    await claim();
    expect(readPidFile(file)?.processes).toEqual([localStackRecord(process.pid)]);
  });

  it('refuses while the recorded stack is alive and answering, naming its pid and port, and leaves its file alone', async () => {
    // Prepare
    const stack = await fakeStack({ answering: true });
    children.push(stack.child);
    const webhookUrl = `http://127.0.0.1:${stack.port}/webhooks`;
    writePidFile(file, [localStackRecord(stack.child.pid ?? -1)], { webhookUrl });

    // Act
    const claiming = claim();

    // Assess
    await expect(claiming).rejects.toBeInstanceOf(AlreadyRunningError);
    await expect(claiming).rejects.toThrow(`already running: the local stack (pid ${stack.child.pid}) answers on port ${stack.port} with state dir ${dir}`);
    expect(readPidFile(file)?.webhookUrl).toBe(webhookUrl);
    expect(isAlive(stack.child.pid ?? -1)).toBe(true);
  });

  it('refuses while the recorded stack is alive and still starting (no address yet, within the grace)', async () => {
    // Prepare
    const stack = await fakeStack({ answering: false });
    children.push(stack.child);
    writePidFile(file, [localStackRecord(stack.child.pid ?? -1)]);

    // Act, Assess
    await expect(claim()).rejects.toThrow(`already starting: the local stack (pid ${stack.child.pid}) is still starting`);
  });

  it('stops a recorded stack that is alive but no longer answers, and takes its place', async () => {
    // Prepare: an address nothing listens on
    const stack = await fakeStack({ answering: false });
    children.push(stack.child);
    writePidFile(file, [localStackRecord(stack.child.pid ?? -1)], { webhookUrl: 'http://127.0.0.1:9/webhooks' });

    // Act
    await claim();

    // Assess
    await exited(stack.child);
    expect(stack.child.signalCode).toBe('SIGTERM');
    expect(readPidFile(file)?.processes).toEqual([localStackRecord(process.pid)]);
    expect(logs[0]).toContain(`the local stack (pid ${stack.child.pid}) recorded in ${file} is alive but not answering: stopping it`);
  });

  it('takes over a file whose processes are gone', async () => {
    // Prepare
    const gone = spawn(process.execPath, ['-e', '0', 'local/start.ts']);
    await exited(gone);
    writePidFile(file, [localStackRecord(gone.pid ?? -1)], { webhookUrl: 'http://127.0.0.1:9/webhooks' });

    // Act
    await claim();

    // Assess
    expect(readPidFile(file)?.processes).toEqual([localStackRecord(process.pid)]);
  });

  it('never signals a live process whose command line is not the stack, even under a recorded pid', async () => {
    // Prepare: a recycled pid, now someone else's
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)']);
    children.push(stranger);
    writeFileSync(file, JSON.stringify({ startedAt: new Date().toISOString(), processes: [localStackRecord(stranger.pid ?? -1)] }));

    // Act
    await claim();

    // Assess
    expect(isAlive(stranger.pid ?? -1)).toBe(true);
    expect(stranger.exitCode).toBeNull();
    expect(readPidFile(file)?.processes).toEqual([localStackRecord(process.pid)]);
  });
});
