/**
 * Wire faults for the harness: one `wire-proxy.ts` proxy per (role, emulator),
 * whose faults follow the same fault plans as the middleware (scoped by
 * delivery-id prefix, per pipeline step, seeded), read off the request itself.
 */
import type { DeliveryStepInput, Role } from './fault-types';
import { classifyStep, deliveryIdOf, type FaultInjector } from './faults';
import { startWireFaultProxy, WIRE_FAULT_KINDS, type WireFaultKind, type WireProxy, type WireRequest } from './wire-proxy';

/** The SDK command a request on the wire carries: AWS JSON protocols name it in X-Amz-Target; S3 (path style) by method and path. */
export function commandOf(request: WireRequest): { commandName: string; input: DeliveryStepInput } | undefined {
  const target = String(request.headers['x-amz-target'] ?? '');
  const dot = target.indexOf('.');
  if (dot > 0) {
    let input: DeliveryStepInput;
    try {
      input = JSON.parse(request.body.toString('utf8')) as DeliveryStepInput;
    } catch {
      input = {};
    }
    return { commandName: `${target.slice(dot + 1)}Command`, input };
  }
  const [pathname, query = ''] = request.path.split('?');
  const key = decodeURIComponent(pathname).split('/').slice(2).join('/');
  if (request.method === 'PUT' && key !== '') return { commandName: 'PutObjectCommand', input: { Key: key } };
  if (request.method === 'GET' && key !== '') return { commandName: 'GetObjectCommand', input: { Key: key } };
  if (request.method === 'GET' && query.includes('list-type=2')) return { commandName: 'ListObjectsV2Command', input: {} };
  return undefined;
}

/** The decider of one proxy: the step and delivery a request works on, then the plan's seeded choice. */
export function wireDecider(injector: FaultInjector, role: Role): (request: WireRequest) => WireFaultKind | undefined {
  return (request) => {
    const command = commandOf(request);
    if (command === undefined) return undefined;
    const step = classifyStep(role, command.commandName, command.input);
    const deliveryId = step === undefined ? undefined : deliveryIdOf(command.commandName, command.input);
    if (step === undefined || deliveryId === undefined) return undefined;
    const kind = injector.decide(step, deliveryId);
    return kind !== undefined && (WIRE_FAULT_KINDS as readonly string[]).includes(kind) ? (kind as WireFaultKind) : undefined;
  };
}

export async function startWireProxies(
  injector: FaultInjector,
  upstreams: { readonly dynamodb: string; readonly fauxqs: string },
): Promise<Record<Role, { readonly dynamodb: WireProxy; readonly fauxqs: WireProxy }>> {
  const pair = async (role: Role) => ({
    dynamodb: await startWireFaultProxy({ upstream: upstreams.dynamodb, decide: wireDecider(injector, role) }),
    fauxqs: await startWireFaultProxy({ upstream: upstreams.fauxqs, decide: wireDecider(injector, role) }),
  });
  return { receiver: await pair('receiver'), worker: await pair('worker') };
}
