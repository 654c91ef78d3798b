/**
 * The deployable artifacts themselves: each Lambda is bundled exactly as CDK
 * bundles it (lib/bundling.ts), loaded as ESM in a fresh Node process and
 * invoked. The receiver must sign its AWS calls with the credentials Lambda puts
 * in the environment (the SDK's default chain is aliased away in the bundle).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { ENV, HEADERS } from '../../lambda/core/contract';
import { BUNDLE_FILE_NAME, bundleBuildOptions } from '../../lib/bundling';
import { synthesize } from './support/synth';
import { deliveryEvent } from '../unit/receiver/support/factories';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Every handler in lambda/handlers/, one bundle each. */
const HANDLERS = readdirSync(path.join(REPO_ROOT, 'lambda', 'handlers'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => path.basename(file, '.ts'));

const ACCESS_KEY_ID = 'AKIABUNDLESMOKETEST1';

jest.setTimeout(60_000);

describe('the Lambda bundles', () => {
  let dir: string;
  let server: Server;
  let endpoint: string;
  const requests: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bundles-'));
    await Promise.all(
      HANDLERS.map((name) =>
        build(bundleBuildOptions(path.join(REPO_ROOT, 'lambda', 'handlers', `${name}.ts`), path.join(dir, name, BUNDLE_FILE_NAME))),
      ),
    );
    // Stands in for Secrets Manager: records who signed, refuses with a non-retryable error.
    server = createServer((request, response) => {
      requests.push(request.headers);
      request.resume();
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'smoke test' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Imports a bundle in a fresh process, invokes its handler with one event and returns the answer. */
  async function invoke(name: string, event: unknown, env: Record<string, string>): Promise<unknown> {
    const script = path.join(dir, `${name}-invoke.mjs`);
    writeFileSync(
      script,
      `const { handler } = await import(${JSON.stringify(path.join(dir, name, BUNDLE_FILE_NAME))});\n` +
        `const answer = await handler(JSON.parse(process.env.SMOKE_EVENT), {});\n` +
        `process.stdout.write('ANSWER ' + JSON.stringify(answer) + '\\n');\n`,
    );
    const { stdout } = await run(process.execPath, [script], {
      env: {
        PATH: process.env.PATH,
        SMOKE_EVENT: JSON.stringify(event),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: 'smoke-secret-access-key',
        AWS_SESSION_TOKEN: 'smoke-session-token',
        // No profile or credentials file may be consulted: the bundle has no such provider.
        AWS_CONFIG_FILE: path.join(dir, 'absent-config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'absent-credentials'),
        POWERTOOLS_METRICS_DISABLED: 'true',
        ...env,
      },
    });
    const line = stdout.split('\n').find((l) => l.startsWith('ANSWER '));
    return JSON.parse(line?.slice('ANSWER '.length) ?? 'null');
  }

  it('runs the receiver, which signs its first AWS call with the environment credentials', async () => {
    // Prepare
    const event = deliveryEvent({ timestamp: new Date().toISOString() });

    // Act
    const answer = await invoke('receiver', event, {
      AWS_ENDPOINT_URL: endpoint,
      [ENV.signingSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:provider-AbCdEf',
      [ENV.deliveriesTable]: 'deliveries',
      [ENV.archiveBucket]: 'archive',
      [ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/queue',
    });

    // Assess: the secret read was refused, so the answer is a retryable 503 ...
    expect(answer).toMatchObject({ statusCode: 503 });
    // ... and that read was a SigV4-signed Secrets Manager call with the environment's key.
    const secretCall = requests.find((headers) => headers['x-amz-target'] === 'secretsmanager.GetSecretValue');
    expect(secretCall?.authorization).toContain(`Credential=${ACCESS_KEY_ID}/`);
  });

  it('runs the receiver, which rejects a malformed delivery before any AWS call', async () => {
    // Prepare
    const event = deliveryEvent({ timestamp: new Date().toISOString() });
    delete (event.headers as Record<string, string>)[HEADERS.deliveryId];
    const before = requests.length;

    // Act
    const answer = (await invoke('receiver', event, {
      AWS_ENDPOINT_URL: endpoint,
      [ENV.signingSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:provider-AbCdEf',
      [ENV.deliveriesTable]: 'deliveries',
      [ENV.archiveBucket]: 'archive',
      [ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/queue',
    })) as { statusCode: number; body: string };

    // Assess
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: 'missing_header' });
    expect(requests.length).toBe(before);
  });

  it.each(HANDLERS)('leaves the SDK default credential chain out of the %s bundle', (name) => {
    // Markers of providers a Lambda never uses: web identity, container credentials, SSO profiles.
    const code = readFileSync(path.join(dir, name, BUNDLE_FILE_NAME), 'utf8');
    expect(['AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'sso_start_url'].filter((marker) => code.includes(marker))).toEqual([]);
  });

  it('are byte for byte the bundles a synth stages for deployment', () => {
    // Prepare
    const { app, template } = synthesize();
    const outdir = app.synth().directory;

    // Act: each function's staged asset (its code's S3 key is `<asset hash>.zip`, staged as `asset.<hash>/`)
    const staged = Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => {
      const hash = String((fn.Properties.Code as { S3Key: string }).S3Key).replace(/\.zip$/, '');
      return readFileSync(path.join(outdir, `asset.${hash}`, BUNDLE_FILE_NAME), 'utf8');
    });

    // Assess
    const tested = HANDLERS.map((name) => readFileSync(path.join(dir, name, BUNDLE_FILE_NAME), 'utf8'));
    expect(staged.sort()).toEqual(tested.sort());
  });

  it('runs the worker, which reports an unreadable message as a batch item failure', async () => {
    // Prepare
    const event = { Records: [{ messageId: 'm-1', receiptHandle: 'r', body: 'not json', attributes: {}, messageAttributes: {} }] };

    // Act
    const answer = await invoke('worker', event, { [ENV.jobsTable]: 'jobs', [ENV.archiveBucket]: 'archive', AWS_ENDPOINT_URL: endpoint });

    // Assess
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});
