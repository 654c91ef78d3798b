/**
 * Reads the job events' side of the synthesized template: the bus, its rules
 * and their SQS targets, the publisher function and its stream event source
 * mapping (batching, filters, bisect, retries, record age, partial failures,
 * on-failure destination), and every queue those name. The local stack builds
 * its stream runner and EventBridge stand-in from this, so they behave as the
 * template says (style principle 5).
 *
 * Pure: no CDK import, unit-tested on the synthesized template.
 */
import { ENV, OUTPUT_KEYS } from '../lambda/core/contract';
import {
  type CfnResource,
  type CfnTemplate,
  type FunctionShape,
  type QueueShape,
  functionShape,
  queueShape,
  referencedLogicalId,
} from './stack-shape';

export interface RuleTargetShape {
  readonly id: string;
  readonly queueLogicalId: string;
  readonly deadLetterQueueLogicalId?: string;
}

export interface RuleShape {
  readonly logicalId: string;
  readonly pattern: unknown;
  readonly targets: readonly RuleTargetShape[];
  /** What the stand-in will not do for this rule (non-SQS targets, input transformers), said at start-up. */
  readonly unsupported: readonly string[];
}

export interface StreamSourceShape {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly startingPosition?: string;
  readonly filters: readonly unknown[];
  readonly onFailureQueueLogicalId?: string;
}

export interface JobEventsShape {
  readonly bus: { readonly logicalId: string; readonly name?: string };
  readonly publisher: FunctionShape;
  readonly eventSource: StreamSourceShape;
  readonly rules: readonly RuleShape[];
  /** Every queue a rule target, a dead-letter config, a redrive policy or the on-failure destination names. */
  readonly queues: ReadonlyMap<string, QueueShape & { readonly deadLetterQueueLogicalId?: string }>;
  /** The queues the stack's outputs name, for the local outputs file. */
  readonly outputQueues: { readonly failureQueue?: string; readonly reviewQueue?: string };
}

function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function queueId(template: CfnTemplate, value: unknown): string | undefined {
  const id = referencedLogicalId(value);
  return id !== undefined && template.Resources?.[id]?.Type === 'AWS::SQS::Queue' ? id : undefined;
}

/** The job events of the template, or `undefined` when it has none (`deployJobEvents: false`). */
export function readJobEventsShape(template: CfnTemplate): JobEventsShape | undefined {
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  const publisherId = functions.find(([, fn]) => {
    const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
    return variables !== undefined && ENV.jobEventsBusName in variables;
  })?.[0];
  if (publisherId === undefined) return undefined;
  const publisher = functionShape(template, publisherId);
  const busValue = publisher.environment[ENV.jobEventsBusName];
  const busLogicalId =
    busValue?.kind === 'ref' ? busValue.logicalId : referencedLogicalId(template.Outputs?.[OUTPUT_KEYS.jobEventsBusName]?.Value) ?? 'JobEventsBus';
  const busName = template.Resources?.[busLogicalId]?.Properties?.Name;

  const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').find(
    ([, resource]) => referencedLogicalId(resource.Properties?.FunctionName) === publisherId && resource.Properties?.StartingPosition !== undefined,
  )?.[1];
  const properties = mapping?.Properties ?? {};
  const filterCriteria = properties.FilterCriteria as { Filters?: Array<{ Pattern?: string }> } | undefined;
  const destination = (properties.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
  const eventSource: StreamSourceShape = {
    // Lambda's own defaults for a DynamoDB stream mapping where the template is silent.
    batchSize: numberOr(properties.BatchSize, 100),
    maxBatchingWindowSeconds: numberOr(properties.MaximumBatchingWindowInSeconds, 0),
    bisectBatchOnFunctionError: properties.BisectBatchOnFunctionError === true,
    maximumRetryAttempts: numberOr(properties.MaximumRetryAttempts, -1),
    maximumRecordAgeSeconds: numberOr(properties.MaximumRecordAgeInSeconds, -1),
    reportBatchItemFailures: ((properties.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
    startingPosition: typeof properties.StartingPosition === 'string' ? properties.StartingPosition : undefined,
    filters: (filterCriteria?.Filters ?? []).flatMap((filter) => (typeof filter.Pattern === 'string' ? [JSON.parse(filter.Pattern) as unknown] : [])),
    onFailureQueueLogicalId: queueId(template, destination),
  };

  const rules: RuleShape[] = resourcesOfType(template, 'AWS::Events::Rule')
    .filter(([, rule]) => referencedLogicalId(rule.Properties?.EventBusName) === busLogicalId)
    .map(([logicalId, rule]) => {
      const unsupported: string[] = [];
      const targets: RuleTargetShape[] = [];
      for (const target of (rule.Properties?.Targets as Array<Record<string, unknown>> | undefined) ?? []) {
        const queue = queueId(template, target.Arn);
        const id = String(target.Id ?? 'target');
        if (queue === undefined) {
          unsupported.push(`target ${id} is not an SQS queue of this stack`);
          continue;
        }
        if (target.Input !== undefined || target.InputPath !== undefined || target.InputTransformer !== undefined) {
          unsupported.push(`target ${id} transforms its input`);
          continue;
        }
        const deadLetter = queueId(template, (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn);
        targets.push({ id, queueLogicalId: queue, ...(deadLetter ? { deadLetterQueueLogicalId: deadLetter } : {}) });
      }
      return { logicalId, pattern: rule.Properties?.EventPattern, targets, unsupported };
    });

  const queues = new Map<string, QueueShape & { deadLetterQueueLogicalId?: string }>();
  const addQueue = (id: string | undefined): void => {
    if (id === undefined || queues.has(id)) return;
    const redrive = template.Resources?.[id]?.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
    const deadLetter = queueId(template, redrive?.deadLetterTargetArn);
    queues.set(id, { ...queueShape(template, id), ...(deadLetter ? { deadLetterQueueLogicalId: deadLetter } : {}) });
    addQueue(deadLetter);
  };
  addQueue(eventSource.onFailureQueueLogicalId);
  for (const rule of rules) {
    for (const target of rule.targets) {
      addQueue(target.queueLogicalId);
      addQueue(target.deadLetterQueueLogicalId);
    }
  }

  return {
    bus: { logicalId: busLogicalId, ...(typeof busName === 'string' ? { name: busName } : {}) },
    publisher,
    eventSource,
    rules,
    queues,
    outputQueues: {
      failureQueue: queueId(template, template.Outputs?.[OUTPUT_KEYS.jobEventsFailureQueueUrl]?.Value),
      reviewQueue: queueId(template, template.Outputs?.[OUTPUT_KEYS.qualityReviewQueueUrl]?.Value),
    },
  };
}
