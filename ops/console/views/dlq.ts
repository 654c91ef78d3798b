/**
 * The dead-letter queue: its depth, a look at its messages (nothing is taken:
 * queue-peek.ts), and a redrive through the CLI's own library (redrive-run.ts),
 * confirmed by a POST.
 */
import { parseRedriveArgs } from '../../lib/redrive-args';
import { describeRedrive, formatRedriveSummary, queueDepth, redrive, redriveFailed, type RedriveResult } from '../../lib/redrive-run';
import { peekQueue } from '../../lib/queue-peek';
import { UsageError } from '../../lib/cli-usage';
import type { ActionRecord } from '../actions';
import type { ConsoleContext } from '../context';
import { DEAD_LETTER_ATTRIBUTES } from '../../../lambda/core/contract';
import { cliCommand, html, type SafeHtml } from '../html';
import { at, cli, csrfField, deliveryLink, errorBox, jobLink, settle, type Page } from '../layout';

const REASON_ATTRIBUTES: ReadonlySet<string> = new Set([DEAD_LETTER_ATTRIBUTES.reason, DEAD_LETTER_ATTRIBUTES.issues]);

/** A record the worker dead-lettered itself says why; one that ran out of receives says nothing (see the worker's logs). */
function reasonOf(attributes: Readonly<Record<string, string>>): SafeHtml {
  const reason = attributes[DEAD_LETTER_ATTRIBUTES.reason];
  if (reason === undefined) return html`<span class="note">out of receives</span>`;
  const issues = attributes[DEAD_LETTER_ATTRIBUTES.issues];
  return html`<code>${reason}</code>${issues !== undefined ? html` <span class="note">${issues}</span>` : ''}`;
}

export async function dlqPage(ctx: ConsoleContext): Promise<Page> {
  const url = ctx.outputs.DeadLetterQueueUrl;
  const [depth, messages] = await Promise.all([settle(queueDepth(ctx.clients.sqs, url)), settle(peekQueue(ctx.clients.sqs, url))]);
  const command = cliCommand('redrive', [...ctx.outputsArgs]);
  const count = depth.ok ? html`<p><strong>${depth.value.visible}</strong> messages visible, ${depth.value.inFlight} in flight in <code>${url}</code>.</p>` : errorBox(depth.error);
  let table;
  if (!messages.ok) table = errorBox(`Could not look at the messages: ${messages.error}`);
  else if (messages.value.length === 0) table = html`<p class="ok">No message to look at.</p>`;
  else {
    table = html`<p class="note">A look, not a receive: each message stays visible (visibility timeout 0). SQS returns a sample of a large queue.</p>
<table><thead><tr><th>sent to the DLQ (UTC)</th><th>receives</th><th>delivery</th><th>event</th><th>job</th><th>received at</th><th>origin</th><th>why (the worker's reason)</th><th>other attributes</th><th>body</th></tr></thead><tbody>
${messages.value.map(
  (message) => html`<tr><td>${at(message.sentAt)}</td><td>${message.receiveCount ?? ''}</td><td>${deliveryLink(message.fields?.deliveryId)}</td>
<td>${message.fields?.event ?? ''}</td><td>${jobLink(message.fields?.jobId)}</td><td>${at(message.fields?.receivedAt)}</td>
<td>${message.fields?.origin ?? (message.fields?.replay ? 'replay' : '')}</td>
<td>${reasonOf(message.attributes)}</td>
<td>${Object.entries(message.attributes)
    .filter(([name]) => !REASON_ATTRIBUTES.has(name))
    .map(([name, value]) => html`<code>${name}=${value}</code> `)}</td>
<td><details><summary>${message.body.length} chars</summary><pre>${message.body}</pre></details></td></tr>`,
)}</tbody></table>`;
  }
  const form = ctx.readOnly
    ? html`<p class="note">Read-only console: no redrive.</p>`
    : html`<h2>Redrive</h2>
<p>Moves every message back to the work queue, where the worker picks it up again. Fix the cause first: a message that still fails returns here after 5 more receives.</p>
<form class="inline" method="post" action="/redrive">${csrfField(ctx)}
<label>at most (empty: all)<input name="max" inputmode="numeric" size="8"></label>
<button type="submit" class="danger">Redrive the DLQ</button></form>
${cli(command)}`;
  return { title: 'Dead-letter queue', section: 'dlq', body: html`${count}${table}${form}` };
}

export interface RedriveActionResult {
  readonly result: RedriveResult;
}

/** Starts a redrive with the CLI's arguments; throws UsageError for what the CLI would refuse. */
export function startRedrive(ctx: ConsoleContext, form: URLSearchParams): ActionRecord<RedriveActionResult> {
  const max = form.get('max')?.trim() ?? '';
  const argv = [...(max !== '' ? ['--max', max] : []), ...ctx.outputsArgs];
  const parsed = parseRedriveArgs(argv);
  if (parsed.help) throw new UsageError('no help from a form');
  const args = parsed;
  const { sqs } = ctx.clients;
  const { DeadLetterQueueUrl: deadLetterQueueUrl, QueueUrl: queueUrl } = ctx.outputs;
  return ctx.actions.start('redrive', `Redrive of ${deadLetterQueueUrl}`, { cli: cliCommand('redrive', argv), argv }, async (report) => {
    const before = await queueDepth(sqs, deadLetterQueueUrl);
    report.line(`redrive: ${describeRedrive(deadLetterQueueUrl, queueUrl, before)}`);
    report.status('moving');
    const started = Date.now();
    const result = await redrive({ sqs, deadLetterQueueUrl, queueUrl, max: args.max, loop: args.loop, waitSeconds: args.waitSeconds, log: (line) => report.line(`redrive: ${line}`) });
    const after = await queueDepth(sqs, deadLetterQueueUrl);
    return { result: { result }, summary: formatRedriveSummary(result, Date.now() - started, after), incomplete: redriveFailed(result) };
  });
}
