/**
 * Sees every AWS call an SDK client makes, from a middleware on the client
 * itself, before the SDK's own retries: the command, its input, its timing and
 * outcome, and the principal the call is made as. One recorder serves the
 * benchmarks (what the code sent, to bill it) and the IAM check (what the code
 * sent, to authorize it), so both judge the same calls.
 *
 * A call is attributed to the principal its client was attached with (the
 * local stack gives the receiver, the worker and its event source their own
 * clients, as each Lambda function has its own role); a client attached
 * without one carries the recorder's default principal, or none.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { REPO_ROOT } from './paths';

export interface CallRecord {
  readonly key: string;
  readonly service: string;
  readonly command: string;
  readonly table?: string;
  /** Who makes the call: a function's service name, `operator`, ...; undefined when nobody said. */
  readonly principal?: string;
  /** How the principal makes it when that is not its own code (e.g. Lambda's event source poller). */
  readonly via?: string;
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
  /** Firehose appends: records and the bytes Firehose bills (each record rounded up to 5 KiB). */
  records?: number;
  billedBytes?: number;
}

/** What a listener sees of each call, as it starts: the record plus the command's input and the client's region. */
export interface ObservedCall {
  readonly record: CallRecord;
  readonly input: Readonly<Record<string, unknown>>;
  readonly region: string;
}

export interface ClientTag {
  readonly principal?: string;
  readonly via?: string;
}

type Args = { input: Record<string, unknown>; request?: { body?: unknown } };
type Output = { output?: Record<string, unknown> };
type Handler = (args: Args) => Promise<Output>;
type Middleware = (next: Handler, context: Record<string, unknown>) => Handler;
interface MiddlewareStackLike {
  add(middleware: Middleware, options: { step: string; name: string; priority?: string; override?: boolean }): void;
}
interface Instrumentable {
  readonly middlewareStack: MiddlewareStackLike;
  readonly config?: { readonly region?: unknown };
}
/** Any SDK v3 client (their middleware stacks are typed per service, hence the loose shape). */
export interface InstrumentableClient {
  readonly middlewareStack: object;
}

const DYNAMODB_CAPACITY_COMMANDS = new Set(['UpdateItemCommand', 'PutItemCommand', 'DeleteItemCommand', 'GetItemCommand']);
let recorders = 0;

function byteLength(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value instanceof Uint8Array) return value.byteLength;
  return 0;
}

export function serviceOf(clientName: string | undefined): string {
  return (clientName ?? 'Unknown').replace(/Client$/, '');
}

/** Firehose bills ingestion per record, each rounded up to the next 5 KB (its pricing page). */
const FIREHOSE_BILLING_INCREMENT = 5 * 1024;

function firehoseRecords(input: Record<string, unknown>): { records: number; bytes: number; billedBytes: number } {
  const records = (input.Records ?? []) as { Data?: unknown }[];
  let bytes = 0;
  let billedBytes = 0;
  for (const record of records) {
    const size = byteLength(record.Data);
    bytes += size;
    billedBytes += Math.max(1, Math.ceil(size / FIREHOSE_BILLING_INCREMENT)) * FIREHOSE_BILLING_INCREMENT;
  }
  return { records: records.length, bytes, billedBytes };
}

/** A batched archive object (Firehose's, under `…/batch/`) is billed and stored apart from per-delivery ones. */
function keySuffix(command: string, input: Record<string, unknown>): string {
  if ((command === 'PutObjectCommand' || command === 'GetObjectCommand') && typeof input.Key === 'string' && input.Key.includes('/batch/')) return ' (batch)';
  return '';
}

/** The bytes the service bills for: S3 object size, SQS message body plus attributes, PutEvents entry sizes, Firehose record data. */
function payloadBytes(command: string, input: Record<string, unknown>): number {
  if (command === 'PutObjectCommand') return byteLength(input.Body);
  if (command === 'PutRecordBatchCommand') return firehoseRecords(input).bytes;
  if (command === 'PutEventsCommand') {
    const entries = (input.Entries ?? []) as Array<{ Source?: string; DetailType?: string; Detail?: string; Time?: unknown }>;
    return entries.reduce((sum, entry) => sum + (entry.Time ? 14 : 0) + byteLength(entry.Source) + byteLength(entry.DetailType) + byteLength(entry.Detail), 0);
  }
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

/** The client's configured region; the SDK keeps it as a value or a provider function. */
async function regionOf(client: Instrumentable): Promise<string> {
  const region = client.config?.region;
  const value: unknown = typeof region === 'function' ? await (region as () => Promise<unknown>)() : region;
  return typeof value === 'string' ? value : 'unknown';
}

export interface RecorderOptions {
  /** Ask DynamoDB for its capacity accounting on item reads and writes. */
  readonly consumedCapacity?: boolean;
  readonly now?: () => number;
  /** Keep every record in `records` (the benchmarks read them); listeners see calls either way. @default true */
  readonly keepRecords?: boolean;
  /** The principal of clients attached without one. @default - none */
  readonly defaultPrincipal?: string;
}

export class CallRecorder {
  readonly records: CallRecord[] = [];
  private readonly instrumented = new WeakMap<object, ClientTag>();
  private readonly listeners: Array<(call: ObservedCall) => void> = [];
  private readonly now: () => number;
  /** Two recorders on one client (the bench's and the IAM check's) must not replace each other's middleware. */
  private readonly id = (recorders += 1);

  constructor(private readonly options: RecorderOptions = {}) {
    this.now = options.now ?? (() => performance.now());
  }

  onCall(listener: (call: ObservedCall) => void): void {
    this.listeners.push(listener);
  }

  /** Adds the recording middleware once per client; the first tag given for a client is its principal. */
  attach(sdkClient: InstrumentableClient, tag: ClientTag = {}): void {
    const client = sdkClient as unknown as Instrumentable;
    if (this.instrumented.has(client)) return;
    const resolved: ClientTag = { principal: tag.principal ?? this.options.defaultPrincipal, via: tag.via };
    this.instrumented.set(client, resolved);
    let region: string | undefined;
    const around: Middleware = (next, context) => async (args) => {
      const command = String(context.commandName ?? 'Unknown');
      const service = serviceOf(context.clientName as string | undefined);
      const table = typeof args.input.TableName === 'string' ? args.input.TableName : undefined;
      // Queues are told apart like tables: the work queue's calls are billed apart from the job events' queues.
      const queue = typeof args.input.QueueUrl === 'string' ? args.input.QueueUrl.slice(args.input.QueueUrl.lastIndexOf('/') + 1) : undefined;
      const resource = table ?? queue;
      const record: CallRecord = {
        key: `${service}.${command.replace(/Command$/, '')}${resource ? ` (${resource})` : keySuffix(command, args.input)}`,
        service,
        command,
        table,
        principal: resolved.principal,
        via: resolved.via,
        requestBytes: 0,
        payloadBytes: payloadBytes(command, args.input),
        ...(command === 'PutRecordBatchCommand' ? (({ records, billedBytes }) => ({ records, billedBytes }))(firehoseRecords(args.input)) : {}),
        start: this.now(),
        end: Number.NaN,
        ok: false,
      };
      context[this.recordSlot] = record;
      if (this.options.keepRecords !== false) this.records.push(record);
      if (this.listeners.length > 0) {
        region ??= await regionOf(client);
        for (const listener of this.listeners) listener({ record, input: args.input, region });
      }
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
        // PutEvents: the entries EventBridge accepted are the events billed.
        if (command === 'PutEventsCommand') record.messages = ((args.input.Entries as unknown[] | undefined) ?? []).length - Number(output.FailedEntryCount ?? 0);
        return result;
      } catch (error) {
        record.errorName = error instanceof Error ? error.name : 'Error';
        throw error;
      } finally {
        record.end = this.now();
      }
    };
    const wire: Middleware = (next, context) => async (args) => {
      const record = context[this.recordSlot] as CallRecord | undefined;
      if (record) record.requestBytes = byteLength(args.request?.body);
      return next(args);
    };
    client.middlewareStack.add(around, { step: 'initialize', name: `awsCallRecorder${this.id}`, priority: 'high', override: true });
    client.middlewareStack.add(wire, { step: 'finalizeRequest', name: `awsCallRecorderWire${this.id}`, priority: 'low', override: true });
  }

  /** The principal a client was attached with, if it was. */
  tagOf(client: object): ClientTag | undefined {
    return this.instrumented.get(client);
  }

  clear(): void {
    this.records.length = 0;
  }

  private get recordSlot(): string {
    return `awsCallRecord${this.id}`;
  }
}

/**
 * Attaches the recorder to every SDK client of this process, on its first call
 * (for a preloaded module: the code under test creates its clients as it always does).
 * Clients attached explicitly before keep their own principal.
 */
export function recordEveryClient(recorder: CallRecorder): void {
  // The code loads the SDK through CommonJS; resolve the same module instance it uses.
  const requireFromRepo = createRequire(path.join(REPO_ROOT, 'package.json'));
  const { Client } = requireFromRepo('@smithy/core/client') as { Client: { prototype: { send: (...args: unknown[]) => unknown } } };
  const send = Client.prototype.send;
  Client.prototype.send = function recordedSend(this: InstrumentableClient, ...args: unknown[]) {
    recorder.attach(this);
    return send.apply(this, args);
  };
}
