/** One job: its item (the stack's attributes and the product's), its history, its events; and the search box. */
import { DynamoJobStore } from '../../../lambda/adapters/dynamo-job-store';
import { DEFAULTS, DELIVERY_ID_PATTERN } from '../../../lambda/core/contract';
import type { HistoryEntry } from '../../../lambda/core/job-state';
import { readDeliveryRecord } from '../../lib/delivery-read';
import { eventsFromHistory } from '../../lib/job-history-events';
import { readJob } from '../../lib/job-read';
import type { ConsoleContext } from '../context';
import { cliCommand, html, show, type SafeHtml } from '../html';
import { at, badge, cli, deliveryLink, errorBox, type Page } from '../layout';
import { replayFormLink } from './replay';

/** Job ids come from the provider's payload: any non-empty string up to replay's limit. */
export const MAX_JOB_ID_LENGTH = 256;

function attributes(values: Readonly<Record<string, unknown>>): SafeHtml {
  const rows = Object.entries(values).filter(([, value]) => value !== undefined);
  if (rows.length === 0) return html`<p class="note">None.</p>`;
  return html`<table class="kv"><tbody>${rows.map(([name, value]) => {
    const text = show(value);
    return html`<tr><th>${name}</th><td>${text.includes('\n') ? html`<pre>${text}</pre>` : html`<code>${text}</code>`}</td></tr>`;
  })}</tbody></table>`;
}

/**
 * The window that holds every archived delivery of a job: a delivery is
 * received within the timestamp tolerance of its signed time, and before the
 * worker applied it.
 */
export function jobReplayWindow(history: readonly HistoryEntry[], now: Date): { from: string; to: string } {
  if (history.length === 0) return { from: new Date(now.getTime() - 86_400_000).toISOString(), to: now.toISOString() };
  const earliest = Math.min(...history.map((entry) => Date.parse(entry.eventAt)).filter(Number.isFinite));
  const latest = Math.max(...history.map((entry) => Date.parse(entry.at)).filter(Number.isFinite));
  const tolerance = DEFAULTS.timestampToleranceSeconds * 1000;
  const from = Number.isFinite(earliest) ? earliest - tolerance : now.getTime() - 86_400_000;
  const to = Number.isFinite(latest) ? latest + 1000 : now.getTime();
  return { from: new Date(Math.floor(from / 1000) * 1000).toISOString(), to: new Date(Math.ceil(to / 1000) * 1000).toISOString() };
}

export async function jobPage(ctx: ConsoleContext, jobId: string): Promise<Page> {
  if (jobId.length === 0 || jobId.length > MAX_JOB_ID_LENGTH) return { status: 400, title: 'Job', body: errorBox('A job id is 1-256 characters') };
  const job = await readJob(new DynamoJobStore({ client: ctx.clients.dynamodb, tableName: ctx.outputs.JobsTableName }), jobId);
  const command = cli(cliCommand('job', [jobId, ...ctx.outputsArgs]));
  if (job === undefined) {
    return {
      status: 404,
      title: `Job ${jobId}`,
      body: html`<p class="warn">No item for this job in <code>${ctx.outputs.JobsTableName}</code>: the worker has applied none of its events, or the item was deleted (a replay of the window rebuilds it from the archive).</p>
${ctx.readOnly ? '' : html`<p>${replayFormLink({ job: jobId }, 'Replay this job (dry run first)')}</p>`}${command}`,
    };
  }
  const history = (job.item.history as HistoryEntry[] | undefined) ?? [];
  const events = eventsFromHistory(job.item);
  const historyTable =
    history.length === 0
      ? html`<p class="note">No history.</p>`
      : html`<table><thead><tr><th>applied at (UTC)</th><th>delivery</th><th>event</th><th>event time</th><th>outcome</th><th>replay</th></tr></thead><tbody>
${history.map(
  (entry) =>
    html`<tr><td>${at(entry.at)}</td><td>${deliveryLink(entry.deliveryId)}</td><td>${entry.event}</td><td>${at(entry.eventAt)}</td><td>${badge(entry.outcome)}</td><td>${entry.replay ? 'yes' : ''}</td></tr>`,
)}</tbody></table>`;
  const eventsTable =
    events.length === 0
      ? html`<p class="note">No status change recorded.</p>`
      : html`<table><thead><tr><th>eventId</th><th>detail-type</th><th>status</th><th>previous</th><th>applied at (UTC)</th><th>from delivery</th></tr></thead><tbody>
${events.map(
  (event) =>
    html`<tr><td><code>${event.eventId}</code></td><td>${event.detailType}</td><td>${event.status}</td><td>${event.previousStatus ?? ''}</td><td>${at(event.at)}</td><td>${deliveryLink(event.deliveryId)}${event.replay ? ' (replay)' : ''}</td></tr>`,
)}</tbody></table>`;
  const window = jobReplayWindow(history, ctx.now());
  const body = html`<h2>Item</h2>
<p>Status <strong>${String(job.item.status ?? '(none)')}</strong>${job.item.lastOrigin !== undefined ? html`, set by a ${String(job.item.lastOrigin)} event` : ''}.</p>
${attributes(Object.fromEntries(Object.entries(job.stack).filter(([name]) => name !== 'history' && name !== 'deliveryIds')))}
<h2>The product's own attributes</h2>
<p class="note">Attributes the stack never writes (the product may create the item first, with its own ids).</p>
${attributes(job.product)}
<h2>History</h2>${historyTable}
<h2>Job events</h2>
<p class="note">${
    ctx.outputs.JobEventsBusName === undefined
      ? 'This stack publishes no job events (deployed without them); had it, these would be its events.'
      : html`Published to the bus <code>${ctx.outputs.JobEventsBusName}</code>.`
  } One event per status change, derived from the item's history as the publisher derives it from the item's stream: EventBridge keeps no history to query.
Each event's id is <code>&lt;jobId&gt;#&lt;status&gt;</code>, the id consumers dedupe on.</p>
${eventsTable}
${ctx.readOnly ? '' : html`<h2>Replay</h2><p>${replayFormLink({ job: jobId, from: window.from, to: window.to }, 'Replay this job (dry run first)')}</p>`}
${command}`;
  return { title: `Job ${jobId}`, section: 'jobs', body };
}

/** The search box: a job id or a delivery id, whichever exists. */
export async function searchPage(ctx: ConsoleContext, params: URLSearchParams): Promise<Page | { readonly redirect: string }> {
  const q = (params.get('q') ?? '').trim();
  if (q === '') return { redirect: '/' };
  const jobs = new DynamoJobStore({ client: ctx.clients.dynamodb, tableName: ctx.outputs.JobsTableName });
  const [job, record] = await Promise.all([
    q.length <= MAX_JOB_ID_LENGTH ? jobs.get(q) : Promise.resolve(undefined),
    DELIVERY_ID_PATTERN.test(q) ? readDeliveryRecord(ctx.clients.dynamodb, ctx.outputs.DeliveriesTableName, q) : Promise.resolve(undefined),
  ]);
  if (job !== undefined && record === undefined) return { redirect: `/jobs/${encodeURIComponent(q)}` };
  if (record !== undefined && job === undefined) return { redirect: `/deliveries/${encodeURIComponent(q)}` };
  const links: SafeHtml[] = [];
  if (job !== undefined) links.push(html`<li>the job <a href="/jobs/${encodeURIComponent(q)}">${q}</a></li>`);
  if (record !== undefined) links.push(html`<li>the delivery <a href="/deliveries/${encodeURIComponent(q)}">${q}</a></li>`);
  const body =
    links.length > 0
      ? html`<p>Both exist:</p><ul>${links}</ul>`
      : html`<p class="warn">No job item and no dedupe record for <code>${q}</code>.</p>
<p>A refused delivery has no record: ${DELIVERY_ID_PATTERN.test(q) ? html`look for its log lines on <a href="/deliveries/${encodeURIComponent(q)}">its page</a>, or ` : ''}search the <a href="/deliveries">deliveries</a> of a window.</p>`;
  return { title: 'Find', body };
}
