/**
 * DynamoDB stream records as Lambda hands them over (attribute values in the
 * low-level JSON shape, binary values base64-encoded) decoded into the core's
 * `JobChange`. Sets become arrays, binary values stay base64 strings (JSON has
 * no bytes), and numbers become numbers unless that would lose digits.
 *
 * Records read with the DynamoDB Streams API itself (the local stream runner,
 * the redrive tool) are first put in Lambda's shape by `toLambdaRecord`, so
 * every reader decodes them the same way.
 */
import type { _Record, AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import type { JobChange } from '../core/publish/job-event';

export class StreamRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamRecordError';
  }
}

function numberOf(text: string): number | string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  // An integer beyond 2^53 (an id, say) keeps its digits as a string.
  return /^-?\d+$/.test(text.trim()) && !Number.isSafeInteger(value) ? text : value;
}

export function fromStreamValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return numberOf(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) return fromStreamImage(value.M);
  if (value.L !== undefined) return value.L.map(fromStreamValue);
  if (value.SS !== undefined) return [...value.SS];
  if (value.NS !== undefined) return value.NS.map(numberOf);
  if (value.B !== undefined) return value.B;
  if (value.BS !== undefined) return [...value.BS];
  return undefined;
}

export function fromStreamImage(image: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, fromStreamValue(value)]));
}

export function toJobChange(record: DynamoDBRecord): JobChange {
  const stream = record.dynamodb;
  const sequenceNumber = stream?.SequenceNumber;
  if (sequenceNumber === undefined || record.eventName === undefined) {
    throw new StreamRecordError(`stream record ${record.eventID ?? '(no id)'} has no sequence number or event name`);
  }
  return {
    sequenceNumber,
    eventName: record.eventName,
    ...(stream?.OldImage ? { oldImage: fromStreamImage(stream.OldImage) } : {}),
    ...(stream?.NewImage ? { newImage: fromStreamImage(stream.NewImage) } : {}),
    // Lambda gives epoch seconds (a number, possibly with a fraction).
    ...(typeof stream?.ApproximateCreationDateTime === 'number' ? { changedAt: Math.round(stream.ApproximateCreationDateTime * 1000) } : {}),
  };
}

/** SDK attribute values (bytes) to Lambda's JSON shape (base64). */
function toLambdaValue(value: SdkAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((each) => Buffer.from(each).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  return value as AttributeValue;
}

function toLambdaImage(image: Record<string, SdkAttributeValue> | undefined): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image ?? {}).map(([name, value]) => [name, toLambdaValue(value)]));
}

/** A record from GetRecords, as Lambda's event source would hand it to the function. */
export function toLambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...(stream.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      Keys: toLambdaImage(stream.Keys),
      ...(stream.NewImage ? { NewImage: toLambdaImage(stream.NewImage) } : {}),
      ...(stream.OldImage ? { OldImage: toLambdaImage(stream.OldImage) } : {}),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
}
