import { createHash } from 'node:crypto';
import type { ArchivedDelivery } from '../../../lambda/core/ports';
import { parseQueueMessage } from '../../../lambda/core/worker';
import { toAsciiJson } from '../../../lambda/core/ascii-json';
import {
  deliveryIdFromKey,
  examineArchived,
  formatJobPlan,
  keyMayMatch,
  planJob,
  receivedInWindow,
  replayPrefixes,
  type ExamineOptions,
  type PlannedDelivery,
} from '../../../ops/lib/replay-plan';
import { SECRET, receive } from './support';

const WINDOW = { from: new Date('2026-11-27T10:00:00.000Z'), to: new Date('2026-11-27T11:00:00.000Z') };
const OPTIONS: ExamineOptions = { window: WINDOW, filters: {}, force: false };

async function archivedOne(event: 'job.started' | 'job.completed' | 'job.failed' = 'job.completed', receivedAt = '2026-11-27T10:15:00.000Z') {
  const testbed = await receive([{ deliveryId: 'dlv_a', event, jobId: 'job_a', receivedAt }]);
  const [[key, archived]] = [...testbed.archive.objects.entries()];
  return { testbed, key, archived, location: { bucket: testbed.archive.bucket, key } };
}

function altered(archived: ArchivedDelivery, changes: Partial<ArchivedDelivery>): ArchivedDelivery {
  return { ...archived, ...changes };
}

describe('replay planning', () => {
  describe('the prefixes of a window', () => {
    it('cover each hour the window touches, and the neighbouring hour on either side (late batches and retries)', () => {
      expect(replayPrefixes({ from: new Date('2026-11-27T10:30:00Z'), to: new Date('2026-11-27T12:10:00Z') })).toEqual([
        'raw/2026/11/27/09/',
        'raw/2026/11/27/10/',
        'raw/2026/11/27/11/',
        'raw/2026/11/27/12/',
        'raw/2026/11/27/13/',
      ]);
    });

    it('end with the neighbour of the last hour inside the window, since the end is exclusive', () => {
      expect(replayPrefixes(WINDOW)).toEqual(['raw/2026/11/27/09/', 'raw/2026/11/27/10/', 'raw/2026/11/27/11/']);
    });

    it('cross a day and a year boundary', () => {
      expect(replayPrefixes({ from: new Date('2026-12-31T23:59:00Z'), to: new Date('2027-01-01T00:00:00.001Z') })).toEqual([
        'raw/2026/12/31/22/',
        'raw/2026/12/31/23/',
        'raw/2027/01/01/00/',
        'raw/2027/01/01/01/',
      ]);
    });
  });

  describe('the window edges', () => {
    it.each([
      ['2026-11-27T09:59:59.999Z', false],
      ['2026-11-27T10:00:00.000Z', true],
      ['2026-11-27T10:59:59.999Z', true],
      ['2026-11-27T11:00:00.000Z', false],
    ])('%s is inside [10:00, 11:00): %s', (receivedAt, inside) => {
      expect(receivedInWindow(receivedAt, WINDOW)).toBe(inside);
    });

    it('reports a receipt time that is not an instant', () => {
      expect(receivedInWindow('soon', WINDOW)).toBeUndefined();
    });
  });

  describe('keys', () => {
    it('name the delivery they hold', () => {
      expect(deliveryIdFromKey('raw/2026/11/27/10/dlv_a.json')).toBe('dlv_a');
      expect(deliveryIdFromKey('other/file.txt')).toBeUndefined();
    });

    it('let a --delivery-id replay skip other objects without reading them', () => {
      expect(keyMayMatch('raw/2026/11/27/10/dlv_a.json', { deliveryId: 'dlv_b' })).toBe(false);
      expect(keyMayMatch('raw/2026/11/27/10/dlv_b.json', { deliveryId: 'dlv_b' })).toBe(true);
      expect(keyMayMatch('raw/2026/11/27/10/odd-key', { deliveryId: 'dlv_b' })).toBe(true);
    });
  });

  describe('an archived delivery', () => {
    it('becomes the message the receiver sent, marked as a replay', async () => {
      // Prepare
      const { testbed, archived, location } = await archivedOne();
      const [sent] = testbed.queue.messages;

      // Act
      const result = examineArchived(archived, location, OPTIONS);

      // Assess
      expect(result.kind).toBe('matched');
      if (result.kind !== 'matched') return;
      expect(result.message).toEqual({ ...sent, replay: true, origin: 'replay' });
      expect(parseQueueMessage(toAsciiJson(result.message))).toEqual(result.message);
      expect(result.jobEvent).toMatchObject({ jobId: 'job_a', deliveryId: 'dlv_a', event: 'job.completed', replay: true });
    });

    it('carries force only when asked', async () => {
      const { archived, location } = await archivedOne();
      const result = examineArchived(archived, location, { ...OPTIONS, force: true });
      expect(result.kind === 'matched' && result.message.force).toBe(true);
    });

    it('travels by claim check when the payload would not fit inline', async () => {
      const { archived, location } = await archivedOne();
      const result = examineArchived(archived, location, { ...OPTIONS, inlinePayloadMaxBytes: 100 });
      expect(result.kind === 'matched' && result.message.payload).toBeUndefined();
    });

    it.each([
      ['outside the window', { window: { from: new Date('2026-11-27T11:00:00Z'), to: new Date('2026-11-27T12:00:00Z') } }, 'received outside the window'],
      ['of another event', { filters: { event: 'job.failed' as const } }, 'other event'],
      ['of another job', { filters: { jobId: 'job_b' } }, 'other job'],
      ['of another delivery', { filters: { deliveryId: 'dlv_b' } }, 'other delivery'],
    ])('is skipped when %s', async (_name, options, reason) => {
      const { archived, location } = await archivedOne();
      expect(examineArchived(archived, location, { ...OPTIONS, ...options })).toEqual({ kind: 'skipped', reason });
    });

    it('is matched by job id from the body when the metadata lacks it', async () => {
      const { archived, location } = await archivedOne();
      const result = examineArchived(altered(archived, { jobId: undefined }), location, { ...OPTIONS, filters: { jobId: 'job_a' } });
      expect(result.kind).toBe('matched');
    });
  });

  describe('refusals', () => {
    const tamperedBody = (archived: ArchivedDelivery): ArchivedDelivery => {
      const text = Buffer.from(archived.rawBody).toString('utf8').replace('"credits_used":12', '"credits_used":1');
      return altered(archived, { rawBody: Buffer.from(text, 'utf8') });
    };

    it('refuse a body whose hash differs from the metadata, even without --verify', async () => {
      const { archived, location } = await archivedOne();
      const result = examineArchived(tamperedBody(archived), location, OPTIONS);
      expect(result).toEqual({ kind: 'refused', reason: expect.stringContaining('body sha256 differs') });
    });

    it('refuse, under --verify, a body re-hashed consistently but not signed by the secret', async () => {
      // Prepare: an attacker who can write the object can also rewrite the hash metadata.
      const { archived, location } = await archivedOne();
      const forged = tamperedBody(archived);
      const rehashed = altered(forged, { bodySha256: createHash('sha256').update(forged.rawBody).digest('hex') });

      // Act
      const unverified = examineArchived(rehashed, location, OPTIONS);
      const verified = examineArchived(rehashed, location, { ...OPTIONS, signatureKeys: { kind: 'static', secrets: [SECRET] } });

      // Assess
      expect(unverified.kind).toBe('matched');
      expect(verified).toEqual({ kind: 'refused', reason: expect.stringContaining('signature does not verify') });
    });

    it('accept, under --verify, a delivery signed by any of the given secrets', async () => {
      const { archived, location } = await archivedOne();
      const result = examineArchived(archived, location, { ...OPTIONS, signatureKeys: { kind: 'static', secrets: ['newer', SECRET] } });
      expect(result.kind).toBe('matched');
    });

    it("accept, under --verify, the reconciler's unsigned entry for the reconcile origin only", async () => {
      // Prepare
      const { archived, location } = await archivedOne();
      const entry = altered(archived, { signature: undefined, origin: 'reconcile', deliveryId: 'reconcile:job_1:completed' });
      const verify = { ...OPTIONS, signatureKeys: { kind: 'static' as const, secrets: [SECRET] } };

      // Act
      const accepted = examineArchived(entry, location, verify);
      const webhookNamedLikeIt = examineArchived(altered(entry, { origin: undefined }), location, verify);
      const otherId = examineArchived(altered(entry, { deliveryId: 'dlv_1' }), location, verify);
      const tampered = examineArchived(altered(entry, { bodySha256: '0'.repeat(64) }), location, verify);

      // Assess
      expect(accepted).toMatchObject({ kind: 'matched', message: { deliveryId: 'reconcile:job_1:completed', origin: 'replay', replay: true } });
      expect(webhookNamedLikeIt).toEqual({ kind: 'refused', reason: 'unsigned delivery: nothing to verify' });
      expect(otherId).toEqual({ kind: 'refused', reason: 'unsigned delivery: nothing to verify' });
      expect(tampered.kind).toBe('refused');
    });

    it('refuse, under --verify, an unsigned delivery', async () => {
      const { archived, location } = await archivedOne();
      const result = examineArchived(altered(archived, { signature: undefined }), location, {
        ...OPTIONS,
        signatureKeys: { kind: 'static', secrets: [SECRET] },
      });
      expect(result).toEqual({ kind: 'refused', reason: 'unsigned delivery: nothing to verify' });
    });

    describe('with Secrets Manager versions', () => {
      const rotatedAt = new Date('2026-11-27T10:00:00.000Z');
      const versions = { current: { value: 'new-secret', createdAt: rotatedAt }, previous: { value: SECRET, createdAt: new Date('2026-01-01T00:00:00Z') } };

      it('accept AWSPREVIOUS for deliveries received within the grace period after the rotation', async () => {
        const { archived, location } = await archivedOne('job.completed', '2026-11-27T10:30:00.000Z');
        const result = examineArchived(archived, location, { ...OPTIONS, signatureKeys: { kind: 'versions', signing: versions, graceSeconds: 3600 } });
        expect(result.kind).toBe('matched');
      });

      it('refuse AWSPREVIOUS for deliveries received after the grace period, as the receiver would have', async () => {
        const { archived, location } = await archivedOne('job.completed', '2026-11-27T10:30:00.000Z');
        const result = examineArchived(archived, location, { ...OPTIONS, signatureKeys: { kind: 'versions', signing: versions, graceSeconds: 60 } });
        expect(result.kind).toBe('refused');
      });
    });

    it.each([
      ['metadata naming an unknown event', { event: 'job.deleted' }, 'unknown event "job.deleted" in metadata'],
      ['a receipt time that is not an instant', { receivedAt: 'later' }, 'received-at metadata "later" is not an instant'],
      ['a job id metadata that disagrees with the body', { jobId: 'job_other' }, 'job id metadata job_other disagrees with the body\'s job_a'],
    ])('refuse %s', async (_name, changes, reason) => {
      const { archived, location } = await archivedOne();
      expect(examineArchived(altered(archived, changes), location, OPTIONS)).toEqual({ kind: 'refused', reason });
    });

    it('refuse a body that no longer passes the schema', async () => {
      const { archived, location } = await archivedOne();
      const body = Buffer.from('{"data":{}}');
      const result = examineArchived(altered(archived, { rawBody: body, bodySha256: createHash('sha256').update(body).digest('hex') }), location, OPTIONS);
      expect(result).toEqual({ kind: 'refused', reason: 'archived body fails the payload schema (schema_violation)' });
    });
  });

  describe('a dry-run plan', () => {
    async function plannedDeliveries(): Promise<PlannedDelivery[]> {
      const testbed = await receive([
        { deliveryId: 'dlv_s', event: 'job.started', jobId: 'job_a', receivedAt: '2026-11-27T10:01:00.000Z' },
        { deliveryId: 'dlv_c', event: 'job.completed', jobId: 'job_a', receivedAt: '2026-11-27T10:02:00.000Z' },
      ]);
      return [...testbed.archive.objects.entries()].map(([key, archived]) => {
        const result = examineArchived(archived, { bucket: testbed.archive.bucket, key }, OPTIONS);
        if (result.kind !== 'matched') throw new Error(result.reason);
        return result;
      });
    }

    it('applies everything to a missing item, in receipt order', async () => {
      const plan = planJob('job_a', undefined, (await plannedDeliveries()).reverse(), false);
      expect(plan.steps.map((step) => [step.deliveryId, step.decision])).toEqual([
        ['dlv_s', 'apply'],
        ['dlv_c', 'apply'],
      ]);
      expect(plan.finalStatus).toBe('completed');
    });

    it('shows deliveries the item already holds as duplicates, unless forced', async () => {
      // Prepare
      const current = {
        jobId: 'job_a',
        status: 'completed',
        lastEventAt: '2026-11-27T10:02:00.000Z',
        lastDeliveryId: 'dlv_c',
        deliveryIds: ['dlv_s', 'dlv_c'],
      };
      const planned = await plannedDeliveries();

      // Act
      const plain = planJob('job_a', current, planned, false);
      const forced = planJob('job_a', current, planned, true);

      // Assess: forcing re-applies the winner but still never regresses to started.
      expect(plain.steps.map((step) => step.decision)).toEqual(['duplicate', 'duplicate']);
      expect(forced.steps.map((step) => step.decision)).toEqual(['stale', 'apply']);
      expect(formatJobPlan(plain)[0]).toBe('job job_a: now status completed, last dlv_c at 2026-11-27T10:02:00.000Z; after replay: completed');
      expect(formatJobPlan(plain)[1]).toContain('dlv_s  job.started    already applied');
    });
  });
});
