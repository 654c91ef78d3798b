import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { buildApplyUpdate, DynamoJobStore, unmarshallJobItem } from '../../../lambda/adapters/dynamo-job-store';
import { DEFAULTS, JOB_ATTRIBUTES } from '../../../lambda/core/contract';
import { applyToItem, decide, type JobEvent } from '../../../lambda/core/job-state';
import { openJobShard } from '../../../lambda/core/reconcile/open-jobs';
import { JobStoreError } from '../../../lambda/core/worker';
import { evaluateCondition } from './condition-evaluator';
import { evaluateUpdate } from './update-evaluator';
import { NOW, completed, failed, jobEvent } from './factories';

const TABLE = 'jobs-table';
const dynamo = mockClient(DynamoDBClient);

/** Every write's guard on the bounded history while it has room. */
const HISTORY_ROOM = '(attribute_not_exists(#history) OR size(#history) < :historyMax)';

function store(): DynamoJobStore {
  return new DynamoJobStore({ client: new DynamoDBClient({ region: 'eu-west-1' }), tableName: TABLE });
}

function ccf(item?: Record<string, AttributeValue>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: item });
}

/** The item a failed condition returns, as DynamoDB would send it. */
function oldItem(winner: JobEvent, recorded: readonly string[], extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> {
  return {
    jobId: { S: winner.jobId },
    status: { S: winner.event.slice(4) },
    lastEventAt: { S: winner.eventAt },
    lastDeliveryId: { S: winner.deliveryId },
    deliveryIds: { SS: [...recorded] },
    userId: { S: 'user_1' },
    ...extra,
  };
}

function updates(): UpdateItemCommandInput[] {
  return dynamo.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);
}

/** Every placeholder is defined and every definition used: DynamoDB rejects both mistakes. */
function expectPlaceholdersConsistent(input: UpdateItemCommandInput): void {
  const text = `${input.UpdateExpression} ${input.ConditionExpression ?? ''}`;
  const used = new Set(text.match(/[#:][A-Za-z]+/g));
  const defined = new Set([...Object.keys(input.ExpressionAttributeNames ?? {}), ...Object.keys(input.ExpressionAttributeValues ?? {})]);
  expect([...used].sort()).toEqual([...defined].sort());
}

describe('DynamoJobStore', () => {
  beforeEach(() => dynamo.reset());

  describe('the fast path', () => {
    it('applies a new event with exactly one conditional UpdateItem', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).resolves({});

      // Act
      const outcome = await store().apply(jobEvent(), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('applied');
      expect(updates()).toHaveLength(1);
      const input = updates()[0];
      expect(input).toMatchObject({ TableName: TABLE, Key: { jobId: { S: 'job_8f3a' } }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
      expect(input.ConditionExpression).toContain('NOT contains(#deliveryIds, :deliveryId)');
      expect(input.ConditionExpression).toContain('attribute_not_exists(#status)');
      expectPlaceholdersConsistent(input);
    });

    it('records the applied event\'s origin as lastOrigin', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).resolves({});

      // Act
      await store().apply(jobEvent({ origin: 'reconcile' }), { force: false, now: NOW });

      // Assess
      const input = updates()[0];
      expect(input.UpdateExpression).toContain('#lastOrigin = :origin');
      expect(input.ExpressionAttributeValues?.[':origin']).toEqual({ S: 'reconcile' });
    });

    it('names every attribute through placeholders, so reserved words such as status and history are safe', () => {
      // Act
      const inputs = [completed(), jobEvent()].flatMap((event) => [
        buildApplyUpdate(TABLE, event, { force: false }, NOW),
        buildApplyUpdate(TABLE, event, { force: true }, NOW),
      ]);

      // Assess
      const bareWords = inputs.flatMap(
        (input) =>
          `${input.UpdateExpression} ${input.ConditionExpression}`
            .replace(/[#:][A-Za-z]+/g, '')
            .match(/[A-Za-z_]+/g) ?? [],
      );
      expect(new Set(bareWords)).toEqual(new Set(['SET', 'REMOVE', 'ADD', 'list_append', 'if_not_exists', 'attribute_not_exists', 'attribute_type', 'NOT', 'IN', 'OR', 'AND', 'contains', 'size']));
      for (const input of inputs) expect(input.ExpressionAttributeNames).toMatchObject({ '#status': 'status', '#history': 'history' });
    });

    it('sets the terminal fields a terminal event carries, never removes any, and removes only the open-jobs index keys and ops flag', () => {
      // Act
      const input = buildApplyUpdate(TABLE, completed({ creditsUsed: undefined }), { force: false }, NOW);

      // Assess
      expect(input.UpdateExpression).toContain('#outputUrl = :outputUrl');
      expect(input.UpdateExpression).not.toMatch(/#error|#creditsUsed/);
      expect(input.UpdateExpression).toContain(' REMOVE #openShard, #openedAt, #reconcileFlag ADD ');
      expect(input.UpdateExpression).toMatch(/ ADD #deliveryIds :deliveryIdSet$/);
      expect(input.ExpressionAttributeValues?.[':outputUrl']).toEqual({ S: completed().outputUrl });
      expectPlaceholdersConsistent(input);
    });

    it('leaves the terminal fields alone when a job.started applies', () => {
      // Act
      const input = buildApplyUpdate(TABLE, jobEvent({ creditsUsed: 5 }), { force: false }, NOW);

      // Assess
      expect(input.UpdateExpression).not.toMatch(/outputUrl|#error|creditsUsed|REMOVE/);
      expectPlaceholdersConsistent(input);
    });

    it('applies a terminal event only while the job is not terminal, whatever the event times', () => {
      // Act
      const input = buildApplyUpdate(TABLE, failed(), { force: false }, NOW);

      // Assess
      expect(input.ConditionExpression).toBe(
        `(attribute_not_exists(#status) OR NOT (#status IN (:completed, :failed))) AND (NOT contains(#deliveryIds, :deliveryId)) AND ${HISTORY_ROOM}`,
      );
      expect(input.ExpressionAttributeValues).toMatchObject({ ':completed': { S: 'completed' }, ':failed': { S: 'failed' } });
      expectPlaceholdersConsistent(input);
    });

    it('lets a forced replay of a terminal event re-apply only the winner itself', () => {
      // Act
      const input = buildApplyUpdate(TABLE, completed({ replay: true }), { force: true }, NOW);

      // Assess
      expect(input.ConditionExpression).toBe(
        `(attribute_not_exists(#status) OR NOT (#status IN (:completed, :failed)) OR #lastDeliveryId = :deliveryId) AND ${HISTORY_ROOM}`,
      );
      expect(input.ExpressionAttributeValues?.[':deliveryId']).toEqual({ S: 'dlv_completed_1' });
      expectPlaceholdersConsistent(input);
    });

    it('keeps the started rules: a later (eventAt, deliveryId) over a started winner, never over a terminal one', () => {
      // Act
      const input = buildApplyUpdate(TABLE, jobEvent(), { force: false }, NOW);

      // Assess
      expect(input.ConditionExpression).toBe(
        '(attribute_not_exists(#status) OR NOT (#status IN (:started, :completed, :failed)) OR (#status = :started AND ' +
          '(NOT attribute_type(#lastEventAt, :stringType) OR #lastEventAt < :eventAt OR (#lastEventAt = :eventAt AND ' +
          `(NOT attribute_type(#lastDeliveryId, :stringType) OR #lastDeliveryId < :deliveryId))))) AND (NOT contains(#deliveryIds, :deliveryId)) AND ${HISTORY_ROOM}`,
      );
      expectPlaceholdersConsistent(input);
    });

    it('drops the delivery-id guard and accepts an equal winner for a forced replay', () => {
      // Act
      const input = buildApplyUpdate(TABLE, jobEvent({ replay: true }), { force: true }, NOW);

      // Assess
      expect(input.ConditionExpression).not.toContain('contains(');
      expect(input.ConditionExpression).toContain('#lastDeliveryId <= :deliveryId');
      expect(input.ExpressionAttributeValues?.[':entry']).toEqual({
        L: [{ M: expect.objectContaining({ replay: { BOOL: true }, outcome: { S: 'applied' } }) }],
      });
      expectPlaceholdersConsistent(input);
    });

    it('appends to the history and adds the delivery id to a string set', () => {
      // Act
      const input = buildApplyUpdate(TABLE, jobEvent(), { force: false }, NOW);

      // Assess
      expect(input.UpdateExpression).toContain('#history = list_append(if_not_exists(#history, :emptyList), :entry)');
      expect(input.ExpressionAttributeValues?.[':deliveryIdSet']).toEqual({ SS: ['dlv_started_1'] });
    });
  });

  describe('when the condition fails', () => {
    it('calls a delivery already recorded a duplicate without writing again', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).rejects(ccf(oldItem(jobEvent(), ['dlv_started_1'])));

      // Act
      const outcome = await store().apply(jobEvent(), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('duplicate');
      expect(updates()).toHaveLength(1);
    });

    it('records a late job.started as stale with a second, guarded UpdateItem', async () => {
      // Prepare
      dynamo
        .on(UpdateItemCommand)
        .rejectsOnce(ccf(oldItem(completed(), ['dlv_completed_1'])))
        .resolves({});

      // Act
      const outcome = await store().apply(jobEvent({ inputRef: 'https://in.example.com/v.mp4' }), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('stale');
      const record = updates()[1];
      expect(record.ConditionExpression).toBe(`(NOT contains(#deliveryIds, :deliveryId)) AND ${HISTORY_ROOM}`);
      expect(record.UpdateExpression).toContain('#inputRef = if_not_exists(#inputRef, :inputRef)');
      expect(record.UpdateExpression).not.toMatch(/#status|#lastEventAt|REMOVE/);
      expect(record.ExpressionAttributeValues?.[':entry']).toEqual({ L: [{ M: expect.objectContaining({ outcome: { S: 'stale' } }) }] });
      expectPlaceholdersConsistent(record);
    });

    it('records a later terminal event with the other status as a conflict', async () => {
      // Prepare
      dynamo
        .on(UpdateItemCommand)
        .rejectsOnce(ccf(oldItem(completed(), ['dlv_completed_1'])))
        .resolves({});

      // Act
      const outcome = await store().apply(failed({ eventAt: '2026-11-27T11:00:00.000Z' }), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('conflict');
      expect(updates()[1].ExpressionAttributeValues?.[':entry']).toEqual({
        L: [{ M: expect.objectContaining({ outcome: { S: 'conflict' }, deliveryId: { S: 'dlv_failed_1' } }) }],
      });
    });

    it('records an earlier-timestamped job.failed after a completed job as a conflict and leaves the job completed', async () => {
      // Prepare
      const winner = completed({ eventAt: '2026-11-27T10:30:00.000Z' });
      dynamo
        .on(UpdateItemCommand)
        .rejectsOnce(ccf(oldItem(winner, ['dlv_started_1', 'dlv_completed_1'], { outputUrl: { S: winner.outputUrl! } })))
        .resolves({});

      // Act
      const outcome = await store().apply(failed({ eventAt: '2026-11-27T10:00:00.000Z' }), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('conflict');
      expect(updates()).toHaveLength(2);
      const record = updates()[1];
      expect(record.UpdateExpression).not.toMatch(/#status|#lastEventAt|#lastDeliveryId|#outputUrl|#error|#creditsUsed|REMOVE/);
      expect(record.ConditionExpression).toBe(`(NOT contains(#deliveryIds, :deliveryId)) AND ${HISTORY_ROOM}`);
      expect(record.ExpressionAttributeValues?.[':entry']).toEqual({
        L: [{ M: expect.objectContaining({ outcome: { S: 'conflict' }, event: { S: 'job.failed' } }) }],
      });
      expectPlaceholdersConsistent(record);
    });

    it('records an earlier-timestamped job.completed after a failed job as a conflict', async () => {
      // Prepare
      dynamo
        .on(UpdateItemCommand)
        .rejectsOnce(ccf(oldItem(failed({ eventAt: '2026-11-27T10:30:00.000Z' }), ['dlv_failed_1'])))
        .resolves({});

      // Act
      const outcome = await store().apply(completed({ eventAt: '2026-11-27T10:00:00.000Z' }), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('conflict');
      expect(updates()[1].UpdateExpression).not.toMatch(/#status|#outputUrl|#creditsUsed/);
    });

    it('records another terminal delivery of the same status as stale', async () => {
      // Prepare
      dynamo
        .on(UpdateItemCommand)
        .rejectsOnce(ccf(oldItem(completed({ eventAt: '2026-11-27T10:30:00.000Z' }), ['dlv_completed_1'])))
        .resolves({});

      // Act
      const outcome = await store().apply(completed({ deliveryId: 'dlv_completed_0', eventAt: '2026-11-27T10:00:00.000Z' }), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('stale');
    });

    it('re-applies a forced replay of the winner with the one UpdateItem', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).resolves({});

      // Act
      const outcome = await store().apply(completed({ replay: true }), { force: true, now: NOW });

      // Assess
      expect(outcome).toBe('applied');
      expect(updates()).toHaveLength(1);
      expect(updates()[0].ConditionExpression).toContain('#lastDeliveryId = :deliveryId');
    });

    it('records a forced replay of the losing terminal delivery as a conflict, guarded only by the history bound, without applying it', async () => {
      // Prepare
      const winner = completed({ eventAt: '2026-11-27T10:30:00.000Z' });
      dynamo
        .on(UpdateItemCommand)
        .rejectsOnce(ccf(oldItem(winner, ['dlv_completed_1', 'dlv_failed_1'])))
        .resolves({});

      // Act
      const outcome = await store().apply(failed({ eventAt: '2026-11-27T10:00:00.000Z', replay: true }), { force: true, now: NOW });

      // Assess
      expect(outcome).toBe('conflict');
      const record = updates()[1];
      expect(record.ConditionExpression).toBe(HISTORY_ROOM);
      expect(record.UpdateExpression).not.toMatch(/#status|#error/);
      expect(record.ExpressionAttributeValues?.[':entry']).toEqual({
        L: [{ M: expect.objectContaining({ outcome: { S: 'conflict' }, replay: { BOOL: true } }) }],
      });
    });

    it('treats a lost race to record the ignored event as a duplicate', async () => {
      // Prepare
      dynamo
        .on(UpdateItemCommand)
        .rejectsOnce(ccf(oldItem(completed(), ['dlv_completed_1'])))
        .rejects(ccf());

      // Act
      const outcome = await store().apply(jobEvent(), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('duplicate');
    });

    it('fails loudly when the returned item says the event should have applied', async () => {
      // Prepare
      dynamo.on(UpdateItemCommand).rejects(ccf(oldItem(jobEvent(), ['dlv_started_1'])));

      // Act
      const act = store().apply(completed(), { force: false, now: NOW });

      // Assess
      await expect(act).rejects.toMatchObject({ name: 'JobStoreError', transient: false });
    });
  });

  describe('on other errors', () => {
    it('wraps throttling in a transient JobStoreError that keeps the cause', async () => {
      // Prepare
      const throttled = new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
      dynamo.on(UpdateItemCommand).rejects(throttled);

      // Act
      const act = store().apply(jobEvent(), { force: false, now: NOW });

      // Assess
      await expect(act).rejects.toBeInstanceOf(JobStoreError);
      await expect(store().apply(jobEvent(), { force: false, now: NOW })).rejects.toMatchObject({ transient: true, cause: throttled });
    });

    it('calls a ValidationException permanent, naming the reserved attributes, so the worker does not retry it', async () => {
      // Prepare: what DynamoDB answers when the product wrote `history` as a string.
      const refused = Object.assign(new Error('An operand in the update expression has an incorrect data type'), { name: 'ValidationException', $fault: 'client' });
      dynamo.on(UpdateItemCommand).rejects(refused);

      // Act
      const error = await store().apply(jobEvent(), { force: false, now: NOW }).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(JobStoreError);
      expect(error).toMatchObject({ transient: false, cause: refused });
      expect((error as Error).message).toContain('(ValidationException)');
      for (const attribute of Object.values(JOB_ATTRIBUTES)) expect((error as Error).message).toContain(attribute);
    });
  });

  describe('with a full history', () => {
    const fullHistory = (count: number): AttributeValue => ({
      L: Array.from({ length: count }, (_, index) => ({ M: { deliveryId: { S: `dlv_${index}` }, outcome: { S: 'applied' } } })),
    });

    it('applies the event and counts the dropped entry instead of growing the item', async () => {
      // Prepare: the first write expects room; the item it meets has none.
      const item = { jobId: { S: 'job_8f3a' }, history: fullHistory(DEFAULTS.historyMaxEntries) };
      dynamo.on(UpdateItemCommand).rejectsOnce(ccf(item)).resolves({});

      // Act
      const outcome = await store().apply(jobEvent(), { force: false, now: NOW });

      // Assess
      expect(outcome).toBe('applied');
      const second = updates()[1];
      expect(second.UpdateExpression).toContain('#historyDropped :one');
      expect(second.UpdateExpression).not.toContain('list_append');
      expect(second.ConditionExpression).toContain('size(#history) >= :historyMax');
      expect(second.ExpressionAttributeValues?.[':historyMax']).toEqual({ N: String(DEFAULTS.historyMaxEntries) });
      expectPlaceholdersConsistent(second);
    });

    it('records a stale event the same way, without an entry', async () => {
      const item = oldItem(completed(), ['dlv_completed_1'], { history: fullHistory(DEFAULTS.historyMaxEntries) });
      dynamo.on(UpdateItemCommand).rejectsOnce(ccf(item)).resolves({});
      const outcome = await store().apply(jobEvent(), { force: false, now: NOW });
      expect(outcome).toBe('stale');
      const writes = updates();
      expect(writes).toHaveLength(2);
      expect(writes[1].UpdateExpression).toContain('#historyDropped :one');
      expect(writes[1].UpdateExpression).not.toContain('list_append');
      expect(writes[1].ConditionExpression).toBe('(NOT contains(#deliveryIds, :deliveryId)) AND size(#history) >= :historyMax');
    });

    it('chooses the form whose condition holds on the item, one entry short of full and full', () => {
      for (const [count, full] of [
        [DEFAULTS.historyMaxEntries - 1, false],
        [DEFAULTS.historyMaxEntries, true],
      ] as const) {
        const item = { jobId: { S: 'job_8f3a' }, history: fullHistory(count) };
        const holds = (historyFull: boolean) => {
          const input = buildApplyUpdate(TABLE, jobEvent(), { force: false }, NOW, { historyFull });
          return evaluateCondition(input.ConditionExpression!, { item, names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} });
        };
        expect([holds(false), holds(true)]).toEqual([!full, full]);
      }
    });
  });

  describe('get', () => {
    it('reads the item consistently and turns the delivery id set into a list', async () => {
      // Prepare
      dynamo.on(GetItemCommand).resolves({ Item: oldItem(completed(), ['a', 'b'], { creditsUsed: { N: '12' } }) });

      // Act
      const item = await store().get('job_8f3a');

      // Assess
      expect(item).toMatchObject({ status: 'completed', deliveryIds: ['a', 'b'], creditsUsed: 12, userId: 'user_1' });
      expect(dynamo.commandCalls(GetItemCommand)[0].args[0].input).toMatchObject({ ConsistentRead: true, Key: { jobId: { S: 'job_8f3a' } } });
    });

    it('returns undefined for a job it has never seen', async () => {
      // Prepare
      dynamo.on(GetItemCommand).resolves({});

      // Act
      const item = await store().get('job_none');

      // Assess
      expect(item).toBeUndefined();
    });
  });

  describe('the condition expression and the pure model', () => {
    const text = (values: readonly string[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
    const itemArbitrary = fc.record({
      status: fc.oneof(text(['started', 'completed', 'failed', 'queued']), fc.constant({ N: '1' } as AttributeValue)),
      lastEventAt: fc.oneof(text(['2026-11-27T10:00:00.000Z', '2026-11-27T10:05:00.000Z']), fc.constant({ N: '1' } as AttributeValue)),
      lastDeliveryId: fc.oneof(text(['a', 'b', 'c']), fc.constant({ N: '1' } as AttributeValue)),
      deliveryIds: fc.subarray(['a', 'b', 'c']),
    });
    const eventArbitrary = fc.record({
      event: fc.constantFrom('job.started' as const, 'job.completed' as const, 'job.failed' as const),
      eventAt: fc.constantFrom('2026-11-27T10:00:00.000Z', '2026-11-27T10:05:00.000Z'),
      deliveryId: fc.constantFrom('a', 'b', 'c'),
      force: fc.boolean(),
    });

    it('applies exactly when decide says apply, on any item', () => {
      fc.assert(
        fc.property(itemArbitrary, eventArbitrary, (spec, e) => {
          // Prepare
          const item: Record<string, AttributeValue> = { jobId: { S: 'job_8f3a' } };
          for (const key of ['status', 'lastEventAt', 'lastDeliveryId'] as const) {
            const value = spec[key];
            if (value !== undefined) item[key] = typeof value === 'string' ? { S: value } : value;
          }
          if (spec.deliveryIds.length > 0) item.deliveryIds = { SS: spec.deliveryIds };
          const event = jobEvent({ event: e.event, eventAt: e.eventAt, deliveryId: e.deliveryId });
          const options = { force: e.force };
          const input = buildApplyUpdate(TABLE, event, options, NOW);

          // Act
          const applies = evaluateCondition(input.ConditionExpression!, {
            item,
            names: input.ExpressionAttributeNames ?? {},
            values: input.ExpressionAttributeValues ?? {},
          });

          // Assess
          expect(applies).toBe(decide(unmarshallJobItem(item), event, options) === 'apply');
        }),
        { numRuns: 2000 },
      );
    });

    it('never applies another delivery over a terminal job', () => {
      for (const status of ['completed', 'failed']) {
        for (const event of [completed({ deliveryId: 'x' }), failed({ deliveryId: 'x' }), jobEvent({ deliveryId: 'x' })]) {
          for (const force of [false, true]) {
            // Prepare
            const item = oldItem(completed(), ['dlv_completed_1'], { status: { S: status } });
            const input = buildApplyUpdate(TABLE, event, { force }, NOW);

            // Act
            const applies = evaluateCondition(input.ConditionExpression!, {
              item,
              names: input.ExpressionAttributeNames ?? {},
              values: input.ExpressionAttributeValues ?? {},
            });

            // Assess
            expect(applies).toBe(false);
          }
        }
      }
    });
  });

  describe('the whole write and the pure model', () => {
    const text = (values: readonly string[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
    const itemArbitrary = fc.record({
      status: text(['started', 'completed', 'failed', 'submitted']),
      lastEventAt: text(['2026-11-27T10:00:00.000Z', '2026-11-27T10:05:00.000Z']),
      lastDeliveryId: text(['a', 'b', 'c']),
      deliveryIds: fc.subarray(['a', 'b', 'c']),
      // A product's opt-in (its own shard and time), a NULL, or nothing; a flag from an earlier sweep.
      openShard: fc.option(fc.constantFrom({ N: '3' }, { NULL: true }) as fc.Arbitrary<AttributeValue>, { nil: undefined }),
      openedAt: fc.option(fc.constantFrom({ S: '2026-11-27T09:00:00.000Z' }) as fc.Arbitrary<AttributeValue>, { nil: undefined }),
      reconcileFlag: fc.option(fc.constant({ S: 'not_found' }) as fc.Arbitrary<AttributeValue>, { nil: undefined }),
    });
    const eventArbitrary = fc.record({
      event: fc.constantFrom('job.started' as const, 'job.completed' as const, 'job.failed' as const),
      eventAt: fc.constantFrom('2026-11-27T10:00:00.000Z', '2026-11-27T10:05:00.000Z'),
      deliveryId: fc.constantFrom('a', 'b', 'c'),
      force: fc.boolean(),
    });
    const FIELDS = ['status', 'lastEventAt', 'lastDeliveryId', 'openShard', 'openedAt', 'reconcileFlag', 'outputUrl', 'userId'];

    it('leaves the item exactly as the model does, open-jobs index keys included, whenever the condition holds', () => {
      fc.assert(
        fc.property(itemArbitrary, eventArbitrary, (spec, e) => {
          // Prepare
          const item: Record<string, AttributeValue> = { jobId: { S: 'job_8f3a' }, userId: { S: 'user_1' } };
          for (const key of ['status', 'lastEventAt', 'lastDeliveryId'] as const) {
            const value = spec[key];
            if (value !== undefined) item[key] = { S: value };
          }
          for (const key of ['openShard', 'openedAt', 'reconcileFlag'] as const) {
            const value = spec[key];
            if (value !== undefined) item[key] = value;
          }
          if (spec.deliveryIds.length > 0) item.deliveryIds = { SS: spec.deliveryIds };
          const event = e.event === 'job.started' ? jobEvent({ eventAt: e.eventAt, deliveryId: e.deliveryId }) : completed({ event: e.event, eventAt: e.eventAt, deliveryId: e.deliveryId });
          const options = { force: e.force };
          const input = buildApplyUpdate(TABLE, event, options, NOW);
          const context = { names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} };
          fc.pre(evaluateCondition(input.ConditionExpression!, { item, ...context }));

          // Act
          const written = unmarshallJobItem(evaluateUpdate(input.UpdateExpression!, item, context));
          const modelled = applyToItem(unmarshallJobItem(item), event, options, NOW);

          // Assess
          for (const field of FIELDS) expect([field, written?.[field]]).toEqual([field, modelled[field]]);
          expect([...(written?.deliveryIds ?? [])].sort()).toEqual([...(modelled.deliveryIds ?? [])].sort());
          expect(written?.history).toEqual(modelled.history);
        }),
        { numRuns: 2000 },
      );
    });

    it('puts a newly started job in the index on its shard and takes a finished one out', () => {
      // Prepare
      const opened = buildApplyUpdate(TABLE, jobEvent(), { force: false }, NOW);
      const context = (input: UpdateItemCommandInput) => ({ names: input.ExpressionAttributeNames ?? {}, values: input.ExpressionAttributeValues ?? {} });

      // Act
      const afterStart = evaluateUpdate(opened.UpdateExpression!, { jobId: { S: 'job_8f3a' } }, context(opened));
      const closed = buildApplyUpdate(TABLE, completed(), { force: false }, NOW);
      const afterEnd = evaluateUpdate(closed.UpdateExpression!, afterStart, context(closed));

      // Assess
      expect(afterStart.openShard).toEqual({ N: String(openJobShard('job_8f3a')) });
      expect(afterStart.openedAt).toEqual({ S: jobEvent().eventAt });
      expect(afterEnd).not.toHaveProperty('openShard');
      expect(afterEnd).not.toHaveProperty('openedAt');
      expect(afterEnd.status).toEqual({ S: 'completed' });
    });
  });
});
