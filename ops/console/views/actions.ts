/** An action's page: its progress while it runs (refreshed in place), then its output, summary and result. */
import type { ActionRecord } from '../actions';
import type { ConsoleContext } from '../context';
import { html, type SafeHtml } from '../html';
import { at, badge, cli, errorBox, type Page } from '../layout';
import { replayResult } from './replay';

/** Lines shown on the page; the rest are counted. */
const SHOWN_LINES = 200;

export function progressFragment(record: ActionRecord): SafeHtml {
  const { done, total, status } = record.progress;
  const finished = record.status !== 'running';
  return html`<div data-done="${finished ? 'true' : 'false'}">
<p>${record.status === 'done' && record.incomplete ? badge('failed', 'done, with refusals or failures') : badge(record.status)}
${total !== undefined ? html` ${done} of ${total}` : ''} <span aria-live="polite">${status}</span></p>
${total !== undefined && total > 0 ? html`<progress max="${total}" value="${done}">${done} of ${total}</progress>` : record.status === 'running' ? html`<progress>working</progress>` : ''}
</div>`;
}

export function actionPage(ctx: ConsoleContext, record: ActionRecord): Page {
  const running = record.status === 'running';
  const shown = record.lines.slice(-SHOWN_LINES);
  const hidden = record.droppedLines + record.lines.length - shown.length;
  const body = html`<p class="note">Started ${at(record.startedAt)}${record.finishedAt !== undefined ? html`, finished ${at(record.finishedAt)}` : ''}.</p>
<section id="progress"${running ? html` data-progress-url="/actions/${record.id}/progress"` : ''}>${progressFragment(record)}</section>
${running ? html`<noscript><p class="note">Reload the page to follow the progress.</p></noscript>` : ''}
${record.error !== undefined ? errorBox(`Failed: ${record.error}`) : ''}
${record.summary.length > 0 ? html`<h2>Summary</h2><pre>${record.summary.join('\n')}</pre>` : ''}
${replayResult(ctx, record)}
<h2>Output</h2>
${shown.length === 0 ? html`<p class="note">No output${running ? ' yet' : ''}.</p>` : html`${hidden > 0 ? html`<p class="note">${hidden} earlier lines not shown.</p>` : ''}<pre>${shown.join('\n')}</pre>`}
${cli(record.cli, record.kind === 'replay-dry-run' ? 'This dry run from a terminal:' : 'The same from a terminal:')}`;
  return { title: record.title, section: 'actions', body };
}

export function actionsPage(ctx: ConsoleContext): Page {
  const records = ctx.actions.list();
  const body =
    records.length === 0
      ? html`<p class="note">No action in this run yet. Start one from <a href="/replay">Replay</a> or the <a href="/dlq">DLQ</a>.</p>`
      : html`<table><thead><tr><th>started (UTC)</th><th>action</th><th>status</th><th>summary</th></tr></thead><tbody>
${records.map(
  (record) =>
    html`<tr><td>${at(record.startedAt)}</td><td><a href="/actions/${record.id}">${record.title}</a></td><td>${record.status}</td><td>${record.summary.join(' ')}</td></tr>`,
)}</tbody></table>`;
  return { title: 'Actions', section: 'actions', body };
}
