/** The figures of a run as Markdown, and their place in docs/reliability.md. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { FuzzResult } from './fuzz-http';
import type { LogScan } from './log-capture';
import type { ScenarioResult } from './scenarios';

export const FIGURES_START = '<!-- figures:start -->';
export const FIGURES_END = '<!-- figures:end -->';

export interface RunSummary {
  readonly command: string;
  readonly seed: number;
  readonly startedAt: string;
  readonly seconds: number;
  readonly node: string;
  readonly scenarios: readonly ScenarioResult[];
  readonly fuzz: FuzzResult;
  readonly logs: LogScan;
  readonly violations: readonly string[];
}

function answers(record: Readonly<Record<string, number>>): string {
  return Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
}

function faults(record: Readonly<Record<string, number>>): string {
  const entries = Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '-' : entries.map(([kind, count]) => `${kind} ${count}`).join('<br>');
}

function extra(result: ScenarioResult): string {
  return Object.entries(result.extra ?? {})
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
}

export function figuresMarkdown(summary: RunSummary): string {
  const rows = summary.scenarios.map((s) => {
    const f = s.figures;
    return `| ${s.name} | ${f.sent} | ${faults(s.faults)} | ${f.retries} | ${f.resends} | ${f.acknowledged} | ${f.archived} | ${f.applied} | **${f.answered4xx}** | **${f.lost}** | **${f.appliedTwice}** | ${f.retriesRanOut} | ${f.regressed} | ${f.deadLettered} | ${s.seconds} |`;
  });
  const totals = summary.scenarios.reduce(
    (sum, s) => ({
      sent: sum.sent + s.figures.sent,
      retries: sum.retries + s.figures.retries,
      acknowledged: sum.acknowledged + s.figures.acknowledged,
      archived: sum.archived + s.figures.archived,
      applied: sum.applied + s.figures.applied,
      lost: sum.lost + s.figures.lost,
      twice: sum.twice + s.figures.appliedTwice,
      answered4xx: sum.answered4xx + s.figures.answered4xx,
      ranOut: sum.ranOut + s.figures.retriesRanOut,
      faults: sum.faults + Object.values(s.faults).reduce((a, b) => a + b, 0),
    }),
    { sent: 0, retries: 0, acknowledged: 0, archived: 0, applied: 0, lost: 0, twice: 0, answered4xx: 0, ranOut: 0, faults: 0 },
  );
  const byKind: Record<string, number> = {};
  for (const s of summary.scenarios) {
    for (const [key, count] of Object.entries(s.faults)) {
      const kind = key.split(' ')[1];
      byKind[kind] = (byKind[kind] ?? 0) + count;
    }
  }
  const fuzzRows = Object.entries(summary.fuzz.byDefect)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([defect, record]) => `| ${defect} | ${Object.values(record).reduce((a, b) => a + b, 0)} | ${answers(record)} |`);
  const logs = summary.logs;
  return [
    FIGURES_START,
    '',
    `Produced by \`npx tsx reliability/run.ts --write-report\` (what \`npm run test:reliability\` runs, plus \`--write-report\`), seed ${summary.seed}, on ${summary.startedAt.slice(0, 10)} with Node ${summary.node}, in ${summary.seconds} s. Result: **${summary.violations.length === 0 ? 'every invariant held' : `${summary.violations.length} violations`}**.`,
    '',
    `Provider: strict (a 4xx is final; only 5xx and no answer are retried, at most 3 times, 2 s / 4 s / 8 s apart ±20 %).`,
    '',
    `Totals: ${totals.sent} deliveries sent, ${totals.faults} faults injected (${answers(byKind)}), plus the worker deaths and outages below; ${totals.retries} provider retries; ${totals.acknowledged} acknowledged, ${totals.archived} archived, ${totals.applied} applied; **${totals.answered4xx} legitimate deliveries answered 4xx, ${totals.lost} lost, ${totals.twice} applied twice**; ${totals.ranOut} whose retries ran out on 5xx or no answer.`,
    '',
    '| scenario | sent | faults injected (step kind count) | retries | re-sends | acknowledged | archived | applied | answered 4xx | lost | applied twice | retries ran out | not at expected state | in DLQ (only injected poison allowed) | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'Answers the provider simulator got, and what else happened, per scenario:',
    '',
    ...summary.scenarios.map((s) => `- ${s.name} (${s.description}): ${answers(s.figures.answers)}; ${extra(s)}`),
    '',
    `Bad inputs: ${summary.fuzz.tried} fuzzed requests against the local API; answers ${answers(summary.fuzz.answers)}. State before and after: deliveries ${summary.fuzz.before.deliveries} → ${summary.fuzz.after.deliveries}, jobs ${summary.fuzz.before.jobs} → ${summary.fuzz.after.jobs}, archive objects ${summary.fuzz.before.archiveKeys} → ${summary.fuzz.after.archiveKeys}, queue ${summary.fuzz.before.queue} → ${summary.fuzz.after.queue}, DLQ ${summary.fuzz.before.deadLetters} → ${summary.fuzz.after.deadLetters}.`,
    '',
    '| defect | tried | answers |',
    '|---|---|---|',
    ...fuzzRows,
    '',
    `Logs: ${logs.lines} lines captured from the receiver and worker (Powertools JSON) over the whole run; signing secret in ${logs.secretHits}, a sent signature value in ${logs.signatureHits}, a whole raw body in ${logs.bodyHits}; a value from inside a body (a canary planted in every body, including signed bodies that break the schema) in ${logs.canaryHits}.`,
    '',
    ...(summary.violations.length > 0 ? ['Violations:', '', ...summary.violations.map((v) => `- ${v}`), ''] : []),
    FIGURES_END,
  ].join('\n');
}

/** Replaces the text between two markers (the delivery figures' by default) with `markdown`, which carries them. */
export function writeFigures(file: string, markdown: string, markers: { readonly start: string; readonly end: string } = { start: FIGURES_START, end: FIGURES_END }): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  if (start === -1 || end === -1 || end < start) throw new Error(`${file} lacks the ${markers.start} ... ${markers.end} markers`);
  writeFileSync(file, `${text.slice(0, start)}${markdown}${text.slice(end + markers.end.length)}`);
}
