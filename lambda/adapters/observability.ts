/**
 * One structured logger and one metrics emitter per function, configured here.
 * Log a fixed message plus keys; never a secret, a signature value or a body.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../core/contract';

export { Logger, Metrics, MetricUnit };

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
}

/**
 * Powertools Metrics that also says what it writes as (namespace, `service`
 * dimension) and whether it writes anything (POWERTOOLS_METRICS_DISABLED,
 * POWERTOOLS_DEV), for the lines written beside it (emf-line.ts).
 */
export class StackMetrics extends Metrics {
  readonly metricsNamespace: string;
  readonly service: string;

  constructor(serviceName: string, namespace: string = METRICS_NAMESPACE) {
    super({ namespace, serviceName });
    this.metricsNamespace = namespace;
    this.service = serviceName;
  }

  get publishes(): boolean {
    return !this.isDisabled();
  }
}

export function createMetrics(serviceName: string): StackMetrics {
  return new StackMetrics(serviceName);
}

