/** An in-memory DynamoDB Streams API for tests: one stream, shards that can close, trim and split. */
import type { _Record } from '@aws-sdk/client-dynamodb-streams';

export const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/jobs/stream/2026-11-27T00:00:00.000';

export interface FakeShard {
  readonly id: string;
  readonly parent?: string;
  readonly records: _Record[];
  closed: boolean;
  /** Records before this index are gone (trimmed). */
  trimmedBefore: number;
}

/** An in-memory DynamoDB Streams API: DescribeStream, GetShardIterator, GetRecords. */
export class FakeStreams {
  readonly shards: FakeShard[] = [{ id: 'shard-1', records: [], closed: false, trimmedBefore: 0 }];
  /** Errors to throw on the next calls of a command, by name. */
  readonly failNext: Record<string, string[]> = {};
  private sequence = 0;
  readonly calls: string[] = [];

  put(
    status: string | undefined,
    options: { eventName?: 'INSERT' | 'MODIFY' | 'REMOVE'; shard?: string; createdAt?: Date; bytes?: Uint8Array; jobId?: string; oldStatus?: string } = {},
  ): string {
    this.sequence += 1;
    const sequenceNumber = String(this.sequence).padStart(21, '0');
    const shard = this.shards.find((each) => each.id === (options.shard ?? this.shards[this.shards.length - 1].id))!;
    shard.records.push({
      eventID: `e${this.sequence}`,
      eventName: options.eventName ?? 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: options.createdAt ?? new Date(),
        Keys: { jobId: { S: options.jobId ?? `job_${this.sequence}` } },
        ...(options.oldStatus ? { OldImage: { jobId: { S: options.jobId ?? `job_${this.sequence}` }, status: { S: options.oldStatus } } } : {}),
        NewImage: {
          jobId: { S: options.jobId ?? `job_${this.sequence}` },
          ...(status ? { status: { S: status } } : {}),
          ...(options.bytes ? { thumbnail: { B: options.bytes } } : {}),
        },
        SequenceNumber: sequenceNumber,
        SizeBytes: 40,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    return sequenceNumber;
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    this.calls.push(name);
    const fault = this.failNext[name]?.shift();
    if (fault) throw Object.assign(new Error(fault), { name: fault });
    const input = command.input;
    if (name === 'DescribeStream') {
      return { StreamDescription: { Shards: this.shards.map((shard) => ({ ShardId: shard.id, ...(shard.parent ? { ParentShardId: shard.parent } : {}) })) } };
    }
    if (name === 'GetShardIterator') {
      const shard = this.shards.find((each) => each.id === input.ShardId)!;
      let position = shard.trimmedBefore;
      if (input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' || input.ShardIteratorType === 'AT_SEQUENCE_NUMBER') {
        const index = shard.records.findIndex((record) => record.dynamodb?.SequenceNumber === input.SequenceNumber);
        if (index < shard.trimmedBefore) throw Object.assign(new Error('trimmed'), { name: 'TrimmedDataAccessException' });
        position = input.ShardIteratorType === 'AT_SEQUENCE_NUMBER' ? index : index + 1;
      }
      return { ShardIterator: JSON.stringify({ shard: shard.id, position }) };
    }
    if (name === 'GetRecords') {
      const { shard: id, position } = JSON.parse(String(input.ShardIterator)) as { shard: string; position: number };
      const shard = this.shards.find((each) => each.id === id)!;
      if (position < shard.trimmedBefore) throw Object.assign(new Error('trimmed'), { name: 'TrimmedDataAccessException' });
      const records = shard.records.slice(position, position + Number(input.Limit ?? 1000));
      const next = position + records.length;
      const finished = shard.closed && next >= shard.records.length;
      return { Records: records, ...(finished ? {} : { NextShardIterator: JSON.stringify({ shard: id, position: next }) }) };
    }
    throw new Error(`unexpected ${name}`);
  }
}

