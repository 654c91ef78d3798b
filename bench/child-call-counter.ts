/**
 * Preloaded into the local stack's process by the e2e section
 * (`node --import tsx --import ./bench/child-call-counter.ts local/start.ts`):
 * attaches the shared call recorder to every SDK client the stack creates
 * (receiver, worker, queue runner), so the cost section bills the calls the
 * real pipeline made against the emulators. It writes its running totals to
 * BENCH_CALLS_FILE; the bench diffs two snapshots around each phase.
 */
import { writeFileSync, renameSync } from 'node:fs';
import { CallRecorder, recordEveryClient } from '../local/aws-call-recorder';
import { summarizeCalls } from './aws-calls';

const file = process.env.BENCH_CALLS_FILE;
if (file) {
  const recorder = new CallRecorder({ consumedCapacity: true, now: () => performance.now() });
  recordEveryClient(recorder);
  let written = -1;
  const flush = (): void => {
    if (recorder.records.length === written) return;
    written = recorder.records.length;
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ at: Date.now(), calls: written, summary: summarizeCalls(recorder.records) }));
    renameSync(tmp, file);
  };
  setInterval(flush, 200).unref();
}
