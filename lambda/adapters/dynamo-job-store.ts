/**
 * The jobs table behind the `JobStore` port. One conditional UpdateItem applies
 * an event; when the condition fails, the item DynamoDB returns (ALL_OLD) is
 * classified by the same pure `decide` the in-memory model uses, and an ignored
 * event is recorded with a second, record-only UpdateItem.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  type UpdateItemCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DEFAULTS, JOB_ATTRIBUTES, TABLE_KEYS } from '../core/contract';
import { openJobShard } from '../core/reconcile/open-jobs';
import {
  type ApplyOptions,
  CLOSE_REMOVES,
  DESCRIPTIVE_FIELDS,
  type HistoryEntry,
  type JobEvent,
  type JobItem,
  TERMINAL_FIELDS,
  decide,
  hasDelivery,
  historyEntry,
  historyIsFull,
  originOf,
  rankOf,
  statusOf,
} from '../core/job-state';
import type { ApplyOutcome, JobStore } from '../core/ports';
import { JobStoreError } from '../core/worker';

export interface DynamoJobStoreProps {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

export class DynamoJobStore implements JobStore {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;

  constructor(props: DynamoJobStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
  }

  async apply(event: JobEvent, options: { readonly force: boolean; readonly now: Date }): Promise<ApplyOutcome> {
    // The history bound is part of the condition: a write meant for a history
    // with room fails on a full one (and the reverse), and the item it returns
    // says which form to send instead. At most one such switch is expected.
    let historyFull = false;
    for (let round = 0; round < HISTORY_FORM_ROUNDS; round += 1) {
      let current: JobItem | undefined;
      try {
        await this.client.send(new UpdateItemCommand(buildApplyUpdate(this.tableName, event, options, options.now, { historyFull })));
        return 'applied';
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw storeError('apply', event, error);
        current = unmarshallJobItem(error.Item);
      }

      const decision = decide(current, event, options);
      if (decision === 'duplicate') return 'duplicate';
      if (decision === 'apply') {
        if (historyIsFull(current) !== historyFull) {
          historyFull = historyIsFull(current);
          continue;
        }
        // ALL_OLD is the item the condition was evaluated on, so this means the
        // expression and the pure model disagree: fail loudly (retries, then DLQ).
        throw new JobStoreError(`condition rejected delivery ${event.deliveryId} that the job model would apply`, {
          transient: false,
        });
      }
      return this.record(event, decision, options, historyIsFull(current));
    }
    throw new JobStoreError(`job ${event.jobId} history kept changing size while delivery ${event.deliveryId} was applied`);
  }

  private async record(event: JobEvent, decision: 'stale' | 'conflict', options: { readonly force: boolean; readonly now: Date }, full: boolean): Promise<ApplyOutcome> {
    let historyFull = full;
    for (let round = 0; round < HISTORY_FORM_ROUNDS; round += 1) {
      try {
        await this.client.send(new UpdateItemCommand(buildRecordUpdate(this.tableName, event, decision, options, options.now, { historyFull })));
        return decision;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw storeError('record', event, error);
        const current = unmarshallJobItem(error.Item);
        if (historyIsFull(current) === historyFull || (!options.force && hasDelivery(current, event.deliveryId))) {
          // A concurrent attempt recorded this delivery first: the retry is a duplicate.
          return 'duplicate';
        }
        historyFull = historyIsFull(current);
      }
    }
    throw new JobStoreError(`job ${event.jobId} history kept changing size while delivery ${event.deliveryId} was recorded`);
  }

  async get(jobId: string): Promise<JobItem | undefined> {
    try {
      const result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [TABLE_KEYS.jobs.partitionKey]: { S: jobId } },
          ConsistentRead: true,
        }),
      );
      return unmarshallJobItem(result.Item);
    } catch (error) {
      throw new JobStoreError(`could not read job ${jobId}`, { cause: error });
    }
  }
}

/** Registers placeholders as they are used, so no unused name or value ever reaches DynamoDB (a ValidationException). */
class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};

  name(attribute: string): string {
    const placeholder = `#${attribute}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(key: string, value: AttributeValue): string {
    const placeholder = `:${key}`;
    this.values[placeholder] = value;
    return placeholder;
  }
}

/**
 * The "event beats the current winner" rule of `job-state.ts#beats` as a
 * condition expression; a status that is not one of ours (absent, or the
 * product's own) is "no winner yet".
 *
 * A terminal event applies only while the job is not terminal: the first
 * terminal event applied is final, whatever the event times. A forced replay
 * may also re-apply the winner itself (same delivery id), never another one.
 *
 * A `started` event applies over no winner, or over a `started` winner with an
 * earlier (eventAt, deliveryId); a missing or non-string lastEventAt /
 * lastDeliveryId counts as unknown and lets it win, as in the pure model. A
 * forced replay may re-apply an equal key (the winner itself).
 */
function beatsCondition(x: Expression, event: JobEvent, options: ApplyOptions): string {
  const status = x.name('status');
  const deliveryId = x.value('deliveryId', { S: event.deliveryId });
  const completed = x.value('completed', { S: 'completed' });
  const failed = x.value('failed', { S: 'failed' });
  const noWinner = `attribute_not_exists(${status})`;

  if (rankOf(statusOf(event.event)) === 2) {
    const notTerminal = `${noWinner} OR NOT (${status} IN (${completed}, ${failed}))`;
    return options.force ? `(${notTerminal} OR ${x.name('lastDeliveryId')} = ${deliveryId})` : `(${notTerminal})`;
  }

  const at = x.name('lastEventAt');
  const id = x.name('lastDeliveryId');
  const eventAt = x.value('eventAt', { S: event.eventAt });
  const stringType = x.value('stringType', { S: 'S' });
  const started = x.value('started', { S: 'started' });
  const earlierOrEqual = options.force ? '<=' : '<';
  const keyLoses =
    `(NOT attribute_type(${at}, ${stringType}) OR ${at} < ${eventAt} OR ` +
    `(${at} = ${eventAt} AND (NOT attribute_type(${id}, ${stringType}) OR ${id} ${earlierOrEqual} ${deliveryId})))`;
  return `(${noWinner} OR NOT (${status} IN (${started}, ${completed}, ${failed})) OR (${status} = ${started} AND ${keyLoses}))`;
}

function notRecorded(x: Expression, event: JobEvent): string {
  return `(NOT contains(${x.name('deliveryIds')}, ${x.value('deliveryId', { S: event.deliveryId })}))`;
}

/** Which form of a write the history bound calls for (see `apply`). */
export interface HistoryForm {
  readonly historyFull: boolean;
}

const HISTORY_FORM_ROUNDS = 3;

/**
 * The history part of a write: an entry appended while there is room, or a
 * count of the dropped entry once `DEFAULTS.historyMaxEntries` are there. The
 * condition that goes with it makes the write fail on the other kind of item.
 */
function historyWrite(x: Expression, entry: HistoryEntry, form: HistoryForm): { set?: string; add?: string; condition: string } {
  const history = x.name('history');
  const max = x.value('historyMax', { N: String(DEFAULTS.historyMaxEntries) });
  if (form.historyFull) {
    return {
      add: `${x.name('historyDropped')} ${x.value('one', { N: '1' })}`,
      condition: `size(${history}) >= ${max}`,
    };
  }
  return {
    set: `${history} = list_append(if_not_exists(${history}, ${x.value('emptyList', { L: [] })}), ${x.value('entry', { L: [marshallHistoryEntry(entry)] })})`,
    condition: `(attribute_not_exists(${history}) OR size(${history}) < ${max})`,
  };
}

/** The fast path: one UpdateItem that applies the event if, and only if, it beats the winner and is new. */
export function buildApplyUpdate(
  tableName: string,
  event: JobEvent,
  options: ApplyOptions,
  now: Date,
  form: HistoryForm = { historyFull: false },
): UpdateItemCommandInput {
  const x = new Expression();
  const status = statusOf(event.event);
  const history = historyWrite(x, historyEntry(event, 'applied', now), form);
  const set = [
    `${x.name('status')} = ${x.value('status', { S: status })}`,
    `${x.name('lastEventAt')} = ${x.value('eventAt', { S: event.eventAt })}`,
    `${x.name('lastDeliveryId')} = ${x.value('deliveryId', { S: event.deliveryId })}`,
    `${x.name('lastOrigin')} = ${x.value('origin', { S: originOf(event) })}`,
    `${x.name('updatedAt')} = ${x.value('now', { S: now.toISOString() })}`,
    ...(history.set ? [history.set] : []),
  ];
  for (const field of DESCRIPTIVE_FIELDS) {
    const value = event[field];
    if (value !== undefined) set.push(`${x.name(field)} = ${x.value(field, { S: value })}`);
  }
  // Terminal-owned fields are written only by the terminal event that applies,
  // which is the first one (or a forced replay of that same delivery): no other
  // terminal event's values can be on the item, so there is nothing to REMOVE.
  // `started` never touches them.
  const remove: string[] = [];
  if (rankOf(status) === 2) {
    for (const field of TERMINAL_FIELDS) {
      const value = marshallTerminalField(event, field);
      if (value !== undefined) set.push(`${x.name(field)} = ${x.value(field, value)}`);
    }
    // Closing the job takes it out of the sparse open-jobs index in this same
    // conditional write: no window in which a finished job still looks open.
    for (const field of CLOSE_REMOVES) remove.push(x.name(field));
  } else {
    // Opening it puts it in; if_not_exists keeps a product's opt-in time and the first started's.
    const shard = x.name('openShard');
    const openedAt = x.name('openedAt');
    set.push(`${shard} = if_not_exists(${shard}, ${x.value('openShard', { N: String(openJobShard(event.jobId)) })})`);
    set.push(`${openedAt} = if_not_exists(${openedAt}, ${x.value('eventAt', { S: event.eventAt })})`);
  }
  const add = [`${x.name('deliveryIds')} ${x.value('deliveryIdSet', { SS: [event.deliveryId] })}`, ...(history.add ? [history.add] : [])];

  const guards = [beatsCondition(x, event, options), ...(options.force ? [] : [notRecorded(x, event)]), history.condition];
  const condition = guards.join(' AND ');
  return {
    TableName: tableName,
    Key: { [TABLE_KEYS.jobs.partitionKey]: { S: event.jobId } },
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''} ADD ${add.join(', ')}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: x.names,
    ExpressionAttributeValues: x.values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * Records an ignored (stale or conflicting) delivery: history entry and
 * delivery id, and descriptive fields only where the item has none, so the
 * final item does not depend on arrival order. Guarded by the delivery id so a
 * retry never records twice; forced replays record every time.
 */
export function buildRecordUpdate(
  tableName: string,
  event: JobEvent,
  outcome: 'stale' | 'conflict',
  options: ApplyOptions,
  now: Date,
  form: HistoryForm = { historyFull: false },
): UpdateItemCommandInput {
  const x = new Expression();
  const history = historyWrite(x, historyEntry(event, outcome, now), form);
  const set = history.set ? [history.set] : [];
  for (const field of DESCRIPTIVE_FIELDS) {
    const value = event[field];
    if (value !== undefined) {
      const name = x.name(field);
      set.push(`${name} = if_not_exists(${name}, ${x.value(field, { S: value })})`);
    }
  }
  const add = [`${x.name('deliveryIds')} ${x.value('deliveryIdSet', { SS: [event.deliveryId] })}`, ...(history.add ? [history.add] : [])];
  const guards = [...(options.force ? [] : [notRecorded(x, event)]), history.condition];
  return {
    TableName: tableName,
    Key: { [TABLE_KEYS.jobs.partitionKey]: { S: event.jobId } },
    UpdateExpression: `${set.length > 0 ? `SET ${set.join(', ')} ` : ''}ADD ${add.join(', ')}`,
    ConditionExpression: guards.join(' AND '),
    ExpressionAttributeNames: x.names,
    ExpressionAttributeValues: x.values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

function marshallTerminalField(event: JobEvent, field: (typeof TERMINAL_FIELDS)[number]): AttributeValue | undefined {
  switch (field) {
    case 'outputUrl':
      return event.outputUrl === undefined ? undefined : { S: event.outputUrl };
    case 'error':
      return event.error === undefined
        ? undefined
        : { M: { code: { S: event.error.code }, message: { S: event.error.message } } };
    case 'creditsUsed':
      return event.creditsUsed === undefined ? undefined : { N: String(event.creditsUsed) };
  }
}

function marshallHistoryEntry(entry: HistoryEntry): AttributeValue {
  return {
    M: {
      deliveryId: { S: entry.deliveryId },
      event: { S: entry.event },
      eventAt: { S: entry.eventAt },
      outcome: { S: entry.outcome },
      at: { S: entry.at },
      ...(entry.replay ? { replay: { BOOL: true } } : {}),
    },
  };
}

/** Plain values for the item's attributes; sets become arrays (the model's `deliveryIds` is a list of ids). */
export function unmarshallValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) return unmarshallMap(value.M);
  if (value.L !== undefined) return value.L.map(unmarshallValue);
  if (value.SS !== undefined) return [...value.SS];
  if (value.NS !== undefined) return value.NS.map(Number);
  if (value.B !== undefined) return value.B;
  if (value.BS !== undefined) return [...value.BS];
  return undefined;
}

function unmarshallMap(map: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, unmarshallValue(value)]));
}

export function unmarshallJobItem(item: Record<string, AttributeValue> | undefined): JobItem | undefined {
  if (item === undefined || Object.keys(item).length === 0) return undefined;
  return unmarshallMap(item) as JobItem;
}

function isConditionalCheckFailed(error: unknown): error is Error & { Item?: Record<string, AttributeValue> } {
  // By name, not instanceof: bundles or tests may load a second copy of the SDK.
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * DynamoDB refuses a write for good with ValidationException: here, an
 * attribute the stack owns (`JOB_ATTRIBUTES`) holds another type on the item
 * (the product wrote it), or the item would pass 400 KB. No retry can change
 * that, so it is not transient: the worker moves the record to the DLQ with
 * this reason at once instead of retrying it for five visibility timeouts.
 * Everything else (throttling, 5xx, network, access) may pass.
 */
const PERMANENT_ERROR_NAMES: ReadonlySet<string> = new Set(['ValidationException']);

function storeError(step: 'apply' | 'record', event: JobEvent, error: unknown): JobStoreError {
  const name = error instanceof Error ? error.name : 'Error';
  if (PERMANENT_ERROR_NAMES.has(name)) {
    return new JobStoreError(
      `the jobs table refused to ${step} delivery ${event.deliveryId} on job ${event.jobId} (${name}): an attribute the stack owns (${RESERVED_ATTRIBUTE_LIST}) holds another type on the item, or the item would exceed 400 KB`,
      { cause: error, transient: false },
    );
  }
  return new JobStoreError(`could not ${step} delivery ${event.deliveryId} on job ${event.jobId}`, { cause: error });
}

const RESERVED_ATTRIBUTE_LIST = Object.values(JOB_ATTRIBUTES).join(', ');
