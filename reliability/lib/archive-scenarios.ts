/**
 * Faults of the archive step, one scenario each, against the strict reading of
 * the provider where the harness has it: every one must end in 503 for the
 * attempt (the provider's retry then succeeds), never a 2xx without the bytes
 * stored, and lose nothing.
 *
 * - throttled: Firehose refuses the call (ServiceUnavailableException, its
 *   answer when a stream's quota is exceeded);
 * - partial failure: PutRecordBatch answers 200 with FailedPutCount 1, the
 *   record not kept (the stand-in refuses it inside the answer);
 * - lost response: Firehose keeps the record, the answer never arrives (the
 *   retry archives a second line; replay keeps the latest attempt);
 * - hang: the request is never answered (the client's timeout ends it);
 * - claim-check object: the per-delivery PutObject of a body too large to
 *   travel inline fails in each of those ways; its delayed message, sent beside
 *   it, is dropped by the worker once its archiveBy passes without the object.
 */
import type { FaultKind, Step } from './fault-types';
import { CLAIM_CHECK_PADDING_BYTES, settle, startFaultScenario, type RunContext, type ScenarioResult } from './scenarios';

interface ArchiveScenario {
  readonly name: string;
  readonly description: string;
  readonly step: Step;
  readonly kinds: readonly FaultKind[];
  readonly paddingBytes?: number;
  /** Claim-check bodies are a megabyte each: fewer of them. */
  readonly share?: number;
}

export const ARCHIVE_SCENARIOS: readonly ArchiveScenario[] = [
  { name: 'archive throttled', description: 'archive: Firehose refuses the append (ServiceUnavailableException)', step: 'receiver.archive', kinds: ['error'] },
  {
    name: 'archive partial failure',
    description: 'archive: PutRecordBatch answers 200 with FailedPutCount 1; the record was not kept',
    step: 'receiver.archiveRecord',
    kinds: ['error'],
  },
  { name: 'archive lost response', description: 'archive: Firehose keeps the record, its answer is lost', step: 'receiver.archive', kinds: ['lost-response'] },
  { name: 'archive hang', description: 'archive: the append is never answered (client timeout)', step: 'receiver.archive', kinds: ['hang'] },
  {
    name: 'archive claim-check object',
    description: 'archive: the PutObject of a body too large to inline fails (error, hang, lost response); its delayed message is dropped as an orphan',
    step: 'receiver.archive',
    kinds: ['error', 'hang', 'lost-response'],
    paddingBytes: CLAIM_CHECK_PADDING_BYTES,
    share: 0.25,
  },
];

export async function runArchiveFaults(context: RunContext, deliveriesEach: number, rate: number): Promise<ScenarioResult[]> {
  const pending = ARCHIVE_SCENARIOS.map((scenario) =>
    startFaultScenario(context, {
      ...scenario,
      plan: { prefix: `a-${scenario.name.replace(/\s+/g, '-')}-`, rules: [{ step: scenario.step, rate, kinds: scenario.kinds, maxPerDelivery: 2 }] },
      deliveries: Math.max(4, Math.round(deliveriesEach * (scenario.share ?? 1))),
    }),
  );
  return settle(context, pending);
}
