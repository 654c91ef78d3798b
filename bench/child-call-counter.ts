/**
 * Preloaded into the local stack's process by the e2e section
 * (`node --import tsx --import ./bench/child-call-counter.ts local/start.ts`):
 * attaches the call counter to every SDK client the stack creates (receiver,
 * worker, queue runner), so the cost section bills the calls the real pipeline
 * made against the emulators. It writes its running totals to BENCH_CALLS_FILE;
 * the bench diffs two snapshots around each phase.
 */
import { writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { CallRecorder, type InstrumentableClient } from './aws-calls';

const file = process.env.BENCH_CALLS_FILE;
if (file) {
  // The stack loads the SDK through CommonJS; resolve the same module instance it uses.
  const requireFromRepo = createRequire(path.join(process.cwd(), 'package.json'));
  const { Client } = requireFromRepo('@smithy/core/client') as { Client: { prototype: { send: (...args: unknown[]) => unknown } } };
  const recorder = new CallRecorder({ consumedCapacity: true, now: () => performance.now() });
  const send = Client.prototype.send;
  Client.prototype.send = function patchedSend(this: InstrumentableClient, ...args: unknown[]) {
    recorder.attach(this);
    return send.apply(this, args);
  };
  let written = -1;
  const flush = (): void => {
    if (recorder.records.length === written) return;
    written = recorder.records.length;
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ at: Date.now(), calls: written, summary: recorder.summary() }));
    renameSync(tmp, file);
  };
  setInterval(flush, 200).unref();
}
