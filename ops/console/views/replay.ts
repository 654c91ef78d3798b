/**
 * Replay from the console: a form whose fields become `npm run replay`
 * arguments, parsed by the CLI's own parser and run by the CLI's own library
 * (replay-run.ts), so the console can do nothing the CLI would refuse, and
 * shows the command that does the same. Always a dry run first: its page shows
 * each job's plan (now, after, and what the worker does with each delivery),
 * and only its confirmation starts the real run, with exactly its arguments.
 */
import { EVENT_TYPES } from '../../../lambda/core/contract';
import { UsageError } from '../../lib/cli-usage';
import { REPLAY_USAGE, parseReplayArgs, type ReplayArgs } from '../../lib/replay-args';
import { replayDependencies } from '../../lib/replay-deps';
import { DECISION_TEXT, type JobPlan } from '../../lib/replay-plan';
import { formatSummary, replayFailed, runReplay, type ReplaySummary } from '../../lib/replay-run';
import { chooseSecretSource, loadSignatureKeys } from '../../lib/replay-secrets';
import type { ActionRecord } from '../actions';
import type { ConsoleContext } from '../context';
import { cliCommand, html, query, type SafeHtml } from '../html';
import { at, badge, cli, csrfField, errorBox, jobLink, type Page } from '../layout';

export interface ReplayFormFields {
  readonly from?: string;
  readonly to?: string;
  readonly event?: string;
  readonly job?: string;
  readonly delivery?: string;
  readonly force?: boolean;
  readonly verify?: boolean;
}

export function replayFormLink(fields: ReplayFormFields, text: string): SafeHtml {
  return html`<a href="/replay${query({ ...fields })}">${text}</a>`;
}

export function fieldsFrom(params: URLSearchParams): ReplayFormFields {
  const value = (name: string): string | undefined => {
    const text = params.get(name)?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  return {
    from: value('from'),
    to: value('to'),
    event: value('event'),
    job: value('job'),
    delivery: value('delivery'),
    force: params.get('force') === 'on' || params.get('force') === 'true',
    verify: params.get('verify') === 'on' || params.get('verify') === 'true',
  };
}

/** The `npm run replay` arguments for a form (without `--dry-run`). */
export function replayArgv(fields: ReplayFormFields, ctx: Pick<ConsoleContext, 'outputsArgs' | 'secretArgs'>): string[] {
  return [
    '--from',
    fields.from ?? '',
    '--to',
    fields.to ?? '',
    ...(fields.event !== undefined ? ['--event', fields.event] : []),
    ...(fields.job !== undefined ? ['--job-id', fields.job] : []),
    ...(fields.delivery !== undefined ? ['--delivery-id', fields.delivery] : []),
    ...(fields.force ? ['--force'] : []),
    ...(fields.verify ? ['--verify', ...ctx.secretArgs] : []),
    ...ctx.outputsArgs,
  ];
}

export function replayFormPage(ctx: ConsoleContext, fields: ReplayFormFields, problem?: string): Page {
  const now = ctx.now();
  const from = fields.from ?? new Date(Math.floor((now.getTime() - 3_600_000) / 60_000) * 60_000).toISOString();
  const to = fields.to ?? new Date(Math.ceil(now.getTime() / 60_000) * 60_000).toISOString();
  if (ctx.readOnly) return { status: 403, title: 'Replay', section: 'replay', body: errorBox('This console is read-only (--read-only).') };
  const body = html`${problem !== undefined ? errorBox(problem) : ''}
<p>Re-enqueues archived deliveries received in [from, to) through the normal worker path, as <code>npm run replay</code> does.
A dry run comes first: it changes nothing and shows what the worker would do with each delivery.</p>
<form class="inline" method="post" action="/replay">
${csrfField(ctx)}
<label>from (ISO, inclusive)<input name="from" value="${from}" size="26" required></label>
<label>to (ISO, exclusive)<input name="to" value="${to}" size="26" required></label>
<label>event<select name="event"><option value="">any</option>${EVENT_TYPES.map((event) => html`<option${event === fields.event ? html` selected` : ''}>${event}</option>`)}</select></label>
<label>job id<input name="job" value="${fields.job ?? ''}"></label>
<label>delivery id<input name="delivery" value="${fields.delivery ?? ''}"></label>
<label><span><input type="checkbox" name="force"${fields.force ? html` checked` : ''}> force</span><span class="note">re-apply what was applied</span></label>
<label><span><input type="checkbox" name="verify"${fields.verify ? html` checked` : ''}> verify</span><span class="note">re-check signatures</span></label>
<button type="submit">Dry run</button>
</form>
<details><summary>The CLI's help</summary><pre>${REPLAY_USAGE}</pre></details>`;
  return { status: problem !== undefined ? 400 : 200, title: 'Replay', section: 'replay', body };
}

export interface ReplayActionResult {
  readonly summary: ReplaySummary;
  readonly args: ReplayArgs;
}

/** Starts a replay (a dry run unless `dryRun` is false); throws UsageError for what the CLI would refuse. */
export function startReplay(ctx: ConsoleContext, argv: readonly string[], dryRun: boolean): ActionRecord<ReplayActionResult> {
  const fullArgv = [...argv, ...(dryRun ? ['--dry-run'] : [])];
  const parsed = parseReplayArgs(fullArgv);
  if (parsed.help) throw new UsageError('no help from a form');
  const args = parsed;
  // Resolved before anything runs, as the CLI does: a missing secret is a usage error that changes nothing.
  const secretChoice = args.verify ? chooseSecretSource(args, ctx.outputs, process.env) : undefined;
  const title = `${dryRun ? 'Dry run of a replay' : 'Replay'} of [${args.from.toISOString()}, ${args.to.toISOString()})${args.jobId !== undefined ? ` for job ${args.jobId}` : ''}${args.deliveryId !== undefined ? ` for delivery ${args.deliveryId}` : ''}`;
  return ctx.actions.start(dryRun ? 'replay-dry-run' : 'replay', title, { cli: cliCommand('replay', fullArgv), argv: fullArgv }, async (report) => {
    const signatureKeys = secretChoice === undefined ? undefined : await loadSignatureKeys(secretChoice);
    const summary = await runReplay(args, replayDependencies(ctx.outputs, ctx.clients, { signatureKeys, out: report.line, progress: report.progress }));
    return { result: { summary, args }, summary: [formatSummary(summary)], incomplete: replayFailed(summary) };
  });
}

function planTable(plans: readonly JobPlan[]): SafeHtml {
  if (plans.length === 0) return html`<p class="warn">Nothing in the window matches: a real run would enqueue nothing.</p>`;
  return html`<table><thead><tr><th>job</th><th>now</th><th>after the replay</th><th>received at (UTC)</th><th>delivery</th><th>event</th><th>the worker would</th></tr></thead><tbody>
${plans.map((plan) => {
  const now = plan.current === undefined ? 'no item' : String(plan.current.status ?? '(no status)');
  const after = plan.finalStatus ?? 'unchanged';
  const changed = now !== after;
  return plan.steps.map(
    (step, index) => html`<tr${changed ? html` class="changed"` : ''}>
${index === 0 ? html`<td rowspan="${plan.steps.length}">${jobLink(plan.jobId)}</td><td rowspan="${plan.steps.length}">${now}</td><td rowspan="${plan.steps.length}"><strong>${after}</strong></td>` : ''}
<td>${at(step.receivedAt)}</td><td><a class="id" href="/deliveries/${encodeURIComponent(step.deliveryId)}">${step.deliveryId}</a></td><td>${step.event}</td>
<td>${badge(step.decision === 'apply' ? 'applied' : step.decision)} ${DECISION_TEXT[step.decision]}</td></tr>`,
  );
})}</tbody></table>`;
}

/** The dry run's result: the plan, and the form that confirms it. */
export function replayResult(ctx: ConsoleContext, record: ActionRecord): SafeHtml {
  const result = record.result as ReplayActionResult | undefined;
  if (result === undefined || record.kind === 'redrive') return html``;
  if (record.kind === 'replay') {
    // The worker applies what was enqueued in the background: the job's page shows it land.
    return result.args.jobId !== undefined && result.summary.enqueued > 0
      ? html`<p>The worker applies the enqueued deliveries in the background: follow ${jobLink(result.args.jobId)}.</p>`
      : html``;
  }
  const realArgv = record.argv.filter((argument) => argument !== '--dry-run');
  const sendable = result.summary.planned;
  return html`<h2>Plan: what the worker would do</h2>
<p class="note">Rows in yellow change a job's status. ${result.summary.refused > 0 ? html`<strong>${result.summary.refused} refused</strong> (see the output): a real run skips them.` : ''}</p>
${planTable(result.summary.plans)}
${
  sendable > 0 && !ctx.readOnly
    ? html`<form method="post" action="/actions/${record.id}/confirm">${csrfField(ctx)}
<button type="submit" class="danger">Replay ${sendable} ${sendable === 1 ? 'delivery' : 'deliveries'} for real</button></form>
${cli(cliCommand('replay', realArgv), 'The real run from a terminal:')}`
    : ''
}`;
}
