import { METRIC } from '../../../lambda/core/contract';
import type { JobEvent } from '../../../lambda/core/job-state';
import type { ApplyOutcome, JobStore } from '../../../lambda/core/ports';
import { JobStoreError, processBatch, type DeadLetter, type DeadLetters } from '../../../lambda/core/worker';
import { InMemoryJobStore, queueMessage, recordingPorts } from './factories';

class RecordingDeadLetters implements DeadLetters {
  readonly letters: DeadLetter[] = [];
  failure?: Error;

  async send(letter: DeadLetter): Promise<void> {
    if (this.failure) throw this.failure;
    this.letters.push(letter);
  }
}

/** A jobs table that refuses every write the way DynamoDB does for a wrong-typed reserved attribute. */
function refusingStore(transient: boolean): JobStore {
  return {
    async apply(event: JobEvent): Promise<ApplyOutcome> {
      const cause = Object.assign(new Error('An operand in the update expression has an incorrect data type'), {
        name: transient ? 'ProvisionedThroughputExceededException' : 'ValidationException',
      });
      throw new JobStoreError(`the jobs table refused delivery ${event.deliveryId}`, { cause, transient });
    },
    async get() {
      return undefined;
    },
  };
}

describe('records that can never succeed', () => {
  it('are moved to the DLQ at once with their reason and the exact body, and reported done', async () => {
    // Prepare
    const deadLetters = new RecordingDeadLetters();
    const { ports, metrics } = recordingPorts({ jobStore: refusingStore(false), deadLetters });
    const body = JSON.stringify(queueMessage({ deliveryId: 'dlv_refused' }));

    // Act
    const results = await processBatch([{ messageId: 'm1', body }], ports);

    // Assess
    expect(results).toEqual([{ messageId: 'm1', ok: false, poison: true, deadLettered: true }]);
    expect(deadLetters.letters).toEqual([
      {
        messageId: 'm1',
        body,
        deliveryId: 'dlv_refused',
        reason: 'store_refused',
        issues: ['the jobs table refused delivery dlv_refused', 'ValidationException: An operand in the update expression has an incorrect data type'],
      },
    ]);
    expect(metrics).toEqual([METRIC.permanentFailure]);
  });

  it('include poison messages, with the poison reason', async () => {
    const deadLetters = new RecordingDeadLetters();
    const { ports, metrics } = recordingPorts({ jobStore: new InMemoryJobStore(), deadLetters });
    const results = await processBatch([{ messageId: 'm1', body: '{not json' }], ports);
    expect(results).toEqual([{ messageId: 'm1', ok: false, poison: true, deadLettered: true }]);
    expect(deadLetters.letters).toEqual([expect.objectContaining({ body: '{not json', reason: 'invalid_json' })]);
    expect(metrics).toEqual([METRIC.poisonMessage]);
  });

  it('return to the queue when the DLQ send fails, so the redrive policy still catches them', async () => {
    const deadLetters = new RecordingDeadLetters();
    deadLetters.failure = new Error('ServiceUnavailable');
    const { ports, logs } = recordingPorts({ jobStore: refusingStore(false), deadLetters });
    const results = await processBatch([{ messageId: 'm1', body: JSON.stringify(queueMessage()) }], ports);
    expect(results).toEqual([{ messageId: 'm1', ok: false, poison: true }]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', message: 'Dead-letter send failed; the record returns to the queue' }));
  });

  it('never include a transient store failure, which returns to the queue for a retry', async () => {
    const deadLetters = new RecordingDeadLetters();
    const { ports, metrics } = recordingPorts({ jobStore: refusingStore(true), deadLetters });
    const results = await processBatch([{ messageId: 'm1', body: JSON.stringify(queueMessage()) }], ports);
    expect(results).toEqual([{ messageId: 'm1', ok: false, poison: false }]);
    expect(deadLetters.letters).toEqual([]);
    expect(metrics).toEqual([METRIC.workerRecordFailure]);
  });
});
