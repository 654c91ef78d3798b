/**
 * A delivery's archive line as the bytes Firehose receives, encoded once: the
 * route decision measures it and the adapter sends the same bytes.
 */
import type { ArchivedDelivery } from '../ports';
import { encodeArchiveLine } from './record';

const encoded = new WeakMap<ArchivedDelivery, Uint8Array>();

/**
 * `bodyText`, when the caller holds it, is the body as a string whose UTF-8
 * encoding is exactly `rawBody` (the receiver's request body): it spares
 * decoding the bytes again.
 */
export function archiveLineBytes(delivery: ArchivedDelivery, bodyText?: string): Uint8Array {
  let bytes = encoded.get(delivery);
  if (bytes === undefined) {
    bytes = Buffer.from(encodeArchiveLine(delivery, bodyText), 'utf8');
    encoded.set(delivery, bytes);
  }
  return bytes;
}
