/**
 * What every ops CLI (send, job, replay, redrive, reconcile) shares about
 * arguments: one error type for bad usage, the parsers for instants and
 * numbers, and the exit-code policy: usage problems print ONE line on stderr
 * and exit 2 before any I/O, so a typo can never half-run an operation.
 */
import { parseArgs, type ParseArgsConfig, type ParseArgsOptionsConfig } from 'node:util';
import { OutputsFileError } from './outputs';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * node:util's parseArgs for the CLIs. A negative number after a flag that takes
 * a value (`--max -1`) is that flag's value, so the tool's own check answers
 * ("--max must be a positive integer, got "-1""), not parseArgs' "ambiguous".
 */
export function parseCliArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const valued = new Set(
    Object.entries(config.options ?? {}).flatMap(([name, option]) => (option.type === 'string' ? [`--${name}`, ...(option.short ? [`-${option.short}`] : [])] : [])),
  );
  const given = config.args ?? [];
  const args: string[] = [];
  for (let index = 0; index < given.length; index += 1) {
    const arg = given[index];
    const next = given[index + 1];
    if (valued.has(arg) && next !== undefined && /^-\d/.test(next)) {
      args.push(`${arg}=${next}`);
      index += 1;
    } else {
      args.push(arg);
    }
  }
  return parseArgs<T>({ ...config, args });
}

/**
 * node:util parseArgs errors are multi-sentence and name internals; operators
 * get one short line that names the flag instead.
 */
export function toUsageError(error: unknown): UsageError | undefined {
  if (error instanceof UsageError) return error;
  // Duck-typed: node's own errors come from another realm under test runners, where instanceof Error fails.
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error)) return undefined;
  const code = String(error.code);
  if (!code.startsWith('ERR_PARSE_ARGS')) return undefined;
  const message = String(error.message);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${quoted ?? ''}`.trim());
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${quoted ?? ''}`.trim());
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted?.split(' ')[0];
      if (/does not take an argument/.test(message)) return new UsageError(`${flag ?? 'option'} does not take a value`);
      return new UsageError(`${flag ?? 'option'} needs a value`);
    }
    default:
      return new UsageError(message.split('\n')[0]);
  }
}

/** node:util parseArgs for a CLI's options (no positionals, unknown options refused), its errors as UsageErrors. */
export function parseOptions<T extends ParseArgsOptionsConfig>(argv: readonly string[], options: T) {
  try {
    return parseCliArgs({ args: [...argv], allowPositionals: false, strict: true, options });
  } catch (error) {
    throw toUsageError(error) ?? error;
  }
}

/** A Secrets Manager secret ARN (`--secret-arn`), or a usage error naming the flag. */
export function parseSecretArn(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+/.test(value)) {
    throw new UsageError(`${flag} "${value}" is not a Secrets Manager secret ARN`);
  }
  return value;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Strict ISO 8601: a date alone (UTC midnight) or a date-time WITH a zone. A
 * zoneless time is refused rather than read in the machine's local zone: the
 * archive is keyed in UTC and a silent hour shift would replay the wrong window.
 */
export function parseInstant(flag: string, value: string | undefined): Date {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required (ISO 8601, e.g. 2026-11-27T10:00:00Z)`);
  const match = INSTANT.exec(value);
  if (!match) throw new UsageError(`${flag} "${value}" is not an ISO 8601 date or date-time with a zone (e.g. 2026-11-27T10:00:00Z)`);
  const [, year, month, day, hour, minute, second, , zone] = match;
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const fieldsValid =
    m >= 1 &&
    m <= 12 &&
    d >= 1 &&
    d <= daysInMonth &&
    (hour === undefined || Number(hour) <= 23) &&
    (minute === undefined || Number(minute) <= 59) &&
    (second === undefined || Number(second) <= 59) &&
    (zone === undefined || zone === 'Z' || (Number(zone.slice(1, 3)) <= 23 && Number(zone.slice(4, 6)) <= 59));
  // Date.parse reads a bare date as UTC, which is what the doc comment promises.
  const millis = Date.parse(value);
  if (!fieldsValid || Number.isNaN(millis)) throw new UsageError(`${flag} "${value}" is not a valid date`);
  return new Date(millis);
}

export function parsePositiveNumber(flag: string, value: string | undefined, options: { integer?: boolean; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  const kind = options.integer ? 'a positive integer' : 'a positive number';
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0 || (options.integer && !Number.isSafeInteger(parsed))) {
    throw new UsageError(`${flag} must be ${kind}, got "${value}"`);
  }
  if (options.max !== undefined && parsed > options.max) throw new UsageError(`${flag} must be at most ${options.max}, got "${value}"`);
  return parsed;
}

/**
 * Runs a CLI's main and exits with its code. Usage errors and an unreadable
 * outputs file are the caller's mistake (exit 2, nothing changed); anything else
 * is an operational failure (exit 1). Always one line on stderr.
 */
export function runCli(tool: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const usage = toUsageError(error);
      if (usage !== undefined || error instanceof OutputsFileError) {
        process.stderr.write(`${tool}: ${oneLine((usage ?? (error as Error)).message)} (see --help)\n`);
        process.exit(EXIT.usage);
      }
      process.stderr.write(`${tool}: ${oneLine(describeError(error))}\n`);
      process.exit(EXIT.failed);
    },
  );
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The SDK wraps network failures; the cause names the real problem (ECONNREFUSED, a DNS failure). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.name}: ${error.cause.message})` : '';
  const hint = connectionHint(error);
  return `${error.name}: ${error.message}${cause}${hint === undefined ? '' : `; ${hint}`}`;
}

export const NOT_RUNNING_HINT = 'nothing listens there: is the local stack running? (npm start)';

/** Node's error codes anywhere in an error's causes (fetch and the SDK wrap the socket's error; happy eyeballs aggregates several). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const own = 'code' in error && typeof error.code === 'string' ? [error.code] : [];
  const cause = 'cause' in error ? errorCodes(error.cause, depth + 1) : [];
  const aggregated = 'errors' in error && Array.isArray(error.errors) ? error.errors.flatMap((inner: unknown) => errorCodes(inner, depth + 1)) : [];
  return [...own, ...cause, ...aggregated];
}

/** What to tell an operator whose call found no server: the tools' default target is the local stack. */
export function connectionHint(error: unknown): string | undefined {
  return errorCodes(error).includes('ECONNREFUSED') ? NOT_RUNNING_HINT : undefined;
}
