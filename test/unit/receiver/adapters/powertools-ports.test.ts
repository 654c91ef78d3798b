import { METRIC, METRICS_NAMESPACE, SERVICE_NAMES } from '../../../../lambda/core/contract';
import { createLogger, createMetrics } from '../../../../lambda/adapters/observability';
import { powertoolsLogger, powertoolsMetrics } from '../../../../lambda/adapters/powertools-ports';

/** Everything Powertools prints, as parsed JSON lines. */
function captureLines(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    lines: () => chunks.join('').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

describe('the accepted line (publishWith)', () => {
  afterEach(() => {
    delete process.env.POWERTOOLS_METRICS_DISABLED;
  });

  it('is one EMF object that carries the counts and the log keys, with the level, message and request id a log line has', () => {
    // Prepare
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const output = captureLines();
    try {
      const logger = powertoolsLogger(createLogger(SERVICE_NAMES.receiver));
      const metrics = powertoolsMetrics(createMetrics(SERVICE_NAMES.receiver), logger);
      metrics.beginInvocation?.({ awsRequestId: 'req-1' } as never);

      // Act
      metrics.count(METRIC.accepted);
      metrics.publishWith('Webhook accepted', { deliveryId: 'dlv_1', bodyBytes: 1024, payloadInline: true });
      metrics.publish();
    } finally {
      output.restore();
    }

    // Assess
    expect(output.lines()).toEqual([
      {
        _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['service']], Metrics: [{ Name: METRIC.accepted, Unit: 'Count' }] }] },
        service: SERVICE_NAMES.receiver,
        [METRIC.accepted]: 1,
        level: 'INFO',
        message: 'Webhook accepted',
        function_request_id: 'req-1',
        deliveryId: 'dlv_1',
        bodyBytes: 1024,
        payloadInline: true,
      },
    ]);
  });

  it('goes through the logger when metrics are switched off, so it is never lost', () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const output = captureLines();
    try {
      const logger = powertoolsLogger(createLogger(SERVICE_NAMES.receiver));
      const metrics = powertoolsMetrics(createMetrics(SERVICE_NAMES.receiver), logger);
      metrics.count(METRIC.accepted);
      metrics.publishWith('Webhook accepted', { deliveryId: 'dlv_2' });
    } finally {
      output.restore();
    }
    expect(output.lines()).toEqual([expect.objectContaining({ level: 'INFO', message: 'Webhook accepted', deliveryId: 'dlv_2' })]);
    expect(output.lines()[0]).not.toHaveProperty('_aws');
  });
});
