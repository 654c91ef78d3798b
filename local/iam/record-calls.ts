/**
 * Preloaded into a process whose every AWS call is one principal's (an ops
 * CLI: `node --import tsx --import ./local/iam/record-calls.ts ops/replay.ts`),
 * with RECORDING_ENV set by the parent. Does nothing without it.
 */
import { OPERATOR } from './access-log';
import { RECORDING_ENV, startRecording } from './recording';
import { LOCAL_ACCOUNT } from '../resources';

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
  // A CLI ends with process.exit: only synchronous work runs then, and the write is.
  process.on('exit', () => recording.stop());
}
