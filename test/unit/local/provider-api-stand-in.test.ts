/**
 * The provider job API stand-in against what the provider documents (docs/architecture.md,
 * "The provider"): the path, the X-Api-Key header, the answer's fields, 401 and 404;
 * and the reconciler's own adapter talking to it over loopback.
 */
import { HttpProviderJobApi } from '../../../lambda/adapters/provider-job-api';
import { readJobAnswer } from '../../../lambda/core/reconcile/provider-answer';
import { startInvokeServer } from '../../../local/runners/invoke';
import { startProviderApi, type ProviderApiSimulator } from '../../../local/stand-ins/provider-api';
import { buildPayload } from '../../../ops/lib/provider';
import { recordAtSimulator } from '../../../ops/lib/simulator-client';

describe('the provider job API stand-in', () => {
  let sim: ProviderApiSimulator;
  beforeEach(async () => {
    sim = await startProviderApi({ hangMs: 200 });
  });
  afterEach(() => sim.close());

  const get = (jobId: string, key: string | null = sim.apiKey) =>
    fetch(`${sim.url}/v1/jobs/${encodeURIComponent(jobId)}`, { headers: key === null ? {} : { 'X-Api-Key': key } });

  it('serves on loopback, refuses a missing or wrong key with 401, and an unknown job with 404', async () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await get('job_1', null)).status).toBe(401);
    expect((await get('job_1', `${sim.apiKey}x`)).status).toBe(401);
    expect((await get('job_1')).status).toBe(404);
  });

  it('answers the documented fields, following the recorded events; a finished job stays finished', async () => {
    // Prepare
    await recordAtSimulator(sim.url, sim.apiKey, 'job.started', 'job a/1', buildPayload('job.started', { jobId: 'job a/1' }));
    const processing = await (await get('job a/1')).json();
    sim.record('job.completed', buildPayload('job.completed', { jobId: 'job a/1', creditsUsed: 5 }));
    sim.record('job.failed', buildPayload('job.failed', { jobId: 'job a/1' }));

    // Act
    const done = (await (await get('job a/1')).json()) as Record<string, unknown>;

    // Assess
    expect(processing).toMatchObject({ id: 'job a/1', status: 'processing', progress: 10, output_url: null, error: null, billing_status: 'pending' });
    expect(Object.keys(done)).toEqual(expect.arrayContaining(['id', 'status', 'progress', 'output_url', 'error', 'created_at', 'duration_seconds', 'billing_status']));
    expect(done).toMatchObject({ status: 'completed', progress: 100, output_url: 'https://cdn.example.com/out/job a/1.webm', credits_used: 5 });
  });

  it('is read by the reconciler adapter as the real API would be, faults included', async () => {
    // Prepare
    sim.record('job.completed', buildPayload('job.completed', { jobId: 'job_2' }));
    const api = new HttpProviderJobApi({ baseUrl: sim.url, apiKey: async () => sim.apiKey, timeoutMs: 100 });
    sim.injectFault({ kind: 'status', status: 429 }, 1, 'job_2');
    sim.injectFault({ kind: 'status', status: 503 }, 1, 'job_2');
    sim.injectFault({ kind: 'hang' }, 1, 'job_2');
    sim.injectFault({ kind: 'bad-json' }, 1, 'job_2');

    // Act
    const lookups = [];
    for (let i = 0; i < 5; i += 1) lookups.push(await api.getJob('job_2'));

    // Assess
    expect(lookups.slice(0, 3)).toEqual([{ kind: 'rate_limited', retryAfterMs: 1000 }, { kind: 'unavailable', detail: 'HTTP 503' }, { kind: 'unavailable', detail: 'time-out' }]);
    expect(lookups[3].kind === 'answer' && readJobAnswer('job_2', lookups[3].text).kind).toBe('refused');
    expect(lookups[4].kind === 'answer' && readJobAnswer('job_2', lookups[4].text)).toMatchObject({ kind: 'terminal', event: 'job.completed' });
    expect(await new HttpProviderJobApi({ baseUrl: sim.url, apiKey: async () => 'wrong' }).getJob('job_2')).toEqual({ kind: 'refused', status: 401 });
  });
});

describe('the Lambda Invoke stand-in', () => {
  it('answers the function result, or its error with X-Amz-Function-Error', async () => {
    // Prepare
    const server = await startInvokeServer(async (event) => {
      if ((event as { fail?: boolean } | undefined)?.fail) throw new TypeError('boom');
      return { echoed: event };
    });
    try {
      // Act
      const ok = await fetch(server.url, { method: 'POST', body: JSON.stringify({ a: 1 }) });
      const failed = await fetch(server.url, { method: 'POST', body: JSON.stringify({ fail: true }) });
      const elsewhere = await fetch(server.url.replace('/invocations', '/other'), { method: 'POST' });

      // Assess
      expect([ok.status, await ok.json()]).toEqual([200, { echoed: { a: 1 } }]);
      expect([failed.status, failed.headers.get('x-amz-function-error'), await failed.json()]).toEqual([200, 'Unhandled', { errorType: 'TypeError', errorMessage: 'boom' }]);
      expect(elsewhere.status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
