/** The replay form becomes `npm run replay` arguments, judged by the CLI's own parser. */
import type { HistoryEntry } from '../../../lambda/core/job-state';
import { parseReplayArgs } from '../../../ops/lib/replay-args';
import { fieldsFrom, replayArgv } from '../../../ops/console/views/replay';
import { jobReplayWindow } from '../../../ops/console/views/jobs';

const ctx = { outputsArgs: ['--outputs', '/tmp/out.json'], secretArgs: ['--secret-arn', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf'] };

describe('the replay form', () => {
  it('turns its fields into the CLI\'s arguments, with the console\'s outputs and secret', () => {
    const fields = fieldsFrom(new URLSearchParams({ from: ' 2026-11-27T10:00:00Z ', to: '2026-11-27T11:00:00Z', event: 'job.completed', job: 'job_1', delivery: '', force: 'on', verify: 'on' }));

    const argv = replayArgv(fields, ctx);

    expect(argv).toEqual([
      '--from', '2026-11-27T10:00:00Z', '--to', '2026-11-27T11:00:00Z', '--event', 'job.completed', '--job-id', 'job_1', '--force',
      '--verify', '--secret-arn', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf', '--outputs', '/tmp/out.json',
    ]);
    expect(parseReplayArgs(argv)).toMatchObject({ help: false, jobId: 'job_1', force: true, verify: true, event: 'job.completed' });
  });

  it('leaves out what is not asked for', () => {
    expect(replayArgv(fieldsFrom(new URLSearchParams({ from: 'a', to: 'b' })), { outputsArgs: [], secretArgs: [] })).toEqual(['--from', 'a', '--to', 'b']);
  });

  it.each([
    [{ from: '2026-11-27T10:00:00', to: '2026-11-27T11:00:00Z' }, /is not an ISO 8601 date or date-time with a zone/],
    [{ from: '2026-11-27T11:00:00Z', to: '2026-11-27T10:00:00Z' }, /must be after --from/],
    [{ from: '2026-11-27T10:00:00Z', to: '2026-11-27T11:00:00Z', delivery: 'has space' }, /--delivery-id must be/],
    [{ from: '2026-11-27T10:00:00Z' }, /--to is required/],
  ])('is refused where the CLI refuses: %j', (form, message) => {
    expect(() => parseReplayArgs(replayArgv(fieldsFrom(new URLSearchParams(form)), { outputsArgs: [], secretArgs: [] }))).toThrow(message);
  });
});

describe('a job\'s replay window', () => {
  it('starts the timestamp tolerance before its earliest event and ends a second after its last application', () => {
    const history: HistoryEntry[] = [
      { deliveryId: 'd1', event: 'job.started', eventAt: '2026-11-27T10:00:00.500Z', outcome: 'applied', at: '2026-11-27T10:00:01.200Z' },
      { deliveryId: 'd2', event: 'job.completed', eventAt: '2026-11-27T10:09:00.000Z', outcome: 'applied', at: '2026-11-27T10:09:00.300Z' },
    ];

    expect(jobReplayWindow(history, new Date('2026-11-28T00:00:00Z'))).toEqual({ from: '2026-11-27T09:55:00.000Z', to: '2026-11-27T10:09:02.000Z' });
  });

  it('is the last day for a job without history', () => {
    expect(jobReplayWindow([], new Date('2026-11-28T00:00:00.000Z'))).toEqual({ from: '2026-11-27T00:00:00.000Z', to: '2026-11-28T00:00:00.000Z' });
  });
});
