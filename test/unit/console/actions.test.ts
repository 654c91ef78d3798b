/** The console's background actions: progress, output lines, summary, failure. */
import { ActionRegistry, MAX_LINES } from '../../../ops/console/actions';

async function settled(registry: ActionRegistry, id: string): Promise<void> {
  for (let tries = 0; tries < 100 && registry.get(id)?.status === 'running'; tries += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('console actions', () => {
  it('follows the CLI\'s progress and output, then keeps its summary and result', async () => {
    const registry = new ActionRegistry();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));

    const record = registry.start('replay', 'Replay', { cli: 'npm run replay -- x', argv: ['x'] }, async (report) => {
      const progress = report.progress(4);
      progress.update(1, 'enqueued 1');
      report.line('enqueued d1');
      await gate;
      progress.finish(4, 'enqueued 4');
      return { result: 42, summary: ['replay: enqueued 4'], incomplete: false };
    });

    expect(record).toMatchObject({ status: 'running', progress: { done: 1, total: 4, status: 'enqueued 1' }, lines: ['enqueued d1'] });
    release();
    await settled(registry, record.id);
    expect(registry.get(record.id)).toMatchObject({ status: 'done', result: 42, summary: ['replay: enqueued 4'], progress: { done: 4, total: 4 } });
    expect(registry.get(record.id)?.finishedAt).toBeDefined();
  });

  it('records a failure with its error', async () => {
    const registry = new ActionRegistry();

    const record = registry.start('redrive', 'Redrive', { cli: 'npm run redrive', argv: [] }, async () => {
      throw new Error('queue gone');
    });
    await settled(registry, record.id);

    expect(registry.get(record.id)).toMatchObject({ status: 'failed', error: 'Error: queue gone' });
  });

  it('keeps the last lines and counts the ones it dropped', async () => {
    const registry = new ActionRegistry();

    const record = registry.start('replay', 'Replay', { cli: 'c', argv: [] }, async (report) => {
      for (let index = 0; index < MAX_LINES + 5; index += 1) report.line(`line ${index}`);
      return { result: undefined, summary: [], incomplete: true };
    });
    await settled(registry, record.id);

    expect(record.lines).toHaveLength(MAX_LINES);
    expect(record.lines[0]).toBe('line 5');
    expect(record.droppedLines).toBe(5);
    expect(record.incomplete).toBe(true);
  });

  it('lists the newest first and forgets the oldest beyond a few dozen', () => {
    const registry = new ActionRegistry();
    const ids = Array.from({ length: 35 }, (_, index) => registry.start('redrive', `r${index}`, { cli: 'c', argv: [] }, async () => ({ result: 0, summary: [], incomplete: false })).id);

    expect(registry.list()[0].id).toBe(ids[34]);
    expect(registry.list()).toHaveLength(30);
    expect(registry.get(ids[0])).toBeUndefined();
  });
});
