import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { localLambdaContext } from '../../../local/lambda-context';
import { BundleInvocationError, startBundleFunction, type BundleFunction } from '../../../local/runners/bundle-function';

const BUNDLE = `
import dns from 'node:dns';
let invocations = 0;
export const handler = async (event, context) => {
  invocations += 1;
  if (event.fail) throw new TypeError('bad input');
  if (event.die) process.exit(7);
  const address = await new Promise((resolve, reject) => dns.lookup(event.lookup ?? 'localhost', (error, a) => (error ? reject(error) : resolve(a))));
  return {
    echo: event.value,
    invocations,
    pid: process.pid,
    remaining: context.getRemainingTimeInMillis(),
    functionName: context.functionName,
    env: { mine: process.env.MINE ?? null, parents: process.env.PARENT_ONLY ?? null },
    address,
  };
};
`;

describe('a deployed bundle run as its own Lambda environment', () => {
  let dir: string;
  const started: BundleFunction[] = [];
  const context = () => localLambdaContext({ functionName: 'fn-local', region: 'us-east-1', timeoutMs: 5000 });

  function start(source = BUNDLE): BundleFunction {
    const file = path.join(dir, `bundle-${started.length}.mjs`);
    writeFileSync(file, source);
    const fn = startBundleFunction({ name: 'fn-local', bundleFile: file, env: { MINE: 'from the template', PATH: process.env.PATH ?? '' } });
    started.push(fn);
    return fn;
  }

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bundle-function-'));
    process.env.PARENT_ONLY = 'the stack process';
  });

  afterAll(async () => {
    delete process.env.PARENT_ONLY;
    await Promise.all(started.map((fn) => fn.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('invokes the handler with the event and a context counting down to the deadline, in a process of its own', async () => {
    // Act
    const answer = (await start().invoke({ value: 42 }, context())) as Record<string, unknown>;

    // Assess
    expect(answer).toMatchObject({ echo: 42, invocations: 1, functionName: 'fn-local', address: '127.0.0.1' });
    expect(answer.pid).not.toBe(process.pid);
    expect(answer.remaining).toBeGreaterThan(0);
    expect(answer.remaining).toBeLessThanOrEqual(5000);
  });

  it('gives the function only its own environment', async () => {
    const answer = (await start().invoke({}, context())) as { env: unknown };
    expect(answer.env).toEqual({ mine: 'from the template', parents: null });
  });

  it('resolves names under .localhost to loopback, where queue URLs point', async () => {
    const answer = (await start().invoke({ lookup: 'sqs.us-east-1.localhost' }, context())) as { address: string };
    expect(answer.address).toBe('127.0.0.1');
  });

  it('rejects with the error the handler threw, and keeps the environment for the next invocation', async () => {
    // Prepare
    const fn = start();

    // Act, Assess
    await expect(fn.invoke({ fail: true }, context())).rejects.toThrow(new BundleInvocationError('fn-local: TypeError: bad input'));
    await expect(fn.invoke({ value: 1 }, context())).resolves.toMatchObject({ invocations: 2 });
  });

  it('starts a new environment after one died, as Lambda does', async () => {
    // Prepare
    const fn = start();
    const first = (await fn.invoke({}, context())) as { pid: number };

    // Act
    await expect(fn.invoke({ die: true }, context())).rejects.toThrow('fn-local: its environment exited (code 7, signal null)');
    const next = (await fn.invoke({}, context())) as { pid: number; invocations: number };

    // Assess
    expect(next.pid).not.toBe(first.pid);
    expect(next.invocations).toBe(1);
  });

  it('fails its init phase when the bundle does not load', async () => {
    await expect(start('export const handler = ;').warm()).rejects.toThrow(/^fn-local: init failed: SyntaxError/);
    await expect(start('export const other = 1;').warm()).rejects.toThrow(/exports no function handler/);
  });
});
