/** Listing one archive prefix, page by page: a window never scans the whole bucket. */
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

export async function* listArchiveKeys(client: S3Client, bucket: string, prefix: string): AsyncGenerator<string> {
  for await (const page of paginateListObjectsV2({ client, pageSize: 1000 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) yield object.Key;
    }
  }
}
