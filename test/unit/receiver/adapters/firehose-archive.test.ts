import { FirehoseClient, PutRecordBatchCommand, ServiceUnavailableException } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { FirehoseArchive } from '../../../../lambda/adapters/firehose-archive';
import { bodySha256 } from '../../../../lambda/core/body-hash';
import { encodeArchiveLine } from '../../../../lambda/core/archive/record';
import { BatchArchiveError } from '../../../../lambda/core/errors';
import type { ArchivedDelivery } from '../../../../lambda/core/ports';

const firehose = mockClient(FirehoseClient);
const archive = new FirehoseArchive(new FirehoseClient({ region: 'eu-west-1' }), 'webhook-archive');

function entry(deliveryId: string, body = '{"data":{"job_id":"job_1"}}'): ArchivedDelivery {
  const rawBody = Buffer.from(body);
  return { rawBody, event: 'job.started', deliveryId, timestamp: '2026-11-27T10:00:00Z', receivedAt: '2026-11-27T10:00:01.000Z', bodySha256: bodySha256(rawBody) };
}

beforeEach(() => firehose.reset());

describe('FirehoseArchive', () => {
  it('sends each entry as one record, its archive line, to the stream', async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'r1' }] });
    const delivery = entry('dlv_1');

    // Act
    await archive.append([delivery]);

    // Assess
    const input = firehose.commandCalls(PutRecordBatchCommand)[0].args[0].input;
    expect(input.DeliveryStreamName).toBe('webhook-archive');
    expect(input.Records?.map((record) => Buffer.from(record.Data ?? []).toString('utf8'))).toEqual([encodeArchiveLine(delivery)]);
  });

  it('fails, naming them, the entries a 200 answer reports failed inside it (FailedPutCount)', async () => {
    // Prepare
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 1,
      RequestResponses: [{ RecordId: 'r1' }, { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }, { RecordId: 'r3' }],
    });

    // Act
    const failure = await archive.append([entry('a'), entry('b'), entry('c')]).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(BatchArchiveError);
    expect((failure as BatchArchiveError).failed).toEqual([1]);
    expect((failure as Error).message).toBe('archive append failed for 1 of 3 entries (Error)');
  });

  it('treats an answer without a RecordId for an entry as that entry not accepted', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 1, RequestResponses: [] });
    const failure = await archive.append([entry('a')]).catch((error: unknown) => error);
    expect((failure as BatchArchiveError).failed).toEqual([0]);
  });

  it('fails every entry of a call that is throttled or unanswered', async () => {
    firehose.on(PutRecordBatchCommand).rejects(new ServiceUnavailableException({ message: 'Slow down.', $metadata: {} }));
    const failure = await archive.append([entry('a'), entry('b')]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BatchArchiveError);
    expect((failure as BatchArchiveError).failed).toEqual([0, 1]);
    expect((failure as Error).message).toContain('ServiceUnavailableException');
  });

  it('splits many entries into calls of at most 500 records', async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({ FailedPutCount: 0, RequestResponses: input.Records.map((_, index) => ({ RecordId: String(index) })) }));
    await archive.append(Array.from({ length: 1201 }, (_, index) => entry(`dlv_${index}`)));
    expect(firehose.commandCalls(PutRecordBatchCommand).map((call) => call.args[0].input.Records?.length)).toEqual([500, 500, 201]);
  });

  it('refuses, before any call, an entry whose line passes the 1,000 KiB record limit', async () => {
    const failure = await archive.append([entry('a'), entry('huge', `{"x":"${'y'.repeat(1000 * 1024)}"}`)]).catch((error: unknown) => error);
    expect((failure as BatchArchiveError).failed).toEqual([1]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });
});
