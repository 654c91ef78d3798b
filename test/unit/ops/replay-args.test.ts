import { UsageError } from '../../../ops/lib/cli-usage';
import { LOCAL_OUTPUTS_FILE } from '../../../ops/lib/outputs';
import { DEFAULT_CONCURRENCY, parseReplayArgs, type ReplayArgs } from '../../../ops/lib/replay-args';

const WINDOW = ['--from', '2026-11-27T10:00:00Z', '--to', '2026-11-27T11:00:00Z'];

function parsed(argv: string[]): ReplayArgs {
  const result = parseReplayArgs(argv);
  if (result.help) throw new Error('unexpected help');
  return result;
}

function usageMessage(argv: string[]): string {
  try {
    parseReplayArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('replay arguments', () => {
  describe('a valid command line', () => {
    it('gives the window, the filters and the defaults', () => {
      // Act
      const args = parsed([...WINDOW, '--event', 'job.completed', '--job-id', 'job_1', '--delivery-id', 'dlv_1', '--dry-run']);

      // Assess
      expect(args).toEqual({
        help: false,
        from: new Date('2026-11-27T10:00:00Z'),
        to: new Date('2026-11-27T11:00:00Z'),
        event: 'job.completed',
        jobId: 'job_1',
        deliveryId: 'dlv_1',
        dryRun: true,
        verify: false,
        force: false,
        rate: undefined,
        concurrency: DEFAULT_CONCURRENCY,
        outputsFile: LOCAL_OUTPUTS_FILE,
        stackName: undefined,
        secrets: [],
        secretArn: undefined,
        quiet: false,
      });
    });

    it('reads offsets, bare dates (UTC midnight) and fractional rates', () => {
      const args = parsed(['--from', '2026-11-27', '--to', '2026-11-27T12:30:00.250+02:00', '--rate', '2.5']);
      expect(args.from.toISOString()).toBe('2026-11-27T00:00:00.000Z');
      expect(args.to.toISOString()).toBe('2026-11-27T10:30:00.250Z');
      expect(args.rate).toBe(2.5);
    });

    it('takes repeated --secret values for a rotation', () => {
      expect(parsed([...WINDOW, '--verify', '--secret', 'new', '--secret', 'old']).secrets).toEqual(['new', 'old']);
    });

    it('allows a long window with --allow-long', () => {
      expect(parsed(['--from', '2026-01-01', '--to', '2026-03-01', '--allow-long']).to.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    });

    it('answers --help without requiring a window', () => {
      expect(parseReplayArgs(['--help'])).toEqual({ help: true });
    });
  });

  describe('bad arguments each give one line', () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['a missing --from', ['--to', '2026-11-27T11:00:00Z'], /^--from is required/],
      ['a missing --to', ['--from', '2026-11-27T11:00:00Z'], /^--to is required/],
      ['an unparseable date', ['--from', 'yesterday', '--to', '2026-11-27T11:00:00Z'], /^--from "yesterday" is not an ISO 8601/],
      ['a date-time without a zone', ['--from', '2026-11-27T10:00:00', '--to', '2026-11-27T11:00:00Z'], /^--from .* with a zone/],
      ['an impossible date', ['--from', '2026-02-30T10:00:00Z', '--to', '2026-11-27T11:00:00Z'], /^--from "2026-02-30T10:00:00Z" is not a valid date$/],
      ['--to before --from', ['--from', '2026-11-27T11:00:00Z', '--to', '2026-11-27T10:00:00Z'], /^--to \(.*\) must be after --from/],
      ['an empty window', ['--from', '2026-11-27T11:00:00Z', '--to', '2026-11-27T11:00:00Z'], /must be after --from/],
      ['a window over the cap', ['--from', '2026-01-01', '--to', '2026-03-01'], /^the window is 59\.0 days, more than 31: narrow it or pass --allow-long$/],
      ['an unknown flag', [...WINDOW, '--bogus'], /^unknown option --bogus$/],
      ['a stray argument', [...WINDOW, 'extra'], /^unexpected argument extra$/],
      ['a flag without its value', [...WINDOW, '--event'], /^--event needs a value$/],
      ['a value on a boolean flag', [...WINDOW, '--dry-run=yes'], /^--dry-run does not take a value$/],
      ['an unknown event', [...WINDOW, '--event', 'job.deleted'], /^--event "job.deleted" is not one of job.started, job.completed, job.failed$/],
      ['a delivery id that cannot be a key', [...WINDOW, '--delivery-id', 'a/b'], /^--delivery-id must be 1-128 characters/],
      ['a zero rate', [...WINDOW, '--rate', '0'], /^--rate must be a positive number, got "0"$/],
      ['a non-numeric rate', [...WINDOW, '--rate', 'fast'], /^--rate must be a positive number/],
      ['a fractional concurrency', [...WINDOW, '--concurrency', '1.5'], /^--concurrency must be a positive integer/],
      ['a huge concurrency', [...WINDOW, '--concurrency', '1000'], /^--concurrency must be at most 64/],
      ['a secret without --verify', [...WINDOW, '--secret', 's'], /^--secret and --secret-arn only make sense with --verify$/],
      ['an empty secret', [...WINDOW, '--verify', '--secret', ' '], /^--secret must not be empty$/],
      ['a malformed secret ARN', [...WINDOW, '--verify', '--secret-arn', 'my-secret'], /is not a Secrets Manager secret ARN$/],
      [
        'both --secret and --secret-arn',
        [...WINDOW, '--verify', '--secret', 's', '--secret-arn', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x'],
        /^--secret and --secret-arn exclude each other$/,
      ],
    ];

    it.each(cases)('%s', (_name, argv, expected) => {
      const message = usageMessage(argv);
      expect(message).toMatch(expected);
      expect(message).not.toContain('\n');
    });
  });
});
