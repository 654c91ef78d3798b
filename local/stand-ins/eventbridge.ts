/**
 * A local Amazon EventBridge bus for the job events: the smallest faithful
 * stand-in for what the stack uses, served on 127.0.0.1 so the real SDK client
 * (and so the real `job-events` handler and adapter) talks to it.
 *
 * Implements
 * - `PutEvents` over the AWS JSON 1.1 protocol (`X-Amz-Target:
 *   AWSEvents.PutEvents`), as the PutEvents API reference describes it: 1 to 10
 *   entries, a 256 KiB request (entry sizes counted as in "Calculating
 *   PutEvents event entry size"; AWS raised events to 1 MB in 2026, the
 *   stand-in keeps the stricter limit the publisher budgets for), per-entry
 *   results in request order with `FailedEntryCount`, `InvalidArgument` and
 *   `MalformedDetail` entry errors, and `ThrottlingException` /
 *   `ValidationException` call errors in the protocol's error shape.
 * - rules on the bus (the stack's own, read from the synthesized template,
 *   plus any the caller adds, such as the local catch-all tap), evaluated with
 *   `event-pattern.ts`, each matching event delivered to its SQS targets as
 *   the EventBridge envelope JSON (`version`, `id`, `detail-type`, `source`,
 *   `account`, `time`, `region`, `resources`, `detail`); delivery is
 *   asynchronous and at least once, retried a few times, then sent to the
 *   target's dead-letter queue.
 *
 * Leaves out every other API (rules are configured, not created by calls),
 * targets other than SQS, input transformers and paths, archives and replays,
 * EventBridge's 24-hour retry policy (a few local retries instead), event
 * buses other than the one it serves, and authentication (any credentials).
 *
 * Faults: a scenario may throttle whole calls or fail single entries with the
 * codes the API reference names as retryable (`setFaults`), to exercise the
 * publisher's retries against the real wire protocol.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { toAsciiJson } from '../../lambda/core/ascii-json';
import { LOOPBACK_HOST, sleep } from '../net';
import { type CompiledPattern, compilePattern } from './event-pattern';
import { answerAwsJson, readRequestText } from './aws-json';

export const PUT_EVENTS_TARGET = 'AWSEvents.PutEvents';
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const LOCAL_ACCOUNT = '000000000000';

export interface LocalBusTarget {
  readonly id: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl?: string;
}

export interface LocalBusRule {
  readonly name: string;
  readonly pattern: unknown;
  readonly targets: readonly LocalBusTarget[];
}

/** What one PutEvents call suffers: the whole call throttled, or some entries failed (by index). */
export interface PutEventsFault {
  readonly throttleCall?: boolean;
  readonly failEntries?: ReadonlyArray<'ThrottlingException' | 'InternalFailure' | undefined>;
}
export type FaultPlan = (entries: readonly PutEventsRequestEntry[]) => PutEventsFault | undefined;

export interface PutEventsRequestEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly EventBusName?: unknown;
  readonly Time?: unknown;
  readonly Resources?: unknown;
}

/** The envelope targets receive. */
export interface EventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

export interface LocalEventBusOptions {
  readonly busName: string;
  readonly region: string;
  readonly rules: readonly LocalBusRule[];
  readonly sqs: SQSClient;
  /** 0 (default) picks a free loopback port. */
  readonly port?: number;
  readonly deliveryAttempts?: number;
  readonly deliveryRetryMs?: number;
  readonly log?: (message: string) => void;
}

export interface LocalEventBusStats {
  readonly putCalls: number;
  readonly throttledCalls: number;
  readonly entriesAccepted: number;
  readonly entriesFailed: number;
  readonly delivered: number;
  readonly deadLettered: number;
  readonly undeliverable: number;
  /** Accepted events per rule that matched them. */
  readonly matched: Readonly<Record<string, number>>;
}

export interface LocalEventBus {
  readonly endpoint: string;
  readonly busName: string;
  readonly busArn: string;
  setFaults(plan: FaultPlan | undefined): void;
  stats(): LocalEventBusStats;
  /** Resolves once every accepted event has been delivered (or dead-lettered). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

class CallError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}



function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (value: unknown): number => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce((total: number, each) => total + bytes(each), 0) : 0;
  return (entry.Time === undefined ? 0 : 14) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + resources;
}

/** EventBridge's `time`: ISO 8601 to the second. */
function envelopeTime(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time * 1000) : new Date();
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function startLocalEventBus(options: LocalEventBusOptions): Promise<LocalEventBus> {
  const log = options.log ?? (() => undefined);
  const attempts = options.deliveryAttempts ?? 5;
  const retryMs = options.deliveryRetryMs ?? 200;
  const busArn = `arn:aws:events:${options.region}:${LOCAL_ACCOUNT}:event-bus/${options.busName}`;
  // Compiled up front: a pattern the stand-in cannot evaluate stops the start, it never misroutes.
  const rules = options.rules.map((rule) => ({ ...rule, matches: compilePattern(rule.pattern) as CompiledPattern }));
  let faults: FaultPlan | undefined;
  const counters = { putCalls: 0, throttledCalls: 0, entriesAccepted: 0, entriesFailed: 0, delivered: 0, deadLettered: 0, undeliverable: 0 };
  const matched: Record<string, number> = Object.fromEntries(rules.map((rule) => [rule.name, 0]));
  const inFlight = new Set<Promise<void>>();

  const sendTo = async (queueUrl: string, body: string): Promise<void> => {
    await options.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  };

  const deliver = async (envelope: EventEnvelope): Promise<void> => {
    const body = toAsciiJson(envelope);
    for (const rule of rules) {
      if (!rule.matches(envelope)) continue;
      matched[rule.name] += 1;
      for (const target of rule.targets) {
        let sent = false;
        for (let attempt = 1; attempt <= attempts && !sent; attempt += 1) {
          try {
            await sendTo(target.queueUrl, body);
            sent = true;
          } catch (error) {
            if (attempt < attempts) await sleep(retryMs * attempt);
            else log(`event ${envelope.id} not delivered to ${rule.name}/${target.id}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        if (sent) {
          counters.delivered += 1;
          continue;
        }
        if (target.deadLetterQueueUrl !== undefined) {
          try {
            await sendTo(target.deadLetterQueueUrl, body);
            counters.deadLettered += 1;
            continue;
          } catch {
            // Counted as undeliverable below.
          }
        }
        counters.undeliverable += 1;
      }
    }
  };

  const putEvents = (request: { Entries?: unknown }): { FailedEntryCount: number; Entries: EntryResult[] } => {
    const entries = request.Entries;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new CallError('ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`);
    }
    const typed = entries as PutEventsRequestEntry[];
    if (typed.reduce((total, entry) => total + entrySize(entry), 0) > MAX_REQUEST_BYTES) {
      throw new CallError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    const fault = faults?.(typed);
    if (fault?.throttleCall) {
      counters.throttledCalls += 1;
      throw new CallError('ThrottlingException', 'Rate exceeded');
    }
    const results = typed.map((entry, index): EntryResult => {
      const failure = fault?.failEntries?.[index];
      if (failure) return { ErrorCode: failure, ErrorMessage: failure === 'ThrottlingException' ? 'Rate exceeded' : 'Internal failure' };
      const bus = entry.EventBusName;
      if (bus !== undefined && bus !== options.busName && bus !== busArn) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Event bus ${String(bus)} does not exist on this local stand-in.` };
      }
      if (typeof entry.Source !== 'string' || entry.Source.length === 0 || typeof entry.DetailType !== 'string' || entry.DetailType.length === 0) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter(s) Source, DetailType must be specified.' };
      }
      if (entry.Source.startsWith('aws.')) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
      let detail: unknown;
      try {
        detail = JSON.parse(String(entry.Detail));
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const id = randomUUID();
      const envelope: EventEnvelope = {
        version: '0',
        id,
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: LOCAL_ACCOUNT,
        time: envelopeTime(entry.Time),
        region: options.region,
        resources: Array.isArray(entry.Resources) ? entry.Resources.filter((each): each is string => typeof each === 'string') : [],
        detail,
      };
      const delivery = deliver(envelope).finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
      return { EventId: id };
    });
    const failed = results.filter((result) => 'ErrorCode' in result).length;
    counters.entriesAccepted += results.length - failed;
    counters.entriesFailed += failed;
    return { FailedEntryCount: failed, Entries: results };
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        const target = request.headers['x-amz-target'];
        if (request.method !== 'POST' || target !== PUT_EVENTS_TARGET) {
          throw new CallError('UnknownOperationException', `the local EventBridge stand-in implements ${PUT_EVENTS_TARGET} only`);
        }
        counters.putCalls += 1;
        let body: unknown;
        try {
          body = JSON.parse(await readRequestText(request));
        } catch {
          throw new CallError('SerializationException', 'request body is not JSON');
        }
        answerAwsJson(response, 200, putEvents(body as { Entries?: unknown }));
      } catch (error) {
        const type = error instanceof CallError ? error.type : 'InternalException';
        answerAwsJson(response, type === 'InternalException' ? 500 : 400, { __type: type, message: error instanceof Error ? error.message : String(error) }, type);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK_HOST, port: options.port ?? 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${LOOPBACK_HOST}:${port}`;
  log(`EventBridge stand-in ${endpoint}, bus ${options.busName}, ${rules.length} rule(s): ${rules.map((rule) => rule.name).join(', ')}`);

  const idle = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };

  return {
    endpoint,
    busName: options.busName,
    busArn,
    setFaults: (plan) => {
      faults = plan;
    },
    stats: () => ({ ...counters, matched: { ...matched } }),
    idle,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await idle();
    },
  };
}
