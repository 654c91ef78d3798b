/**
 * `npm run reconcile [-- --outputs F] [--stuck-after SECONDS] [...]`: runs one
 * reconciler sweep now and prints its summary line (checked, repaired, still
 * open, unknown, errors).
 *
 * - Against the local stack (`.local/outputs.json`) it invokes the stack's own
 *   reconciler (its Lambda Invoke stand-in, `Endpoints.reconciler`), which asks
 *   the provider API simulator, as `aws lambda invoke` would.
 * - Against a deployed stack's outputs, or with `--in-process`, it runs the
 *   reconciler's handler here with the operator's credentials (`grantReconcile`):
 *   it asks `ProviderApiUrl` with the key from `ProviderApiKeySecretArn`, or,
 *   with no key configured, only detects.
 *
 * Exit code: 0 when the sweep had no error, 1 otherwise, 2 on a usage error.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createLogger, createMetrics } from '../lambda/adapters/observability';
import { DEFAULTS, ENV, SERVICE_NAMES } from '../lambda/core/contract';
import { formatSweepSummary, type SweepSummary } from '../lambda/core/reconcile/sweep';
import { createReconcilerHandler, reconcilerDependenciesFromEnv, type ReconcileRequest } from '../lambda/handlers/reconciler';
import { clientsForOutputs, regionFromQueueUrl } from './lib/clients';
import { EXIT, parseCliArgs, parsePositiveNumber, runCli, UsageError } from './lib/cli-usage';
import { LOCAL_OUTPUTS_FILE, readOutputsFile } from './lib/outputs';

export const RECONCILE_USAGE = `usage: npm run reconcile -- [options]

  --outputs FILE           outputs file (default ${LOCAL_OUTPUTS_FILE}; or the one cdk deploy wrote)
  --stuck-after SECONDS    count jobs open longer than this as stuck (default: ${DEFAULTS.stuckAfterSeconds}, 0 = every open job)
  --recheck-after SECONDS  ask again about a job still open at the provider after this long (default ${DEFAULTS.recheckAfterSeconds})
  --max-jobs N             provider calls at most (default ${DEFAULTS.maxJobsPerSweep})
  --job-id ID              sweep only this job (repeatable); it still has to be open past --stuck-after
  --rate N                 provider calls per second (default: 10 against the local simulator, ${DEFAULTS.providerRequestsPerSecond} otherwise)
  --in-process             sweep here with your own credentials, even against the local stack
                           (--recheck-after, --max-jobs and --rate apply to this mode only)
`;

function nonNegativeInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === '0') return 0;
  return parsePositiveNumber(flag, value, { integer: true });
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const { values, positionals } = parseCliArgs({
    args: [...argv],
    options: {
      outputs: { type: 'string' },
      'stuck-after': { type: 'string' },
      'recheck-after': { type: 'string' },
      'max-jobs': { type: 'string' },
      rate: { type: 'string' },
      'job-id': { type: 'string', multiple: true },
      'in-process': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(RECONCILE_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const stuckAfter = nonNegativeInteger('--stuck-after', values['stuck-after']);
  const recheckAfter = nonNegativeInteger('--recheck-after', values['recheck-after']);
  const maxJobs = parsePositiveNumber('--max-jobs', values['max-jobs'], { integer: true, max: 10_000 });
  const rate = parsePositiveNumber('--rate', values.rate, { max: 100 });
  const outputs = readOutputsFile(values.outputs ?? LOCAL_OUTPUTS_FILE);
  const local = outputs.Endpoints;
  if (local !== undefined && (local.providerApi === undefined || local.providerApiKey === undefined || local.reconciler === undefined)) {
    throw new UsageError('the local outputs file has no provider API simulator or reconciler (restart npm start)');
  }
  const jobIds = values['job-id'];
  const request = { ...(stuckAfter !== undefined ? { stuckAfterSeconds: stuckAfter } : {}), ...(jobIds !== undefined ? { jobIds } : {}) };
  if (local?.reconciler !== undefined && values['in-process'] !== true) {
    if (recheckAfter !== undefined || maxJobs !== undefined || rate !== undefined) throw new UsageError('--recheck-after, --max-jobs and --rate need --in-process (the stack\'s own reconciler keeps its configuration)');
    const summary = await invokeLocal(local.reconciler, request);
    process.stdout.write(`${formatSweepSummary(summary)}\n`);
    return summary.errors > 0 ? EXIT.failed : EXIT.ok;
  }

  const env: Record<string, string | undefined> = {
    [ENV.jobsTable]: outputs.JobsTableName,
    [ENV.queueUrl]: outputs.QueueUrl,
    [ENV.archiveBucket]: outputs.ArchiveBucketName,
    [ENV.providerApiUrl]: local?.providerApi ?? outputs.ProviderApiUrl ?? DEFAULTS.providerApiUrl,
    [ENV.providerApiKeySecretArn]: local === undefined ? outputs.ProviderApiKeySecretArn : undefined,
    [ENV.stuckAfterSeconds]: stuckAfter === undefined ? undefined : String(stuckAfter),
    [ENV.recheckAfterSeconds]: recheckAfter === undefined ? undefined : String(recheckAfter),
    [ENV.maxJobsPerSweep]: maxJobs === undefined ? undefined : String(maxJobs),
    [ENV.providerRequestsPerSecond]: String(rate ?? (local !== undefined ? 10 : DEFAULTS.providerRequestsPerSecond)),
  };
  const clients = clientsForOutputs(outputs);
  const secretArn = env[ENV.providerApiKeySecretArn];
  // The secret's region is in its ARN; the stack's in its queue URL.
  const secretsManager = secretArn !== undefined ? new SecretsManagerClient({ region: secretArn.split(':')[3] ?? regionFromQueueUrl(outputs.QueueUrl) }) : undefined;
  try {
    // The handler's own logs go to stderr at WARN; the summary line is the CLI's output.
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    const handler = createReconcilerHandler(
      reconcilerDependenciesFromEnv(env, {
        dynamodb: clients.dynamodb,
        s3: clients.s3,
        sqs: clients.sqs,
        secretsManager,
        ...(local?.providerApiKey !== undefined ? { apiKey: async () => local.providerApiKey as string } : {}),
        logger: createLogger(`${SERVICE_NAMES.reconciler}-cli`),
        metrics: createMetrics(`${SERVICE_NAMES.reconciler}-cli`),
      }),
    );
    const started = Date.now();
    const summary = await handler(request, { getRemainingTimeInMillis: () => DEFAULTS.reconcilerTimeoutSeconds * 1000 - (Date.now() - started) });
    process.stdout.write(`${formatSweepSummary(summary)}\n`);
    return summary.errors > 0 ? EXIT.failed : EXIT.ok;
  } finally {
    clients.destroy();
    secretsManager?.destroy();
  }
}

/** The local stack's Lambda Invoke stand-in: the function's result, or its error as Lambda reports it. */
async function invokeLocal(url: string, request: ReconcileRequest): Promise<SweepSummary> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal: AbortSignal.timeout((DEFAULTS.reconcilerTimeoutSeconds + 30) * 1000) });
  const body = (await response.json()) as SweepSummary & { errorType?: string; errorMessage?: string };
  if (!response.ok || response.headers.get('x-amz-function-error') !== null) throw new Error(`the local reconciler failed: ${body.errorType ?? response.status}: ${body.errorMessage ?? ''}`);
  return body;
}

if (require.main === module) runCli('reconcile', () => main());
