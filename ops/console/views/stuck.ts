/**
 * Stuck jobs: the jobs open longer than `stuckAfter`, read from the open-jobs
 * index with the reconciler's own query (`findStuck`, lambda/core/reconcile),
 * with what the reconciler last learned about each (when it asked the
 * provider, its answer, a flag for ops).
 */
import { DynamoOpenJobs } from '../../../lambda/adapters/dynamo-open-jobs';
import { DEFAULTS, OPEN_JOBS_INDEX } from '../../../lambda/core/contract';
import { findStuck } from '../../../lambda/core/reconcile/sweep';
import { UsageError } from '../../lib/cli-usage';
import type { ConsoleContext } from '../context';
import { cliCommand, html } from '../html';
import { at, badge, cli, errorBox, jobLink, settle, type Page } from '../layout';
import { replayFormLink } from './replay';

/** Jobs shown at most; the count is always the whole index's. */
const SHOWN = 500;

export function stuckAfterFrom(params: URLSearchParams): number {
  const text = (params.get('stuckAfter') ?? '').trim();
  if (text === '') return DEFAULTS.stuckAfterSeconds;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 0) throw new UsageError(`stuck after "${text}" must be a whole number of seconds (0: every open job)`);
  return seconds;
}

/** `3 h 20 min`, `5 min`, `40 s`. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 > 0 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} days`;
}

export async function stuckJobsPage(ctx: ConsoleContext, params: URLSearchParams): Promise<Page> {
  const stuckAfter = stuckAfterFrom(params);
  const now = ctx.now();
  const openedBefore = new Date(now.getTime() - stuckAfter * 1000).toISOString();
  const index = new DynamoOpenJobs({ client: ctx.clients.dynamodb, tableName: ctx.outputs.JobsTableName });
  const found = await settle(findStuck(index, OPEN_JOBS_INDEX.shards, openedBefore));
  const form = html`<form class="inline" method="get" action="/stuck">
<label>open longer than (seconds; 0: every open job)<input name="stuckAfter" value="${stuckAfter}" inputmode="numeric" size="10"></label>
<button type="submit">Show</button></form>`;
  const command = cli(cliCommand('reconcile', ['--stuck-after', String(stuckAfter), ...ctx.outputsArgs]), 'Ask the provider about them now (the reconciler\'s sweep), from a terminal:');
  if (!found.ok) return { title: 'Stuck jobs', section: 'stuck', body: html`${form}${errorBox(`Could not read the open-jobs index: ${found.error}`)}${command}` };
  const jobs = [...found.value].sort((a, b) => a.openedAt.localeCompare(b.openedAt) || a.jobId.localeCompare(b.jobId));
  const flagged = jobs.filter((job) => job.flag !== undefined).length;
  const table =
    jobs.length === 0
      ? html`<p class="ok">No job has been open longer than ${stuckAfter} s.</p>`
      : html`<table><thead><tr><th>job</th><th>opened at (UTC)</th><th>open for</th><th>provider last asked</th><th>flag for ops</th><th></th></tr></thead><tbody>
${jobs.slice(0, SHOWN).map(
  (job) => html`<tr><td>${jobLink(job.jobId)}</td><td>${at(job.openedAt)}</td><td>${duration(now.getTime() - Date.parse(job.openedAt))}</td>
<td>${job.checkedAt !== undefined ? at(job.checkedAt) : html`<span class="note">never</span>`}</td>
<td>${job.flag !== undefined ? badge('refused', job.flag) : ''}</td>
<td>${ctx.readOnly ? '' : replayFormLink({ job: job.jobId, from: new Date(Date.parse(job.openedAt) - DEFAULTS.timestampToleranceSeconds * 1000).toISOString(), to: now.toISOString() }, 'replay its window')}</td></tr>`,
)}</tbody></table>${jobs.length > SHOWN ? html`<p class="note">The ${SHOWN} oldest of ${jobs.length} are shown.</p>` : ''}`;
  const body = html`${form}
<p>Jobs started but not finished for more than <strong>${stuckAfter} s</strong> (the reconciler's <code>stuckAfter</code>, default ${DEFAULTS.stuckAfterSeconds} s):
<strong>${jobs.length}</strong>${flagged > 0 ? html`, ${flagged} flagged for ops (unknown to the provider, or open past <code>giveUpAfter</code>)` : ''}.</p>
<p class="note">From the jobs table's sparse <code>${OPEN_JOBS_INDEX.name}</code> index, which holds a job only while it is open. The reconciler asks the provider about these every sweep and repairs what finished; a flagged job needs a person.</p>
${table}${command}`;
  return { title: 'Stuck jobs', section: 'stuck', body };
}
