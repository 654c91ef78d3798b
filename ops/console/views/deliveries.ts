/**
 * Deliveries: every attempt in a window (with its outcome and reason), and one
 * delivery in full: its attempts, its dedupe record, its archived bytes and
 * signed headers with the signature check, and what the worker did with it.
 */
import { DynamoJobStore } from '../../../lambda/adapters/dynamo-job-store';
import { DEFAULTS, DELIVERY_ID_PATTERN, HEADERS } from '../../../lambda/core/contract';
import type { HistoryEntry } from '../../../lambda/core/job-state';
import { readDeliveryRecord, findArchivedDelivery, deliveryWindow, type ArchivedEntry } from '../../lib/delivery-read';
import { readJob } from '../../lib/job-read';
import { ATTEMPT_OUTCOMES, type ReceiverAttempt } from '../../lib/receiver-log';
import { DECISION_TEXT, planJob } from '../../lib/replay-plan';
import type { ConsoleContext } from '../context';
import { cliCommand, html, query, type SafeHtml } from '../html';
import { at, badge, cli, deliveryLink, errorBox, jobLink, parseWindow, settle, windowLinks, type Page } from '../layout';
import { replayFormLink } from './replay';

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Raw bodies beyond this are cut on the page (the archive keeps them whole). */
const BODY_SHOWN_BYTES = 64 * 1024;

function attemptsTable(attempts: readonly ReceiverAttempt[], linkDeliveries: boolean): SafeHtml {
  if (attempts.length === 0) return html`<p class="note">No attempts.</p>`;
  return html`<table><thead><tr><th>at (UTC)</th><th>outcome</th><th>status</th><th>reason</th><th>delivery</th><th>event</th><th>job</th><th>signature</th><th>bytes</th></tr></thead><tbody>
${attempts.map(
  (attempt) => html`<tr>
<td>${at(attempt.at)}</td><td>${badge(attempt.outcome)}</td><td>${attempt.statusCode}</td><td><code>${attempt.reason ?? ''}</code></td>
<td>${linkDeliveries ? deliveryLink(attempt.deliveryId) : html`<span class="id">${attempt.deliveryId ?? ''}</span>`}</td><td>${attempt.event ?? ''}</td>
<td>${jobLink(attempt.jobId)}</td><td>${attempt.signaturePresent === undefined ? '' : attempt.signaturePresent ? 'present' : 'absent'}</td><td>${attempt.bodyBytes ?? ''}</td></tr>`,
)}</tbody></table>`;
}

export async function deliveriesPage(ctx: ConsoleContext, params: URLSearchParams): Promise<Page> {
  const window = parseWindow(params, ctx.now());
  const outcome = params.get('outcome') ?? '';
  const jobId = params.get('job')?.trim() ?? '';
  const deliveryId = params.get('delivery')?.trim() ?? '';
  const keep = { outcome, job: jobId, delivery: deliveryId };
  const filters = html`<form class="inline" method="get" action="/deliveries">
<label>from (ISO, UTC)<input name="from" value="${window.from.toISOString()}" size="24"></label>
<label>to<input name="to" value="${window.to.toISOString()}" size="24"></label>
<label>outcome<select name="outcome"><option value="">any</option>${ATTEMPT_OUTCOMES.map(
    (option) => html`<option${option === outcome ? html` selected` : ''}>${option}</option>`,
  )}</select></label>
<label>job id<input name="job" value="${jobId}"></label>
<label>delivery id<input name="delivery" value="${deliveryId}"></label>
<button type="submit">Show</button></form>`;
  if (ctx.logs === undefined) {
    return { title: 'Deliveries', section: 'deliveries', body: html`${filters}<p class="warn">No receiver log lines: ${ctx.logsNote ?? ''}.</p>` };
  }
  if (deliveryId !== '' && !DELIVERY_ID_PATTERN.test(deliveryId)) {
    return { status: 400, title: 'Deliveries', section: 'deliveries', body: html`${filters}${errorBox('A delivery id is 1-128 characters of A-Z a-z 0-9 . _ : -')}` };
  }
  // By job: the job's own deliveries (its item lists them) and any accepted line naming it.
  const jobDeliveries = new Set<string>();
  if (jobId !== '') {
    const job = await readJob(new DynamoJobStore({ client: ctx.clients.dynamodb, tableName: ctx.outputs.JobsTableName }), jobId);
    for (const id of (job?.item.deliveryIds as string[] | undefined) ?? []) jobDeliveries.add(id);
    for (const entry of (job?.item.history as HistoryEntry[] | undefined) ?? []) jobDeliveries.add(entry.deliveryId);
  }
  const read = await ctx.logs.read({ from: window.from, to: window.to, ...(deliveryId !== '' ? { deliveryId } : {}) });
  const shown = read.attempts.filter(
    (attempt) =>
      (outcome === '' || attempt.outcome === outcome) &&
      (jobId === '' || attempt.jobId === jobId || (attempt.deliveryId !== undefined && jobDeliveries.has(attempt.deliveryId))),
  );
  const body = html`${windowLinks('/deliveries', window, keep)}${filters}
<p class="note">${shown.length} attempts (newest first) from ${ctx.logs.description}.${read.truncated ? ' More matched than are shown: narrow the window.' : ''}
Refused deliveries are in no table: these log lines are their only record.</p>
${attemptsTable(shown, true)}`;
  return { title: 'Deliveries', section: 'deliveries', body };
}

function bodyOf(entry: ArchivedEntry): { text: string; note: string } {
  const bytes = entry.delivery.rawBody;
  const cut = bytes.byteLength > BODY_SHOWN_BYTES ? bytes.subarray(0, BODY_SHOWN_BYTES) : bytes;
  const note = cut === bytes ? `${bytes.byteLength} bytes, exactly as received` : `first ${BODY_SHOWN_BYTES} of ${bytes.byteLength} bytes`;
  try {
    return { text: utf8.decode(cut), note };
  } catch {
    return { text: Buffer.from(cut).toString('base64'), note: `${note}, not UTF-8: shown base64` };
  }
}

function archivedEntry(ctx: ConsoleContext, entry: ArchivedEntry): SafeHtml {
  const { delivery } = entry;
  const body = bodyOf(entry);
  const verdict = entry.examination.kind === 'matched' ? html`${badge('applied', 'replayable')}` : html`${badge('refused', entry.examination.kind)} ${entry.examination.reason}`;
  return html`<table class="kv"><tbody>
<tr><th>archive object</th><td><code>s3://${entry.location.bucket}/${entry.location.key}</code>${entry.line !== undefined ? html` line ${entry.line}` : ''}</td></tr>
<tr><th>${HEADERS.event}</th><td>${delivery.event}</td></tr>
<tr><th>${HEADERS.deliveryId}</th><td class="id">${delivery.deliveryId}</td></tr>
<tr><th>${HEADERS.timestamp}</th><td>${delivery.timestamp}</td></tr>
<tr><th>${HEADERS.signature}</th><td>${delivery.signature === undefined ? badge('absent') : html`present ${badge(entry.signature)}`} <span class="note">${ctx.signatureNote}</span></td></tr>
<tr><th>received at</th><td>${at(delivery.receivedAt)}</td></tr>
<tr><th>body SHA-256</th><td><code>${delivery.bodySha256}</code> ${entry.bodyIntact ? badge('verifies', 'matches the bytes') : badge('does-not-verify', 'differs from the bytes')}</td></tr>
<tr><th>job id</th><td>${jobLink(delivery.jobId)}</td></tr>
<tr><th>replay would</th><td>${verdict}</td></tr>
</tbody></table>
<h3>Raw body <span class="note">(${body.note})</span></h3>
<pre>${body.text}</pre>`;
}

export async function deliveryPage(ctx: ConsoleContext, deliveryId: string, params: URLSearchParams): Promise<Page> {
  if (!DELIVERY_ID_PATTERN.test(deliveryId)) {
    return { status: 400, title: 'Delivery', section: 'deliveries', body: errorBox('A delivery id is 1-128 characters of A-Z a-z 0-9 . _ : -') };
  }
  const title = `Delivery ${deliveryId}`;
  const record = await readDeliveryRecord(ctx.clients.dynamodb, ctx.outputs.DeliveriesTableName, deliveryId);
  const now = ctx.now();
  // Retries of a delivery come within minutes of its first receipt: its log lines are searched from a little before it.
  const received = record !== undefined ? new Date(record.receivedAt) : undefined;
  const defaultWindow =
    received !== undefined
      ? { from: new Date(received.getTime() - DEFAULTS.timestampToleranceSeconds * 1000), to: new Date(Math.min(now.getTime(), received.getTime() + 86_400_000)) }
      : { from: new Date(now.getTime() - 86_400_000), to: now };
  const window = params.has('from') ? parseWindow(params, now) : defaultWindow;

  const [attempts, archive] = await Promise.all([
    settle(ctx.logs?.read({ from: window.from, to: new Date(window.to.getTime() + 1), deliveryId }) ?? Promise.resolve(undefined)),
    settle(
      record !== undefined
        ? findArchivedDelivery(ctx.clients.s3, ctx.outputs.ArchiveBucketName, deliveryId, deliveryWindow(record.receivedAt), ctx.signatureKeys)
        : Promise.resolve(undefined),
    ),
  ]);
  const entry = archive.ok ? archive.value?.entries.at(-1) : undefined;
  const jobId = entry?.delivery.jobId ?? (attempts.ok ? attempts.value?.attempts.find((attempt) => attempt.jobId !== undefined)?.jobId : undefined);
  const job = jobId !== undefined ? await readJob(new DynamoJobStore({ client: ctx.clients.dynamodb, tableName: ctx.outputs.JobsTableName }), jobId) : undefined;

  const recordSection =
    record === undefined
      ? html`<p class="warn">No dedupe record: this delivery was never accepted, or its record expired (after ${DEFAULTS.dedupeTtlDays} days by default).</p>`
      : html`<table class="kv"><tbody>
<tr><th>status</th><td>${badge(record.status === 'accepted' ? 'accepted' : 'retryable', record.status)}</td></tr>
<tr><th>first received at</th><td>${at(record.receivedAt)}</td></tr>
<tr><th>body SHA-256</th><td><code>${record.bodySha256}</code></td></tr>
<tr><th>lease until</th><td>${at(new Date(record.leaseExpiresAt).toISOString())}</td></tr>
<tr><th>expires (TTL)</th><td>${at(new Date(record.expiresAt * 1000).toISOString())}</td></tr>
<tr><th>last attempt id</th><td><code>${record.attemptId}</code></td></tr>
</tbody></table>`;

  let archiveSection: SafeHtml;
  if (!archive.ok) archiveSection = errorBox(`Could not read the archive: ${archive.error}`);
  else if (archive.value === undefined) archiveSection = html`<p class="note">Without a dedupe record there is no receipt time to find its archive entry by.</p>`;
  else if (archive.value.entries.length === 0) {
    archiveSection = html`<p class="error">No archive entry found in ${archive.value.window.from.toISOString()}'s hour: an accepted delivery is always archived before its answer.</p>`;
  } else {
    archiveSection = html`${archive.value.entries.length > 1 ? html`<p class="note">${archive.value.entries.length} entries (retries archive again); the latest is shown.</p>` : ''}${entry ? archivedEntry(ctx, entry) : ''}`;
  }
  for (const bad of archive.ok ? (archive.value?.unreadable ?? []) : []) {
    archiveSection = html`${archiveSection}${errorBox(`unreadable ${bad.location.key}${bad.line !== undefined ? ` line ${bad.line}` : ''}: ${bad.reason}`)}`;
  }

  const history = ((job?.item.history as HistoryEntry[] | undefined) ?? []).filter((entryOfJob) => entryOfJob.deliveryId === deliveryId);
  let workerSection: SafeHtml;
  if (jobId === undefined) workerSection = html`<p class="note">No job id known for this delivery (it was refused before its body was read, or never seen).</p>`;
  else if (job === undefined) workerSection = html`<p class="warn">Job ${jobLink(jobId)} has no item: the worker has not applied any of its events (or the item was deleted; a replay rebuilds it).</p>`;
  else {
    const now =
      entry?.examination.kind === 'matched'
        ? planJob(jobId, job.item, [{ message: entry.examination.message, jobEvent: entry.examination.jobEvent }], false).steps[0]
        : undefined;
    workerSection = html`<p>Job ${jobLink(jobId)} is <strong>${String(job.item.status ?? '(no status)')}</strong>.</p>
${
  history.length === 0
    ? html`<p class="warn">The job's history has no entry for this delivery${job.item.historyDropped ? ' (older entries were dropped)' : ''}: it may still be queued, or in the DLQ.</p>`
    : html`<table><thead><tr><th>applied at (UTC)</th><th>event</th><th>event time</th><th>worker outcome</th><th>replay</th></tr></thead><tbody>
${history.map((item) => html`<tr><td>${at(item.at)}</td><td>${item.event}</td><td>${at(item.eventAt)}</td><td>${badge(item.outcome)}</td><td>${item.replay ? 'yes' : ''}</td></tr>`)}</tbody></table>`
}
${now !== undefined ? html`<p>Replayed now, the worker would: <strong>${DECISION_TEXT[now.decision]}</strong>.</p>` : ''}`;
  }

  const attemptsSection = !attempts.ok
    ? errorBox(`Could not read the receiver's log lines: ${attempts.error}`)
    : attempts.value === undefined
      ? html`<p class="warn">No receiver log lines: ${ctx.logsNote ?? ''}.</p>`
      : html`<p class="note">From ${ctx.logs?.description}, ${at(window.from.toISOString())} to ${at(window.to.toISOString())}
(<a href="/deliveries/${encodeURIComponent(deliveryId)}${query({ from: new Date(window.from.getTime() - 86_400_000).toISOString(), to: now.toISOString() })}">search a day earlier too</a>).</p>
${attemptsTable(attempts.value.attempts, false)}`;

  const replay =
    record !== undefined && !ctx.readOnly
      ? html`<h2>Replay</h2><p>${replayFormLink({ from: record.receivedAt, to: new Date(Date.parse(record.receivedAt) + 1).toISOString(), delivery: deliveryId }, 'Replay this delivery (dry run first)')}</p>`
      : '';
  const body = html`<h2>Attempts</h2>${attemptsSection}
<h2>Dedupe record</h2>${recordSection}
<h2>Archived delivery</h2>${archiveSection}
<h2>What the worker did</h2>${workerSection}
${replay}
${jobId !== undefined ? cli(cliCommand('job', [jobId, ...ctx.outputsArgs])) : ''}`;
  return { title, section: 'deliveries', body };
}

