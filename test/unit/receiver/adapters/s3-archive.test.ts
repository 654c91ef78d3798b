import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { S3Archive } from '../../../../lambda/adapters/s3-archive';
import { ArchiveError, ArchiveObjectMissingError } from '../../../../lambda/core/errors';
import type { ArchivedDelivery } from '../../../../lambda/core/ports';

const s3 = mockClient(S3Client);
const archive = new S3Archive(new S3Client({ region: 'eu-west-1' }), 'archive-bucket');
const body = Buffer.from('{"data":{"job_id":"job_ü"},"note":"🎬"}', 'utf8');
const delivery: ArchivedDelivery = {
  rawBody: body,
  event: 'job.completed',
  deliveryId: 'dlv_1',
  timestamp: '2026-11-27T10:00:00.000Z',
  signature: `sha256=${'ab'.repeat(32)}`,
  receivedAt: '2026-11-27T10:00:00.100Z',
  bodySha256: createHash('sha256').update(body).digest('hex'),
  jobId: 'job_ü',
};

/** The one method of the SDK's stream mixin the adapter uses. */
function streamOf(bytes: Buffer): GetObjectCommandOutput['Body'] {
  return { transformToByteArray: async () => new Uint8Array(bytes) } as unknown as GetObjectCommandOutput['Body'];
}

beforeEach(() => s3.reset());

describe('S3Archive', () => {
  describe('put', () => {
    it('stores the exact raw bytes with the signed headers as metadata', async () => {
      // Prepare
      s3.on(PutObjectCommand).resolves({});

      // Act
      const location = await archive.put('raw/2026/11/27/10/dlv_1.json', delivery);

      // Assess
      expect(location).toEqual({ bucket: 'archive-bucket', key: 'raw/2026/11/27/10/dlv_1.json' });
      const input = s3.commandCalls(PutObjectCommand)[0].args[0].input;
      expect(Buffer.from(input.Body as Uint8Array).equals(body)).toBe(true);
      expect(input).toMatchObject({
        Bucket: 'archive-bucket',
        Key: 'raw/2026/11/27/10/dlv_1.json',
        ContentType: 'application/json',
        ChecksumSHA256: Buffer.from(delivery.bodySha256, 'hex').toString('base64'),
        Metadata: {
          'webhook-event': 'job.completed',
          'webhook-delivery-id': 'dlv_1',
          'webhook-timestamp': '2026-11-27T10:00:00.000Z',
          'webhook-signature': delivery.signature,
          'received-at': '2026-11-27T10:00:00.100Z',
          'body-sha256': delivery.bodySha256,
          'job-id': 'job_%C3%BC',
        },
      });
    });

    it('leaves out a job id too long for S3 metadata', async () => {
      s3.on(PutObjectCommand).resolves({});
      await archive.put('k', { ...delivery, jobId: 'ü'.repeat(256) });
      expect(s3.commandCalls(PutObjectCommand)[0].args[0].input.Metadata).not.toHaveProperty('job-id');
    });

    it('wraps S3 failures in a transient ArchiveError with the cause', async () => {
      const cause = Object.assign(new Error('Slow Down'), { name: 'SlowDown' });
      s3.on(PutObjectCommand).rejects(cause);
      await expect(archive.put('k', delivery)).rejects.toMatchObject({ name: 'ArchiveError', transient: true, cause });
    });
  });

  describe('get', () => {
    it('reads back the bytes and every field the replay needs', async () => {
      // Prepare
      s3.on(PutObjectCommand).resolves({});
      await archive.put('k', delivery);
      const metadata = s3.commandCalls(PutObjectCommand)[0].args[0].input.Metadata;
      s3.on(GetObjectCommand).resolves({ Body: streamOf(body), Metadata: metadata });

      // Act
      const read = await archive.get({ bucket: 'archive-bucket', key: 'k' });

      // Assess
      expect({ ...read, rawBody: Buffer.from(read.rawBody) }).toEqual({ ...delivery, rawBody: body });
    });

    it('fails with ArchiveError when the object is missing', async () => {
      s3.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));
      await expect(archive.get({ bucket: 'archive-bucket', key: 'k' })).rejects.toBeInstanceOf(ArchiveError);
    });

    it('fails with ArchiveError when the metadata is incomplete', async () => {
      s3.on(GetObjectCommand).resolves({ Body: streamOf(body), Metadata: {} });
      await expect(archive.get({ bucket: 'archive-bucket', key: 'k' })).rejects.toThrow(/lacks metadata/);
    });
  });

  describe('get of a key that does not exist', () => {
    it('says the object is missing (S3 NoSuchKey, which a reader allowed s3:ListBucket gets), not just that the read failed', async () => {
      s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
      const read = archive.get({ bucket: 'archive-bucket', key: 'raw/2026/11/27/10/dlv_gone.json' });
      await expect(read).rejects.toBeInstanceOf(ArchiveObjectMissingError);
      await expect(read).rejects.toThrow('archive object raw/2026/11/27/10/dlv_gone.json does not exist');
    });

    it('keeps AccessDenied a plain archive failure (retried), never a missing object (dropped)', async () => {
      s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
      const failure = await archive.get({ bucket: 'archive-bucket', key: 'raw/x.json' }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ArchiveError);
      expect(failure).not.toBeInstanceOf(ArchiveObjectMissingError);
    });
  });

  describe('attempt time and origin', () => {
    it("are kept as metadata and read back (a webhook's origin is left implicit)", async () => {
      s3.on(PutObjectCommand).resolves({});
      await archive.put('raw/k.json', { ...delivery, attemptAt: '2026-11-27T10:00:30.000Z', origin: 'reconcile' });
      const metadata = s3.commandCalls(PutObjectCommand)[0].args[0].input.Metadata ?? {};
      expect(metadata).toMatchObject({ 'attempt-at': '2026-11-27T10:00:30.000Z', origin: 'reconcile' });
      s3.on(GetObjectCommand).resolves({ Body: streamOf(body), Metadata: metadata });
      expect(await archive.get({ bucket: 'archive-bucket', key: 'raw/k.json' })).toMatchObject({ attemptAt: '2026-11-27T10:00:30.000Z', origin: 'reconcile' });
    });
  });
});
