/**
 * The open-jobs index and the reconciler's marks on the jobs table. Queries
 * read the GSI (eventually consistent, as every GSI read is): an entry a moment
 * stale at worst makes one redundant provider call, whose synthetic delivery
 * the worker then absorbs as a duplicate. Marks are conditional on the job
 * still being open, so a mark never lands on a finished job, and never creates
 * an item that does not exist.
 */
import { type AttributeValue, type DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { JOB_ATTRIBUTES, OPEN_JOBS_INDEX, TABLE_KEYS } from '../core/contract';
import type { FlagReason, JobMarks, MarkResult, OpenJobEntry, OpenJobIndex } from '../core/reconcile/ports';

/** The reconciler's store failed (throttling, network, access denied). */
export class ReconcileStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReconcileStoreError';
  }
}

export interface DynamoOpenJobsProps {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Items per Query page. @default DynamoDB's own 1 MB page */
  readonly pageSize?: number;
}

export class DynamoOpenJobs implements OpenJobIndex, JobMarks {
  constructor(private readonly props: DynamoOpenJobsProps) {}

  async *query(shard: number, openedBefore: string): AsyncIterable<OpenJobEntry> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      let page;
      try {
        page = await this.props.client.send(
          new QueryCommand({
            TableName: this.props.tableName,
            IndexName: OPEN_JOBS_INDEX.name,
            KeyConditionExpression: '#shard = :shard AND #openedAt < :before',
            ExpressionAttributeNames: { '#shard': OPEN_JOBS_INDEX.shardAttribute, '#openedAt': OPEN_JOBS_INDEX.openedAtAttribute },
            ExpressionAttributeValues: { ':shard': { N: String(shard) }, ':before': { S: openedBefore } },
            ExclusiveStartKey: start,
            ...(this.props.pageSize !== undefined ? { Limit: this.props.pageSize } : {}),
          }),
        );
      } catch (error) {
        throw new ReconcileStoreError(`open-jobs query of shard ${shard} failed (${errorName(error)})`, { cause: error });
      }
      for (const item of page.Items ?? []) {
        const jobId = item[TABLE_KEYS.jobs.partitionKey]?.S;
        const openedAt = item[OPEN_JOBS_INDEX.openedAtAttribute]?.S;
        if (jobId === undefined || openedAt === undefined) continue;
        const checkedAt = item[JOB_ATTRIBUTES.reconcileCheckedAt]?.S;
        const flag = item[JOB_ATTRIBUTES.reconcileFlag]?.S;
        yield { jobId, openedAt, ...(checkedAt !== undefined ? { checkedAt } : {}), ...(flag !== undefined ? { flag } : {}) };
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  markChecked(jobId: string, at: Date, providerStatus: string): Promise<MarkResult> {
    return this.mark(jobId, { [JOB_ATTRIBUTES.reconcileCheckedAt]: at.toISOString(), [JOB_ATTRIBUTES.reconcileProviderStatus]: providerStatus });
  }

  flag(jobId: string, reason: FlagReason, at: Date, providerStatus?: string): Promise<MarkResult> {
    return this.mark(jobId, {
      [JOB_ATTRIBUTES.reconcileFlag]: reason,
      [JOB_ATTRIBUTES.reconcileCheckedAt]: at.toISOString(),
      ...(providerStatus !== undefined ? { [JOB_ATTRIBUTES.reconcileProviderStatus]: providerStatus } : {}),
    });
  }

  private async mark(jobId: string, fields: Record<string, string>): Promise<MarkResult> {
    const names: Record<string, string> = { '#openShard': JOB_ATTRIBUTES.openShard };
    const values: Record<string, AttributeValue> = {};
    const set = Object.entries(fields).map(([name, value], index) => {
      names[`#f${index}`] = name;
      values[`:f${index}`] = { S: value };
      return `#f${index} = :f${index}`;
    });
    try {
      await this.props.client.send(
        new UpdateItemCommand({
          TableName: this.props.tableName,
          Key: { [TABLE_KEYS.jobs.partitionKey]: { S: jobId } },
          UpdateExpression: `SET ${set.join(', ')}`,
          // Open jobs only: closed meanwhile (or never existed) means there is nothing to mark.
          ConditionExpression: 'attribute_exists(#openShard)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'marked';
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return 'closed';
      throw new ReconcileStoreError(`could not mark job ${jobId} (${errorName(error)})`, { cause: error });
    }
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}
