/**
 * The client side of the provider API simulator's control endpoints (see
 * local/stand-ins/provider-api.ts): `npm run send` records each event's job
 * state there, and the tests queue faults. Over HTTP, so any process can.
 */
import { PROVIDER_API, type EventType } from '../../lambda/core/contract';

export type SimulatorFault = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'hang' } | { readonly kind: 'bad-json' };

/** What `npm run send` uses to record a delivery at a running simulator. */
export async function recordAtSimulator(baseUrl: string, apiKey: string, event: EventType, jobId: string, payload: unknown): Promise<void> {
  const response = await fetch(`${baseUrl}/_simulator/jobs/${encodeURIComponent(jobId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [PROVIDER_API.apiKeyHeader]: apiKey },
    body: JSON.stringify({ event, payload }),
    signal: AbortSignal.timeout(5000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`provider API simulator refused the record (HTTP ${response.status})`);
}

/** Queues faults at a running simulator (e2e tests, over HTTP). */
export async function injectSimulatorFault(baseUrl: string, apiKey: string, fault: SimulatorFault, count: number, jobId?: string): Promise<void> {
  const response = await fetch(`${baseUrl}/_simulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [PROVIDER_API.apiKeyHeader]: apiKey },
    body: JSON.stringify({ ...fault, count, ...(jobId !== undefined ? { jobId } : {}) }),
    signal: AbortSignal.timeout(5000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`provider API simulator refused the fault (HTTP ${response.status})`);
}
