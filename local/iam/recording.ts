/**
 * Switches the IAM recording on for one process: the shared call recorder with
 * an access log listening, written to `<dir>/<name>.json` now and then and on
 * stop. Off unless a caller asks (the e2e setup and the reliability harness do;
 * `npm start` does not).
 */
import * as path from 'node:path';
import { CallRecorder, recordEveryClient } from '../aws-call-recorder';
import { ensureDir } from '../paths';
import { AccessLog } from './access-log';

/** What a parent process sets so a child (an ops CLI, the local stack) records its calls. */
export const RECORDING_ENV = {
  /** Directory of the access-log files; recording is off without it. */
  dir: 'AWS_ACCESS_LOG_DIR',
  /** The principal of the process's clients that nobody attributed (ops CLIs: `operator`). */
  principal: 'AWS_ACCESS_PRINCIPAL',
  /** Which run the calls belong to: `e2e`, `reliability`. */
  origin: 'AWS_ACCESS_ORIGIN',
} as const;

export interface RecordingOptions {
  readonly dir: string;
  /** File name without `.json`. */
  readonly name: string;
  readonly origin: string;
  readonly account: string;
  /** The principal of clients not attached with one. @default - none: their calls count as unattributed */
  readonly defaultPrincipal?: string;
  /** Record every client of the process, not only those attached explicitly. @default true */
  readonly everyClient?: boolean;
  /** Write the file this often while running, if it changed; 0: only on stop (keeps the event loop free under load). @default 2000 */
  readonly flushEveryMs?: number;
}

export interface Recording {
  readonly recorder: CallRecorder;
  readonly log: AccessLog;
  readonly file: string;
  flush(): void;
  stop(): void;
}

export function startRecording(options: RecordingOptions): Recording {
  const file = path.join(ensureDir(options.dir), `${options.name}.json`);
  const recorder = new CallRecorder({ keepRecords: false, defaultPrincipal: options.defaultPrincipal });
  const log = new AccessLog(options.origin, options.account).listen(recorder);
  if (options.everyClient !== false) recordEveryClient(recorder);
  let written = -1;
  const flush = (): void => {
    if (log.changes === written) return;
    written = log.changes;
    log.write(file);
  };
  const every = options.flushEveryMs ?? 2000;
  const timer = every > 0 ? setInterval(flush, every) : undefined;
  timer?.unref();
  flush();
  return {
    recorder,
    log,
    file,
    flush,
    stop: () => {
      if (timer !== undefined) clearInterval(timer);
      flush();
    },
  };
}

/** The environment that makes a child process record into `dir` (with `--import ./local/iam/record-calls.ts`). */
export function recordingEnv(dir: string, origin: string, principal: string): Record<string, string> {
  return { [RECORDING_ENV.dir]: dir, [RECORDING_ENV.origin]: origin, [RECORDING_ENV.principal]: principal };
}
