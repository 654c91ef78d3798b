/**
 * Which code the suite's stack runs: the handlers' sources in the stack's own
 * process (npm test's first run), or the deployed bundles of a fresh cloud
 * assembly, each function in a process of its own that loads a staged asset
 * (npm run test:e2e:bundles), with the receiver's secret read through the real
 * Secrets Manager adapter from the local stand-in.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { commandLineOf, isAlive, readPidFile } from '../../local/pid-file';
import { e2eLambdaCode } from './support/context';
import { connect, getJob, sendUntilSettled, signedDelivery, uniqueId, waitFor, type E2eStack } from './support/stack';

jest.setTimeout(120_000);

describe('the Lambda code of the local stack', () => {
  let stack: E2eStack;
  beforeAll(() => {
    stack = connect();
  });

  const functionProcesses = (): { role: string; pid: number }[] =>
    (readPidFile(path.join(stack.context.stateDir, 'local-stack.pid.json'))?.processes ?? []).filter((record) => record.role.endsWith('(bundle)'));

  it('is the code this run asked for', () => {
    expect(stack.context.lambdaCode).toBe(e2eLambdaCode());
  });

  if (e2eLambdaCode() === 'bundles') {
    it('runs the receiver and the worker as the bundles staged in the run\'s cloud assembly, each in a process of its own', () => {
      // Act
      const running = functionProcesses();

      // Assess
      expect(running.map((record) => record.role).sort()).toEqual(['webhook-receiver-local (bundle)', 'webhook-worker-local (bundle)']);
      for (const record of running) {
        expect(isAlive(record.pid)).toBe(true);
        expect(commandLineOf(record.pid)).toMatch(new RegExp(`bundle-runtime\\.mjs ${path.join(stack.context.stateDir, 'cdk.out')}/asset\\.[0-9a-f]{64}/index\\.mjs handler`));
      }
    });

    it('has the deployed receiver verify a signed delivery with the secret it reads from the Secrets Manager stand-in', async () => {
      // Prepare
      const jobId = uniqueId('job_code');

      // Act
      const { last } = await sendUntilSettled(stack, signedDelivery(stack, 'job.completed', { jobId }));

      // Assess: accepted, so the bundle's SecretsManagerSource got AWSCURRENT, and the worker bundle applied it
      expect(last.status).toBe(202);
      await waitFor(async () => ((await getJob(stack, jobId))?.status === 'completed' ? true : undefined), 'the job item');
      expect(readFileSync(stack.context.logFile, 'utf8')).toMatch(/Secrets Manager stand-in http:\/\/127\.0\.0\.1:\d+: arn:aws:secretsmanager:us-east-1:000000000000:secret:webhook-signing-secret-\w{6} \(AWSCURRENT\)/);
    });
  } else {
    it('runs the handlers from their sources, in the stack\'s own process', () => {
      expect(functionProcesses()).toEqual([]);
      expect(readFileSync(stack.context.logFile, 'utf8')).not.toContain('in its own process');
    });
  }
});
