/**
 * Powertools' Logger and Metrics behind the small ports the receiver core uses,
 * plus the per-invocation hooks the handler needs (reset keys, flush metrics).
 */
import type { Context } from 'aws-lambda';
import { emfLine } from './emf-line';
import { MetricUnit, type Logger, type StackMetrics } from './observability';
import type { MetricName, ReceiverLogger, ReceiverMetrics } from '../core/receive';

export interface InvocationLogger extends ReceiverLogger {
  /** Starts an invocation: drops the previous one's correlation id, adds the Lambda context. */
  beginInvocation(context?: Context): void;
}

export interface InvocationMetrics extends ReceiverMetrics {
  /** Starts an invocation: a line written with `publishWith` names its Lambda request, as the Logger's lines do. */
  beginInvocation?(context?: Context): void;
  /** Flushes the invocation's metrics (EMF lines on stdout); nothing when `publishWith` already did. */
  publish(): void;
}

/**
 * The Logger behind the receiver's port. The correlation id and the Lambda
 * context reach Powertools only when a line is written: an accepted delivery
 * writes none through it (its one line is the metrics line), and each of those
 * calls costs a store access in Powertools.
 */
export function powertoolsLogger(logger: Logger): InvocationLogger {
  let context: Context | undefined;
  let correlationId: string | undefined;
  let stale = false;
  const prepared = (): Logger => {
    if (stale) {
      logger.resetKeys();
      if (context) logger.addContext(context);
      if (correlationId !== undefined) logger.setCorrelationId(correlationId);
      stale = false;
    }
    return logger;
  };
  return {
    info: (message, attributes) => prepared().info(message, attributes ?? {}),
    warn: (message, attributes) => prepared().warn(message, attributes ?? {}),
    error: (message, attributes) => prepared().error(message, attributes ?? {}),
    setCorrelationId: (value) => {
      correlationId = value;
      stale = true;
    },
    beginInvocation: (next) => {
      context = next;
      correlationId = undefined;
      stale = true;
    },
  };
}

/**
 * Counts behind the receiver's port. Plain counts are kept here and written as
 * one EMF line (emf-line.ts): by `publishWith` together with a log message and
 * its keys, or by `publish` at the end of the invocation. A count under extra
 * dimensions is a Powertools single metric, flushed on its own so its
 * dimensions never attach to the others. Where metrics are switched off (the
 * local stack, tests) the `publishWith` line goes through `logger` instead, so
 * it is never lost.
 */
export function powertoolsMetrics(metrics: StackMetrics, logger?: Pick<ReceiverLogger, 'info'>): InvocationMetrics {
  let requestId: string | undefined;
  const { publishes, metricsNamespace: namespace, service } = metrics;
  let counts = new Map<string, number>();
  const write = (message: string, attributes: Record<string, unknown>): void => {
    const line = emfLine({ namespace, service, counts, message, attributes, requestId });
    counts = new Map();
    process.stdout.write(`${line}\n`);
  };
  return {
    beginInvocation: (context) => {
      requestId = context?.awsRequestId;
      counts = new Map();
    },
    count: (name: MetricName, dimensions) => {
      if (dimensions === undefined) {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return;
      }
      const single = metrics.singleMetric();
      for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
      single.addMetric(name, MetricUnit.Count, 1);
    },
    publishWith: (message, attributes) => {
      if (!publishes) {
        logger?.info(message, attributes);
        counts = new Map();
        return;
      }
      write(message, attributes);
    },
    publish: () => {
      if (counts.size === 0) return;
      if (publishes) write('Metrics', {});
      else counts = new Map();
    },
  };
}

