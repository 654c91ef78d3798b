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
import { buildApplyUpdate, DynamoJobStore } from '../../../lambda/adapters/dynamo-job-store';
import type { JobEvent } from '../../../lambda/core/job-state';
import { JobStoreError } from '../../../lambda/core/worker';
import { NOW, completed, failed, jobEvent } from './factories';

const TABLE = 'jobs-table';
const dynamo = mockClient(DynamoDBClient);

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

    it('names every attribute through placeholders, so reserved words such as status and history are safe', () => {
      // Act
      const input = buildApplyUpdate(TABLE, completed(), { force: false }, NOW);

      // Assess
      const bareWords = `${input.UpdateExpression} ${input.ConditionExpression}`
        .replace(/[#:][A-Za-z]+/g, '')
        .match(/[A-Za-z_]+/g);
      expect(new Set(bareWords)).toEqual(new Set(['SET', 'REMOVE', 'ADD', 'list_append', 'if_not_exists', 'attribute_not_exists', 'attribute_type', 'NOT', 'IN', 'OR', 'AND', 'contains']));
      expect(input.ExpressionAttributeNames).toMatchObject({ '#status': 'status', '#history': 'history' });
    });

    it('sets the terminal fields a terminal event carries and removes the ones it lacks', () => {
      // Act
      const input = buildApplyUpdate(TABLE, completed({ creditsUsed: undefined }), { force: false }, NOW);

      // Assess
      expect(input.UpdateExpression).toContain('#outputUrl = :outputUrl');
      expect(input.UpdateExpression).toMatch(/ REMOVE #error, #creditsUsed ADD #deliveryIds :deliveryIdSet$/);
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

    it('lets an earlier terminal event win over a later one in the condition', () => {
      // Act
      const input = buildApplyUpdate(TABLE, failed(), { force: false }, NOW);

      // Assess
      expect(input.ConditionExpression).toContain('#lastEventAt > :eventAt');
      expect(input.ConditionExpression).toContain('#lastDeliveryId > :deliveryId');
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
      expect(record.ConditionExpression).toBe('(NOT contains(#deliveryIds, :deliveryId))');
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
});
