/** The first page: what came in over a window, by outcome, and how the queues are. */
import { queueDepth } from '../../lib/redrive-run';
import { ATTEMPT_OUTCOMES, countOutcomes } from '../../lib/receiver-log';
import { deliveriesChart, queueAgeChart } from '../charts';
import type { ConsoleContext } from '../context';
import { html, query, trusted, type SafeHtml } from '../html';
import { at, badge, deliveryLink, errorBox, jobLink, parseWindow, settle, windowLinks, type Page, type TimeWindow } from '../layout';
import type { AgeSeries, DeliverySeries } from '../../lib/console-metrics';

function legend(): SafeHtml {
  return html`<p class="legend">${ATTEMPT_OUTCOMES.map((outcome) => html`<span><span class="swatch ${outcome}"></span>${outcome}</span>`)}</p>`;
}

function dataTable(series: DeliverySeries): SafeHtml {
  const rows = series.buckets
    .map((bucket, index) => ({ bucket, counts: ATTEMPT_OUTCOMES.map((outcome) => series.counts[outcome][index] ?? 0) }))
    .filter((row) => row.counts.some((count) => count > 0));
  return html`<details><summary>Data (${rows.length} buckets with deliveries)</summary>
<table><thead><tr><th>bucket (UTC)</th>${ATTEMPT_OUTCOMES.map((outcome) => html`<th>${outcome}</th>`)}</tr></thead>
<tbody>${rows.map((row) => html`<tr><td>${at(row.bucket)}</td>${row.counts.map((count) => html`<td>${count}</td>`)}</tr>`)}</tbody></table></details>`;
}

function ageTable(series: AgeSeries): SafeHtml {
  const rows = series.buckets.map((bucket, index) => ({ bucket, age: series.oldestAgeSeconds[index] })).filter((row) => row.age !== null);
  return html`<details><summary>Data (${rows.length} measured buckets)</summary>
<table><thead><tr><th>bucket (UTC)</th><th>oldest message age (s)</th></tr></thead>
<tbody>${rows.map((row) => html`<tr><td>${at(row.bucket)}</td><td>${row.age?.toFixed(1)}</td></tr>`)}</tbody></table></details>`;
}

export async function overviewPage(ctx: ConsoleContext, params: URLSearchParams): Promise<Page> {
  const window: TimeWindow = parseWindow(params, ctx.now());
  // The work queue's health is its oldest message's age (the chart); its depth would need a read grant on it that nothing else needs.
  const [attempts, deliveries, age, dlq] = await Promise.all([
    settle(ctx.logs?.read({ from: window.from, to: window.to }) ?? Promise.resolve(undefined)),
    settle(ctx.charts.deliveries(window.from, window.to)),
    settle(ctx.charts.queueAge(window.from, window.to)),
    settle(queueDepth(ctx.clients.sqs, ctx.outputs.DeadLetterQueueUrl)),
  ]);
  const windowQuery = window.preset !== undefined ? { window: window.preset } : { from: window.from.toISOString(), to: window.to.toISOString() };

  let outcomes: SafeHtml;
  let refused: SafeHtml = html``;
  if (!attempts.ok) outcomes = errorBox(`Could not read the receiver's log lines: ${attempts.error}`);
  else if (attempts.value === undefined) outcomes = html`<p class="warn">No receiver log lines: ${ctx.logsNote ?? ''}.</p>`;
  else {
    const counts = countOutcomes(attempts.value.attempts);
    outcomes = html`<div class="cards">${ATTEMPT_OUTCOMES.map(
      (outcome) =>
        html`<a class="card" href="/deliveries${query({ ...windowQuery, outcome })}"><div class="value">${counts[outcome]}${attempts.value?.truncated ? '+' : ''}</div><div class="label">${outcome}</div></a>`,
    )}</div>`;
    const latest = attempts.value.attempts.filter((attempt) => attempt.outcome === 'refused' || attempt.outcome === 'retryable').slice(0, 10);
    refused = html`<h2>Latest refused or failed attempts</h2>
${
  latest.length === 0
    ? html`<p class="note">None in this window.</p>`
    : html`<table><thead><tr><th>at (UTC)</th><th>outcome</th><th>status</th><th>reason</th><th>delivery</th><th>event</th><th>job</th></tr></thead><tbody>
${latest.map(
  (attempt) =>
    html`<tr><td>${at(attempt.at)}</td><td>${badge(attempt.outcome)}</td><td>${attempt.statusCode}</td><td><code>${attempt.reason ?? ''}</code></td><td>${deliveryLink(attempt.deliveryId)}</td><td>${attempt.event ?? ''}</td><td>${jobLink(attempt.jobId)}</td></tr>`,
)}</tbody></table>`
}`;
  }

  const depth = (result: typeof dlq, name: string, href?: string): SafeHtml =>
    result.ok
      ? html`<div class="card">${href !== undefined ? html`<a href="${href}">` : ''}<div class="value">${result.value.visible}</div><div class="label">${name}: visible (${result.value.inFlight} in flight)</div>${href !== undefined ? html`</a>` : ''}</div>`
      : html`<div class="card"><div class="label">${name}: could not read (${result.error})</div></div>`;

  const body = html`${windowLinks('/', window)}
<h2>Delivery attempts by outcome</h2>
<p class="note">Every answer the receiver gave in the window, from ${ctx.logs?.description ?? 'nowhere'}.</p>
${outcomes}
<div class="charts">
<section aria-labelledby="chart-deliveries">
<h2 id="chart-deliveries">Deliveries per ${deliveries.ok ? deliveries.value.bucketSeconds / 60 : '?'} min</h2>
${deliveries.ok ? html`${trusted(deliveriesChart(deliveries.value))}${legend()}${dataTable(deliveries.value)}` : errorBox(deliveries.error)}
<p class="note">Source: ${ctx.charts.deliveriesSource}.</p>
</section>
<section aria-labelledby="chart-age">
<h2 id="chart-age">Work queue: oldest message age</h2>
${age.ok ? html`${trusted(queueAgeChart(age.value))}${ageTable(age.value)}` : errorBox(age.error)}
<p class="note">Source: ${ctx.charts.queueAgeSource}.</p>
</section>
</div>
<h2>Dead-letter queue now</h2>
<div class="cards">${depth(dlq, 'dead-letter queue', '/dlq')}</div>
${refused}`;
  return { title: 'Overview', section: 'overview', body };
}
