import { JOB_EVENTS } from '../../../lambda/core/contract';
import { entrySize, planCalls, prepareEntry, PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_REQUEST_BYTES } from '../../../lambda/core/publish/entries';
import { jobEventOf } from '../../../lambda/core/publish/job-event';
import { change, completedItem, detailOf, startedItem } from './factories';

describe('PutEvents entries', () => {
  describe('entrySize', () => {
    it("counts as AWS's entry-size guide does: 14 bytes for Time, the UTF-8 bytes of Source, DetailType and Detail", () => {
      const entry = { source: 'a.b', detailType: 'Job Started', detail: '{"k":"é"}', time: new Date(0) };

      expect(entrySize(entry)).toBe(14 + 3 + 11 + Buffer.byteLength('{"k":"é"}', 'utf8'));
      expect(entrySize({ ...entry, time: undefined })).toBe(3 + 11 + 10);
    });
  });

  describe('prepareEntry', () => {
    it('puts the whole detail in the entry when it fits', () => {
      const message = jobEventOf(change(startedItem(), completedItem({ userId: 'u_1' })))!;

      const prepared = prepareEntry(message);

      expect(prepared.productOmitted).toBe(false);
      expect(prepared.entry.source).toBe(JOB_EVENTS.source);
      expect(prepared.entry.detailType).toBe('Job Completed');
      expect(detailOf(prepared.entry)).toEqual(JSON.parse(JSON.stringify(message.detail)));
      expect(prepared.size).toBe(entrySize(prepared.entry));
    });

    it('leaves the product attributes out, and says so, when they would not fit one request', () => {
      const huge = 'x'.repeat(PUT_EVENTS_MAX_REQUEST_BYTES);
      const message = jobEventOf(change(startedItem(), completedItem({ notes: huge })))!;

      const prepared = prepareEntry(message);

      expect(prepared.productOmitted).toBe(true);
      expect(prepared.size).toBeLessThanOrEqual(PUT_EVENTS_MAX_REQUEST_BYTES);
      expect(detailOf(prepared.entry)).toMatchObject({ eventId: 'job_8f3a#completed', product: {}, productOmitted: 'too_large' });
    });
  });

  describe('planCalls', () => {
    it('puts at most 10 entries in one call', () => {
      const entries = Array.from({ length: 23 }, (_, index) => ({ key: `job_${index}`, size: 100 }));

      const calls = planCalls(entries);

      expect(calls.map((call) => call.length)).toEqual([PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_ENTRIES, 3]);
      expect(calls.flat()).toEqual(entries.map((_, index) => index));
    });

    it('keeps every call within the request size', () => {
      const entries = Array.from({ length: 5 }, (_, index) => ({ key: `job_${index}`, size: 100_000 }));

      const calls = planCalls(entries);

      expect(calls).toEqual([[0, 1], [2, 3], [4]]);
    });

    it('never puts two events of one job in the same call, so a retried entry cannot be overtaken', () => {
      const entries = [
        { key: 'a', size: 10 },
        { key: 'b', size: 10 },
        { key: 'a', size: 10 },
        { key: 'c', size: 10 },
      ];

      expect(planCalls(entries)).toEqual([[0, 1], [2, 3]]);
    });
  });
});

describe('PutEvents entries, at their bounds', () => {
  it('keeps the whole detail of an entry of exactly the request size', () => {
    // Prepare
    const message = jobEventOf(change(startedItem(), completedItem({ userId: 'u_1' })))!;
    const exact = prepareEntry(message).size;

    // Act
    const fits = prepareEntry(message, exact);
    const over = prepareEntry(message, exact - 1);

    // Assess
    expect(fits).toMatchObject({ productOmitted: false, size: exact });
    expect(over.productOmitted).toBe(true);
    expect(over.size).toBe(entrySize(over.entry));
    expect(detailOf(over.entry)).toEqual({ ...JSON.parse(JSON.stringify(message.detail)), product: {}, productOmitted: 'too_large' });
    expect(over.entry).toMatchObject({ source: JOB_EVENTS.source, detailType: 'Job Completed', time: message.time });
  });

  it('gives an entry a time only when the change has one', () => {
    // Prepare
    const message = jobEventOf(change(startedItem(), completedItem(), { changedAt: undefined }))!;

    // Act
    const prepared = prepareEntry(message);

    // Assess
    expect(prepared.entry).not.toHaveProperty('time');
    expect(prepared.size).toBe(entrySize(prepared.entry));
  });

  it('fills a call up to exactly the request size, and starts the next one past it', () => {
    expect(planCalls([{ key: 'a', size: 60 }, { key: 'b', size: 40 }, { key: 'c', size: 1 }], 100)).toEqual([[0, 1], [2]]);
  });

  it('counts a call from zero bytes again after it starts a new one', () => {
    expect(planCalls([{ key: 'a', size: 70 }, { key: 'b', size: 70 }, { key: 'c', size: 30 }, { key: 'd', size: 1 }], 100)).toEqual([[0], [1, 2], [3]]);
  });

  it('forgets the jobs of a call once it starts a new one', () => {
    expect(planCalls([{ key: 'a', size: 1 }, { key: 'a', size: 1 }, { key: 'b', size: 1 }, { key: 'a', size: 1 }])).toEqual([[0], [1, 2], [3]]);
  });

  it('sends an entry larger than a request on its own rather than never', () => {
    expect(planCalls([{ key: 'a', size: 500 }, { key: 'b', size: 10 }], 100)).toEqual([[0], [1]]);
  });

  it('plans no call for no entry', () => {
    expect(planCalls([])).toEqual([]);
  });

  it('fits 10 entries in a call, and an 11th in the next', () => {
    const entries = Array.from({ length: 11 }, (_, index) => ({ key: `job_${index}`, size: 1 }));
    expect(planCalls(entries).map((call) => call.length)).toEqual([10, 1]);
  });
});
