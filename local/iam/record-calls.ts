/**
 * Preloaded into a process whose every AWS call is one principal's (an ops
 * CLI: `node --import tsx --import ./local/iam/record-calls.ts ops/replay.ts`),
 * with RECORDING_ENV set by the parent. Does nothing without it.
 *
 * It also records the stack outputs the CLI was pointed at (`--outputs`,
 * `--stack`), so the check knows which of the stack's resources each URL or
 * name stands for, even when a test points a tool at a scratch queue of its own.
 */
import { parseArgs } from 'node:util';
import { LOCAL_OUTPUTS_FILE, readOutputsFile } from '../../ops/lib/outputs';
import { OPERATOR } from './access-log';
import { RECORDING_ENV, startRecording } from './recording';
import { LOCAL_ACCOUNT } from '../resources';

function outputsOfThisCli(): Record<string, string> | undefined {
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), strict: false, options: { outputs: { type: 'string' }, stack: { type: 'string' } } });
    const outputs = readOutputsFile(typeof values.outputs === 'string' ? values.outputs : LOCAL_OUTPUTS_FILE, typeof values.stack === 'string' ? values.stack : undefined);
    return Object.fromEntries(Object.entries(outputs).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    // The CLI itself reports a missing or bad outputs file.
    return undefined;
  }
}

const dir = process.env[RECORDING_ENV.dir];
if (dir !== undefined && dir !== '') {
  const principal = process.env[RECORDING_ENV.principal] || OPERATOR;
  const recording = startRecording({
    dir,
    name: `${principal}-${process.pid}`,
    origin: process.env[RECORDING_ENV.origin] || 'local',
    account: LOCAL_ACCOUNT,
    defaultPrincipal: principal,
  });
  recording.log.outputs = outputsOfThisCli();
  // A CLI ends with process.exit: only synchronous work runs then, and the write is.
  process.on('exit', () => recording.stop());
}
