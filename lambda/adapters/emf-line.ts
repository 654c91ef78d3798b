/**
 * One CloudWatch Embedded Metric Format line that is also a log line: the
 * metrics under `_aws` (Namespace, one dimension set `[service]`, one
 * definition per count) with their values as top-level keys, and beside them
 * the `level`, `message` and keys of a log line, which EMF leaves to Logs
 * Insights ("Embedded metric format specification": members that are not
 * metric values or dimensions are kept as log data).
 *
 * Written by hand on the accept path because Powertools' Metrics and Logger
 * reach their invocation-scoped stores (and read the environment) on every
 * call: about 30 µs a delivery for one log line and one EMF flush, against a
 * few µs for this JSON.stringify. Everything else still logs through Powertools.
 */

export interface EmfLine {
  readonly namespace: string;
  readonly service: string;
  /** Counts by metric name (unit Count). */
  readonly counts: ReadonlyMap<string, number>;
  readonly message: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly requestId?: string;
  readonly now?: number;
}

export function emfLine(line: EmfLine): string {
  const metrics: { Name: string; Unit: 'Count' }[] = [];
  const values: Record<string, number> = {};
  for (const [name, value] of line.counts) {
    metrics.push({ Name: name, Unit: 'Count' });
    values[name] = value;
  }
  return JSON.stringify({
    _aws: { Timestamp: line.now ?? Date.now(), CloudWatchMetrics: [{ Namespace: line.namespace, Dimensions: [['service']], Metrics: metrics }] },
    level: 'INFO',
    message: line.message,
    ...(line.requestId !== undefined ? { function_request_id: line.requestId } : {}),
    ...line.attributes,
    // Last, so no attribute can shadow the dimension or a metric value.
    service: line.service,
    ...values,
  });
}
