/**
 * Server-rendered HTML with escaping by default: `html` escapes every value it
 * interpolates unless the value is already `SafeHtml` (another `html` result).
 * Everything the console shows (delivery ids, bodies, reasons, job attributes)
 * comes from outside and goes through it.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let index = 0; index < values.length; index += 1) out += render(values[index]) + strings[index + 1];
  return new SafeHtml(out);
}

/** Markup the console itself built (SVG charts): never text from outside. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A query string from parameters, skipping empty ones. */
export function query(parameters: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value === undefined || value === '' || value === false) continue;
    search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** A value for a page: JSON for objects, the text itself for strings. */
export function show(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2);
}

/** Shell-quotes one argument for the CLI command a page shows (POSIX sh). */
export function shellQuote(argument: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(argument)) return argument;
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

export function cliCommand(tool: string, args: readonly string[]): string {
  return `npm run ${tool}${args.length > 0 ? ` -- ${args.map(shellQuote).join(' ')}` : ''}`;
}
