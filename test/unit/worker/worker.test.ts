import { METRIC, QUEUE_MESSAGE_VERSION } from '../../../lambda/core/contract';
import type { JobEvent } from '../../../lambda/core/job-state';
import type { ApplyOutcome, JobStore } from '../../../lambda/core/ports';
import { LEGACY_CLAIM_CHECK_WINDOW_SECONDS, parseQueueMessage, PoisonMessageError, processBatch } from '../../../lambda/core/worker';
import {
  archivedDelivery,
  InMemoryArchive,
  InMemoryJobStore,
  MissingObjects,
  NOW,
  payloadFor,
  queueMessage,
  record,
  recordingPorts,
} from './factories';

const seconds = (n: number): Date => new Date(NOW.getTime() + n * 1000);

describe('worker core', () => {
  describe('parseQueueMessage', () => {
    it('accepts each known origin', () => {
      for (const origin of ['webhook', 'replay', 'reconcile']) {
        expect(parseQueueMessage(JSON.stringify({ ...queueMessage(), origin })).origin).toBe(origin);
      }
    });

    it('accepts a well-formed message and keeps fields it does not know', () => {
      // Prepare
      const body = JSON.stringify({ ...queueMessage(), traceId: 't-1' });

      // Act
      const message = parseQueueMessage(body);

      // Assess
      expect(message).toMatchObject({ deliveryId: 'dlv_started_1', jobId: 'job_8f3a', traceId: 't-1' });
    });

    it.each([
      ['a body that is not JSON', '{not json', 'invalid_json'],
      ['an unknown message version', JSON.stringify({ ...queueMessage(), v: QUEUE_MESSAGE_VERSION + 1 }), 'unsupported_version'],
      ['an unknown event', JSON.stringify({ ...queueMessage(), event: 'job.paused' }), 'invalid_message'],
      ['a message without an archive location', JSON.stringify({ ...queueMessage(), archive: undefined }), 'invalid_message'],
      ['an unknown origin', JSON.stringify({ ...queueMessage(), origin: 'guess' }), 'invalid_message'],
    ])('rejects %s as poison', (_name, body, reason) => {
      // Act
      const act = () => parseQueueMessage(body);

      // Assess
      expect(act).toThrow(PoisonMessageError);
      expect(act).toThrow(expect.objectContaining({ reason }));
    });
  });

  describe('processBatch', () => {
    it('applies an inline payload and counts it', async () => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      const { ports, logs, metrics } = recordingPorts({ jobStore });

      // Act
      const results = await processBatch([record('m1', queueMessage())], ports);

      // Assess
      expect(results).toEqual([{ messageId: 'm1', ok: true, outcome: 'applied', deliveryId: 'dlv_started_1' }]);
      expect(jobStore.items.get('job_8f3a')).toMatchObject({ status: 'started', model: 'original', lastDeliveryId: 'dlv_started_1' });
      expect(metrics).toEqual([METRIC.applied]);
      // Applied records are listed in the batch's one line (the handler's), not one line each.
      expect(logs).toEqual([]);
    });

    it('reads a payload that did not fit in the message from the archive (claim check)', async () => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      const archive = new InMemoryArchive();
      const message = queueMessage({ event: 'job.completed', deliveryId: 'dlv_big', payload: undefined });
      const rawBody = JSON.stringify(payloadFor('job.completed', 'job_8f3a', { notes: 'x'.repeat(100_000) }));
      archive.objects.set(message.archive.key, archivedDelivery(message, rawBody));
      const { ports } = recordingPorts({ jobStore, archive });

      // Act
      const results = await processBatch([record('m1', message)], ports);

      // Assess
      expect(results).toEqual([{ messageId: 'm1', ok: true, outcome: 'applied', deliveryId: 'dlv_big' }]);
      expect(archive.reads).toEqual([message.archive]);
      expect(jobStore.items.get('job_8f3a')).toMatchObject({ status: 'completed', outputUrl: 'https://cdn.example.com/out/job_8f3a.webm' });
    });

    it('returns a record whose archived object cannot be read, as a retryable failure', async () => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      const { ports, metrics } = recordingPorts({ jobStore });

      // Act
      const results = await processBatch([record('m1', queueMessage({ payload: undefined }))], ports);

      // Assess
      expect(results).toEqual([{ messageId: 'm1', ok: false, poison: false }]);
      expect(metrics).toEqual([METRIC.workerRecordFailure]);
    });

    it.each([
      ['a body that is not JSON', '{oops', undefined, 'invalid_json'],
      ['an unknown version', { ...queueMessage({ deliveryId: 'dlv_v9' }), v: 9 }, 'dlv_v9', 'unsupported_version'],
      [
        'a payload that violates the schema',
        queueMessage({ deliveryId: 'dlv_bad', event: 'job.completed', payload: payloadFor('job.completed', 'job_8f3a', { output_url: undefined }) }),
        'dlv_bad',
        'invalid_payload',
      ],
      ['a payload for another job', queueMessage({ deliveryId: 'dlv_other', payload: payloadFor('job.started', 'job_zzz') }), 'dlv_other', 'job_id_mismatch'],
    ])('reports a poison message (%s) as failed, counted and logged with its delivery id', async (_name, body, deliveryId, reason) => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      const { ports, logs, metrics } = recordingPorts({ jobStore });

      // Act
      const results = await processBatch([record('m1', body)], ports);

      // Assess
      expect(results).toEqual([{ messageId: 'm1', ok: false, poison: true }]);
      expect(metrics).toEqual([METRIC.poisonMessage]);
      expect(logs).toEqual([
        expect.objectContaining({
          level: 'error',
          message: 'Poison message',
          correlationId: deliveryId,
          attributes: expect.objectContaining({ messageId: 'm1', deliveryId, reason }),
        }),
      ]);
      expect(jobStore.calls).toEqual([]);
    });

    it('reports an archived object of another delivery as poison', async () => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      const archive = new InMemoryArchive();
      const message = queueMessage({ payload: undefined });
      archive.objects.set(message.archive.key, { ...archivedDelivery(message, JSON.stringify(payloadFor('job.started'))), deliveryId: 'dlv_else' });
      const { ports } = recordingPorts({ jobStore, archive });

      // Act
      const results = await processBatch([record('m1', message)], ports);

      // Assess
      expect(results).toEqual([{ messageId: 'm1', ok: false, poison: true }]);
    });

    it('counts duplicate, stale and conflicting deliveries as successes', async () => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      const { ports, logs, metrics } = recordingPorts({ jobStore });
      const completedMessage = queueMessage({ event: 'job.completed', deliveryId: 'dlv_done' });
      const failedMessage = queueMessage({
        event: 'job.failed',
        deliveryId: 'dlv_fail',
        payload: { ...payloadFor('job.failed'), created_at: '2026-11-27T11:00:00.000Z' },
      });
      const startedMessage = queueMessage({ deliveryId: 'dlv_start' });
      const batch = [record('m1', completedMessage), record('m2', completedMessage), record('m3', startedMessage), record('m4', failedMessage)];

      // Act
      const results = await processBatch(batch, ports);

      // Assess
      expect(results.map((r) => (r.ok ? r.outcome : 'failed'))).toEqual(['applied', 'duplicate', 'stale', 'conflict']);
      expect(metrics).toEqual([METRIC.applied, METRIC.alreadyApplied, METRIC.staleIgnored, METRIC.terminalConflict]);
      expect(logs.at(-1)).toMatchObject({ level: 'warn', correlationId: 'dlv_fail', attributes: { outcome: 'conflict' } });
    });

    it('returns only the record whose store call failed', async () => {
      // Prepare
      const inner = new InMemoryJobStore();
      const jobStore: JobStore = {
        apply: async (event, options) => {
          if (event.jobId === 'job_b') throw new Error('ThrottlingException');
          return inner.apply(event, options);
        },
        get: (jobId) => inner.get(jobId),
      };
      const { ports, metrics } = recordingPorts({ jobStore });
      const batch = ['job_a', 'job_b', 'job_c'].map((jobId, i) =>
        record(`m${i}`, queueMessage({ jobId, deliveryId: `dlv_${jobId}`, payload: payloadFor('job.started', jobId) })),
      );

      // Act
      const results = await processBatch(batch, ports);

      // Assess
      expect(results.filter((r) => !r.ok)).toEqual([{ messageId: 'm1', ok: false, poison: false }]);
      expect(metrics.filter((m) => m === METRIC.workerRecordFailure)).toHaveLength(1);
    });

    it('processes records of one job one after another, in order, and different jobs concurrently', async () => {
      // Prepare
      const inFlight = new Map<string, number>();
      const order: string[] = [];
      let maxPerJob = 0;
      let maxOverall = 0;
      let overall = 0;
      const jobStore: JobStore = {
        apply: async (event: JobEvent): Promise<ApplyOutcome> => {
          inFlight.set(event.jobId, (inFlight.get(event.jobId) ?? 0) + 1);
          overall += 1;
          maxPerJob = Math.max(maxPerJob, inFlight.get(event.jobId) ?? 0);
          maxOverall = Math.max(maxOverall, overall);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(event.deliveryId);
          inFlight.set(event.jobId, (inFlight.get(event.jobId) ?? 0) - 1);
          overall -= 1;
          return 'applied';
        },
        get: async () => undefined,
      };
      const { ports } = recordingPorts({ jobStore });
      const message = (jobId: string, deliveryId: string) =>
        queueMessage({ jobId, deliveryId, payload: payloadFor('job.started', jobId) });
      const batch = [
        record('m1', message('job_a', 'a1')),
        record('m2', message('job_b', 'b1')),
        record('m3', message('job_a', 'a2')),
        record('m4', message('job_a', 'a3')),
      ];

      // Act
      await processBatch(batch, ports);

      // Assess
      expect(maxPerJob).toBe(1);
      expect(maxOverall).toBe(2);
      expect(order.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    });

    it.each([
      { maxConcurrency: 3, jobs: 7, expected: 3 },
      { maxConcurrency: undefined, jobs: 12, expected: 10 },
      { maxConcurrency: 0, jobs: 4, expected: 1 },
    ])('keeps at most $expected jobs in flight when a batch holds $jobs jobs and maxConcurrency is $maxConcurrency', async ({ maxConcurrency, jobs, expected }) => {
      // Prepare
      let overall = 0;
      let maxOverall = 0;
      const applied: string[] = [];
      const jobStore: JobStore = {
        apply: async (event: JobEvent): Promise<ApplyOutcome> => {
          overall += 1;
          maxOverall = Math.max(maxOverall, overall);
          await new Promise((resolve) => setTimeout(resolve, 5));
          overall -= 1;
          applied.push(event.jobId);
          return 'applied';
        },
        get: async () => undefined,
      };
      const { ports } = recordingPorts({ jobStore });
      const batch = Array.from({ length: jobs }, (_, index) =>
        record(`m${index}`, queueMessage({ jobId: `job_${index}`, deliveryId: `dlv_${index}`, payload: payloadFor('job.started', `job_${index}`) })),
      );

      // Act
      const results = await processBatch(batch, { ...ports, maxConcurrency });

      // Assess: the limit is reached, never passed, and every job is still applied.
      expect(maxOverall).toBe(expected);
      expect(results.every((result) => result.ok)).toBe(true);
      expect(applied.sort()).toEqual(batch.map((_, index) => `job_${index}`).sort());
    });

    describe('when a claim-checked object does not exist', () => {
      it('drops the message once its archiveBy has passed: the attempt that sent it never acknowledged', async () => {
        // Prepare
        const jobStore = new InMemoryJobStore();
        const { ports, logs, metrics } = recordingPorts({ jobStore, archive: new MissingObjects() });
        const message = queueMessage({ deliveryId: 'dlv_orphan', payload: undefined, archiveBy: seconds(-5).toISOString() });

        // Act
        const results = await processBatch([record('m1', message)], ports);

        // Assess
        expect(results).toEqual([{ messageId: 'm1', ok: true, outcome: 'orphan', deliveryId: 'dlv_orphan' }]);
        expect(metrics).toEqual([METRIC.claimCheckOrphan]);
        expect(logs).toEqual([expect.objectContaining({ level: 'warn', message: 'Claim-checked message dropped: its archive object was never written' })]);
        expect(jobStore.calls).toEqual([]);
      });

      it('retries soon, not after the visibility timeout, while archiveBy has not passed', async () => {
        // Prepare
        const { ports, metrics } = recordingPorts({ jobStore: new InMemoryJobStore(), archive: new MissingObjects() });
        const message = queueMessage({ payload: undefined, archiveBy: seconds(4).toISOString() });

        // Act
        const results = await processBatch([record('m1', message)], ports);

        // Assess: four seconds to the deadline, plus the second of clock slack.
        expect(results).toEqual([{ messageId: 'm1', ok: false, poison: false, retryInSeconds: 5 }]);
        expect(metrics).toEqual([METRIC.claimCheckPending]);
      });

      it('dates a message without archiveBy (an older receiver, which enqueued beside the write) by when SQS got it', async () => {
        // Prepare
        const { ports } = recordingPorts({ jobStore: new InMemoryJobStore(), archive: new MissingObjects() });
        const message = queueMessage({ deliveryId: 'dlv_legacy', payload: undefined });
        const young = { ...record('m1', message), sentAt: seconds(-1) };
        const old = { ...record('m2', message), sentAt: seconds(-LEGACY_CLAIM_CHECK_WINDOW_SECONDS - 2) };

        // Act
        const results = await processBatch([young, old], ports);

        // Assess
        expect(results[0]).toMatchObject({ ok: false, retryInSeconds: LEGACY_CLAIM_CHECK_WINDOW_SECONDS });
        expect(results[1]).toMatchObject({ ok: true, outcome: 'orphan' });
      });

      it('reports a replayed claim check whose object is gone as poison: the replay read it, so it was deleted since', async () => {
        // Prepare
        const { ports } = recordingPorts({ jobStore: new InMemoryJobStore(), archive: new MissingObjects() });
        const message = queueMessage({ payload: undefined, replay: true, origin: 'replay', archiveBy: seconds(-60).toISOString() });

        // Act
        const results = await processBatch([record('m1', message)], ports);

        // Assess
        expect(results).toEqual([{ messageId: 'm1', ok: false, poison: true }]);
      });
    });

    it('leaves records unstarted, for the queue to bring back, when the invocation is running out of time', async () => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      let remaining = 10_000;
      const { ports } = recordingPorts({ jobStore });
      const timed = { ...ports, maxConcurrency: 1, recordBudgetMs: 5_000, remainingMs: () => (remaining -= 4_000) };
      const messages = ['job_a', 'job_b', 'job_c'].map((jobId, index) =>
        record(`m${index}`, queueMessage({ jobId, deliveryId: `dlv_${jobId}`, payload: payloadFor('job.started', jobId) })),
      );

      // Act
      const results = await processBatch(messages, timed);

      // Assess: 6 s left before the first (started), 2 s before the second (not).
      expect(results.map((result) => result.ok)).toEqual([true, false, false]);
      expect(results[1]).toMatchObject({ poison: false, unstarted: true });
      expect(jobStore.calls).toHaveLength(1);
    });

    it('hands a forced replay to the store as forced and marks it a replay', async () => {
      // Prepare
      const jobStore = new InMemoryJobStore();
      const { ports } = recordingPorts({ jobStore });
      const message = queueMessage({ event: 'job.completed', deliveryId: 'dlv_done' });

      // Act
      await processBatch([record('m1', message)], ports);
      const results = await processBatch([record('m2', { ...message, force: true })], ports);

      // Assess
      expect(results).toEqual([{ messageId: 'm2', ok: true, outcome: 'applied', deliveryId: 'dlv_done' }]);
      expect(jobStore.calls.at(-1)).toMatchObject({ replay: true });
      expect(jobStore.items.get('job_8f3a')?.history?.map((h) => h.replay ?? false)).toEqual([false, true]);
    });
  });
});
