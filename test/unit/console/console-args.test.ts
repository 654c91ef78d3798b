/** `npm run console` arguments. */
import { UsageError } from '../../../ops/lib/cli-usage';
import { parseConsoleArgs } from '../../../ops/lib/console-args';
import { LOCAL_OUTPUTS_FILE } from '../../../ops/lib/outputs';

describe('npm run console arguments', () => {
  it('defaults to the local outputs, any free port, with the actions', () => {
    expect(parseConsoleArgs([])).toEqual({ help: false, outputsFile: LOCAL_OUTPUTS_FILE, outputsGiven: false, port: 0, readOnly: false, secretArn: undefined, stackName: undefined });
  });

  it('takes an outputs file, a stack, a port, a secret ARN and --read-only', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-AbCdEf';

    expect(parseConsoleArgs(['--outputs', 'o.json', '--stack', 'S', '--port', '8080', '--secret-arn', arn, '--read-only'])).toEqual({
      help: false,
      outputsFile: 'o.json',
      outputsGiven: true,
      stackName: 'S',
      port: 8080,
      secretArn: arn,
      readOnly: true,
    });
  });

  it.each([
    [['--port', 'http'], '--port must be a positive integer, got "http"'],
    [['--port', '70000'], '--port must be at most 65535, got "70000"'],
    [['--secret-arn', 'my-secret'], '--secret-arn "my-secret" is not a Secrets Manager secret ARN'],
    [['--bind', '0.0.0.0'], 'unknown option --bind'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseConsoleArgs(argv)).toThrow(new UsageError(message));
  });

  it('answers --help', () => {
    expect(parseConsoleArgs(['-h'])).toEqual({ help: true });
  });
});
