/** Factories for the ops tests: replay arguments, an archive filled by the real receiver, a silent progress. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { EventType } from '../../../lambda/core/contract';
import type { JobItem } from '../../../lambda/core/job-state';
import type { JobStore } from '../../../lambda/core/ports';
import type { Progress } from '../../../ops/lib/cli-progress';
import type { ReplayArgs } from '../../../ops/lib/replay-args';
import type { ReplayDeps } from '../../../ops/lib/replay-run';
import { decodeArchiveLines } from '../../../lambda/core/archive/record';
import { PAYLOADS, SECRET, deliveryEvent, receiverTestbed, type DeliveryOptions, type Testbed } from '../receiver/support/factories';

export { SECRET };

export function replayArgs(overrides: Partial<ReplayArgs> = {}): ReplayArgs {
  return {
    from: new Date('2026-11-27T09:00:00.000Z'),
    to: new Date('2026-11-27T12:00:00.000Z'),
    dryRun: false,
    verify: false,
    force: false,
    concurrency: 4,
    outputsFile: '/nonexistent/outputs.json',
    secrets: [],
    quiet: false,
    ...overrides,
  };
}

export interface ArchivedFixture {
  readonly deliveryId: string;
  readonly event: EventType;
  readonly jobId: string;
  /** When the (in-memory) receiver took it. */
  readonly receivedAt: string;
}

/** A delivery body for `jobId` with the fixture payload of `event`. */
export function payloadFor(event: EventType, jobId: string, createdAt: string): Record<string, unknown> {
  const fixture = structuredClone(PAYLOADS[event]) as { created_at: string; data: Record<string, unknown> };
  fixture.created_at = createdAt;
  delete fixture.data.id;
  fixture.data.job_id = jobId;
  return fixture;
}

/**
 * Runs deliveries through the real receiver over in-memory ports, so the
 * archive holds exactly what production archives and the queue holds exactly
 * what the receiver enqueued.
 */
export async function receive(
  deliveries: ReadonlyArray<ArchivedFixture & { readonly options?: DeliveryOptions }>,
  testbed: Testbed = receiverTestbed(),
): Promise<Testbed> {
  for (const delivery of deliveries) {
    testbed.setNow(new Date(delivery.receivedAt));
    const event: APIGatewayProxyEventV2 = deliveryEvent({
      event: delivery.event,
      deliveryId: delivery.deliveryId,
      timestamp: delivery.receivedAt,
      body: payloadFor(delivery.event, delivery.jobId, delivery.receivedAt),
      ...delivery.options,
    });
    const answer = await testbed.send(event);
    if (answer.statusCode !== 202) throw new Error(`receiver answered ${answer.statusCode} ${JSON.stringify(answer.body)}`);
  }
  return testbed;
}

export const silentProgress = (): Progress => ({ update: () => undefined, clear: () => undefined, finish: () => undefined });

export class FakeJobs implements Pick<JobStore, 'get'> {
  readonly reads: string[] = [];
  constructor(readonly items: Map<string, JobItem> = new Map()) {}

  async get(jobId: string): Promise<JobItem | undefined> {
    this.reads.push(jobId);
    return this.items.get(jobId);
  }
}

/** Replay dependencies over a receiver testbed's archive, with a fresh queue. */
export function replayDeps(testbed: Testbed, overrides: Partial<ReplayDeps> = {}): ReplayDeps & { lines: string[]; listedPrefixes: string[]; gets: string[] } {
  const lines: string[] = [];
  const listedPrefixes: string[] = [];
  const gets: string[] = [];
  const archive = testbed.archive;
  const batches = (): Map<string, string> => testbed.batchArchive?.objects() ?? new Map();
  return {
    bucket: archive.bucket,
    listKeys: async function* (prefix: string) {
      listedPrefixes.push(prefix);
      for (const key of [...archive.objects.keys(), ...batches().keys()].sort()) if (key.startsWith(prefix)) yield key;
    },
    readBatch: async (key) => {
      gets.push(key);
      return decodeArchiveLines(batches().get(key) ?? '');
    },
    archive: {
      get: (location) => {
        gets.push(location.key);
        return archive.get(location);
      },
    },
    queue: { send: async () => undefined },
    jobs: new FakeJobs(),
    out: (line) => lines.push(line),
    progress: silentProgress,
    lines,
    listedPrefixes,
    gets,
    ...overrides,
  };
}
