/**
 * Counts and times every AWS call an SDK client makes, by command, table and
 * payload size, from a middleware on the client itself: the cost section bills
 * what the code actually sent, not a hand-entered list.
 */

export interface CallRecord {
  readonly key: string;
  readonly service: string;
  readonly command: string;
  readonly table?: string;
  /** Serialized request body bytes, after signing (what goes on the wire). */
  requestBytes: number;
  /** The payload a service bills by: S3 object bytes, SQS message bytes. */
  payloadBytes: number;
  readonly start: number;
  end: number;
  ok: boolean;
  errorName?: string;
  /** DynamoDB's own accounting (ReturnConsumedCapacity: TOTAL). */
  capacityUnits?: number;
  /** SQS receives: messages and their body bytes. */
  messages?: number;
  messageBytes?: number;
}

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
  /** Sum of call durations, ms (SDK work plus the round trip). */
  totalMs: number;
}

type Args = { input: Record<string, unknown>; request?: { body?: unknown } };
type Output = { output?: Record<string, unknown> };
type Handler = (args: Args) => Promise<Output>;
type Middleware = (next: Handler, context: Record<string, unknown>) => Handler;
interface MiddlewareStackLike {
  add(middleware: Middleware, options: { step: string; name: string; priority?: string; override?: boolean }): void;
}
export interface InstrumentableClient {
  readonly middlewareStack: MiddlewareStackLike;
}

const SQS_CHUNK = 64 * 1024;
const DYNAMODB_CAPACITY_COMMANDS = new Set(['UpdateItemCommand', 'PutItemCommand', 'DeleteItemCommand', 'GetItemCommand']);
const RECORD = Symbol('benchCallRecord');

function byteLength(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value instanceof Uint8Array) return value.byteLength;
  return 0;
}

function serviceOf(clientName: string | undefined): string {
  return (clientName ?? 'Unknown').replace(/Client$/, '');
}

/** The bytes the service bills for: S3 object size, SQS message body plus attributes. */
function payloadBytes(command: string, input: Record<string, unknown>): number {
  if (command === 'PutObjectCommand') return byteLength(input.Body);
  if (command === 'SendMessageCommand') {
    let bytes = byteLength(input.MessageBody);
    const attributes = (input.MessageAttributes ?? {}) as Record<string, { DataType?: string; StringValue?: string }>;
    for (const [name, value] of Object.entries(attributes)) {
      bytes += byteLength(name) + byteLength(value.DataType) + byteLength(value.StringValue);
    }
    return bytes;
  }
  return 0;
}

export interface RecorderOptions {
  /** Ask DynamoDB for its capacity accounting on item reads and writes. */
  readonly consumedCapacity?: boolean;
  readonly now?: () => number;
}

export class CallRecorder {
  readonly records: CallRecord[] = [];
  private readonly instrumented = new WeakSet<object>();
  private readonly now: () => number;

  constructor(private readonly options: RecorderOptions = {}) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Adds the counting middleware once per client. */
  attach(client: InstrumentableClient): void {
    if (this.instrumented.has(client)) return;
    this.instrumented.add(client);
    const around: Middleware = (next, context) => async (args) => {
      const command = String(context.commandName ?? 'Unknown');
      const service = serviceOf(context.clientName as string | undefined);
      const table = typeof args.input.TableName === 'string' ? args.input.TableName : undefined;
      const record: CallRecord = {
        key: `${service}.${command.replace(/Command$/, '')}${table ? ` (${table})` : ''}`,
        service,
        command,
        table,
        requestBytes: 0,
        payloadBytes: payloadBytes(command, args.input),
        start: this.now(),
        end: Number.NaN,
        ok: false,
      };
      context[RECORD as unknown as string] = record;
      this.records.push(record);
      let input = args.input;
      if (this.options.consumedCapacity && service === 'DynamoDB' && DYNAMODB_CAPACITY_COMMANDS.has(command)) {
        input = { ...input, ReturnConsumedCapacity: 'TOTAL' };
      }
      try {
        const result = await next({ ...args, input });
        record.ok = true;
        const output = result.output ?? {};
        const consumed = output.ConsumedCapacity as { CapacityUnits?: number } | undefined;
        if (typeof consumed?.CapacityUnits === 'number') record.capacityUnits = consumed.CapacityUnits;
        if (command === 'ReceiveMessageCommand') {
          const messages = (output.Messages ?? []) as { Body?: string }[];
          record.messages = messages.length;
          record.messageBytes = messages.reduce((sum, message) => sum + byteLength(message.Body), 0);
        }
        if (command === 'GetObjectCommand' && typeof output.ContentLength === 'number') record.payloadBytes = output.ContentLength;
        return result;
      } catch (error) {
        record.errorName = error instanceof Error ? error.name : 'Error';
        throw error;
      } finally {
        record.end = this.now();
      }
    };
    const wire: Middleware = (next, context) => async (args) => {
      const record = context[RECORD as unknown as string] as CallRecord | undefined;
      if (record) record.requestBytes = byteLength(args.request?.body);
      return next(args);
    };
    client.middlewareStack.add(around, { step: 'initialize', name: 'benchCallTimer', priority: 'high', override: true });
    client.middlewareStack.add(wire, { step: 'finalizeRequest', name: 'benchWireBytes', priority: 'low', override: true });
  }

  clear(): void {
    this.records.length = 0;
  }

  summary(records: readonly CallRecord[] = this.records): CallSummary[] {
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
      const billed = record.command === 'ReceiveMessageCommand' ? (record.messageBytes ?? 0) : record.payloadBytes;
      summary.sqsChunks += Math.max(1, Math.ceil(billed / SQS_CHUNK));
    }
    return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
  }
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
