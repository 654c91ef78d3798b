/**
 * The local Firehose stand-in against what AWS documents for a Direct PUT
 * stream with an S3 destination (the stand-in's header lists the pages), over
 * the real SDK client and the stack's own fauxqs S3.
 */
import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { LOCAL_CREDENTIALS } from '../../ops/lib/clients';
import { formatFirehoseTimestamp, renderFirehosePrefix, startFirehoseStandIn, type FirehoseStandIn } from '../../local/stand-ins/firehose';
import { connect, uniqueId, type E2eStack } from './support/stack';

jest.setTimeout(60_000);

describe('the local Firehose stand-in', () => {
  let stack: E2eStack;
  let standIn: FirehoseStandIn;
  let client: FirehoseClient;
  let bucket: string;
  let failNext = 0;
  const stream = 'stand-in-test';

  beforeAll(async () => {
    stack = connect();
    bucket = uniqueId('standin').toLowerCase().replace(/_/g, '-');
    await stack.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    standIn = await startFirehoseStandIn({
      s3: stack.clients.s3,
      region: 'us-east-1',
      // A long interval and a large buffer: objects appear only on flush() here, so each test decides when.
      maxIntervalSeconds: 600,
      streams: [{ name: stream, bucket, prefix: 'raw/!{timestamp:yyyy/MM/dd/HH}/batch/', compression: 'GZIP', fileExtension: '.jsonl.gz', bufferingIntervalSeconds: 600, bufferingSizeMiB: 128 }],
      recordFault: (data) => {
        if (failNext > 0 && data.toString('utf8').includes('fail-me')) {
          failNext -= 1;
          return 'ServiceUnavailableException';
        }
        return undefined;
      },
    });
    client = new FirehoseClient({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, endpoint: standIn.endpoint, maxAttempts: 1 });
  });

  afterAll(async () => {
    client.destroy();
    await standIn.stop();
    stack.clients.destroy();
  });

  const put = (records: string[], name = stream): Promise<PutRecordBatchCommandOutput> =>
    client.send(new PutRecordBatchCommand({ DeliveryStreamName: name, Records: records.map((record) => ({ Data: Buffer.from(record) })) }));

  async function objects(): Promise<{ key: string; text: string }[]> {
    const listed = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return Promise.all(
      (listed.Contents ?? []).map(async ({ Key }) => {
        const object = await stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
        return { key: String(Key), text: gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString('utf8') };
      }),
    );
  }

  it('accepts a batch, answers a RecordId per record, and writes nothing until its buffer flushes', async () => {
    const answer = await put(['{"n":1}\n', '{"n":2}\n']);
    expect(answer.FailedPutCount).toBe(0);
    expect(answer.RequestResponses?.map((entry) => typeof entry.RecordId)).toEqual(['string', 'string']);
    expect(await objects()).toEqual([]);
  });

  it('writes the records concatenated as sent, GZIP-compressed, under the prefix evaluated at the oldest arrival', async () => {
    const before = new Date();
    await standIn.flush();
    const written = await objects();
    expect(written).toHaveLength(1);
    expect(written[0].text).toBe('{"n":1}\n{"n":2}\n');
    expect(written[0].key).toMatch(new RegExp(`^${renderFirehosePrefix('raw/!{timestamp:yyyy/MM/dd/HH}/batch/', before).replace(/\//g, '\\/')}${stream}-1-\\d{4}(-\\d{2}){5}-[0-9a-f-]{36}\\.jsonl\\.gz$`));
  });

  it('reports a record it did not accept inside a 200 answer (FailedPutCount), and keeps only the others', async () => {
    failNext = 1;
    const answer = await put(['{"ok":1}\n', '{"fail-me":1}\n', '{"ok":2}\n']);
    expect(answer.FailedPutCount).toBe(1);
    expect(answer.RequestResponses?.[1]).toMatchObject({ ErrorCode: 'ServiceUnavailableException' });
    expect(answer.RequestResponses?.[1].RecordId).toBeUndefined();
    await standIn.flush();
    expect((await objects()).map((object) => object.text)).toContain('{"ok":1}\n{"ok":2}\n');
  });

  it.each([
    ['more than 500 records', () => put(Array.from({ length: 501 }, () => 'x')), 'InvalidArgumentException'],
    ['a record over 1,000 KiB', () => put(['y'.repeat(1000 * 1024 + 1)]), 'InvalidArgumentException'],
    ['more than 4 MiB in one call', () => put(Array.from({ length: 5 }, () => 'z'.repeat(900 * 1024))), 'InvalidArgumentException'],
    ['an unknown stream', () => put(['x'], 'no-such-stream'), 'ResourceNotFoundException'],
  ])('refuses the whole call for %s', async (_name, call, type) => {
    await expect(call()).rejects.toMatchObject({ name: type });
  });

  it('evaluates the timestamp patterns a prefix uses, in UTC, and refuses others', () => {
    const instant = new Date('2026-01-02T03:04:05.678Z');
    expect(formatFirehoseTimestamp('yyyy/MM/dd/HH', instant)).toBe('2026/01/02/03');
    expect(formatFirehoseTimestamp('yyyy-MM-dd HH:mm:ss', instant)).toBe('2026-01-02 03:04:05');
    expect(() => formatFirehoseTimestamp('YYYY', instant)).toThrow('unsupported timestamp pattern');
    expect(renderFirehosePrefix('a/!{firehose:random-string}/', instant)).toMatch(/^a\/[A-Za-z0-9_-]{11}\/$/);
  });
});
