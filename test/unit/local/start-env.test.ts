import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEV_SIGNING_SECRET, resolveSigningSecret, signingSecretProblem } from '../../../ops/lib/dev-secret';
import { UsageError } from '../../../ops/lib/cli-usage';
import { StartEnvironmentError, readStartEnvironment } from '../../../local/start-env';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    readStartEnvironment(env);
  } catch (error) {
    if (error instanceof StartEnvironmentError) return error.problems;
    throw error;
  }
  return [];
}

describe("npm start's environment", () => {
  it('defaults to port 3000, the dev secret and stopping with its parent', () => {
    const environment = readStartEnvironment({});
    expect(environment).toMatchObject({ port: 3000, exitWithParent: true, signingSecret: { secret: DEV_SIGNING_SECRET, isDevDefault: true } });
  });

  it('reads every setting it knows', () => {
    // Prepare
    const dir = mkdtempSync(path.join(tmpdir(), 'start-env-'));
    const template = path.join(dir, 'template.json');
    writeFileSync(template, '{}');

    // Act
    const environment = readStartEnvironment({
      PORT: '0',
      LOCAL_DYNAMODB_PORT: '8000',
      LOCAL_FAUXQS_PORT: ' 4566 ',
      LOCAL_WORKER_POLLERS: '2',
      LOCAL_RETRY_DELAY_SECONDS: '0',
      LOCAL_STACK_TEMPLATE: template,
      LOCAL_EXIT_WITH_PARENT: '0',
      LOCAL_START_TIMEOUT_SECONDS: '600',
      WEBHOOK_SIGNING_SECRET: 'a-real-secret',
    });

    // Assess
    expect(environment).toMatchObject({
      port: 0,
      dynamodbPort: 8000,
      fauxqsPort: 4566,
      pollers: 2,
      retryDelaySeconds: 0,
      template,
      exitWithParent: false,
      signingSecret: { secret: 'a-real-secret', isDevDefault: false },
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer between 0 and 65535, got "abc"'],
    [{ PORT: '3000.5' }, 'PORT must be an integer between 0 and 65535, got "3000.5"'],
    [{ PORT: '65536' }, 'PORT must be an integer between 0 and 65535, got "65536"'],
    [{ LOCAL_FAUXQS_PORT: '-1' }, 'LOCAL_FAUXQS_PORT must be an integer between 0 and 65535, got "-1"'],
    [{ LOCAL_WORKER_POLLERS: '0' }, 'LOCAL_WORKER_POLLERS must be an integer between 1 and 64, got "0"'],
    [{ LOCAL_RETRY_DELAY_SECONDS: 'soon' }, 'LOCAL_RETRY_DELAY_SECONDS must be an integer between 0 and 43200, got "soon"'],
    [{ LOCAL_START_TIMEOUT_SECONDS: '0' }, 'LOCAL_START_TIMEOUT_SECONDS must be a positive number of seconds, got "0"'],
    [{ LOCAL_EXIT_WITH_PARENT: 'yes' }, 'LOCAL_EXIT_WITH_PARENT must be one of 0, 1, got "yes"'],
    [{ LOCAL_STACK_TEMPLATE: 'no-such-template.json' }, 'LOCAL_STACK_TEMPLATE must be synth, contract or the path of a template JSON; no file at'],
    [{ WEBHOOK_SIGNING_SECRET: '' }, 'WEBHOOK_SIGNING_SECRET is set but empty (unset it to use the local dev secret)'],
    [{ WEBHOOK_SIGNING_SECRET: ' \t ' }, 'WEBHOOK_SIGNING_SECRET is only whitespace'],
    [{ WEBHOOK_SIGNING_SECRET: 'secret\n' }, 'WEBHOOK_SIGNING_SECRET has leading or trailing whitespace'],
    [{ WEBHOOK_SIGNING_SECRET: '{"unset":true}' }, "WEBHOOK_SIGNING_SECRET looks like JSON: give the provider's signing secret as a plain string"],
  ])('refuses %j', (env, message) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('reports every bad value at once, on one line', () => {
    // Act
    let caught: unknown;
    try {
      readStartEnvironment({ PORT: 'abc', LOCAL_WORKER_POLLERS: '0', WEBHOOK_SIGNING_SECRET: ' ' });
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(StartEnvironmentError);
    expect((caught as StartEnvironmentError).problems).toHaveLength(3);
    expect((caught as Error).message).not.toContain('\n');
  });

  it('treats an empty optional number as unset', () => {
    expect(readStartEnvironment({ PORT: '', LOCAL_WORKER_POLLERS: ' ' })).toMatchObject({ port: 3000, pollers: undefined });
  });
});

describe('the signing secret the local tools use', () => {
  it('is the dev secret only when none is set', () => {
    expect(resolveSigningSecret({})).toEqual({ secret: DEV_SIGNING_SECRET, isDevDefault: true });
    expect(resolveSigningSecret({ WEBHOOK_SIGNING_SECRET: 'mine' })).toEqual({ secret: 'mine', isDevDefault: false });
    expect(resolveSigningSecret({ WEBHOOK_SIGNING_SECRET: 'mine' }, 'explicit')).toEqual({ secret: 'explicit', isDevDefault: false });
  });

  it('refuses a set secret the receiver could never use, naming where it came from', () => {
    expect(() => resolveSigningSecret({ WEBHOOK_SIGNING_SECRET: '' })).toThrow(new UsageError('WEBHOOK_SIGNING_SECRET is set but empty (unset it to use the local dev secret)'));
    expect(() => resolveSigningSecret({}, ' ')).toThrow(new UsageError('--secret is only whitespace'));
  });

  it('accepts exactly what the receiver accepts', () => {
    expect(signingSecretProblem('whsec_abc123')).toBeUndefined();
    expect(signingSecretProblem('with inner spaces')).toBeUndefined();
  });
});
