/**
 * The benchmarks' view of the recorded AWS calls (local/aws-call-recorder.ts):
 * counts, bytes and capacity by command and table, so the cost section bills
 * what the code actually sent, not a hand-entered list.
 */
import type { CallRecord } from '../local/aws-call-recorder';

export { CallRecorder, type CallRecord, type InstrumentableClient } from '../local/aws-call-recorder';

export interface CallSummary {
  readonly key: string;
  count: number;
  failures: number;
  requestBytes: number;
  payloadBytes: number;
  capacityUnits: number;
  /** Calls whose response carried ConsumedCapacity; the rest have none to add. */
  capacityReported: number;
  messages: number;
  messageBytes: number;
  /** SQS billing: one request per started 64 KiB of payload (at least one). */
  sqsChunks: number;
  /** Receives that returned at least one message. */
  nonEmpty: number;
  /** Firehose: records appended and the bytes billed for them (5 KiB steps). */
  records: number;
  billedBytes: number;
  /** Sum of call durations, ms (SDK work plus the round trip). */
  totalMs: number;
}

const SQS_CHUNK = 64 * 1024;

export function summarizeCalls(records: readonly CallRecord[]): CallSummary[] {
  const byKey = new Map<string, CallSummary>();
  for (const record of records) {
    let summary = byKey.get(record.key);
    if (!summary) {
      summary = {
        key: record.key,
        count: 0,
        failures: 0,
        requestBytes: 0,
        payloadBytes: 0,
        capacityUnits: 0,
        capacityReported: 0,
        messages: 0,
        messageBytes: 0,
        sqsChunks: 0,
        nonEmpty: 0,
        records: 0,
        billedBytes: 0,
        totalMs: 0,
      };
      byKey.set(record.key, summary);
    }
    summary.count += 1;
    if (Number.isFinite(record.end)) summary.totalMs += record.end - record.start;
    if (!record.ok) summary.failures += 1;
    summary.requestBytes += record.requestBytes;
    summary.payloadBytes += record.payloadBytes;
    if (record.capacityUnits !== undefined) {
      summary.capacityUnits += record.capacityUnits;
      summary.capacityReported += 1;
    }
    summary.messages += record.messages ?? 0;
    summary.messageBytes += record.messageBytes ?? 0;
    if ((record.messages ?? 0) > 0) summary.nonEmpty += 1;
    summary.records += record.records ?? 0;
    summary.billedBytes += record.billedBytes ?? 0;
    const billed = record.command === 'ReceiveMessageCommand' ? (record.messageBytes ?? 0) : record.payloadBytes;
    summary.sqsChunks += Math.max(1, Math.ceil(billed / SQS_CHUNK));
  }
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

const NUMERIC_FIELDS = [
  'count',
  'failures',
  'requestBytes',
  'payloadBytes',
  'capacityUnits',
  'capacityReported',
  'messages',
  'messageBytes',
  'sqsChunks',
  'nonEmpty',
  'records',
  'billedBytes',
  'totalMs',
] as const;

/** What happened between two snapshots of running totals. */
export function diffSummaries(before: readonly CallSummary[], after: readonly CallSummary[]): CallSummary[] {
  const previous = new Map(before.map((summary) => [summary.key, summary]));
  const result: CallSummary[] = [];
  for (const current of after) {
    const old = previous.get(current.key);
    const delta = { ...current };
    for (const field of NUMERIC_FIELDS) delta[field] = current[field] - (old?.[field] ?? 0);
    if (delta.count > 0) result.push(delta);
  }
  return result;
}

/**
 * Sequential stages of a set of calls: calls whose time intervals overlap form
 * one stage (they ran in parallel); the number of stages is the number of round
 * trips a caller waits for one after another.
 */
export function sequentialStages(records: readonly CallRecord[]): { stages: string[][]; count: number } {
  const sorted = [...records].sort((a, b) => a.start - b.start);
  const stages: string[][] = [];
  let stageEnd = Number.NEGATIVE_INFINITY;
  for (const record of sorted) {
    if (stages.length === 0 || record.start >= stageEnd) {
      stages.push([record.key]);
      stageEnd = record.end;
    } else {
      stages[stages.length - 1].push(record.key);
      stageEnd = Math.max(stageEnd, record.end);
    }
  }
  return { stages, count: stages.length };
}
