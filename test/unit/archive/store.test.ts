import { archiveLineBytes } from '../../../lambda/core/archive/line';
import { chooseArchiveRoute } from '../../../lambda/core/archive/route';
import { archiveAndEnqueue, type StoreDeps, type StoreInput } from '../../../lambda/core/archive/store';
import { SERVICE_LIMITS } from '../../../lambda/core/contract';
import { archivedDelivery } from '../receiver/support/factories';
import { InMemoryArchive, InMemoryBatchArchive, InMemoryQueue } from '../receiver/support/in-memory';

const LIMIT = SERVICE_LIMITS.firehoseMaxRecordBytes;

function input(body: string): StoreInput {
  return {
    delivery: { ...archivedDelivery(body), event: 'job.completed', jobId: 'job_8f3a' },
    payload: JSON.parse(body),
    bodyText: body,
    now: new Date('2026-11-27T10:00:01.000Z'),
  };
}

function deps(overrides: Partial<StoreDeps> = {}): StoreDeps & { archive: InMemoryArchive; queue: InMemoryQueue } {
  return {
    archive: new InMemoryArchive(),
    batchArchive: new InMemoryBatchArchive(),
    queue: new InMemoryQueue(),
    archiveBucket: 'archive-bucket',
    inlinePayloadMaxBytes: 4096,
    claimCheckDelaySeconds: 45,
    ...overrides,
  } as StoreDeps & { archive: InMemoryArchive; queue: InMemoryQueue };
}

describe('the archive route', () => {
  it.each([
    ['batch', 'a line that fits, payload inline, with a batched archive', { batchArchive: true, payloadInline: true, lineBytes: 2048 }],
    ['batch', "a line of exactly Firehose's record limit", { batchArchive: true, payloadInline: true, lineBytes: LIMIT }],
    ['object', 'a line one byte over the limit', { batchArchive: true, payloadInline: true, lineBytes: LIMIT + 1 }],
    ['object', 'no batched archive (deployed without the stream)', { batchArchive: false, payloadInline: true, lineBytes: 2048 }],
    ['object', 'a payload too large to travel inline (a claim check)', { batchArchive: true, payloadInline: false, lineBytes: 2048 }],
  ] as const)('is %s for %s', (route, _name, routeInput) => {
    expect(chooseArchiveRoute(routeInput)).toBe(route);
  });
});

describe('the archive line bytes', () => {
  it('are encoded once per delivery: the route measures the very bytes the adapter sends', () => {
    const { delivery, bodyText } = input('{"id":"job_8f3a"}');
    const first = archiveLineBytes(delivery, bodyText);
    expect(archiveLineBytes(delivery, bodyText)).toBe(first);
    expect(Buffer.from(first).toString('utf8')).toMatch(/^\{"v":1,"deliveryId":"dlv_1",.*\}\n$/);
  });
});

describe('archiveAndEnqueue', () => {
  it('appends a small delivery to the batched archive and sends its payload inline', async () => {
    const store = deps();
    const result = await archiveAndEnqueue(store, input('{"id":"job_8f3a"}'));
    expect(result).toMatchObject({ ok: true, route: 'batch', message: { payload: { id: 'job_8f3a' }, archive: { batched: true } } });
    expect((store.batchArchive as InMemoryBatchArchive).lines).toHaveLength(1);
    expect(store.archive.puts).toBe(0);
  });

  it('writes its own object when the stack has no batched archive, the payload still inline', async () => {
    const store = deps({ batchArchive: undefined });
    const result = await archiveAndEnqueue(store, input('{"id":"job_8f3a"}'));
    expect(result).toMatchObject({
      ok: true,
      route: 'object',
      message: { payload: { id: 'job_8f3a' }, archive: { bucket: 'archive-bucket', key: 'raw/2026/11/27/10/dlv_1.json' } },
    });
    expect([...store.archive.objects.keys()]).toEqual(['raw/2026/11/27/10/dlv_1.json']);
    expect(store.queue.options).toEqual([undefined]);
  });

  it('sends a claim check, delayed past the receiver and promising its object by then, when the payload cannot travel inline', async () => {
    const store = deps({ inlinePayloadMaxBytes: 64 });
    const result = await archiveAndEnqueue(store, input(JSON.stringify({ id: 'job_8f3a', note: 'x'.repeat(200) })));
    expect(result).toMatchObject({ ok: true, route: 'object', message: { archiveBy: '2026-11-27T10:00:46.000Z' } });
    expect(result.ok && result.message.payload).toBeUndefined();
    expect(store.queue.options).toEqual([{ delaySeconds: 45 }]);
    expect(store.archive.objects.has('raw/2026/11/27/10/dlv_1.json')).toBe(true);
  });

  it('reports which of the two failed, and never both unless both did', async () => {
    const archiveDown = deps({ batchArchive: undefined });
    archiveDown.archive.failNext();
    const queueDown = deps();
    queueDown.queue.failNext();

    const archiveFailed = await archiveAndEnqueue(archiveDown, input('{"id":"job_8f3a"}'));
    const queueFailed = await archiveAndEnqueue(queueDown, input('{"id":"job_8f3a"}'));

    expect(archiveFailed).toEqual({ ok: false, route: 'object', archiveError: expect.objectContaining({ name: 'ArchiveError' }) });
    expect(queueFailed).toEqual({ ok: false, route: 'batch', enqueueError: expect.objectContaining({ name: 'QueueError' }) });
  });
});
