/**
 * Fault injection on the SDK clients the handlers are given. A middleware,
 * innermost in the finalizeRequest step, names the pipeline step a command
 * belongs to and, at the plan's rate, makes it fail in one of three ways:
 *
 * - `error`: a 5xx service error before the request leaves the process (the
 *   dependency refused the call; nothing was written).
 * - `hang`: the request is sent to a server that never answers, so the
 *   client's own request timeout ends it (nothing was written).
 * - `lost-response`: the request reaches the emulator and is applied, but the
 *   answer never comes back and the client times out. The caller cannot tell
 *   this from `hang`; this is the case that tests idempotency.
 *
 * Plans are scoped by delivery-id prefix so scenarios can run side by side.
 */
import type { DeliveryStepInput } from './fault-types';
import { uniform } from './seeded';
import { FAULT_KINDS, type FaultKind, type FaultPlan, type Role, type Service, type Step } from './fault-types';

export type { FaultKind, FaultPlan, FaultRule, Step } from './fault-types';

export const FAULT_HEADER = 'x-reliability-fault';
export const UPSTREAM_HEADER = 'x-reliability-upstream';

interface HttpRequestLike {
  protocol: string;
  hostname: string;
  port?: number;
  headers: Record<string, string>;
}

/** The part of an SDK client this module touches; every v3 client has it. */
export interface MiddlewareClient {
  readonly middlewareStack: {
    add(
      middleware: (next: (args: { input: unknown; request?: unknown }) => Promise<unknown>, context: { commandName?: string }) => (args: {
        input: unknown;
        request?: unknown;
      }) => Promise<unknown>,
      options: { step: 'finalizeRequest'; priority: 'low'; name: string },
    ): void;
  };
}

/** Which pipeline step a command is, or undefined for calls the scenarios do not fault (polling, deletes). */
export function classifyStep(role: Role, commandName: string | undefined, input: DeliveryStepInput): Step | undefined {
  if (role === 'receiver') {
    if (commandName === 'UpdateItemCommand') {
      const expression = input.UpdateExpression ?? '';
      if (expression.includes(':accepted')) return 'receiver.markAccepted';
      if (expression.includes(':zero')) return 'receiver.release';
      return 'receiver.claim';
    }
    if (commandName === 'PutObjectCommand' || commandName === 'PutRecordBatchCommand') return 'receiver.archive';
    if (commandName === 'SendMessageCommand') return 'receiver.enqueue';
    return undefined;
  }
  if (commandName === 'GetObjectCommand') return 'worker.readArchive';
  if (commandName === 'UpdateItemCommand') return 'worker.updateJob';
  if (commandName === 'SendMessageCommand') return 'worker.deadLetter';
  return undefined;
}

/** The delivery a command works on, read from its input. */
export function deliveryIdOf(commandName: string | undefined, input: DeliveryStepInput): string | undefined {
  switch (commandName) {
    case 'UpdateItemCommand':
      return (typeof input.Key === 'object' ? input.Key.deliveryId?.S : undefined) ?? input.ExpressionAttributeValues?.[':deliveryId']?.S;
    case 'PutObjectCommand':
    case 'GetObjectCommand':
      return typeof input.Key === 'string' ? /([^/]+)\.json$/.exec(input.Key)?.[1] : undefined;
    case 'SendMessageCommand':
      return input.MessageAttributes?.deliveryId?.StringValue;
    case 'PutRecordBatchCommand': {
      const data = input.Records?.[0]?.Data;
      // The SDK's input holds the bytes; the wire (AWS JSON 1.1) carries them base64-encoded.
      return data === undefined ? undefined : archiveLineDeliveryId(typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data));
    }
    default:
      return undefined;
  }
}

const SERVICE_ERROR: Record<Service, string> = {
  dynamodb: 'InternalServerError',
  s3: 'InternalError',
  sqs: 'ServiceUnavailable',
  // Firehose's answer when a stream's throughput quota is exceeded.
  firehose: 'ServiceUnavailableException',
};

/** The delivery id of an archive line (a Firehose record), without decoding the body. */
export function archiveLineDeliveryId(data: Buffer): string | undefined {
  return /"deliveryId":"([^"]+)"/.exec(data.subarray(0, 400).toString('utf8'))?.[1];
}

function serviceError(service: Service): Error {
  return Object.assign(new Error(`injected ${SERVICE_ERROR[service]}`), {
    name: SERVICE_ERROR[service],
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  });
}

export class FaultInjector {
  private readonly plans = new Map<string, FaultPlan>();
  private readonly attempts = new Map<string, number>();
  private readonly faulted = new Map<string, number>();
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(
    private readonly seed: number,
    private readonly hangPort: number,
  ) {}

  activate(plan: FaultPlan): void {
    this.plans.set(plan.prefix, plan);
  }

  deactivate(prefix: string): void {
    this.plans.delete(prefix);
  }

  /** Faults injected for one scenario, keyed `step kind`. */
  injected(prefix: string): Record<string, number> {
    return Object.fromEntries(this.counts.get(prefix) ?? []);
  }

  decide(step: Step, deliveryId: string): FaultKind | undefined {
    const plan = [...this.plans.values()].find((candidate) => deliveryId.startsWith(candidate.prefix));
    const rule = plan?.rules.find((candidate) => candidate.step === step);
    if (plan === undefined || rule === undefined) return undefined;
    const key = `${step}|${deliveryId}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    // A cap per delivery keeps every delivery able to finish inside the
    // provider's bounded retries and under the queue's receive count.
    if ((this.faulted.get(key) ?? 0) >= rule.maxPerDelivery) return undefined;
    if (uniform(this.seed, step, deliveryId, attempt) >= rule.rate) return undefined;
    this.faulted.set(key, (this.faulted.get(key) ?? 0) + 1);
    const kind = rule.kinds[Math.floor(uniform(this.seed, 'kind', step, deliveryId, attempt) * rule.kinds.length)];
    const byKind = this.counts.get(plan.prefix) ?? new Map<string, number>();
    byKind.set(`${step} ${kind}`, (byKind.get(`${step} ${kind}`) ?? 0) + 1);
    this.counts.set(plan.prefix, byKind);
    return kind;
  }

  /** Any SDK v3 client: their middleware stacks differ only in input and output types. */
  attach(client: { readonly middlewareStack: unknown }, role: Role, service: Service): void {
    (client as unknown as MiddlewareClient).middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args.input ?? {}) as DeliveryStepInput;
        const step = classifyStep(role, context.commandName, input);
        const deliveryId = step === undefined ? undefined : deliveryIdOf(context.commandName, input);
        const kind = step === undefined || deliveryId === undefined ? undefined : this.decide(step, deliveryId);
        if (kind === undefined || !(FAULT_KINDS as readonly string[]).includes(kind)) return next(args);
        if (kind === 'error') throw serviceError(service);
        const request = args.request as HttpRequestLike;
        request.headers[FAULT_HEADER] = kind;
        request.headers[UPSTREAM_HEADER] = `${request.protocol}//${request.hostname}:${request.port ?? 80}`;
        request.hostname = '127.0.0.1';
        request.port = this.hangPort;
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'reliabilityFaultInjection' },
    );
  }
}
