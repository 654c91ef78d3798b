/**
 * The local stack's part of the reconciliation (docs/architecture.md, "Open jobs and the reconciler"): the provider job API simulator, and
 * the reconciler handler on a short schedule (every 30 s by default; the real
 * one runs every 15 min), with `stuckAfter` as the template sets it unless
 * LOCAL_STUCK_AFTER_SECONDS says otherwise. The handler reads its key from the
 * simulator (the deployed one reads Secrets Manager) and calls the simulator
 * over loopback HTTP, exactly as it calls the provider.
 */
import { DEFAULTS, ENV } from '../lambda/core/contract';
import { formatSweepSummary } from '../lambda/core/reconcile/sweep';
import { createReconcilerHandler, reconcilerDependenciesFromEnv, type ReconcileRequest } from '../lambda/handlers/reconciler';
import { startInvokeServer } from './runners/invoke';
import type { AwsClients } from '../ops/lib/clients';
import type { LocalEndpoints, StackOutputs } from '../ops/lib/outputs';
import { localHandlerEnvironment, type LocalResources } from './resources';
import { startScheduleRunner } from './runners/scheduler';
import type { StackShape } from './stack-shape';
import { startProviderApi } from './stand-ins/provider-api';

export interface LocalReconciler {
  readonly endpoints: Pick<LocalEndpoints, 'providerApi' | 'providerApiKey' | 'reconciler'>;
  readonly outputs: Pick<StackOutputs, 'ProviderApiUrl'>;
  stop(): Promise<void>;
}

function seconds(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return parsed;
}

export async function startLocalReconciler(options: {
  readonly shape: StackShape;
  readonly resources: LocalResources;
  readonly clients: AwsClients;
  readonly log: (message: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}): Promise<LocalReconciler> {
  const { env, log } = options;
  const api = await startProviderApi({ port: seconds(env, 'LOCAL_PROVIDER_API_PORT') ?? 0 });
  const stuckAfter = seconds(env, 'LOCAL_STUCK_AFTER_SECONDS');
  const handlerEnv = localHandlerEnvironment(options.shape.reconciler, options.resources, {
    [ENV.providerApiUrl]: api.url,
    ...(stuckAfter !== undefined ? { [ENV.stuckAfterSeconds]: String(stuckAfter) } : {}),
  });
  const handler = createReconcilerHandler(
    reconcilerDependenciesFromEnv(handlerEnv.env, {
      dynamodb: options.clients.dynamodb,
      s3: options.clients.s3,
      sqs: options.clients.sqs,
      apiKey: async () => api.apiKey,
    }),
  );
  const runner = startScheduleRunner({
    intervalSeconds: seconds(env, 'LOCAL_RECONCILE_INTERVAL_SECONDS') ?? 30,
    timeoutSeconds: options.shape.reconciler.timeoutSeconds ?? DEFAULTS.reconcilerTimeoutSeconds,
    invoke: (event, context) => handler(event as ReconcileRequest | undefined, context),
    // Quiet when there was nothing to do; one line when a sweep found something.
    onResult: (summary) => {
      if (summary.stuck > 0 || summary.errors > 0) log(formatSweepSummary(summary));
    },
    log,
  });
  const invoke = await startInvokeServer((event) => runner.invokeNow(event));
  log(`provider API simulator: ${api.url}${'/v1/jobs/{job_id}'} (X-Api-Key in outputs); reconciler every ${seconds(env, 'LOCAL_RECONCILE_INTERVAL_SECONDS') ?? 30} s`);
  return {
    endpoints: { providerApi: api.url, providerApiKey: api.apiKey, reconciler: invoke.url },
    outputs: { ProviderApiUrl: api.url },
    stop: async () => {
      await invoke.close();
      await runner.stop();
      await api.close();
    },
  };
}
