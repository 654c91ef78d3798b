/**
 * The console's two pictures, drawn as SVG on the server: deliveries per
 * bucket by outcome (stacked bars) and the work queue's oldest message age (a
 * line). Two fixed charts are about a hundred lines of SVG; a chart library
 * would add client-side JavaScript and a data API for the same picture. Colours
 * come from the stylesheet (classes), so the CSP needs no inline styles; each
 * bar has a `<title>` and every chart a data table beside it for screen readers.
 */
import type { AgeSeries, DeliverySeries } from '../lib/console-metrics';
import { ATTEMPT_OUTCOMES } from '../lib/receiver-log';
import { escapeHtml } from './html';

const WIDTH = 720;
const HEIGHT = 180;
const LEFT = 44;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 24;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;

/** `HH:MM` UTC, the way the archive and the logs count time. */
export function clock(iso: string): string {
  return iso.slice(11, 16);
}

/** A round axis maximum at or above `value`: 1, 2, 5 times a power of ten. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function frame(title: string, description: string, body: string, max: number, buckets: readonly string[], unit: string): string {
  const ticks = [0, max / 2, max]
    .map((tick) => {
      const y = TOP + PLOT_H - (tick / max) * PLOT_H;
      return `<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/><text class="tick" x="${LEFT - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(tick)}${unit}</text>`;
    })
    .join('');
  const labels =
    buckets.length === 0
      ? ''
      : [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1]
          .filter((index, position, all) => all.indexOf(index) === position)
          .map((index) => {
            const x = LEFT + ((index + 0.5) / buckets.length) * PLOT_W;
            return `<text class="tick" x="${x.toFixed(1)}" y="${HEIGHT - 6}" text-anchor="middle">${escapeHtml(clock(buckets[index]))}</text>`;
          })
          .join('');
  const id = title.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-t ${id}-d" preserveAspectRatio="none">` +
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(description)}</desc>` +
    `${ticks}${body}<line class="axis" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H}"/>${labels}</svg>`
  );
}

export function deliveriesChart(series: DeliverySeries): string {
  const n = series.buckets.length;
  const totals = series.buckets.map((_, index) => ATTEMPT_OUTCOMES.reduce((sum, outcome) => sum + (series.counts[outcome][index] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const slot = n === 0 ? PLOT_W : PLOT_W / n;
  const barWidth = Math.max(1, slot * 0.8);
  let bars = '';
  series.buckets.forEach((bucket, index) => {
    let base = TOP + PLOT_H;
    const parts: string[] = [];
    for (const outcome of ATTEMPT_OUTCOMES) {
      const count = series.counts[outcome][index] ?? 0;
      if (count === 0) continue;
      const height = (count / max) * PLOT_H;
      base -= height;
      const x = LEFT + index * slot + (slot - barWidth) / 2;
      parts.push(`<rect class="o-${outcome}" x="${x.toFixed(1)}" y="${base.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}"/>`);
    }
    if (parts.length === 0) return;
    const label = ATTEMPT_OUTCOMES.filter((outcome) => (series.counts[outcome][index] ?? 0) > 0)
      .map((outcome) => `${series.counts[outcome][index]} ${outcome}`)
      .join(', ');
    bars += `<g><title>${escapeHtml(`${clock(bucket)} UTC: ${label}`)}</title>${parts.join('')}</g>`;
  });
  const total = totals.reduce((sum, value) => sum + value, 0);
  return frame(
    `Deliveries per ${series.bucketSeconds / 60} min by outcome`,
    `${total} delivery attempts in ${n} buckets; the tallest bucket holds ${Math.max(0, ...totals)}.`,
    bars,
    max,
    series.buckets,
    '',
  );
}

export function queueAgeChart(series: AgeSeries): string {
  const n = series.buckets.length;
  const measured = series.oldestAgeSeconds.filter((value): value is number => value !== null);
  const max = niceMax(Math.max(0, ...measured));
  const slot = n === 0 ? PLOT_W : PLOT_W / n;
  // One path per run of measured buckets: a gap (nothing measured) breaks the line.
  const runs: string[] = [];
  let current: string[] = [];
  let dots = '';
  series.oldestAgeSeconds.forEach((value, index) => {
    if (value === null) {
      if (current.length > 0) runs.push(current.join(' '));
      current = [];
      return;
    }
    const x = LEFT + (index + 0.5) * slot;
    const y = TOP + PLOT_H - (value / max) * PLOT_H;
    current.push(`${current.length === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`);
    dots += `<circle class="age-dot" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2"><title>${escapeHtml(`${clock(series.buckets[index])} UTC: ${fmt(value)} s`)}</title></circle>`;
  });
  if (current.length > 0) runs.push(current.join(' '));
  const lines = runs.map((d) => `<path class="age-line" d="${d}"/>`).join('');
  return frame(
    'Oldest message age in the work queue',
    measured.length === 0 ? 'No measurement in this window.' : `Highest oldest-message age ${fmt(Math.max(...measured))} s over ${measured.length} measured buckets.`,
    lines + dots,
    max,
    series.buckets,
    's',
  );
}
