/** Section 6 of docs/benchmarks.md: the job events' throughput and their own cost lines. */
import type { CostModel } from './cost';
import type { EventsCostModel } from './events-cost';
import type { EventsThroughputResult } from './events-throughput';
import { fmt } from './stats';

export interface EventsReport {
  readonly throughput?: EventsThroughputResult;
  readonly error?: string;
  readonly cost?: { readonly small: EventsCostModel; readonly large: EventsCostModel; readonly fixed: { item: string; usd: number; basis: string }[] };
}

const usd = (value: number): string => `$${value < 0.01 && value > 0 ? value.toFixed(4) : value.toFixed(2)}`;
const size = (model: CostModel): string => (model.bodyBytes === 1024 ? '1 KiB' : `${model.bodyBytes / 1024} KiB`);

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

export function eventsSection(events: EventsReport, ingestion?: { readonly small: CostModel; readonly large: CostModel }): string {
  const parts = ['## 6. Job events', ''];
  const t = events.throughput;
  if (t === undefined) {
    parts.push(`Not measured: ${events.error ?? 'skipped'}.`, '');
  } else {
    parts.push(
      `DynamoDB Local's stream of the jobs table, ${t.rounds} rounds of ${t.eventsPerRound} transitions (${t.eventsPerRound / 2} jobs started, then completed, through the worker's job store), ` +
        'each read back twice in alternating order: decoded and classified alone, and through the local stream runner (the template\'s batch size ' +
        `${t.batchSize}, filters, partial failures), the job-events handler and PutEvents to the EventBridge stand-in, which delivers every event to the tap queue.`,
      '',
      table(
        ['path', 'per second (median)'],
        [
          ['stream read alone (records decoded and classified)', fmt(t.streamReadPerSecond, 0)],
          ['through the publisher (events on the bus: PutEvents accepted)', fmt(t.publishedPerSecond, 0)],
          ['ratio, publisher ÷ stream read (median of per-round ratios)', `**${fmt(t.ratio, 2)}×**`],
          ['and delivered by the stand-in to the tap queue (one SendMessage each)', fmt(t.deliveredPerSecond, 0)],
        ],
      ),
      '',
      `PutEvents calls: ${t.putEventsCalls} for ${t.rounds * t.eventsPerRound} events (${fmt((t.rounds * t.eventsPerRound) / Math.max(1, t.putEventsCalls), 1)} entries per call; one job's two events never share a call). ` +
        `The handler's CPU per stream record with the bus stubbed: ${fmt(t.publisherCpuMicrosPerRecord, 0)} µs (decode the images, compare the statuses, build the entries, one log line and one EMF flush per batch).`,
      '',
      `Finding: the handler's own work is ${fmt(t.publisherCpuMicrosPerRecord, 0)} µs a record, so the publisher path is bound by its PutEvents round trips: a batch's calls run one after another, ` +
        'each waiting for the stand-in (and here its deliveries to fauxqs compete for the same two cores). Next step, if a stream ever needs it: overlap the calls of one batch that share no job ' +
        "(a job's events stay in order), which cuts a full batch from 10 sequential round trips to about 2 (a job has at most two events); in AWS, where a call takes ~15 ms, one shard then carries ~3,000 events/s instead of ~650. " +
        "At the cost model's rate (0.4 deliveries/s) neither matters.",
      '',
    );
  }
  const cost = events.cost;
  if (cost !== undefined) {
    const models = [cost.small, cost.large];
    parts.push(
      'Cost per million deliveries, the job events\' own lines, from the calls the stack made during the same counted phases as section 5 (the ingestion lines there exclude them):',
      '',
      table(
        ['line', ...(ingestion ? [size(ingestion.small), size(ingestion.large)] : ['1 KiB', '256 KiB']), 'basis (1 KiB)'],
        cost.small.lines.map((line, index) => [`${line.service}: ${line.item.replace(/ \(.*\)$/, '')}`, ...models.map((model) => usd(model.lines[index].usd)), line.basis]),
      ),
      '',
      table(
        ['body', 'ingestion (section 5)', 'job events', 'together'],
        ingestion
          ? [ingestion.small, ingestion.large].map((model, index) => [size(model), usd(model.totalUsd), `**${usd(models[index].totalUsd)}**`, usd(model.totalUsd + models[index].totalUsd)])
          : models.map((model, index) => [index === 0 ? '1 KiB' : '256 KiB', 'n/a', `**${usd(model.totalUsd)}**`, 'n/a']),
      ),
      '',
      `Per delivery in the 1 KiB phase: ${fmt(cost.small.perDelivery.records, 2)} stream records, ${fmt(cost.small.perDelivery.events, 2)} events published in ${fmt(cost.small.perDelivery.putEventsCalls, 2)} PutEvents calls, ${fmt(cost.small.perDelivery.reviewed, 3)} sent for review.`,
      '',
      table(['fixed monthly', 'USD / month', 'basis'], cost.fixed.map((f) => [f.item, usd(f.usd), f.basis])),
      '',
    );
  }
  return parts.join('\n');
}
