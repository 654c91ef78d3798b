/** The page frame and the small pieces every view shares. */
import { UsageError, parseInstant } from '../lib/cli-usage';
import { html, query, type SafeHtml } from './html';
import { CSRF_FIELD, csrfValue } from './security';
import type { ConsoleContext } from './context';

export type Section = 'overview' | 'deliveries' | 'jobs' | 'stuck' | 'dlq' | 'replay' | 'actions';

const NAV: ReadonlyArray<{ readonly section: Section; readonly href: string; readonly label: string }> = [
  { section: 'overview', href: '/', label: 'Overview' },
  { section: 'deliveries', href: '/deliveries', label: 'Deliveries' },
  { section: 'stuck', href: '/stuck', label: 'Stuck jobs' },
  { section: 'dlq', href: '/dlq', label: 'DLQ' },
  { section: 'replay', href: '/replay', label: 'Replay' },
  { section: 'actions', href: '/actions', label: 'Actions' },
];

export interface Page {
  readonly status?: number;
  readonly title: string;
  readonly section?: Section;
  readonly body: SafeHtml;
}

export function layout(ctx: ConsoleContext, page: Page): SafeHtml {
  const nav = NAV.map(
    (item) => html`<a href="${item.href}"${item.section === page.section ? html` aria-current="page"` : ''}>${item.label}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · webhook ops console</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">Webhook ops console</span>
  <nav aria-label="Sections">${nav}</nav>
  <form action="/search" method="get" role="search">
    <input id="search" name="q" type="search" placeholder="Delivery id or job id (press /)" aria-label="Find a delivery or job by id" required>
    <button type="submit">Find</button>
  </form>
</header>
<div class="target">Target: <strong>${ctx.target}</strong> · jobs <code>${ctx.outputs.JobsTableName}</code> · archive <code>${ctx.outputs.ArchiveBucketName}</code>${ctx.readOnly ? ' · read-only' : ''}</div>
<main id="main" tabindex="-1">
<h1>${page.title}</h1>
${page.body}
</main>
<footer>Served on 127.0.0.1 only, behind this run's token. Secret values are never shown.</footer>
</body>
</html>`;
}

export function badge(kind: string, text: string = kind): SafeHtml {
  return html`<span class="badge ${kind.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}">${text}</span>`;
}

/** `2026-11-27 10:00:03.123Z`: UTC, like the archive keys and the logs. */
export function at(iso: string | undefined): string {
  if (iso === undefined) return '';
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? iso : new Date(parsed).toISOString().replace('T', ' ');
}

export function cli(command: string, label = 'The same from a terminal:'): SafeHtml {
  return html`<p class="note">${label}</p><code class="cli">${command}</code>`;
}

export function jobLink(jobId: string | undefined): SafeHtml | string {
  return jobId === undefined ? '' : html`<a class="id" href="/jobs/${encodeURIComponent(jobId)}">${jobId}</a>`;
}

export function deliveryLink(deliveryId: string | undefined, extra: Record<string, string | undefined> = {}): SafeHtml | string {
  return deliveryId === undefined ? '' : html`<a class="id" href="/deliveries/${encodeURIComponent(deliveryId)}${query(extra)}">${deliveryId}</a>`;
}

export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
  /** The preset (`1h`), when one was chosen. */
  readonly preset?: string;
}

export const WINDOW_PRESETS: Readonly<Record<string, number>> = { '15m': 15, '1h': 60, '6h': 360, '24h': 1440 };
export const DEFAULT_PRESET = '1h';

/** A window from `?window=1h`, or `?from=&to=` (strict ISO, as the CLIs take them). Throws UsageError. */
export function parseWindow(params: URLSearchParams, now: Date, defaultPreset: string = DEFAULT_PRESET): TimeWindow {
  const fromText = params.get('from') ?? '';
  const toText = params.get('to') ?? '';
  if (fromText !== '' || toText !== '') {
    const from = parseInstant('from', fromText);
    const to = toText === '' ? now : parseInstant('to', toText);
    if (to.getTime() <= from.getTime()) throw new UsageError('"to" must be after "from"');
    return { from, to };
  }
  const preset = params.get('window') ?? defaultPreset;
  const minutes = WINDOW_PRESETS[preset];
  if (minutes === undefined) throw new UsageError(`window "${preset}" is not one of ${Object.keys(WINDOW_PRESETS).join(', ')}`);
  return { from: new Date(now.getTime() - minutes * 60_000), to: now, preset };
}

export function windowLinks(path: string, window: TimeWindow, keep: Record<string, string | undefined> = {}): SafeHtml {
  const links = Object.keys(WINDOW_PRESETS).map(
    (preset) => html`<a href="${path}${query({ ...keep, window: preset })}"${window.preset === preset ? html` aria-current="true"` : ''}>last ${preset}</a>`,
  );
  return html`<p class="windows">Window: ${links} <span class="note">(${at(window.from.toISOString())} to ${at(window.to.toISOString())})</span></p>`;
}

export function errorBox(message: string): SafeHtml {
  return html`<p class="error" role="alert">${message}</p>`;
}

/** A read that may fail without failing the page: its section shows the error instead. */
export async function settle<T>(work: Promise<T>): Promise<{ readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** The hidden field every state-changing form carries. */
export function csrfField(ctx: Pick<ConsoleContext, 'token'>): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${csrfValue(ctx.token)}">`;
}
