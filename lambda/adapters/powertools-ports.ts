/**
 * Powertools' Logger and Metrics behind the small ports the receiver core uses,
 * plus the per-invocation hooks the handler needs (reset keys, flush metrics).
 */
import type { Context } from 'aws-lambda';
import { MetricUnit, type Logger, type Metrics } from './observability';
import type { MetricName, ReceiverLogger, ReceiverMetrics } from '../core/receive';

export interface InvocationLogger extends ReceiverLogger {
  /** Starts an invocation: drops the previous one's correlation id, adds the Lambda context. */
  beginInvocation(context?: Context): void;
}

export interface InvocationMetrics extends ReceiverMetrics {
  /** Flushes the invocation's metrics (EMF lines on stdout). */
  publish(): void;
}

export function powertoolsLogger(logger: Logger): InvocationLogger {
  return {
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
    setCorrelationId: (value) => logger.setCorrelationId(value),
    beginInvocation: (context) => {
      logger.resetKeys();
      if (context) logger.addContext(context);
    },
  };
}

export function powertoolsMetrics(metrics: Metrics): InvocationMetrics {
  return {
    count: (name: MetricName, dimensions) => {
      if (dimensions === undefined) {
        metrics.addMetric(name, MetricUnit.Count, 1);
        return;
      }
      // A dimensioned count is flushed on its own, so its dimensions never
      // attach to the invocation's other metrics.
      const single = metrics.singleMetric();
      for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
      single.addMetric(name, MetricUnit.Count, 1);
    },
    publish: () => {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}
