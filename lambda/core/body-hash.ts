/**
 * The body hash the receiver stores with the dedupe record and the archived
 * object, and that replay checks the archive against: one definition for both.
 */
import { createHash } from 'node:crypto';

export function bodySha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
