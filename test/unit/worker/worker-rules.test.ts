/**
 * The worker core's rules at their edges: its error types (the handler logs
 * them by name and decides on `transient`), what each queue-message field
 * accepts, the claim check's deadline to the millisecond, the time budget, and
 * the keys of every log line an operator searches by.
 */
import { METRIC, QUEUE_MESSAGE_VERSION } from '../../../lambda/core/contract';
import type { JobStore } from '../../../lambda/core/ports';
import {
  ClaimCheckOrphanError,
  ClaimCheckPendingError,
  JobStoreError,
  loadPayload,
  parseQueueMessage,
  PoisonMessageError,
  processBatch,
  WorkerConfigurationError,
  WorkerError,
  type DeadLetter,
} from '../../../lambda/core/worker';
import { archivedDelivery, InMemoryArchive, InMemoryJobStore, MissingObjects, NOW, payloadFor, queueMessage, record, recordingPorts } from './factories';

const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const body = (value: unknown): string => JSON.stringify(value);
/** The keys every record's log line carries, for the default queue message received as `m1`. */
const RECORD_KEYS = { messageId: 'm1', deliveryId: 'dlv_started_1', jobId: 'job_8f3a', event: 'job.started' };

function throwingStore(error: unknown): JobStore {
  return {
    apply: async () => {
      throw error;
    },
    get: async () => undefined,
  };
}

function poisonOf(text: string): PoisonMessageError {
  try {
    parseQueueMessage(text);
  } catch (error) {
    if (error instanceof PoisonMessageError) return error;
    throw error;
  }
  throw new Error('parseQueueMessage accepted the message');
}

describe('the worker errors', () => {
  it('are final by default, named for the logs, and carry a cause only when given one', () => {
    const cause = new Error('socket hang up');
    expect(new WorkerError('broke')).toMatchObject({ name: 'WorkerError', message: 'broke', transient: false });
    expect(new WorkerError('broke')).not.toHaveProperty('cause');
    expect(new WorkerError('broke', { cause, transient: true })).toMatchObject({ cause, transient: true });
  });

  it('make a jobs-table failure transient unless the adapter says it is final', () => {
    const cause = new Error('ThrottlingException');
    const error = new JobStoreError('could not apply', { cause });
    expect(error).toBeInstanceOf(WorkerError);
    expect(error).toMatchObject({ name: 'JobStoreError', message: 'could not apply', transient: true, cause });
    expect(new JobStoreError('refused', { transient: false }).transient).toBe(false);
    expect(new JobStoreError('refused')).not.toHaveProperty('cause');
  });

  it('tell a pending claim check (transient, with its retry) from an orphan (final)', () => {
    expect(new ClaimCheckPendingError('not yet', 3)).toMatchObject({ name: 'ClaimCheckPendingError', transient: true, retryInSeconds: 3 });
    expect(new ClaimCheckOrphanError('never written')).toMatchObject({ name: 'ClaimCheckOrphanError', transient: false });
    expect(new ClaimCheckOrphanError('never written')).toBeInstanceOf(WorkerError);
  });

  it('list every issue of a poison message and every problem of a configuration', () => {
    const poison = new PoisonMessageError('invalid_message', ['jobId: invalid string', 'event: invalid picklist'], 'dlv_1');
    expect(poison).toMatchObject({
      name: 'PoisonMessageError',
      message: 'poison message (invalid_message): jobId: invalid string; event: invalid picklist',
      reason: 'invalid_message',
      issues: ['jobId: invalid string', 'event: invalid picklist'],
      deliveryId: 'dlv_1',
      transient: false,
    });
    const configuration = new WorkerConfigurationError(['JOBS_TABLE is not set', 'MAX_CONCURRENCY is not a number']);
    expect(configuration).toBeInstanceOf(WorkerError);
    expect(configuration).toMatchObject({
      name: 'WorkerConfigurationError',
      message: 'invalid worker configuration: JOBS_TABLE is not set; MAX_CONCURRENCY is not a number',
      problems: ['JOBS_TABLE is not set', 'MAX_CONCURRENCY is not a number'],
    });
  });
});

describe('parseQueueMessage, field by field', () => {
  it('names what is wrong with a body that is not JSON, or of another version', () => {
    expect(poisonOf('{oops')).toMatchObject({ reason: 'invalid_json', issues: ['message body is not valid JSON'], deliveryId: undefined });
    expect(poisonOf(body({ ...queueMessage({ deliveryId: 'dlv_v2' }), v: 2 }))).toMatchObject({
      reason: 'unsupported_version',
      issues: [`message version 2 is not ${QUEUE_MESSAGE_VERSION}`],
      deliveryId: 'dlv_v2',
    });
  });

  it('keeps the delivery id for the log line only when it is a string', () => {
    expect(poisonOf(body({ ...queueMessage(), deliveryId: 42 }))).toMatchObject({ reason: 'invalid_message', deliveryId: undefined });
    expect(poisonOf(body({ ...queueMessage({ deliveryId: 'dlv_kept' }), jobId: '' }))).toMatchObject({ deliveryId: 'dlv_kept' });
  });

  it.each([
    ['a JSON array', '[1]'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['a JSON string', '"dlv_1"'],
  ])('refuses %s as an invalid message (not as a wrong version)', (_name, text) => {
    expect(poisonOf(text)).toMatchObject({ reason: 'invalid_message', deliveryId: undefined });
  });

  it('accepts a job id of up to 256 characters and names the field of each refusal', () => {
    expect(parseQueueMessage(body({ ...queueMessage(), jobId: 'j'.repeat(256) })).jobId).toHaveLength(256);
    expect(poisonOf(body({ ...queueMessage(), jobId: 'j'.repeat(257) })).issues).toEqual([expect.stringMatching(/^jobId: /)]);
  });

  it.each([
    ['deliveryId', { deliveryId: 'has space' }],
    ['jobId', { jobId: '' }],
    ['timestamp', { timestamp: '' }],
    ['receivedAt', { receivedAt: '' }],
    ['archive.bucket', { archive: { bucket: '', key: 'raw/a.json' } }],
    ['archive.key', { archive: { bucket: 'b', key: '' } }],
    ['archive.batched', { archive: { bucket: 'b', key: 'raw/a.json', batched: 'yes' } }],
    ['replay', { replay: 'true' }],
    ['force', { force: 1 }],
    ['archiveBy', { archiveBy: 'tomorrow' }],
  ])('refuses a wrong %s', (field, change) => {
    const issues = poisonOf(body({ ...queueMessage(), ...change })).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0].startsWith(`${field}: `)).toBe(true);
  });

  it('accepts the optional fields when they are well formed', () => {
    const message = parseQueueMessage(
      body({ ...queueMessage(), archive: { bucket: 'b', key: 'raw/a.json', batched: true }, replay: true, force: false, archiveBy: NOW.toISOString() }),
    );
    expect(message).toMatchObject({ archive: { batched: true }, replay: true, force: false, archiveBy: NOW.toISOString() });
  });
});

describe('loadPayload', () => {
  it('reads the archive when the message carries a null payload', async () => {
    const archive = new InMemoryArchive();
    const message = queueMessage({ payload: null });
    archive.objects.set(message.archive.key, archivedDelivery(message, body(payloadFor('job.started'))));
    await expect(loadPayload(message, archive)).resolves.toMatchObject({ event: 'job.started' });
    expect(archive.reads).toEqual([message.archive]);
  });

  it('refuses an archived body that is not UTF-8, even where a lenient decoder would still see JSON', async () => {
    const archive = new InMemoryArchive();
    const message = queueMessage({ payload: undefined });
    const text = body(payloadFor('job.started', 'job_8f3a', { notes: '@' }));
    const bytes = new TextEncoder().encode(text);
    bytes[text.indexOf('@')] = 0xff;
    archive.objects.set(message.archive.key, { ...archivedDelivery(message, ''), rawBody: bytes });
    await expect(loadPayload(message, archive)).rejects.toMatchObject({
      reason: 'invalid_payload',
      issues: ['archived body is not valid UTF-8 JSON'],
      deliveryId: message.deliveryId,
    });
  });

  it('says which delivery an archived object of another delivery holds', async () => {
    const archive = new InMemoryArchive();
    const message = queueMessage({ payload: undefined });
    archive.objects.set(message.archive.key, { ...archivedDelivery(message, body(payloadFor('job.started'))), deliveryId: 'dlv_else' });
    await expect(loadPayload(message, archive)).rejects.toMatchObject({
      reason: 'archive_mismatch',
      issues: ['archived object holds delivery dlv_else'],
    });
  });

  it('names both jobs when the payload is for another job, and lists a schema failure with its issues', async () => {
    const archive = new InMemoryArchive();
    await expect(loadPayload(queueMessage({ payload: payloadFor('job.started', 'job_zzz') }), archive)).rejects.toMatchObject({
      reason: 'job_id_mismatch',
      issues: ['payload job job_zzz is not message job job_8f3a'],
    });
    const incomplete = queueMessage({ event: 'job.completed', payload: payloadFor('job.completed', 'job_8f3a', { output_url: undefined }) });
    const error = await loadPayload(incomplete, archive).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'invalid_payload' });
    expect((error as PoisonMessageError).issues.length).toBeGreaterThan(1);
  });

  describe('when the claim-checked object is missing', () => {
    const missing = new MissingObjects('NoSuchKey');
    const attempt = (overrides: Parameters<typeof queueMessage>[0], read: { now: Date; sentAt?: Date }) =>
      loadPayload(queueMessage({ payload: undefined, ...overrides }), missing, read).catch((caught: unknown) => caught);

    it.each([
      ['a replay by origin', { origin: 'replay' as const }],
      ['a reconciliation', { origin: 'reconcile' as const }],
      ['a replay marked only by its flag', { replay: true }],
    ])('reports %s as poison: it read the object before it sent the message', async (_name, overrides) => {
      const error = await attempt({ ...overrides, archiveBy: at(60_000).toISOString() }, { now: NOW });
      expect(error).toMatchObject({ reason: 'archive_missing', issues: ['archive object raw/2026/11/27/10/dlv_started_1.json no longer exists'] });
    });

    it('waits while the deadline plus a second of clock slack is ahead, rounding the wait up to whole seconds', async () => {
      const pending = await attempt({ origin: 'webhook', archiveBy: at(-999).toISOString() }, { now: NOW });
      expect(pending).toBeInstanceOf(ClaimCheckPendingError);
      expect(pending).toMatchObject({
        retryInSeconds: 1,
        message: 'archive object raw/2026/11/27/10/dlv_started_1.json not written yet (NoSuchKey)',
      });
      expect(await attempt({ archiveBy: at(1_001).toISOString() }, { now: NOW })).toMatchObject({ retryInSeconds: 3 });
    });

    it('calls the message an orphan from the moment the deadline plus the slack is reached', async () => {
      const orphan = await attempt({ archiveBy: at(-1_000).toISOString() }, { now: NOW });
      expect(orphan).toBeInstanceOf(ClaimCheckOrphanError);
      expect(orphan).toMatchObject({
        message: 'archive object raw/2026/11/27/10/dlv_started_1.json was never written: its attempt failed before acknowledging',
      });
    });

    it('calls a message with neither archiveBy nor a send time an orphan', async () => {
      expect(await attempt({}, { now: NOW })).toBeInstanceOf(ClaimCheckOrphanError);
    });
  });
});

describe('processBatch, at its edges', () => {
  it('marks an event a replay only when the message says replay or force', async () => {
    const jobStore = new InMemoryJobStore();
    const { ports } = recordingPorts({ jobStore });
    const messages = [
      queueMessage({ jobId: 'job_a', payload: payloadFor('job.started', 'job_a') }),
      queueMessage({ jobId: 'job_b', payload: payloadFor('job.started', 'job_b'), replay: true, origin: 'replay' }),
    ];
    await processBatch(messages.map((message, index) => (record(`m${index}`, message))), ports);
    expect(jobStore.calls.map((event) => [event.jobId, event.replay, event.origin])).toEqual([
      ['job_a', undefined, undefined],
      ['job_b', true, 'replay'],
    ]);
  });

  it('starts a record only while more than its budget is left', async () => {
    for (const [remaining, started] of [
      [5_000, false],
      [5_001, true],
    ] as const) {
      const jobStore = new InMemoryJobStore();
      const { ports } = recordingPorts({ jobStore });
      const results = await processBatch([record('m1', queueMessage())], {
        ...ports,
        recordBudgetMs: 5_000,
        remainingMs: () => remaining,
      });
      expect(results[0].ok).toBe(started);
      expect(jobStore.calls).toHaveLength(started ? 1 : 0);
    }
  });

  it('needs only some time left when no budget is given', async () => {
    const jobStore = new InMemoryJobStore();
    const { ports } = recordingPorts({ jobStore });
    const batch = [record('m1', queueMessage())];
    expect((await processBatch(batch, { ...ports, remainingMs: () => 1 }))[0].ok).toBe(true);
    expect((await processBatch(batch, { ...ports, remainingMs: () => 0 }))[0]).toEqual({ messageId: 'm1', ok: false, poison: false, unstarted: true });
  });

  it('answers an empty batch with no results', async () => {
    const { ports } = recordingPorts({ jobStore: new InMemoryJobStore() });
    await expect(processBatch([], ports)).resolves.toEqual([]);
  });

  it('logs a conflicting terminal event with the keys to find it, and marks a replayed or forced one', async () => {
    const jobStore = new InMemoryJobStore();
    const { ports, logs } = recordingPorts({ jobStore });
    const done = queueMessage({ event: 'job.completed', deliveryId: 'dlv_done' });
    const fail = (deliveryId: string, extra: object) =>
      queueMessage({ event: 'job.failed', deliveryId, payload: { ...payloadFor('job.failed'), created_at: '2026-11-27T11:00:00.000Z' }, ...extra });
    await processBatch([record('m1', done)], ports);
    await processBatch([record('m2', fail('dlv_fail', {}))], ports);
    await processBatch([record('m3', fail('dlv_fail_again', { replay: true, origin: 'replay' }))], ports);
    expect(logs).toEqual([
      {
        level: 'warn',
        message: 'Conflicting terminal event recorded and ignored',
        correlationId: 'dlv_fail',
        attributes: { messageId: 'm2', deliveryId: 'dlv_fail', jobId: 'job_8f3a', event: 'job.failed', outcome: 'conflict', eventAt: '2026-11-27T11:00:00.000Z' },
      },
      expect.objectContaining({ attributes: expect.objectContaining({ deliveryId: 'dlv_fail_again', replay: true }) }),
    ]);
    expect(logs[1].attributes).not.toHaveProperty('force');
  });

  it('marks a forced replay of a losing terminal event as forced in its conflict line', async () => {
    const jobStore = new InMemoryJobStore();
    const { ports, logs } = recordingPorts({ jobStore });
    const done = queueMessage({ event: 'job.completed', deliveryId: 'dlv_done' });
    const fail = queueMessage({ event: 'job.failed', deliveryId: 'dlv_fail', force: true, replay: true, origin: 'replay' });
    await processBatch([record('m1', done)], ports);
    const results = await processBatch([record('m2', fail)], ports);
    expect(results).toEqual([{ messageId: 'm2', ok: true, outcome: 'conflict', deliveryId: 'dlv_fail' }]);
    expect(logs).toEqual([expect.objectContaining({ correlationId: 'dlv_fail', attributes: expect.objectContaining({ outcome: 'conflict', replay: true, force: true }) })]);
  });

  it('logs an orphan with the archive key it looked for', async () => {
    const { ports, logs } = recordingPorts({ jobStore: new InMemoryJobStore(), archive: new MissingObjects('NoSuchKey') });
    const message = queueMessage({ deliveryId: 'dlv_orphan', payload: undefined, archiveBy: at(-60_000).toISOString() });
    await processBatch([record('m1', message)], ports);
    expect(logs).toEqual([
      {
        level: 'warn',
        message: 'Claim-checked message dropped: its archive object was never written',
        correlationId: 'dlv_orphan',
        attributes: { messageId: 'm1', deliveryId: 'dlv_orphan', jobId: 'job_8f3a', event: 'job.started', archiveKey: message.archive.key },
      },
    ]);
  });

  it('logs a pending claim check at info with its retry', async () => {
    const { ports, logs } = recordingPorts({ jobStore: new InMemoryJobStore(), archive: new MissingObjects('NoSuchKey') });
    await processBatch([record('m1', queueMessage({ payload: undefined, archiveBy: at(2_000).toISOString() }))], ports);
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'Claim-checked object not written yet, retrying soon',
        attributes: expect.objectContaining({ messageId: 'm1', retryInSeconds: 3 }),
      }),
    ]);
  });

  it('logs a retryable failure by its name, message, transience and cause', async () => {
    const cause = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { ports, logs } = recordingPorts({ jobStore: throwingStore(new JobStoreError('could not apply delivery dlv_started_1', { cause })) });
    await processBatch([record('m1', queueMessage())], ports);
    expect(logs).toEqual([
      {
        level: 'error',
        message: 'Record failed, returned to the queue',
        correlationId: 'dlv_started_1',
        attributes: {
          ...RECORD_KEYS,
          errorName: 'JobStoreError',
          errorMessage: 'could not apply delivery dlv_started_1',
          transient: true,
          causeName: 'ThrottlingException',
          causeMessage: 'Rate exceeded',
        },
      },
    ]);
  });

  it('logs what it can of a failure that is not one of its own errors', async () => {
    for (const [thrown, expected] of [
      [new TypeError('fetch failed'), { errorName: 'TypeError', errorMessage: 'fetch failed', transient: undefined }],
      ['a string', { errorName: 'string' }],
    ] as const) {
      const { ports, logs, metrics } = recordingPorts({ jobStore: throwingStore(thrown) });
      const results = await processBatch([record('m1', queueMessage())], ports);
      expect(results).toEqual([{ messageId: 'm1', ok: false, poison: false }]);
      expect(metrics).toEqual([METRIC.workerRecordFailure]);
      expect(logs[0].attributes).toEqual({ ...RECORD_KEYS, ...expected });
    }
  });

  it('logs a write the table refuses for good, and dead-letters it without a cause it does not have', async () => {
    const letters: DeadLetter[] = [];
    const { ports, logs } = recordingPorts({
      jobStore: throwingStore(new JobStoreError('condition rejected delivery dlv_started_1', { transient: false })),
      deadLetters: { send: async (letter) => void letters.push(letter) },
    });
    const results = await processBatch([record('m1', queueMessage())], ports);
    expect(results).toEqual([{ messageId: 'm1', ok: false, poison: true, deadLettered: true }]);
    expect(letters).toEqual([expect.objectContaining({ deliveryId: 'dlv_started_1', reason: 'store_refused', issues: ['condition rejected delivery dlv_started_1'] })]);
    expect(logs).toEqual([
      {
        level: 'error',
        message: 'Record refused for good by the jobs table',
        correlationId: 'dlv_started_1',
        attributes: {
          ...RECORD_KEYS,
          reason: 'store_refused',
          errorName: 'JobStoreError',
          errorMessage: 'condition rejected delivery dlv_started_1',
          transient: false,
        },
      },
      {
        level: 'info',
        message: 'Record moved to the dead-letter queue',
        correlationId: 'dlv_started_1',
        attributes: { ...RECORD_KEYS, reason: 'store_refused' },
      },
    ]);
  });

  it('logs a poison message with its reason and issues, and a failed dead-letter send with its error', async () => {
    const { ports, logs } = recordingPorts({
      jobStore: new InMemoryJobStore(),
      deadLetters: {
        send: async () => {
          throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
        },
      },
    });
    const message = { ...queueMessage({ deliveryId: 'dlv_v2' }), v: 2 };
    await processBatch([record('m1', message)], ports);
    expect(logs).toEqual([
      {
        level: 'error',
        message: 'Poison message',
        correlationId: 'dlv_v2',
        attributes: { messageId: 'm1', deliveryId: 'dlv_v2', reason: 'unsupported_version', issues: ['message version 2 is not 1'] },
      },
      {
        level: 'error',
        message: 'Dead-letter send failed; the record returns to the queue',
        correlationId: 'dlv_v2',
        attributes: { messageId: 'm1', deliveryId: 'dlv_v2', errorName: 'ServiceUnavailable', errorMessage: 'Service unavailable', transient: undefined },
      },
    ]);
  });
});
