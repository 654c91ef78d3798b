/** How `npm run events` prints one job event: a line a person reads, or the envelope as JSON. */

export interface JobEventEnvelope {
  readonly id?: string;
  readonly time?: string;
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly detail?: {
    readonly jobId?: string;
    readonly status?: string;
    readonly previousStatus?: string;
    readonly origin?: string;
    readonly eventId?: string;
    readonly deliveryId?: string;
    readonly [key: string]: unknown;
  };
}

/** Parses a queue message body as an envelope; `undefined` for anything else. */
export function parseEnvelope(body: string | undefined): JobEventEnvelope | undefined {
  if (body === undefined) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'detail-type' in parsed ? (parsed as JobEventEnvelope) : undefined;
  } catch {
    return undefined;
  }
}

export function eventLine(envelope: JobEventEnvelope): string {
  const detail = envelope.detail ?? {};
  const change = detail.previousStatus ? `${detail.previousStatus} -> ${detail.status}` : `-> ${detail.status}`;
  return [
    envelope.time ?? '-',
    (envelope['detail-type'] ?? '?').padEnd(13),
    detail.jobId ?? '?',
    change,
    `origin=${detail.origin ?? '?'}`,
    `eventId=${detail.eventId ?? '?'}`,
    `delivery=${detail.deliveryId ?? '-'}`,
  ].join(' ');
}
