/** The vocabulary of fault plans, shared by the injector, the scenarios and the report. */
export type Role = 'receiver' | 'worker';
import type { WireFaultKind } from './wire-proxy';
export type Service = 'dynamodb' | 's3' | 'sqs' | 'firehose';

export const STEPS = [
  'receiver.claim',
  'receiver.archive',
  /** One record of a batched append refused inside a 200 answer (FailedPutCount), by the Firehose stand-in. */
  'receiver.archiveRecord',
  'receiver.enqueue',
  'receiver.markAccepted',
  'receiver.release',
  'worker.readArchive',
  'worker.updateJob',
  'worker.deadLetter',
] as const;
export type Step = (typeof STEPS)[number];

/** Made by the SDK middleware of `faults.ts`, one SDK attempt at a time. */
export const FAULT_KINDS = ['error', 'hang', 'lost-response'] as const;
export type MiddlewareFaultKind = (typeof FAULT_KINDS)[number];
/** Middleware kinds, or the wire kinds of `wire-proxy.ts`, made below the SDK's retries. */
export type FaultKind = MiddlewareFaultKind | WireFaultKind;

export interface FaultRule {
  readonly step: Step;
  /** Probability that one call of the step fails. */
  readonly rate: number;
  readonly kinds: readonly FaultKind[];
  /** At most this many faults per delivery and step. */
  readonly maxPerDelivery: number;
}

export interface FaultPlan {
  /** Deliveries whose id starts with this prefix are subject to the plan. */
  readonly prefix: string;
  readonly rules: readonly FaultRule[];
}

/** The few input fields the classifier reads, across DynamoDB, S3 and SQS commands. */
export interface DeliveryStepInput {
  readonly UpdateExpression?: string;
  readonly Key?: { readonly deliveryId?: { readonly S?: string } } | string;
  readonly ExpressionAttributeValues?: Readonly<Record<string, { readonly S?: string }>>;
  readonly MessageAttributes?: Readonly<Record<string, { readonly StringValue?: string }>>;
  /** Firehose PutRecordBatch: each record's data is one archive line. */
  readonly Records?: ReadonlyArray<{ readonly Data?: Uint8Array | string }>;
}
